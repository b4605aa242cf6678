/* One optimizer step over the whole flat parameter buffer: one launch per training step.
   The program is built once per optimizer with -DOPT_<name> (host/ops/optimizer.c's table
   names), so each update below is written once and compiled alone. Formulas follow
   PyTorch's single-tensor optimizers to the operation; the scalars PyTorch computes in
   double on the host arrive precomputed in h (a float8; slot meanings in optimizer.c, next
   to each optimizer's row). state holds k floats per parameter (the table's state size),
   the j-th block at state + j * n.

   With mirror, a parameter i with tmap[i] != NO_MIRROR is also written to pt[tmap[i]]: the
   transposed copy of the Linear weights that the forward GEMMs read (host/net/net.c), kept
   in step in the same launch. -D NO_MIRROR and OPT_PER_ITEM come from the host
   (OPS_NO_MIRROR, OPS_OPT_PER_ITEM).

   Two kernels over the same update: one work-item per parameter (GPUs), and
   optimizer_step_vec with one work-item per 16 parameters in float16 vectors (CPUs). */
#include "colvec.cl"
#if OPT_PER_ITEM != 16
#error "optimizer_step_vec runs float16 vectors"
#endif

/* opt_update##N(w, g, state, i, n, h): the new value of the N parameters from i; updates
   their state. */
#if defined(OPT_adam) || defined(OPT_adamw)
#define OPT_UPDATE(N)                                                                          \
  inline float##N opt_update##N(float##N w, float##N g, __global float *state, const uint i,   \
                                const uint n, const float8 h) {                                \
    if (OPT_DECOUPLED) w = w * h.s1;                  /* AdamW: param *= 1 - lr * wd */         \
    else if (h.s0 != 0.0f) g = g + h.s0 * w;          /* Adam: L2 into the gradient */          \
    float##N m = vload##N(0, state + i), v = vload##N(0, state + n + i);                       \
    m = m + h.s3 * (g - m);                           /* exp_avg.lerp_(g, 1 - beta1) */          \
    v = h.s2 * v + h.s4 * (g * g);         /* exp_avg_sq.mul_(b2).addcmul_(g, g, 1 - b2) */     \
    vstore##N(m, 0, state + i);                                                                \
    vstore##N(v, 0, state + n + i);                                                            \
    const float##N denom = sqrt(v) / h.s7 + h.s5;                                              \
    return w - h.s6 * (m / denom);                                                             \
  }
#ifdef OPT_adamw
#define OPT_DECOUPLED 1
#else
#define OPT_DECOUPLED 0
#endif

#elif defined(OPT_sgd)
#define OPT_UPDATE(N)                                                                          \
  inline float##N opt_update##N(float##N w, float##N g, __global float *state, const uint i,   \
                                const uint n, const float8 h) {                                \
    if (h.s0 != 0.0f) g = g + h.s0 * w;                                                        \
    const float##N buf = h.s1 * vload##N(0, state + i) + g; /* zero buffer: first buf = g */    \
    vstore##N(buf, 0, state + i);                                                              \
    g = h.s2 != 0.0f ? g + h.s1 * buf : buf;                /* Nesterov */                      \
    return w - h.s3 * g;                                                                       \
  }

#elif defined(OPT_rmsprop)
/* not centered, no momentum: square_avg.mul_(alpha).addcmul_(g, g, 1 - alpha);
   param.addcdiv_(g, square_avg.sqrt().add_(eps), -lr) */
#define OPT_UPDATE(N)                                                                          \
  inline float##N opt_update##N(float##N w, float##N g, __global float *state, const uint i,   \
                                const uint n, const float8 h) {                                \
    if (h.s0 != 0.0f) g = g + h.s0 * w;                                                        \
    const float##N v = h.s1 * vload##N(0, state + i) + h.s2 * (g * g);                         \
    vstore##N(v, 0, state + i);                                                                \
    return w - h.s4 * (g / (sqrt(v) + h.s3));                                                  \
  }

#else
#error "build with -DOPT_<name> of an optimizer in host/ops/optimizer.c"
#endif

OPT_UPDATE(16)
OPT_UPDATE(1)

/* The new value of parameter i, from its old value and gradient. */
inline float opt_param1(__global float *p, __global const float *grad, __global float *state,
                        const uint i, const uint n, const float8 h) {
  const float u = opt_update1(p[i], grad[i], state, i, n, h);
  p[i] = u;
  return u;
}

__kernel void optimizer_step(const uint n, __global float *p, __global const float *grad,
                             __global float *state, const float8 h, __global float *pt,
                             __global const uint *tmap, const int mirror) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  const float u = opt_param1(p, grad, state, i, n, h);
  if (mirror) {
    const uint t = tmap[i];
    if (t != NO_MIRROR) pt[t] = u;
  }
}

__kernel void optimizer_step_vec(const uint n, __global float *p, __global const float *grad,
                                 __global float *state, const float8 h, __global float *pt,
                                 __global const uint *tmap, const int mirror) {
  const uint i0 = get_global_id(0) * OPT_PER_ITEM;
  if (i0 >= n) return;
  if (i0 + OPT_PER_ITEM <= n) {
    const float16 u16 = opt_update16(vload16(0, p + i0), vload16(0, grad + i0), state, i0, n, h);
    vstore16(u16, 0, p + i0);
    float u[16];
    vstore16(u16, 0, u);
    for (uint l = 0; l < OPT_PER_ITEM && mirror; l++) {
      const uint t = tmap[i0 + l];
      if (t != NO_MIRROR) pt[t] = u[l];
    }
    return;
  }
  for (uint i = i0; i < n; i++) { /* the tail */
    const float u = opt_param1(p, grad, state, i, n, h);
    if (mirror && tmap[i] != NO_MIRROR) pt[tmap[i]] = u;
  }
}
