/* Stand-alone activation / dropout launchers over kernels/activations.cl, and the
   dropout mask generator of kernels/dropout.cl. */
#include "ops/ops.h"

void op_pointwise_forward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem x, cl_mem z,
                          cl_mem saved, const op_epilogue *e) {
  karg_cursor a = karg_begin(rt, k->pointwise_fwd);
  karg_int(&a, n);
  karg_mem(&a, x);
  karg_mem(&a, z);
  karg_mem(&a, saved);
  karg_int(&a, saved != NULL);
  ops_arg_epilogue(&a, e);
  rt_launch1d(rt, k->pointwise_fwd, (size_t)n, k->ew_wg);
}

void op_pointwise_backward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem dz, cl_mem saved,
                           cl_mem dx, const op_epilogue *e) {
  karg_cursor a = karg_begin(rt, k->pointwise_bwd);
  karg_int(&a, n);
  karg_mem(&a, dz);
  karg_mem(&a, saved);
  karg_mem(&a, dx);
  ops_arg_epilogue(&a, e);
  rt_launch1d(rt, k->pointwise_bwd, (size_t)n, k->ew_wg);
}

void op_dropout_mask(cl_runtime *rt, const ops_kernels *k, const op_epilogue *e, int n, uint64_t step) {
  op_dropout_mask_at(rt, k, e, n, 0, step);
}

void op_dropout_mask_at(cl_runtime *rt, const ops_kernels *k, const op_epilogue *e, int n, size_t offset,
                        uint64_t step) {
  const cl_uint thr = dropout_threshold(e->drop_p);
  if (!e->mask || thr == 0 || n <= 0) return;
  if (offset + (size_t)n > UINT32_MAX) {
    ERR_RUNTIME(&rt->err, "dropout mask: elements up to %zu exceed the kernels' 32-bit index", offset + (size_t)n);
    return;
  }
  karg_cursor a = karg_begin(rt, k->dropout_mask);
  karg_uint(&a, (cl_uint)n);
  karg_uint(&a, (cl_uint)offset);
  karg_ulong(&a, step);
  karg_uint(&a, e->drop_layer);
  karg_uint(&a, (cl_uint)e->seed);
  karg_uint(&a, (cl_uint)(e->seed >> 32));
  karg_uint(&a, thr);
  karg_mem(&a, e->mask);
  /* counters offset/4 .. (offset+n-1)/4 (four elements each), OPS_DROP_PER_ITEM elements per
     work-item */
  const size_t counters = (offset + (size_t)n - 1) / 4 - offset / 4 + 1;
  rt_launch1d(rt, k->dropout_mask, (4 * counters + OPS_DROP_PER_ITEM - 1) / OPS_DROP_PER_ITEM, k->ew_wg);
}
