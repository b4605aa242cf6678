/* Optimizer step launcher over kernels/optimizer.cl, and the PyTorch/MASE defaults. The
   scalars PyTorch computes in double precision on the host are computed the same way here. */
#include <math.h>

#include "ops/ops.h"
#include "base/util.h"

void optim_config_default(optim_config *o, optim_kind kind, float lr, float weight_decay) {
  o->kind = kind;
  o->lr = lr;
  o->weight_decay = weight_decay;
  o->beta1 = 0.9f;
  o->beta2 = 0.999f;
  o->eps = 1e-8f;
  o->momentum = 0.9f;
  o->nesterov = true;
}

void op_optimizer_step(cl_runtime *rt, const ops_kernels *k, size_t n, cl_mem params, cl_mem grads,
                       cl_mem state, const optim_config *o, uint64_t step, cl_mem params_t,
                       cl_mem tmap) {
  if (n == 0) return;
  if (n > UINT32_MAX) DIE("%zu parameters exceed the optimizer kernel's 32-bit index", n);
  if (step == 0) DIE("optimizer step counts from 1");
  const double lr = o->lr, wd = o->weight_decay, t = (double)step;
  const cl_uint nn = (cl_uint)n;
  const cl_int kind = o->kind == OPTIM_ADAM ? 0 : o->kind == OPTIM_ADAMW ? 1 : 2;
  const cl_float f_lr = o->lr, f_wd = o->weight_decay;
  const cl_float decay_factor = (float)(1.0 - lr * wd);
  const cl_float beta1 = o->beta1, beta2 = o->beta2, eps = o->eps;
  const cl_float omb1 = (float)(1.0 - (double)o->beta1), omb2 = (float)(1.0 - (double)o->beta2);
  const cl_float step_size = (float)(lr / (1.0 - pow((double)o->beta1, t)));
  const cl_float bc2_sqrt = (float)sqrt(1.0 - pow((double)o->beta2, t));
  const cl_float momentum = o->momentum;
  const cl_int nesterov = o->nesterov;
  cl_kernel kk = k->optimizer_vec ? k->optimizer_step_vec : k->optimizer_step;
  KARG(kk, 0, nn);
  KARG(kk, 1, params);
  KARG(kk, 2, grads);
  KARG(kk, 3, state);
  KARG(kk, 4, kind);
  KARG(kk, 5, f_lr);
  KARG(kk, 6, f_wd);
  KARG(kk, 7, decay_factor);
  KARG(kk, 8, beta1);
  KARG(kk, 9, omb1);
  KARG(kk, 10, beta2);
  KARG(kk, 11, omb2);
  KARG(kk, 12, eps);
  KARG(kk, 13, step_size);
  KARG(kk, 14, bc2_sqrt);
  KARG(kk, 15, momentum);
  KARG(kk, 16, nesterov);
  const cl_int mirror = params_t != NULL && tmap != NULL;
  KARG(kk, 17, params_t);
  KARG(kk, 18, tmap);
  KARG(kk, 19, mirror);
  if (k->optimizer_vec) rt_launch1d(rt, kk, (n + 15) / 16, OPS_OPT_VEC_WG);
  else rt_launch1d(rt, kk, n, k->ew_wg);
}

void ops_weight_mirror_map(const model_spec *m, uint32_t *tmap) {
  for (size_t i = 0; i < m->n_params; i++) tmap[i] = OPS_NO_MIRROR;
  for (int l = 0; l < m->n_layers; l++) {
    const layer_spec *L = &m->layers[l];
    if (L->kind != LAYER_LINEAR) continue;
    const size_t in = (size_t)L->in, out = (size_t)L->out, w = L->param_offset;
    for (size_t o = 0; o < out; o++)
      for (size_t j = 0; j < in; j++) tmap[w + o * in + j] = (uint32_t)(w + j * out + o);
  }
}
