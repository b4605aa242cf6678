/* Training steps through the whole-network kernel (ops/ops_whole.h): where it runs, its
   stage table and buffers, and net_train_steps, which takes it when the net has it and the
   per-stage step otherwise. */
#include <string.h>

#include "base/util.h"
#include "net/net_internal.h"

static const char *const mode_names[NET_WHOLE_COUNT] = {"auto", "on", "off"};

const char *net_whole_name(net_whole_mode m) { return m >= 0 && m < NET_WHOLE_COUNT ? mode_names[m] : NULL; }

int net_whole_parse(const char *name, net_whole_mode *out) {
  for (int m = 0; m < NET_WHOLE_COUNT; m++)
    if (name && !strcmp(name, mode_names[m])) return *out = (net_whole_mode)m, 0;
  return -1;
}

bool net_whole_fits(const net *n, net_whole_mode mode) {
  if (mode == NET_WHOLE_OFF || n->sharded || n->n_stages == 0) return false;
  if (mode == NET_WHOLE_ON) return true;
  /* auto: one work-item is one core, so only on a CPU and where a step's work is small
     against the launches it saves (BENCHMARKS.md "The whole-network kernel"); and only when
     every Linear stage took the fused path: a stage on CLBlast (--gemm clblast, or a stored
     `cltrain tune` choice) is a request or a measurement the kernel would override */
  double work = 0; /* multiply-adds of the Linear layers per row, forward */
  for (int i = 0; i < n->n_stages; i++) {
    const net_stage *s = &n->stages[i];
    if (s->kind != STAGE_LINEAR) continue;
    if (!s->fused_on) return false;
    work += (double)s->in * (double)s->out;
  }
  /* a CPU: a device that gets the kernels' vector forms (Oclgrind calls itself a CPU and a
     GPU: the work-group forms, unless CLTRAIN_KERNEL_FORM says vector) */
  return n->k.vector_form && n->m.max_width <= NET_WHOLE_AUTO_WIDTH &&
         work * n->max_batch <= NET_WHOLE_AUTO_WORK;
}

/* Work-buffer floats of one activation tensor WIDTH wide at the net's largest batch, in
   row blocks of WHOLE_LANES. */
