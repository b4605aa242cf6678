/* Fused narrow Linear layers: building the per-shape programs of kernels/fused_linear.cl
   and launching them (see ops_fused.h). */
#include <stdio.h>

#include "ops/ops_fused.h"

bool fused_linear_fits(int in, int out) {
  return in >= 1 && in <= OPS_FUSED_MAX_WIDTH && out >= 1 && out <= OPS_FUSED_MAX_WIDTH;
}

int fused_linear_init(fused_linear *f, cl_runtime *rt, int in, int out, act_kind act, fused_form form,
                      error *err) {
  *f = (fused_linear){0};
  if (!fused_linear_fits(in, out))
    return ERR_USAGE(err, "fused Linear %d -> %d: widths must be 1..%d", in, out, OPS_FUSED_MAX_WIDTH);
  if ((int)act < ACT_NONE || act > ACT_TANH)
    return ERR_RUNTIME(err, "fused Linear: activation %d out of range", (int)act);
  const bool gpu = (rt->info.type & CL_DEVICE_TYPE_GPU) != 0;
  if (form == FUSED_FORM_AUTO) form = gpu ? FUSED_FORM_GPU : FUSED_FORM_CPU;
  if (form == FUSED_FORM_GPU && rt->info.max_work_group < OPS_FUSED_WG)
    return ERR_RUNTIME(err, "fused Linear: %s allows work-groups of %zu, the GPU form needs %d",
                       rt->info.name, rt->info.max_work_group, OPS_FUSED_WG);
  f->in = in;
  f->out = out;
  f->act = act;
  f->form = form;
  char opts[128];
  snprintf(opts, sizeof opts, "-DIN=%d -DOUT=%d -DACT=%d", in, out, (int)act);
  cl_program p = rt_program(rt, "fused_linear.cl", opts);
  const char *suffix = form == FUSED_FORM_GPU ? "gpu" : "cpu";
  char name[32];
  snprintf(name, sizeof name, "fused_fwd_%s", suffix);
  f->fwd = rt_kernel(rt, p, name);
  snprintf(name, sizeof name, "fused_dx_%s", suffix);
  f->dx = rt_kernel(rt, p, name);
  snprintf(name, sizeof name, "fused_dw_%s", suffix);
  f->dw = rt_kernel(rt, p, name);
  if (form == FUSED_FORM_CPU && out <= OPS_LOSS_SMALL_C) f->dw_loss = rt_kernel(rt, p, "fused_dw_loss_cpu");
  return 0;
}

void fused_linear_free(fused_linear *f) {
  cl_kernel *all[] = {&f->fwd, &f->dx, &f->dw, &f->dw_loss};
  for (int i = 0; i < 4; i++) {
    if (*all[i]) CL_CHECK(clReleaseKernel(*all[i]));
    *all[i] = NULL;
  }
}

/* Outputs of dW per work-item of the CPU form: DW_OB of kernels/fused_linear.cl, from the
   number of vectors (VWI lanes) a row of IN floats takes. */
static int dw_outputs_per_item(int in) {
  const int vw = in > 8 ? 16 : in > 4 ? 8 : in > 1 ? 4 : 1, nv = (in + vw - 1) / vw;
  return nv >= 4 ? 1 : 4 / nv;
}

/* The epilogue E (NULL: none) must have the activation F's program was specialised to. */
static int check_epilogue(const fused_linear *f, const op_epilogue *e, error *err) {
  const act_kind act = e ? e->act : ACT_NONE;
  if (act != f->act)
    return ERR_RUNTIME(err, "fused Linear %d -> %d built for activation %d, called with %d", f->in, f->out,
                       (int)f->act, (int)act);
  return 0;
}

