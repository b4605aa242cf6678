/* Builds every layer kernel once per net (ops_init) and the helpers they share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "base/rng.h"
#include "base/util.h"

/* Largest power of two <= want that the device allows. */
static size_t fit_local(size_t want, size_t device_max) {
  size_t s = 1;
  while (s * 2 <= want && s * 2 <= device_max) s *= 2;
  return s;
}

static cl_kernel checked_kernel(cl_runtime *rt, cl_program p, const char *name, size_t local) {
  cl_kernel k = rt_kernel(rt, p, name);
  if (!k) return NULL;
  size_t max = 0;
  if (CL_CHECK(&rt->err, clGetKernelWorkGroupInfo(k, rt->info.device, CL_KERNEL_WORK_GROUP_SIZE,
                                                  sizeof max, &max, NULL)) == 0 &&
      local > max)
    ERR_RUNTIME(&rt->err, "kernel %s allows work-groups of %zu on %s, it is built for %zu", name, max,
                rt->info.name, local);
  return k;
}

/* The build options of every program: the constants host and kernels share (ops.h), the
   activation table (model/activation.h) as ACT_LIST(X,M) = X(M,name,id,saves,gates)...,
   then EXTRA. One place, so no kernel mirrors a host constant by hand. False when they do
   not fit in n bytes. */
static bool program_options(char *out, size_t n, const char *extra) {
  size_t len = (size_t)snprintf(
      out, n,
      "-DVEC_GROUP=%d -DROW_BLOCK=%d -DDROP_PER_ITEM=%d -DLOSS_SMALL_C=%d -DOPT_PER_ITEM=%du -DNO_MIRROR=%uu "
      "-DM_LOSS_SUM=%d -DM_LOSS_COMP=%d -DM_LAST_LOSS=%d -DM_LAST_CORRECT=%d -DM_CORRECT_LO=%d "
      "-DM_CORRECT_HI=%d -DACT_LIST(X,M)=",
      OPS_VEC_GROUP, OPS_ROW_BLOCK, OPS_DROP_PER_ITEM, OPS_LOSS_SMALL_C, OPS_OPT_PER_ITEM, OPS_NO_MIRROR,
      OPS_METRIC_LOSS_SUM, OPS_METRIC_LOSS_COMP, OPS_METRIC_LAST_LOSS, OPS_METRIC_LAST_CORRECT,
      OPS_METRIC_CORRECT_LO, OPS_METRIC_CORRECT_HI);
  for (int a = 0; a < ACT_COUNT && len < n; a++) {
    const act_info *ai = act_info_of((act_kind)a);
    len += (size_t)snprintf(out + len, n - len, "X(M,%s,%d,%d,%d)", ai->name, a, (int)ai->saves,
                            ai->output_gates ? 1 : 0);
  }
  return len < n && (size_t)snprintf(out + len, n - len, " %s", extra) < n - len;
}

cl_program ops_program(cl_runtime *rt, const char *file, const char *extra) {
  char opts[1024];
  if (!program_options(opts, sizeof opts, extra)) {
    ERR_RUNTIME(&rt->err, "build options of kernels/%s exceed %zu bytes", file, sizeof opts);
    return NULL;
  }
  return rt_program(rt, file, opts);
}

void ops_init(ops_kernels *k, cl_runtime *rt) { ops_init_local(k, rt, 0, 0); }

/* Whether the device gets the work-group (GPU) forms of the kernels rather than the vector
   (CPU) forms: its type, unless env CLTRAIN_KERNEL_FORM says "workgroup" or "vector" (the
   tests run both forms on one device with it, e.g. the vector forms on Oclgrind, which
   reports itself as a GPU). host/cli/main.c refuses other values. */
static bool wants_workgroup_form(const cl_runtime *rt) {
  const char *form = getenv("CLTRAIN_KERNEL_FORM");
  if (form && strcmp(form, "workgroup") == 0) return true;
  if (form && strcmp(form, "vector") == 0) return false;
  return (rt->info.type & CL_DEVICE_TYPE_GPU) != 0;
}

