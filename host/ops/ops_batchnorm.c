/* BatchNorm1d launchers over kernels/batchnorm.cl. */
#include "ops/ops.h"
#include "base/util.h"

void op_bn_train_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                         const op_rows *x_rows, cl_mem z, cl_mem saved, const op_epilogue *e) {
  cl_kernel kk = ops_col_kernel(k, k->bn_train_fwd, k->bn_train_fwd_v, e);
  const cl_int r = rows, c = bn->C, has_bias = bn->has_bias, store = saved != NULL;
  const cl_uint goff = (cl_uint)bn->gamma_off, boff = (cl_uint)bn->beta_off,
                bias = (cl_uint)bn->bias_off, rm = (cl_uint)bn->rm_off, rv = (cl_uint)bn->rv_off;
  const cl_float mom = bn->momentum, eps = bn->eps;
  KARG(kk, 0, r);
  KARG(kk, 1, x);
  ops_set_rows(kk, 2, x_rows);
  KARG(kk, 5, bn->params);
  KARG(kk, 6, goff);
  KARG(kk, 7, boff);
  KARG(kk, 8, has_bias);
  KARG(kk, 9, bias);
  KARG(kk, 10, bn->stats);
  KARG(kk, 11, rm);
  KARG(kk, 12, rv);
  KARG(kk, 13, bn->batch_stats);
  KARG(kk, 14, c);
  KARG(kk, 15, mom);
  KARG(kk, 16, eps);
  KARG(kk, 17, z);
  KARG(kk, 18, saved);
  KARG(kk, 19, store);
  ops_set_epilogue(kk, 20, e);
  ops_launch_cols(rt, k, kk, bn->C);
}

void op_bn_eval_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                        cl_mem z, const op_epilogue *e) {
  cl_kernel kk = k->bn_eval_fwd;
  const cl_int r = rows, c = bn->C, has_bias = bn->has_bias;
  const cl_uint goff = (cl_uint)bn->gamma_off, boff = (cl_uint)bn->beta_off,
                bias = (cl_uint)bn->bias_off, rm = (cl_uint)bn->rm_off, rv = (cl_uint)bn->rv_off;
  const cl_float eps = bn->eps;
  op_epilogue eval = *e;
  eval.mask = NULL; /* dropout is the identity in evaluation */
  KARG(kk, 0, r);
  KARG(kk, 1, x);
  KARG(kk, 2, bn->params);
  KARG(kk, 3, goff);
  KARG(kk, 4, boff);
  KARG(kk, 5, has_bias);
  KARG(kk, 6, bias);
  KARG(kk, 7, bn->stats);
  KARG(kk, 8, rm);
  KARG(kk, 9, rv);
  KARG(kk, 10, c);
  KARG(kk, 11, eps);
  KARG(kk, 12, z);
  ops_set_epilogue(kk, 13, &eval);
  rt_launch1d(rt, kk, (size_t)rows * (size_t)bn->C, k->ew_wg);
}

void op_bn_train_backward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows,
                          cl_mem x, const op_rows *x_rows, cl_mem dz, cl_mem saved, cl_mem dx,
                          cl_mem grads, size_t dgamma_off, size_t dbeta_off, size_t dbias_off,
                          const op_epilogue *e, const op_loss *loss) {
  if (loss && !ops_can_fuse_loss(k, bn->C)) DIE("batch-norm backward over %d columns cannot run the loss", bn->C);
  cl_kernel kk = ops_col_kernel(k, k->bn_train_bwd, k->bn_train_bwd_v, e);
  const cl_int r = rows, c = bn->C, has_bias = bn->has_bias, write_dx = dx != NULL;
  const cl_uint goff = (cl_uint)bn->gamma_off, bias = (cl_uint)bn->bias_off,
                dg = (cl_uint)dgamma_off, db = (cl_uint)dbeta_off, dbias = (cl_uint)dbias_off;
  KARG(kk, 0, r);
  KARG(kk, 1, x);
  ops_set_rows(kk, 2, x_rows);
  KARG(kk, 5, bn->params);
  KARG(kk, 6, goff);
  KARG(kk, 7, has_bias);
  KARG(kk, 8, bias);
  KARG(kk, 9, bn->batch_stats);
  KARG(kk, 10, c);
  KARG(kk, 11, dz);
  KARG(kk, 12, saved);
  KARG(kk, 13, dx);
  KARG(kk, 14, write_dx);
  KARG(kk, 15, grads);
  KARG(kk, 16, dg);
  KARG(kk, 17, db);
  KARG(kk, 18, dbias);
  ops_set_epilogue(kk, 19, e);
  if (k->col_vec) ops_set_loss(kk, 24, loss);
  ops_launch_cols(rt, k, kk, bn->C);
}