/* Set the arguments of a GEMM kernel (GEMM_PARAMS in fused_linear.cl) and launch it over rows. */
static void launch_gemm(cl_runtime *rt, const fused_linear *f, cl_kernel kk, int rows, cl_mem a,
                        cl_mem params, size_t b_off, bool has_bias, size_t bias_off, cl_mem c,
                        cl_mem saved, cl_mem part, const op_epilogue *e) {
  const bool drops = e && op_epilogue_drops(e);
  const cl_int r = rows, hb = has_bias, store = saved != NULL, wp = part != NULL, hd = drops;
  const cl_uint boff = (cl_uint)b_off, bias = (cl_uint)bias_off;
  const cl_float slope = e ? e->slope : 0.0f, scale = drops ? dropout_scale(e->drop_p) : 1.0f;
  const cl_mem mask = drops ? e->mask : NULL;
  cl_uint i = 0;
  KARG(kk, i++, r);
  KARG(kk, i++, a);
  KARG(kk, i++, params);
  KARG(kk, i++, boff);
  KARG(kk, i++, hb);
  KARG(kk, i++, bias);
  KARG(kk, i++, c);
  KARG(kk, i++, saved);
  KARG(kk, i++, store);
  KARG(kk, i++, part);
  KARG(kk, i++, wp);
  KARG(kk, i++, slope);
  KARG(kk, i++, hd);
  KARG(kk, i++, scale);
  KARG(kk, i++, mask);
  const size_t blocks = ((size_t)rows + OPS_FUSED_ROW_BLOCK - 1) / OPS_FUSED_ROW_BLOCK;
  if (f->form == FUSED_FORM_GPU) rt_launch1d(rt, kk, blocks * OPS_FUSED_WG, OPS_FUSED_WG);
  else rt_launch1d(rt, kk, blocks, 1);
}

int op_fused_forward(cl_runtime *rt, const fused_linear *f, int rows, cl_mem x, cl_mem params,
                     size_t w_off, bool has_bias, size_t bias_off, cl_mem z, cl_mem saved,
                     cl_mem part, const op_epilogue *e, error *err) {
  if (check_epilogue(f, e, err)) return -1;
  launch_gemm(rt, f, f->fwd, rows, x, params, w_off, has_bias, bias_off, z, saved, part, e);
  return 0;
}

bool fused_linear_can_fuse_loss(const fused_linear *f) { return f->dw_loss != NULL; }

int op_fused_backward(cl_runtime *rt, const fused_linear *f, int rows, cl_mem dz, cl_mem saved,
                      cl_mem x, cl_mem params, size_t w_off, cl_mem grads, size_t dw_off,
                      bool has_db, size_t db_off, cl_mem dx, const op_epilogue *e,
                      const op_loss *loss, error *err) {
  if (check_epilogue(f, e, err)) return -1;
  if (loss && !fused_linear_can_fuse_loss(f))
    return ERR_RUNTIME(err, "fused Linear %d -> %d (%s form) cannot run the loss", f->in, f->out,
                       f->form == FUSED_FORM_GPU ? "GPU" : "CPU");
  const bool drops = e && op_epilogue_drops(e), identity = f->act == ACT_NONE && !drops;
  const cl_int r = rows, wdh = !identity, hdb = has_db, hd = drops;
  const cl_uint dwo = (cl_uint)dw_off, dbo = (cl_uint)db_off;
  const cl_float slope = e ? e->slope : 0.0f, scale = drops ? dropout_scale(e->drop_p) : 1.0f;
  const cl_mem mask = drops ? e->mask : NULL;
  /* the kernel reads a saved value even where the activation ignores it */
  const cl_mem sv = saved ? saved : dz;
  cl_kernel kk = loss ? f->dw_loss : f->dw;
  cl_uint i = 0;
  KARG(kk, i++, r);
  KARG(kk, i++, dz);
  KARG(kk, i++, sv);
  KARG(kk, i++, wdh);
  KARG(kk, i++, x);
  KARG(kk, i++, grads);
  KARG(kk, i++, dwo);
  KARG(kk, i++, hdb);
  KARG(kk, i++, dbo);
  KARG(kk, i++, slope);
  KARG(kk, i++, hd);
  KARG(kk, i++, scale);
  KARG(kk, i++, mask);
  if (loss) {
    ops_set_loss(kk, i, loss);
    rt_launch1d(rt, kk, 1, 1);
  } else if (f->form == FUSED_FORM_GPU) {
    rt_launch1d(rt, kk, (size_t)f->out * OPS_FUSED_WG, OPS_FUSED_WG);
  } else {
    const int ob = dw_outputs_per_item(f->in);
    rt_launch1d(rt, kk, (size_t)((f->out + ob - 1) / ob), 1);
  }
  if (dx) launch_gemm(rt, f, f->dx, rows, dz, params, w_off, false, 0, dx, NULL, NULL, NULL);
  return 0;
}
