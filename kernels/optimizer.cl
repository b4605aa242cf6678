/* One optimizer step over the whole flat parameter buffer: one launch per training step.
   Formulas follow PyTorch's single-tensor Adam, AdamW and SGD to the operation; scalars
   that PyTorch computes in double on the host (bias corrections, step size, decay factor)
   arrive precomputed (host/ops_optim.c). state holds 2n floats: Adam/AdamW m then v;
   SGD the momentum buffer then unused space. With mirror, a parameter i with
   tmap[i] != NO_MIRROR is also written to pt[tmap[i]]: the transposed copy of the Linear
   weights that the forward GEMMs read (host/net.c), kept in step in the same launch.
   Two forms with the same arguments: one work-item per parameter (GPUs), and
   optimizer_step_vec with one work-item per 16 parameters in float16 vectors (CPUs). */
#include "colvec.cl"
#define OPT_ADAM 0
#define OPT_ADAMW 1
#define OPT_SGD 2
#define NO_MIRROR 0xffffffffu

__kernel void optimizer_step(const uint n, __global float *p, __global const float *grad,
                             __global float *state, const int kind, const float lr,
                             const float weight_decay, const float decay_factor,
                             const float beta1, const float one_minus_beta1, const float beta2,
                             const float one_minus_beta2, const float eps, const float step_size,
                             const float bc2_sqrt, const float momentum, const int nesterov,
                             __global float *pt, __global const uint *tmap, const int mirror) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  float w = p[i], g = grad[i], updated;
  if (kind == OPT_SGD) {
    if (weight_decay != 0.0f) g = g + weight_decay * w;
    float buf = momentum * state[i] + g; /* zero buffer: the first step gives buf = g */
    state[i] = buf;
    g = nesterov ? g + momentum * buf : buf;
    updated = w - lr * g;
  } else {
    if (kind == OPT_ADAMW) w = w * decay_factor;          /* param *= 1 - lr * wd */
    else if (weight_decay != 0.0f) g = g + weight_decay * w; /* Adam: L2 into the gradient */
    float m = state[i], v = state[n + i];
    m = m + one_minus_beta1 * (g - m);                    /* exp_avg.lerp_(g, 1 - beta1) */
    v = beta2 * v + one_minus_beta2 * (g * g);            /* exp_avg_sq.mul_(b2).addcmul_(g, g, 1 - b2) */
    state[i] = m;
    state[n + i] = v;
    const float denom = sqrt(v) / bc2_sqrt + eps;
    updated = w - step_size * (m / denom);
  }
  p[i] = updated;
  if (mirror) {
    const uint t = tmap[i];
    if (t != NO_MIRROR) pt[t] = updated;
  }
}

/* The same update of N parameters from i (colvec.cl's widths); returns the new values. */
#define OPT_UPDATE(N)                                                                           \
  inline float##N opt_update##N(const uint i, const uint n, __global float *p,                  \
                                __global const float *grad, __global float *state,              \
                                const int kind, const float lr, const float weight_decay,       \
                                const float decay_factor, const float beta1,                    \
                                const float one_minus_beta1, const float beta2,                 \
                                const float one_minus_beta2, const float eps,                   \
                                const float step_size, const float bc2_sqrt,                    \
                                const float momentum, const int nesterov) {                     \
    float##N w = vload##N(0, p + i), g = vload##N(0, grad + i), updated;                        \
    if (kind == OPT_SGD) {                                                                      \
      if (weight_decay != 0.0f) g = g + weight_decay * w;                                       \
      const float##N buf = momentum * vload##N(0, state + i) + g;                               \
      vstore##N(buf, 0, state + i);                                                             \
      g = nesterov ? g + momentum * buf : buf;                                                  \
      updated = w - lr * g;                                                                     \
    } else {                                                                                    \
      if (kind == OPT_ADAMW) w = w * decay_factor;                                              \
      else if (weight_decay != 0.0f) g = g + weight_decay * w;                                  \
      float##N m = vload##N(0, state + i), v = vload##N(0, state + n + i);                      \
      m = m + one_minus_beta1 * (g - m);                                                        \
      v = beta2 * v + one_minus_beta2 * (g * g);                                                \
      vstore##N(m, 0, state + i);                                                               \
      vstore##N(v, 0, state + n + i);                                                           \
      const float##N denom = sqrt(v) / bc2_sqrt + eps;                                          \
      updated = w - step_size * (m / denom);                                                    \
    }                                                                                           \
    vstore##N(updated, 0, p + i);                                                               \
    return updated;                                                                             \
  }
OPT_UPDATE(16)
OPT_UPDATE(1)
#define OPT_ARGS                                                                             \
  n, p, grad, state, kind, lr, weight_decay, decay_factor, beta1, one_minus_beta1, beta2,    \
      one_minus_beta2, eps, step_size, bc2_sqrt, momentum, nesterov

__kernel void optimizer_step_vec(const uint n, __global float *p, __global const float *grad,
                                 __global float *state, const int kind, const float lr,
                                 const float weight_decay, const float decay_factor,
                                 const float beta1, const float one_minus_beta1, const float beta2,
                                 const float one_minus_beta2, const float eps,
                                 const float step_size, const float bc2_sqrt, const float momentum,
                                 const int nesterov, __global float *pt, __global const uint *tmap,
                                 const int mirror) {
  const uint i0 = get_global_id(0) * 16u;
  if (i0 >= n) return;
  if (i0 + 16u <= n) {
    float u[16];
    vstore16(opt_update16(i0, OPT_ARGS), 0, u);
    for (uint l = 0; l < 16u && mirror; l++) {
      const uint t = tmap[i0 + l];
      if (t != NO_MIRROR) pt[t] = u[l];
    }
    return;
  }
  for (uint i = i0; i < n; i++) { /* the tail */
    const float u = opt_update1(i, OPT_ARGS);
    if (mirror && tmap[i] != NO_MIRROR) pt[tmap[i]] = u;
  }
}
