/* Linear layer: GEMMs through gemm.h, bias add/gradient through kernels/linear.cl. */
#include "cl/gemm.h"
#include "ops/ops.h"

void op_linear_forward(cl_runtime *rt, int rows, int in, int out, cl_mem x, cl_mem params,
                       size_t w_off, cl_mem h) {
  /* h[rows][out] = x[rows][in] * W^T, W[out][in] */
  gemm(rt, false, true, (size_t)rows, (size_t)out, (size_t)in, 1.0f, x, 0, (size_t)in, params,
       w_off, (size_t)in, 0.0f, h, 0, (size_t)out);
}

gemm_shape linear_gemm_shape(linear_gemm which, size_t rows, size_t in, size_t out) {
  switch (which) {
    case LINEAR_GEMM_FORWARD: /* h[rows][out] = x[rows][in] * Wt[in][out] */
      return (gemm_shape){false, false, rows, out, in, in, out, out};
    case LINEAR_GEMM_DW: /* dW[out][in] = dh^T[out][rows] * x[rows][in] */
      return (gemm_shape){true, false, out, in, rows, out, in, in};
    default: /* dx[rows][in] = dh[rows][out] * W[out][in] */
      return (gemm_shape){false, false, rows, in, out, out, in, in};
  }
}

int linear_step_gemms(const model_spec *m, int l, size_t rows, gemm_shape out[LINEAR_GEMM_COUNT]) {
  const layer_spec *L = &m->layers[l];
  if (L->kind != LAYER_LINEAR) return 0;
  bool params_before = false;
  for (int i = 0; i < l; i++) params_before = params_before || m->layers[i].n_params > 0;
  const int n = params_before ? 3 : 2;
  for (int g = 0; g < n; g++) out[g] = linear_gemm_shape((linear_gemm)g, rows, (size_t)L->in, (size_t)L->out);
  return n;
}

void op_linear_forward_t(cl_runtime *rt, int rows, int in, int out, cl_mem x, cl_mem params_t,
                         size_t w_off, cl_mem h) {
  const gemm_shape s = linear_gemm_shape(LINEAR_GEMM_FORWARD, (size_t)rows, (size_t)in, (size_t)out);
  gemm_shaped(rt, &s, x, 0, params_t, w_off, h, 0);
}

void op_linear_backward(cl_runtime *rt, int rows, int in, int out, cl_mem dh, cl_mem x,
                        cl_mem params, size_t w_off, cl_mem grads, size_t dw_off, cl_mem dx) {
  const gemm_shape dw = linear_gemm_shape(LINEAR_GEMM_DW, (size_t)rows, (size_t)in, (size_t)out);
  gemm_shaped(rt, &dw, dh, 0, x, 0, grads, dw_off);
  const gemm_shape dxs = linear_gemm_shape(LINEAR_GEMM_DX, (size_t)rows, (size_t)in, (size_t)out);
  if (dx) gemm_shaped(rt, &dxs, dh, 0, params, w_off, dx, 0);
}

void op_bias_act_forward(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem h,
                         cl_mem params, size_t bias_off, cl_mem z, cl_mem saved,
                         const op_epilogue *e) {
  karg_cursor a = karg_begin(rt, k->bias_act_fwd);
  karg_int(&a, rows);
  karg_mem(&a, h);
  karg_mem(&a, params);
  karg_uint(&a, (cl_uint)bias_off);
  karg_int(&a, C);
  karg_mem(&a, z);
  karg_mem(&a, saved);
  karg_int(&a, saved != NULL);
  ops_arg_epilogue(&a, e);
  rt_launch1d(rt, k->bias_act_fwd, (size_t)rows * (size_t)C, k->ew_wg);
}

void op_bias_act_backward(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem dz,
                          cl_mem saved, bool write_dh, cl_mem grads, size_t db_off,
                          const op_epilogue *e, const op_loss *loss) {
  if (loss && !ops_can_fuse_loss(k, C)) {
    ERR_RUNTIME(&rt->err, "bias backward over %d columns cannot run the loss", C);
    return;
  }
  cl_kernel kk = ops_col_kernel(k, k->bias_act_bwd, k->bias_act_bwd_v, e);
  karg_cursor a = karg_begin(rt, kk);
  karg_int(&a, rows);
  karg_mem(&a, dz);
  karg_mem(&a, saved);
  karg_int(&a, C);
  karg_int(&a, write_dh);
  karg_mem(&a, grads);
  karg_uint(&a, (cl_uint)db_off);
  ops_arg_epilogue(&a, e);
  if (k->col_vec) ops_arg_loss(&a, loss);
  ops_launch_cols(rt, k, kk, C);
}