static size_t tensor_floats(const net *n, int width) {
  const size_t blocks = ((size_t)n->max_batch + WHOLE_LANES - 1) / WHOLE_LANES;
  return blocks * WHOLE_LANES * (size_t)width;
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* The stage table (ops_whole.h) and the sizes of the work and mask buffers it lays out. */
static uint32_t *build_plan(const net *n, size_t *work_floats, size_t *mask_bytes) {
  uint32_t *plan = xmalloc((size_t)n->n_stages * WS_WORDS * sizeof *plan);
  size_t work = tensor_floats(n, n->stages[0].in), mask = 0;
  uint32_t x_off = 0, prev_g = WS_NONE;
  for (int i = 0; i < n->n_stages; i++) {
    const net_stage *s = &n->stages[i];
    uint32_t *r = plan + (size_t)i * WS_WORDS;
    for (int f = 0; f < WS_WORDS; f++) r[f] = WS_NONE;
    const size_t t = tensor_floats(n, s->out);
    r[WS_KIND] = s->kind == STAGE_LINEAR ? WS_LINEAR : s->kind == STAGE_BATCHNORM ? WS_BATCHNORM : WS_POINTWISE;
    r[WS_IN] = (uint32_t)s->in;
    r[WS_OUT] = (uint32_t)s->out;
    if (s->kind == STAGE_LINEAR) {
      r[WS_W_OFF] = (uint32_t)s->w_off;
      if (!s->bias_in_next) r[WS_B_OFF] = (uint32_t)s->b_off;
    }
    if (s->kind == STAGE_BATCHNORM) {
      r[WS_GAMMA] = (uint32_t)s->bn.gamma_off;
      r[WS_BETA] = (uint32_t)s->bn.beta_off;
      r[WS_RM] = (uint32_t)s->bn.rm_off;
      r[WS_RV] = (uint32_t)s->bn.rv_off;
      if (s->bn.has_bias) r[WS_BIAS] = (uint32_t)s->bn.bias_off;
      r[WS_MOMENTUM] = float_bits(s->bn.momentum);
      r[WS_EPS] = float_bits(s->bn.eps);
    }
    r[WS_ACT] = (uint32_t)s->epi.act;
    r[WS_SLOPE] = float_bits(s->epi.slope);
    const uint32_t thr = dropout_threshold(s->epi.drop_p);
    r[WS_DROP_THR] = thr;
    r[WS_DROP_SCALE] = float_bits(thr ? dropout_scale(s->epi.drop_p) : 1.0f);
    r[WS_DROP_LAYER] = s->epi.drop_layer;
    r[WS_M_OFF] = 0; /* read only with dropout */
    if (thr) {
      r[WS_M_OFF] = (uint32_t)mask;
      mask += t;
    }
    r[WS_X_OFF] = x_off;
    r[WS_Z_OFF] = (uint32_t)work;
    work += t;
    if (op_epilogue_needs_saved(&s->epi)) { /* else the backward reads the output */
      r[WS_S_OFF] = (uint32_t)work;
      work += t;
    }
    r[WS_G_OFF] = (uint32_t)work;
    work += t;
    if (s->needs_dx) r[WS_DX_OFF] = prev_g;
    if (s->kind == STAGE_BATCHNORM) {
      r[WS_BS_OFF] = (uint32_t)work;
      work += 2 * (size_t)s->out;
    }
    x_off = r[WS_Z_OFF];
    prev_g = r[WS_G_OFF];
  }
  *work_floats = work;
  *mask_bytes = mask ? mask : 1;
  return plan;
}

static void release_whole(net *n) {
  net_whole_state *w = &n->whole;
  if (w->kernel) clReleaseKernel(w->kernel); /* fails only for an invalid kernel */
  w->kernel = NULL;
  rt_release(&w->net.plan);
  rt_release(&w->net.work);
  rt_release(&w->net.mask);
  rt_release(&w->hs);
  w->hs_valid = false;
}

int net_use_whole(net *n, net_whole_mode mode, error *err) {
  release_whole(n);
  if (!net_whole_fits(n, mode)) return 0;
  if (!n->optim_state && n->m.n_params) return ERR_RUNTIME(err, "net_use_whole: the net has no optimizer yet");
  cl_runtime *rt = n->rt;
  size_t work = 0, mask = 0;
  uint32_t *plan = build_plan(n, &work, &mask);
  if (work >= WS_NONE || mask >= WS_NONE || n->m.n_params >= WS_NONE) {
    free(plan);
    return ERR_USAGE(err, "%s: batch %d needs %zu floats of activations, beyond the whole-network kernel's 32-bit "
                     "offsets (use --whole-net off)", n->m.origin, n->max_batch, work);
  }
  net_whole_state *w = &n->whole;
  w->kernel = op_whole_kernel(rt, n->k.optimizer);
  w->net = (op_whole_net){
      .n_stages = (uint32_t)n->n_stages,
      .params = n->params,
      .grads = n->grads,
      .state = n->optim_state,
      .stats = n->stats,
      .params_t = n->params_t,
      .tmap = n->tmap,
      .n_params = (uint32_t)n->m.n_params,
      .seed = n->seed,
      .metrics = n->metrics,
  };
  /* the transposed weights are read only by the CLBlast forward */
  for (int i = 0; i < n->n_stages; i++)
    if (n->stages[i].kind == STAGE_LINEAR && !n->stages[i].fused_on) w->net.mirror = true;
  w->net.plan = rt_alloc(rt, (size_t)n->n_stages * WS_WORDS * sizeof *plan);
  rt_write(rt, w->net.plan, 0, (size_t)n->n_stages * WS_WORDS * sizeof *plan, plan);
  free(plan);
  w->net.work = rt_alloc(rt, work * sizeof(float));
  rt_zero(rt, w->net.work, 0, work * sizeof(float));
  w->net.mask = rt_alloc(rt, mask);
  w->hs = rt_alloc(rt, NET_WHOLE_TABLE * OPTIM_SCALARS * sizeof(float));
  if (rt_status(rt, err) != 0) {
    release_whole(n);
    return -1;
  }
  return 0;
}

bool net_whole_on(const net *n) { return n->whole.kernel != NULL; }

void net_free_whole(net *n) { release_whole(n); }

/* Make the scalar table hold steps FIRST .. FIRST + COUNT - 1 of OPT: rewritten (one
   blocking write) when the optimizer settings change or the steps run past it. */
static void scalar_table(net *n, const optim_config *opt, uint64_t first, uint32_t count) {
  net_whole_state *w = &n->whole;
  if (w->hs_valid && !memcmp(&w->hs_opt, opt, sizeof *opt) && first >= w->hs_first &&
      first + count <= w->hs_first + NET_WHOLE_TABLE)
    return;
  float *table = xmalloc(NET_WHOLE_TABLE * OPTIM_SCALARS * sizeof *table);
  for (size_t k = 0; k < NET_WHOLE_TABLE; k++) optim_scalars(opt, first + k, table + k * OPTIM_SCALARS);
  rt_write(n->rt, w->hs, 0, NET_WHOLE_TABLE * OPTIM_SCALARS * sizeof *table, table);
  free(table);
  w->hs_opt = *opt;
  w->hs_first = first;
  w->hs_valid = true;
}

void net_train_steps(net *n, cl_mem x_all, cl_mem y_all, cl_mem perm, size_t start, int batch, size_t total_rows,
                     int n_steps, const optim_config *opt, uint64_t first_step) {
  if (!net_check_batch(n, batch, "net_train_steps") || n_steps < 1) return;
  if (start + (size_t)(n_steps - 1) * (size_t)batch >= total_rows) {
    if (!rt_failed(n->rt))
      ERR_RUNTIME(&n->rt->err, "net_train_steps: %d steps of %d rows from row %zu do not fit %zu rows", n_steps, batch,
                  start, total_rows);
    return;
  }
  if (!n->whole.kernel) {
    for (int k = 0; k < n_steps; k++) {
      const size_t s = start + (size_t)k * (size_t)batch;
      const int rows = total_rows - s < (size_t)batch ? (int)(total_rows - s) : batch;
      net_set_batch(n, x_all, y_all, perm, s, rows);
      net_train_step(n, rows, opt, first_step + (uint64_t)k);
    }
    return;
  }
  cl_runtime *rt = n->rt;
  if (opt->kind != n->k.optimizer || first_step == 0) {
    if (!rt_failed(rt))
      ERR_RUNTIME(&rt->err, "whole-net steps from %llu of %s: steps count from 1 and the kernel was built for %s",
                  (unsigned long long)first_step, optim_kind_name(opt->kind), optim_kind_name(n->k.optimizer));
    return;
  }
  for (int k = 0; k < n_steps;) {
    const uint32_t chunk = (uint32_t)(n_steps - k < NET_WHOLE_MAX_STEPS ? n_steps - k : NET_WHOLE_MAX_STEPS);
    const uint64_t step = first_step + (uint64_t)k;
    scalar_table(n, opt, step, chunk);
    net_whole_state *w = &n->whole;
    if (rt_failed(rt)) return;
    const size_t s = start + (size_t)k * (size_t)batch;
    op_whole_steps(rt, w->kernel, &w->net, chunk, step, s, batch, total_rows, x_all, y_all, perm, w->hs,
                   (uint32_t)(step - w->hs_first));
    for (uint32_t j = 0; j < chunk; j++) {
      const size_t sj = s + (size_t)j * (size_t)batch;
      n->last_batch = total_rows - sj < (size_t)batch ? (int)(total_rows - sj) : batch;
      n->count += n->last_batch;
    }
    k += (int)chunk;
    net_throttle(n);
  }
}