void ops_init_local(ops_kernels *k, cl_runtime *rt, size_t col_wg, size_t loss_wg) {
  memset(k, 0, sizeof *k);
  const bool gpu = wants_workgroup_form(rt);
  /* A CPU runs a work-group as a loop over its items, so a tree reduction's barriers cost a
     pass over all of them each: there the column kernels take one item per 16 columns and
     explicit vectors (vector form, kernels/colvec.cl). A GPU wants a wide group per column. */
  k->col_vec = !gpu && col_wg == 0;
  k->col_wg = fit_local(col_wg ? col_wg : gpu ? 64 : 16, rt->info.max_work_group);
  k->loss_vec = !gpu && loss_wg == 0;
  k->loss_wg = fit_local(loss_wg ? loss_wg : gpu ? 256 : 16, rt->info.max_work_group);
  k->ew_wg = fit_local(64, rt->info.max_work_group);
  char col[64], loss[64];
  snprintf(col, sizeof col, "-DWG=%zu", k->col_wg);
  snprintf(loss, sizeof loss, "-DWG=%zu", k->loss_wg);

  cl_program lin = ops_program(rt, "linear.cl", col);
  k->bias_act_fwd = checked_kernel(rt, lin, "bias_act_forward", k->ew_wg);
  k->bias_act_bwd = checked_kernel(rt, lin, "bias_act_backward", k->col_wg);
  cl_program bn = ops_program(rt, "batchnorm.cl", col);
  k->bn_train_fwd = checked_kernel(rt, bn, "bn_train_forward", k->col_wg);
  k->bn_eval_fwd = checked_kernel(rt, bn, "bn_eval_forward", k->ew_wg);
  k->bn_train_bwd = checked_kernel(rt, bn, "bn_train_backward", k->col_wg);
  /* The vector-form variants, named as kernels/common.cl's EPILOGUE_VARIANTS makes them. */
  for (int a = 0; a < ACT_COUNT && k->col_vec; a++)
    for (int d = 0; d < 2; d++) {
      const char *act = act_info_of((act_kind)a)->name;
      char name[96];
      snprintf(name, sizeof name, "bias_act_backward_vec_%s%d", act, d);
      k->bias_act_bwd_v[a][d] = checked_kernel(rt, lin, name, 1);
      snprintf(name, sizeof name, "bn_train_forward_vec_%s%d", act, d);
      k->bn_train_fwd_v[a][d] = checked_kernel(rt, bn, name, 1);
      snprintf(name, sizeof name, "bn_train_backward_vec_%s%d", act, d);
      k->bn_train_bwd_v[a][d] = checked_kernel(rt, bn, name, 1);
    }
  cl_program act = ops_program(rt, "activations.cl", "");
  k->pointwise_fwd = checked_kernel(rt, act, "pointwise_forward", k->ew_wg);
  k->pointwise_bwd = checked_kernel(rt, act, "pointwise_backward", k->ew_wg);
  k->dropout_mask = checked_kernel(rt, ops_program(rt, "dropout.cl", ""), "dropout_mask", k->ew_wg);
  cl_program lossp = ops_program(rt, "loss.cl", loss);
  k->softmax_xent = checked_kernel(rt, lossp, "softmax_xent", k->loss_wg);
  k->softmax_xent_small = checked_kernel(rt, lossp, "softmax_xent_small", k->loss_wg);
  k->softmax_xent_vec = checked_kernel(rt, lossp, "softmax_xent_vec", 1);
  k->optimizer_vec = !gpu;
  k->vector_form = !gpu;
  k->gather_rows = checked_kernel(rt, ops_program(rt, "gather.cl", ""), "gather_rows", k->ew_wg);
}

void ops_init_optimizer(ops_kernels *k, cl_runtime *rt, optim_kind kind) {
  const char *name = optim_kind_name(kind);
  if (!name) {
    ERR_RUNTIME(&rt->err, "optimizer kind %d out of range", (int)kind);
    return;
  }
  cl_kernel *old[] = {&k->optimizer_step, &k->optimizer_step_vec};
  for (int i = 0; i < 2; i++) {
    if (*old[i]) clReleaseKernel(*old[i]);
    *old[i] = NULL;
  }
  char opt_name[64];
  snprintf(opt_name, sizeof opt_name, "-DOPT_%s", name);
  cl_program opt = ops_program(rt, "optimizer.cl", opt_name);
  k->optimizer_step = checked_kernel(rt, opt, "optimizer_step", k->ew_wg);
  k->optimizer_step_vec = checked_kernel(rt, opt, "optimizer_step_vec", OPS_OPT_VEC_WG);
  k->optimizer = kind;
}

