/* Synchronised BatchNorm1d launchers over kernels/batchnorm_sync.cl (ops.h). Built only
   when a net trains data-parallel, so a single-process run compiles nothing more. */
#include "ops/ops.h"

void ops_init_bn_sync(ops_kernels *k, cl_runtime *rt) {
  if (k->bn_sync_sum) return;
  cl_program p = ops_program(rt, "batchnorm_sync.cl", "");
  k->bn_sync_sum = rt_kernel(rt, p, "bn_sync_sum");
  k->bn_sync_fwd = rt_kernel(rt, p, "bn_sync_forward");
  k->bn_sync_bwd_sums = rt_kernel(rt, p, "bn_sync_backward_sums");
  k->bn_sync_bwd_dx = rt_kernel(rt, p, "bn_sync_backward_dx");
}

/* One work-item per channel. */
static void launch_channels(cl_runtime *rt, const ops_kernels *k, cl_kernel kk, int C) {
  rt_launch1d(rt, kk, (size_t)C, k->ew_wg);
}

void op_bn_sync_sum(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                    const op_rows *x_rows, cl_mem center, cl_mem out) {
  karg_cursor a = karg_begin(rt, k->bn_sync_sum);
  karg_int(&a, rows);
  karg_mem(&a, x);
  ops_arg_rows(&a, x_rows);
  karg_mem(&a, bn->params);
  karg_int(&a, bn->has_bias);
  karg_uint(&a, (cl_uint)bn->bias_off);
  karg_int(&a, bn->C);
  karg_mem(&a, center);
  karg_int(&a, center != NULL);
  karg_mem(&a, out);
  launch_channels(rt, k, k->bn_sync_sum, bn->C);
}

void op_bn_sync_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, int global_rows,
                        cl_mem x, const op_rows *x_rows, cl_mem gstats, cl_mem z, cl_mem saved,
                        const op_epilogue *e) {
  karg_cursor a = karg_begin(rt, k->bn_sync_fwd);
  karg_int(&a, rows);
  karg_mem(&a, x);
  ops_arg_rows(&a, x_rows);
  karg_mem(&a, bn->params);
  karg_uint(&a, (cl_uint)bn->gamma_off);
  karg_uint(&a, (cl_uint)bn->beta_off);
  karg_int(&a, bn->has_bias);
  karg_uint(&a, (cl_uint)bn->bias_off);
  karg_mem(&a, bn->stats);
  karg_uint(&a, (cl_uint)bn->rm_off);
  karg_uint(&a, (cl_uint)bn->rv_off);
  karg_mem(&a, bn->batch_stats);
  karg_int(&a, bn->C);
  karg_float(&a, bn->momentum);
  karg_float(&a, bn->eps);
  karg_int(&a, global_rows);
  karg_mem(&a, gstats);
  karg_mem(&a, z);
  karg_mem(&a, saved);
  karg_int(&a, saved != NULL);
  ops_arg_epilogue(&a, e);
  launch_channels(rt, k, k->bn_sync_fwd, bn->C);
}

void op_bn_sync_backward_sums(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                              const op_rows *x_rows, cl_mem dz, cl_mem saved, cl_mem out, const op_epilogue *e) {
  karg_cursor a = karg_begin(rt, k->bn_sync_bwd_sums);
  karg_int(&a, rows);
  karg_mem(&a, x);
  ops_arg_rows(&a, x_rows);
  karg_mem(&a, bn->params);
  karg_int(&a, bn->has_bias);
  karg_uint(&a, (cl_uint)bn->bias_off);
  karg_mem(&a, bn->batch_stats);
  karg_int(&a, bn->C);
  karg_mem(&a, dz);
  karg_mem(&a, saved);
  karg_mem(&a, out);
  ops_arg_epilogue(&a, e);
  launch_channels(rt, k, k->bn_sync_bwd_sums, bn->C);
}

void op_bn_sync_backward_dx(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, int global_rows,
                            cl_mem x, const op_rows *x_rows, cl_mem gsums, cl_mem lsums, cl_mem dz, cl_mem dx,
                            cl_mem grads, size_t dgamma_off, size_t dbeta_off, size_t dbias_off) {
  karg_cursor a = karg_begin(rt, k->bn_sync_bwd_dx);
  karg_int(&a, rows);
  karg_mem(&a, x);
  ops_arg_rows(&a, x_rows);
  karg_mem(&a, bn->params);
  karg_uint(&a, (cl_uint)bn->gamma_off);
  karg_int(&a, bn->has_bias);
  karg_uint(&a, (cl_uint)bn->bias_off);
  karg_mem(&a, bn->batch_stats);
  karg_int(&a, bn->C);
  karg_int(&a, global_rows);
  karg_mem(&a, gsums);
  karg_mem(&a, lsums);
  karg_mem(&a, dz);
  karg_mem(&a, dx);
  karg_int(&a, dx != NULL);
  karg_mem(&a, grads);
  karg_uint(&a, (cl_uint)dgamma_off);
  karg_uint(&a, (cl_uint)dbeta_off);
  karg_uint(&a, (cl_uint)dbias_off);
  launch_channels(rt, k, k->bn_sync_bwd_dx, bn->C);
}
