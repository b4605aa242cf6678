/* BatchNorm1d launchers over kernels/batchnorm.cl. */
#include "ops.h"
#include "util.h"

void op_bn_train_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                         cl_mem z, cl_mem saved, const op_epilogue *e, uint64_t step) {
  cl_kernel kk = k->bn_train_fwd;
  const cl_int r = rows, c = bn->C, has_bias = bn->has_bias, store = saved != NULL;
  const cl_ulong st = step;
  const cl_uint goff = (cl_uint)bn->gamma_off, boff = (cl_uint)bn->beta_off,
                bias = (cl_uint)bn->bias_off, rm = (cl_uint)bn->rm_off, rv = (cl_uint)bn->rv_off;
  const cl_float mom = bn->momentum, eps = bn->eps;
  KARG(kk, 0, r);
  KARG(kk, 1, st);
  KARG(kk, 2, x);
  KARG(kk, 3, bn->params);
  KARG(kk, 4, goff);
  KARG(kk, 5, boff);
  KARG(kk, 6, has_bias);
  KARG(kk, 7, bias);
  KARG(kk, 8, bn->stats);
  KARG(kk, 9, rm);
  KARG(kk, 10, rv);
  KARG(kk, 11, bn->batch_stats);
  KARG(kk, 12, c);
  KARG(kk, 13, mom);
  KARG(kk, 14, eps);
  KARG(kk, 15, z);
  KARG(kk, 16, saved);
  KARG(kk, 17, store);
  ops_set_epilogue(kk, 18, e);
  rt_launch1d(rt, kk, (size_t)bn->C * k->col_wg, k->col_wg);
}

void op_bn_eval_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                        cl_mem z, const op_epilogue *e) {
  cl_kernel kk = k->bn_eval_fwd;
  const cl_int r = rows, c = bn->C, has_bias = bn->has_bias;
  const cl_ulong st = 0;
  const cl_uint goff = (cl_uint)bn->gamma_off, boff = (cl_uint)bn->beta_off,
                bias = (cl_uint)bn->bias_off, rm = (cl_uint)bn->rm_off, rv = (cl_uint)bn->rv_off;
  const cl_float eps = bn->eps;
  op_epilogue eval = *e;
  eval.drop_p = 0.0f; /* dropout is the identity in evaluation */
  KARG(kk, 0, r);
  KARG(kk, 1, st);
  KARG(kk, 2, x);
  KARG(kk, 3, bn->params);
  KARG(kk, 4, goff);
  KARG(kk, 5, boff);
  KARG(kk, 6, has_bias);
  KARG(kk, 7, bias);
  KARG(kk, 8, bn->stats);
  KARG(kk, 9, rm);
  KARG(kk, 10, rv);
  KARG(kk, 11, c);
  KARG(kk, 12, eps);
  KARG(kk, 13, z);
  ops_set_epilogue(kk, 14, &eval);
  rt_launch1d(rt, kk, (size_t)rows * (size_t)bn->C, k->ew_wg);
}

void op_bn_train_backward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows,
                          cl_mem x, cl_mem dz, cl_mem saved, cl_mem dx, cl_mem grads,
                          size_t dgamma_off, size_t dbeta_off, size_t dbias_off,
                          const op_epilogue *e, uint64_t step) {
  cl_kernel kk = k->bn_train_bwd;
  const cl_int r = rows, c = bn->C, has_bias = bn->has_bias, write_dx = dx != NULL;
  const cl_ulong st = step;
  const cl_uint goff = (cl_uint)bn->gamma_off, bias = (cl_uint)bn->bias_off,
                dg = (cl_uint)dgamma_off, db = (cl_uint)dbeta_off, dbias = (cl_uint)dbias_off;
  KARG(kk, 0, r);
  KARG(kk, 1, st);
  KARG(kk, 2, x);
  KARG(kk, 3, bn->params);
  KARG(kk, 4, goff);
  KARG(kk, 5, has_bias);
  KARG(kk, 6, bias);
  KARG(kk, 7, bn->batch_stats);
  KARG(kk, 8, c);
  KARG(kk, 9, dz);
  KARG(kk, 10, saved);
  KARG(kk, 11, dx);
  KARG(kk, 12, write_dx);
  KARG(kk, 13, grads);
  KARG(kk, 14, dg);
  KARG(kk, 15, db);
  KARG(kk, 16, dbias);
  ops_set_epilogue(kk, 17, e);
  rt_launch1d(rt, kk, (size_t)bn->C * k->col_wg, k->col_wg);
}