cl_kernel ops_col_kernel(const ops_kernels *k, cl_kernel generic,
                         cl_kernel const variants[ACT_COUNT][2], const op_epilogue *e) {
  if (!k->col_vec) return generic;
  const int a = (int)e->act;
  if (a < 0 || a >= ACT_COUNT) return NULL; /* setting its arguments records the error */
  return variants[a][op_epilogue_drops(e) ? 1 : 0];
}

void ops_launch_cols_at(cl_runtime *rt, const ops_kernels *k, cl_kernel kk, int C, const char *file,
                        int line) {
  if (k->col_vec) rt_launch1d_at(rt, kk, ((size_t)C + OPS_VEC_GROUP - 1) / OPS_VEC_GROUP, 1, file, line);
  else rt_launch1d_at(rt, kk, (size_t)C * k->col_wg, k->col_wg, file, line);
}

void ops_free(ops_kernels *k) {
  cl_kernel *all[] = {&k->bias_act_fwd, &k->bias_act_bwd, &k->bn_train_fwd, &k->bn_eval_fwd,
                      &k->bn_train_bwd, &k->bn_sync_sum, &k->bn_sync_fwd, &k->bn_sync_bwd_sums, &k->bn_sync_bwd_dx, &k->pointwise_fwd, &k->pointwise_bwd, &k->dropout_mask, &k->softmax_xent, &k->softmax_xent_small, &k->softmax_xent_vec,
                      &k->optimizer_step, &k->optimizer_step_vec, &k->gather_rows};
  /* clReleaseKernel fails only for an invalid kernel, which cannot be here. */
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (*all[i]) clReleaseKernel(*all[i]);
    *all[i] = NULL;
  }
  for (int a = 0; a < ACT_COUNT; a++)
    for (int d = 0; d < 2; d++) {
      cl_kernel *v[] = {&k->bias_act_bwd_v[a][d], &k->bn_train_fwd_v[a][d], &k->bn_train_bwd_v[a][d]};
      for (int j = 0; j < 3; j++) {
        if (*v[j]) clReleaseKernel(*v[j]);
        *v[j] = NULL;
      }
    }
}

uint32_t dropout_threshold(float p) {
  if (!(p > 0.0f)) return 0;
  double t = floor((double)p * 16777216.0 + 0.5);
  return t < 1.0 ? 1u : (uint32_t)t; /* any p > 0 drops something */
}

float dropout_scale(float p) { return (float)(1.0 / (1.0 - (double)p)); }

bool dropout_keep(uint64_t seed, uint64_t step, uint32_t layer, uint32_t idx, uint32_t threshold) {
  const uint32_t ctr[4] = {idx / 4, layer, (uint32_t)step, (uint32_t)(step >> 32)};
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t out[4];
  philox4x32(ctr, key, out);
  return (out[idx % 4] >> 8) >= threshold;
}

bool op_epilogue_drops(const op_epilogue *e) { return e->mask && dropout_threshold(e->drop_p) != 0; }

bool op_epilogue_needs_saved(const op_epilogue *e) {
  if (act_saves_input(e->act, e->slope)) return true;
  /* ReLU then dropout: the output z = keep ? relu(v) * scale : 0 is > 0 exactly where the
     gradient passes (output_gates), so z serves as the saved value */
  const act_info *a = act_info_of(e->act);
  return a && a->saves != ACT_SAVES_NOTHING && !a->output_gates && dropout_threshold(e->drop_p) != 0;
}

void ops_arg_epilogue(karg_cursor *a, const op_epilogue *e) {
  const bool has_drop = op_epilogue_drops(e);
  karg_int(a, (cl_int)e->act);
  karg_float(a, e->slope);
  karg_int(a, has_drop);
  karg_float(a, has_drop ? dropout_scale(e->drop_p) : 1.0f);
  karg_mem(a, has_drop ? e->mask : NULL);
}
