/* BatchNorm1d launchers over kernels/batchnorm.cl. */
#include "ops/ops.h"

/* Where a batch norm's parameters (gamma, beta, the bias folded into it) and running
   statistics live: the same arguments, in the same order, for every batchnorm.cl kernel
   that reads them. */
static void arg_bn_params(karg_cursor *a, const op_bn *bn) {
  karg_mem(a, bn->params);
  karg_uint(a, (cl_uint)bn->gamma_off);
  karg_uint(a, (cl_uint)bn->beta_off);
  karg_int(a, bn->has_bias);
  karg_uint(a, (cl_uint)bn->bias_off);
  karg_mem(a, bn->stats);
  karg_uint(a, (cl_uint)bn->rm_off);
  karg_uint(a, (cl_uint)bn->rv_off);
}

void op_bn_train_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                         const op_rows *x_rows, cl_mem z, cl_mem saved, const op_epilogue *e) {
  cl_kernel kk = ops_col_kernel(k, k->bn_train_fwd, k->bn_train_fwd_v, e);
  karg_cursor a = karg_begin(rt, kk);
  karg_int(&a, rows);
  karg_mem(&a, x);
  ops_arg_rows(&a, x_rows);
  arg_bn_params(&a, bn);
  karg_mem(&a, bn->batch_stats);
  karg_int(&a, bn->C);
  karg_float(&a, bn->momentum);
  karg_float(&a, bn->eps);
  karg_mem(&a, z);
  karg_mem(&a, saved);
  karg_int(&a, saved != NULL);
  ops_arg_epilogue(&a, e);
  ops_launch_cols(rt, k, kk, bn->C);
}

void op_bn_eval_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                        cl_mem z, const op_epilogue *e) {
  op_epilogue eval = *e;
  eval.mask = NULL; /* dropout is the identity in evaluation */
  karg_cursor a = karg_begin(rt, k->bn_eval_fwd);
  karg_int(&a, rows);
  karg_mem(&a, x);
  arg_bn_params(&a, bn);
  karg_int(&a, bn->C);
  karg_float(&a, bn->eps);
  karg_mem(&a, z);
  ops_arg_epilogue(&a, &eval);
  rt_launch1d(rt, k->bn_eval_fwd, (size_t)rows * (size_t)bn->C, k->ew_wg);
}

void op_bn_train_backward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows,
                          cl_mem x, const op_rows *x_rows, cl_mem dz, cl_mem saved, cl_mem dx,
                          cl_mem grads, size_t dgamma_off, size_t dbeta_off, size_t dbias_off,
                          const op_epilogue *e, const op_loss *loss) {
  if (loss && !ops_can_fuse_loss(k, bn->C)) {
    ERR_RUNTIME(&rt->err, "batch-norm backward over %d columns cannot run the loss", bn->C);
    return;
  }
  cl_kernel kk = ops_col_kernel(k, k->bn_train_bwd, k->bn_train_bwd_v, e);
  karg_cursor a = karg_begin(rt, kk);
  karg_int(&a, rows);
  karg_mem(&a, x);
  ops_arg_rows(&a, x_rows);
  karg_mem(&a, bn->params);
  karg_uint(&a, (cl_uint)bn->gamma_off);
  karg_int(&a, bn->has_bias);
  karg_uint(&a, (cl_uint)bn->bias_off);
  karg_mem(&a, bn->batch_stats);
  karg_int(&a, bn->C);
  karg_mem(&a, dz);
  karg_mem(&a, saved);
  karg_mem(&a, dx);
  karg_int(&a, dx != NULL);
  karg_mem(&a, grads);
  karg_uint(&a, (cl_uint)dgamma_off);
  karg_uint(&a, (cl_uint)dbeta_off);
  karg_uint(&a, (cl_uint)dbias_off);
  ops_arg_epilogue(&a, e);
  if (k->col_vec) ops_arg_loss(&a, loss);
  ops_launch_cols(rt, k, kk, bn->C);
}
