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
  if ((int)act < 0 || act >= ACT_COUNT)
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
  /* the activation's math comes from act_math.cl through ACT_LIST (ops_program) */
  char opts[128];
  snprintf(opts, sizeof opts, "-DIN=%d -DOUT=%d -DACT=%d -DACT_IDENTITY=%d -DFUSED_WG=%d", in, out, (int)act,
           (int)ACT_NONE, OPS_FUSED_WG);
  cl_program p = ops_program(rt, "fused_linear.cl", opts);
  const char *suffix = form == FUSED_FORM_GPU ? "gpu" : "cpu";
  char name[32];
  snprintf(name, sizeof name, "fused_fwd_%s", suffix);
  f->fwd = rt_kernel(rt, p, name);
  snprintf(name, sizeof name, "fused_dx_%s", suffix);
  f->dx = rt_kernel(rt, p, name);
  snprintf(name, sizeof name, "fused_dw_%s", suffix);
  f->dw = rt_kernel(rt, p, name);
  if (form == FUSED_FORM_CPU && out <= OPS_LOSS_SMALL_C) f->dw_loss = rt_kernel(rt, p, "fused_dw_loss_cpu");
  return rt_status(rt, err);
}

void fused_linear_free(fused_linear *f) {
  cl_kernel *all[] = {&f->fwd, &f->dx, &f->dw, &f->dw_loss};
  /* clReleaseKernel fails only for an invalid kernel, which cannot be here. */
  for (int i = 0; i < 4; i++) {
    if (*all[i]) clReleaseKernel(*all[i]);
    *all[i] = NULL;
  }
}

/* Outputs of dW per work-item of the CPU form: DW_OB of kernels/fused_linear.cl, from the
   number of vectors (VWI lanes) a row of IN floats takes. */
static int dw_outputs_per_item(int in) {
  const int vw = in > 8 ? 16 : in > 4 ? 8 : in > 1 ? 4 : 1, nv = (in + vw - 1) / vw;
  return nv >= 4 ? 1 : 4 / nv;
}

/* The epilogue E (NULL: none) must have the activation F's program was specialised to;
   false with the error in rt->err. */
static bool check_epilogue(cl_runtime *rt, const fused_linear *f, const op_epilogue *e) {
  const act_kind act = e ? e->act : ACT_NONE;
  if (act == f->act) return true;
  if (!rt_failed(rt))
    ERR_RUNTIME(&rt->err, "fused Linear %d -> %d built for activation %d, called with %d", f->in, f->out,
                (int)f->act, (int)act);
  return false;
}

/* The epilogue arguments of the fused kernels (slope, has_drop, drop_scale, drop_mask:
   ops_arg_epilogue's without the activation, which is compiled in). */
static void arg_epilogue(karg_cursor *a, const op_epilogue *e) {
  const bool drops = e && op_epilogue_drops(e);
  karg_float(a, e ? e->slope : 0.0f);
  karg_int(a, drops);
  karg_float(a, drops ? dropout_scale(e->drop_p) : 1.0f);
  karg_mem(a, drops ? e->mask : NULL);
}

/* Set the arguments of a GEMM kernel (GEMM_PARAMS in fused_linear.cl) and launch it over rows. */
static void launch_gemm(cl_runtime *rt, const fused_linear *f, cl_kernel kk, int rows, cl_mem a,
                        cl_mem params, size_t b_off, bool has_bias, size_t bias_off, cl_mem c,
                        cl_mem saved, cl_mem part, const op_epilogue *e) {
  karg_cursor g = karg_begin(rt, kk);
  karg_int(&g, rows);
  karg_mem(&g, a);
  karg_mem(&g, params);
  karg_uint(&g, (cl_uint)b_off);
  karg_int(&g, has_bias);
  karg_uint(&g, (cl_uint)bias_off);
  karg_mem(&g, c);
  karg_mem(&g, saved);
  karg_int(&g, saved != NULL);
  karg_mem(&g, part);
  karg_int(&g, part != NULL);
  arg_epilogue(&g, e);
  const size_t blocks = ((size_t)rows + OPS_ROW_BLOCK - 1) / OPS_ROW_BLOCK;
  if (f->form == FUSED_FORM_GPU) rt_launch1d(rt, kk, blocks * OPS_FUSED_WG, OPS_FUSED_WG);
  else rt_launch1d(rt, kk, blocks, 1);
}

void op_fused_forward(cl_runtime *rt, const fused_linear *f, int rows, cl_mem x, cl_mem params,
                      size_t w_off, bool has_bias, size_t bias_off, cl_mem z, cl_mem saved,
                      cl_mem part, const op_epilogue *e) {
  if (!check_epilogue(rt, f, e)) return;
  launch_gemm(rt, f, f->fwd, rows, x, params, w_off, has_bias, bias_off, z, saved, part, e);
}

bool fused_linear_can_fuse_loss(const fused_linear *f) { return f->dw_loss != NULL; }

void op_fused_backward(cl_runtime *rt, const fused_linear *f, int rows, cl_mem dz, cl_mem saved,
                       cl_mem x, cl_mem params, size_t w_off, cl_mem grads, size_t dw_off,
                       bool has_db, size_t db_off, cl_mem dx, const op_epilogue *e,
                       const op_loss *loss) {
  if (!check_epilogue(rt, f, e)) return;
  if (loss && !fused_linear_can_fuse_loss(f)) {
    if (!rt_failed(rt))
      ERR_RUNTIME(&rt->err, "fused Linear %d -> %d (%s form) cannot run the loss", f->in, f->out,
                  f->form == FUSED_FORM_GPU ? "GPU" : "CPU");
    return;
  }
  const bool identity = f->act == ACT_NONE && !(e && op_epilogue_drops(e));
  cl_kernel kk = loss ? f->dw_loss : f->dw;
  karg_cursor a = karg_begin(rt, kk);
  karg_int(&a, rows);
  karg_mem(&a, dz);
  /* the kernel reads a saved value even where the activation ignores it */
  karg_mem(&a, saved ? saved : dz);
  karg_int(&a, !identity);
  karg_mem(&a, x);
  karg_mem(&a, grads);
  karg_uint(&a, (cl_uint)dw_off);
  karg_int(&a, has_db);
  karg_uint(&a, (cl_uint)db_off);
  arg_epilogue(&a, e);
  if (loss) {
    /* the input gradient too (fused_dw_loss_cpu): no dx launch after it */
    karg_mem(&a, params);
    karg_uint(&a, (cl_uint)w_off);
    karg_mem(&a, dx);
    karg_int(&a, dx != NULL);
    ops_arg_loss(&a, loss);
    rt_launch1d(rt, kk, 1, 1);
    return;
  }
  if (f->form == FUSED_FORM_GPU) {
    rt_launch1d(rt, kk, (size_t)f->out * OPS_FUSED_WG, OPS_FUSED_WG);
  } else {
    const int ob = dw_outputs_per_item(f->in);
    rt_launch1d(rt, kk, (size_t)((f->out + ob - 1) / ob), 1);
  }
  if (dx) launch_gemm(rt, f, f->dx, rows, dz, params, w_off, false, 0, dx, NULL, NULL, NULL);
}
