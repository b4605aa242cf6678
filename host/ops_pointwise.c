/* Stand-alone activation / dropout launchers over kernels/activations.cl. */
#include "ops.h"
#include "util.h"

void op_pointwise_forward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem x, cl_mem z,
                          cl_mem saved, const op_epilogue *e, uint64_t step) {
  cl_kernel kk = k->pointwise_fwd;
  const cl_int nn = n, store = saved != NULL;
  const cl_ulong st = step;
  KARG(kk, 0, nn);
  KARG(kk, 1, st);
  KARG(kk, 2, x);
  KARG(kk, 3, z);
  KARG(kk, 4, saved);
  KARG(kk, 5, store);
  ops_set_epilogue(kk, 6, e);
  rt_launch1d(rt, kk, (size_t)n, k->ew_wg);
}

void op_pointwise_backward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem dz, cl_mem saved,
                           cl_mem dx, const op_epilogue *e, uint64_t step) {
  cl_kernel kk = k->pointwise_bwd;
  const cl_int nn = n;
  const cl_ulong st = step;
  KARG(kk, 0, nn);
  KARG(kk, 1, st);
  KARG(kk, 2, dz);
  KARG(kk, 3, saved);
  KARG(kk, 4, dx);
  ops_set_epilogue(kk, 5, e);
  rt_launch1d(rt, kk, (size_t)n, k->ew_wg);
}
