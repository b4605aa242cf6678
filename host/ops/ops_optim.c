/* Optimizer step launcher over kernels/optimizer.cl; the optimizer's scalars come from its
   row of the table (ops/optimizer.c). */
#include "ops/ops.h"

void op_optimizer_step(cl_runtime *rt, const ops_kernels *k, size_t n, cl_mem params, cl_mem grads,
                       cl_mem state, const optim_config *o, uint64_t step, cl_mem params_t,
                       cl_mem tmap) {
  if (n == 0 || rt_failed(rt)) return;
  if (n > UINT32_MAX) {
    ERR_RUNTIME(&rt->err, "%zu parameters exceed the optimizer kernel's 32-bit index", n);
    return;
  }
  if (step == 0 || !k->optimizer_step || o->kind != k->optimizer) {
    ERR_RUNTIME(&rt->err, "optimizer step %llu of %s: steps count from 1 and the kernels were built for %s",
                (unsigned long long)step, optim_kind_name(o->kind),
                k->optimizer_step ? optim_kind_name(k->optimizer) : "no optimizer");
    return;
  }
  float s[OPTIM_SCALARS];
  optim_scalars(o, step, s);
  cl_float8 h;
  for (int i = 0; i < OPTIM_SCALARS; i++) h.s[i] = s[i];
  cl_kernel kk = k->optimizer_vec ? k->optimizer_step_vec : k->optimizer_step;
  karg_cursor a = karg_begin(rt, kk);
  karg_uint(&a, (cl_uint)n);
  karg_mem(&a, params);
  karg_mem(&a, grads);
  karg_mem(&a, state);
  karg_raw(&a, sizeof h, &h);
  karg_mem(&a, params_t);
  karg_mem(&a, tmap);
  karg_int(&a, params_t != NULL && tmap != NULL);
  if (k->optimizer_vec) rt_launch1d(rt, kk, (n + OPS_OPT_PER_ITEM - 1) / OPS_OPT_PER_ITEM, OPS_OPT_VEC_WG);
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
