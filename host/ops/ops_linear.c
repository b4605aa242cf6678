/* Linear layer: GEMMs through gemm.h, bias add/gradient through kernels/linear.cl. */
#include "cl/gemm.h"
#include "ops/ops.h"
#include "base/util.h"

void op_linear_forward(cl_runtime *rt, int rows, int in, int out, cl_mem x, cl_mem params,
                       size_t w_off, cl_mem h) {
  /* h[rows][out] = x[rows][in] * W^T, W[out][in] */
  gemm(rt, false, true, (size_t)rows, (size_t)out, (size_t)in, 1.0f, x, 0, (size_t)in, params,
       w_off, (size_t)in, 0.0f, h, 0, (size_t)out);
}

void op_linear_forward_t(cl_runtime *rt, int rows, int in, int out, cl_mem x, cl_mem params_t,
                         size_t w_off, cl_mem h) {
  /* h[rows][out] = x[rows][in] * Wt[in][out] */
  gemm(rt, false, false, (size_t)rows, (size_t)out, (size_t)in, 1.0f, x, 0, (size_t)in, params_t,
       w_off, (size_t)out, 0.0f, h, 0, (size_t)out);
}

void op_linear_backward(cl_runtime *rt, int rows, int in, int out, cl_mem dh, cl_mem x,
                        cl_mem params, size_t w_off, cl_mem grads, size_t dw_off, cl_mem dx) {
  /* dW[out][in] = dh^T[out][rows] * x[rows][in] */
  gemm(rt, true, false, (size_t)out, (size_t)in, (size_t)rows, 1.0f, dh, 0, (size_t)out, x, 0,
       (size_t)in, 0.0f, grads, dw_off, (size_t)in);
  /* dx[rows][in] = dh[rows][out] * W[out][in] */
  if (dx)
    gemm(rt, false, false, (size_t)rows, (size_t)in, (size_t)out, 1.0f, dh, 0, (size_t)out, params,
         w_off, (size_t)in, 0.0f, dx, 0, (size_t)in);
}

void op_bias_act_forward(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem h,
                         cl_mem params, size_t bias_off, cl_mem z, cl_mem saved,
                         const op_epilogue *e) {
  cl_kernel kk = k->bias_act_fwd;
  const cl_int r = rows, c = C, store = saved != NULL;
  const cl_uint boff = (cl_uint)bias_off;
  KARG(kk, 0, r);
  KARG(kk, 1, h);
  KARG(kk, 2, params);
  KARG(kk, 3, boff);
  KARG(kk, 4, c);
  KARG(kk, 5, z);
  KARG(kk, 6, saved);
  KARG(kk, 7, store);
  ops_set_epilogue(kk, 8, e);
  rt_launch1d(rt, kk, (size_t)rows * (size_t)C, k->ew_wg);
}

void op_bias_act_backward(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem dz,
                          cl_mem saved, bool write_dh, cl_mem grads, size_t db_off,
                          const op_epilogue *e, const op_loss *loss) {
  if (loss && !ops_can_fuse_loss(k, C)) DIE("bias backward over %d columns cannot run the loss", C);
  cl_kernel kk = ops_col_kernel(k, k->bias_act_bwd, k->bias_act_bwd_v, e);
  const cl_int r = rows, c = C, wdh = write_dh;
  const cl_uint off = (cl_uint)db_off;
  KARG(kk, 0, r);
  KARG(kk, 1, dz);
  KARG(kk, 2, saved);
  KARG(kk, 3, c);
  KARG(kk, 4, wdh);
  KARG(kk, 5, grads);
  KARG(kk, 6, off);
  ops_set_epilogue(kk, 7, e);
  if (k->col_vec) ops_set_loss(kk, 12, loss);
  ops_launch_cols(rt, k, kk, C);
}
