/* Stand-alone activation / dropout launchers over kernels/activations.cl, and the
   dropout mask generator of kernels/dropout.cl. */
#include "ops/ops.h"
#include "base/util.h"

void op_pointwise_forward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem x, cl_mem z,
                          cl_mem saved, const op_epilogue *e) {
  cl_kernel kk = k->pointwise_fwd;
  const cl_int nn = n, store = saved != NULL;
  KARG(kk, 0, nn);
  KARG(kk, 1, x);
  KARG(kk, 2, z);
  KARG(kk, 3, saved);
  KARG(kk, 4, store);
  ops_set_epilogue(kk, 5, e);
  rt_launch1d(rt, kk, (size_t)n, k->ew_wg);
}

void op_pointwise_backward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem dz, cl_mem saved,
                           cl_mem dx, const op_epilogue *e) {
  cl_kernel kk = k->pointwise_bwd;
  const cl_int nn = n;
  KARG(kk, 0, nn);
  KARG(kk, 1, dz);
  KARG(kk, 2, saved);
  KARG(kk, 3, dx);
  ops_set_epilogue(kk, 4, e);
  rt_launch1d(rt, kk, (size_t)n, k->ew_wg);
}

void op_dropout_mask(cl_runtime *rt, const ops_kernels *k, const op_epilogue *e, int n, uint64_t step) {
  const cl_uint thr = dropout_threshold(e->drop_p);
  if (!e->mask || thr == 0 || n <= 0) return;
  cl_kernel kk = k->dropout_mask;
  const cl_uint nn = (cl_uint)n, layer = e->drop_layer;
  const cl_uint seed_lo = (cl_uint)e->seed, seed_hi = (cl_uint)(e->seed >> 32);
  const cl_ulong st = step;
  KARG(kk, 0, nn);
  KARG(kk, 1, st);
  KARG(kk, 2, layer);
  KARG(kk, 3, seed_lo);
  KARG(kk, 4, seed_hi);
  KARG(kk, 5, thr);
  KARG(kk, 6, e->mask);
  rt_launch1d(rt, kk, ((size_t)n + OPS_DROP_PER_ITEM - 1) / OPS_DROP_PER_ITEM, k->ew_wg);
}
