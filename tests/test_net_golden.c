/* PyTorch golden replay (llm.c style): tests/golden/<model>.bin, written by
   tests/golden/make_golden.py, holds a fixed batch, fixed weights and running statistics,
   and what PyTorch computed from them: evaluation and training logits, loss, correct
   count, every gradient, running statistics, and parameters / statistics / optimizer state
   after 3 Adam, AdamW, SGD and (where recorded) RMSprop steps. The whole OpenCL path
   (net.h) replays it, for jsc-toy, jsc-trt, tests/golden/mixed.model (every layer kind and
   fusion case) and tests/golden/gelu.model (GELU in every fusion, all four optimizers).
   Dropout: the file carries the masks PyTorch used (cltrain's Philox mask reimplemented in
   numpy); they must equal the C mask bit for bit, so the device drops the same elements.
   Tolerance: max relative error 1e-4 with an absolute floor of 1e-2 * max|want| per
   tensor (entries far below the tensor's scale carry only cancellation noise); counts
   exact. Exception, explained at noise_driven: the biases of Linear layers that feed a
   BatchNorm (their gradients are rounding noise) and what depends on them.
   Every file is replayed twice, through the CLBlast path and through the fused
   narrow-Linear kernels (--gemm fused; every golden model's Linear layers fit them), at the
   same tolerances: each path sums in its own fixed order, both within float rounding of
   PyTorch's double-checked values. A third replay trains through the whole-network kernel
   (--whole-net on, ops/ops_whole.h): the step-1 loss, correct count, gradients and running
   statistics, and the 3 optimizer steps, at the same tolerances (its training logits stay
   inside the kernel, so they are compared on the other two paths only). */
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "ops/ops.h"
#include "devutil.h"
#include "testutil.h"
#include "base/util.h"

typedef struct {
  char name[64];
  char type;        /* 'f' float32, 'q' int64 */
  uint32_t n;
  const unsigned char *data;
} golden_rec;

typedef struct {
  char *buf;
  golden_rec recs[128];
  int n;
} golden;

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int golden_load(const char *path, golden *g) {
  size_t len;
  g->buf = read_file(path, &len);
  if (!g->buf) return -1;
  const unsigned char *p = (const unsigned char *)g->buf, *end = p + len;
  if (len < 12 || memcmp(p, "CLTGOLD1", 8) != 0) return -1;
  uint32_t count = le32(p + 8);
  p += 12;
  g->n = 0;
  for (uint32_t i = 0; i < count && g->n < 128; i++) {
    if (end - p < 5) return -1;
    golden_rec *r = &g->recs[g->n++];
    r->type = (char)p[0];
    uint32_t nl = le32(p + 1);
    p += 5;
    if (nl >= sizeof r->name || end - p < (ptrdiff_t)nl + 4) return -1;
    memcpy(r->name, p, nl);
    r->name[nl] = '\0';
    p += nl;
    r->n = le32(p);
    p += 4;
    size_t bytes = (size_t)r->n * (r->type == 'f' ? 4 : 8);
    if ((size_t)(end - p) < bytes) return -1;
    r->data = p;
    p += bytes;
  }
  return 0;
}

static const golden_rec *rec(const golden *g, const char *name) {
  for (int i = 0; i < g->n; i++)
    if (strcmp(g->recs[i].name, name) == 0) return &g->recs[i];
  TEST_DIE("golden record '%s' missing", name);
}
static float *recf(const golden *g, const char *name, size_t want_n) {
  const golden_rec *r = rec(g, name);
  if (r->type != 'f' || (want_n && r->n != want_n)) TEST_DIE("golden record '%s': %u floats, want %zu", name, r->n, want_n);
  float *v = xmalloc((r->n ? r->n : 1) * sizeof *v);
  memcpy(v, r->data, (size_t)r->n * 4); /* little-endian hosts only */
  return v;
}
static int64_t recq(const golden *g, const char *name, uint32_t i) {
  const golden_rec *r = rec(g, name);
  if (r->type != 'q' || i >= r->n) TEST_DIE("golden record '%s': bad int64 access", name);
  int64_t v;
  memcpy(&v, r->data + 8 * (size_t)i, 8);
  return v;
}

/* max |got - want| / max(|want|, 1e-2 * max|want|), reported with the worst index.
   Entries flagged in `noisy` are held to |got - want| <= noisy_bound instead (see
   noise_driven). */
static void expect_close_except(const char *model, const char *what, const float *got, const float *want,
                                size_t n, const bool *noisy, double noisy_bound) {
  double scale = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
  double floor_ = fmax(1e-2 * scale, 1e-30), worst = 0, worst_noisy = 0;
  size_t at = 0, flagged = 0;
  for (size_t i = 0; i < n; i++) {
    if (noisy && noisy[i]) {
      flagged++;
      worst_noisy = fmax(worst_noisy, fabs((double)got[i] - want[i]));
      continue;
    }
    double e = rel_err(got[i], want[i], floor_);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  CHECK(worst < 1e-4, "%s %s: max rel err %.3g at [%zu] (got %.9g want %.9g)", model, what, worst, at,
        n ? got[at] : 0.0f, n ? want[at] : 0.0f);
  CHECK(worst_noisy <= noisy_bound, "%s %s: noise-driven entries differ by %.3g > %.3g", model, what,
        worst_noisy, noisy_bound);
  printf("  %-14s %-14s max rel err %.3g", model, what, worst);
  if (flagged) printf(" (%zu noise-driven entries: max abs diff %.3g, bound %.3g)", flagged, worst_noisy, noisy_bound);
  printf("\n");
}
static void expect_close(const char *model, const char *what, const float *got, const float *want, size_t n) {
  expect_close_except(model, what, got, want, n, NULL, 0);
}

/* A Linear layer that feeds a BatchNorm has a bias whose gradient is mathematically 0 (the
   batch mean removes any shift), so PyTorch and cltrain both compute rounding noise for
   it (below 1e-5 of the largest gradient, checked). These entries are held to bounds
   instead of the relative tolerance: gradients within 2e-5 of the largest gradient,
   optimizer state (moments, momentum: sums of that noise) within 1e-4 of it. SGD turns
   the noise into nothing, but Adam and AdamW normalise it into steps of up to lr in an
   arbitrary direction, and the BatchNorm's running mean sees the bias. Adam moves a
   parameter by at most 1.000, 1.0014, 1.0036 * lr in steps 1, 2, 3 (Cauchy-Schwarz on the
   bias-corrected moments), so after 3 steps two runs differ by at most 6.02 * lr in those
   params, and by 0.1 * (0.9 * 2 + 4.003) * lr < 0.6 * lr in the running means (forward t
   sees the bias after t - 1 steps). RMSprop moves a parameter by at most
   lr / sqrt(1 - alpha) = 10 lr per step, so 60 lr and 0.1 * (0.9 * 20 + 40) lr < 6 lr. */
static void noise_driven(const model_spec *m, bool *params, bool *stats) {
  memset(params, 0, m->n_params * sizeof *params);
  memset(stats, 0, (m->n_stats ? m->n_stats : 1) * sizeof *stats);
  for (int i = 0; i + 1 < m->n_layers; i++) {
    const layer_spec *L = &m->layers[i], *N = &m->layers[i + 1];
    if (L->kind != LAYER_LINEAR || N->kind != LAYER_BATCHNORM) continue;
    for (int c = 0; c < L->out; c++) {
      params[L->param_offset + (size_t)L->in * (size_t)L->out + (size_t)c] = true;
      stats[N->stats_offset + (size_t)c] = true;
    }
  }
}

/* How far noise-driven entries may move (noise_driven): params, running statistics, in lr. */
typedef struct {
  const char *name;
  double params_lr, stats_lr; /* 0: the optimizer turns noise into nothing (SGD) */
} noise_bound;
static const noise_bound noise_bounds[] = {
    {"adam", 6.02, 0.6}, {"adamw", 6.02, 0.6}, {"sgd", 0, 0}, {"rmsprop", 60, 6}};

/* MODEL_NAME: a zoo name, or a model file under tests/golden/ (NAME.model); OPTS: the
   optimizers whose records the file must hold, NULL-terminated. */
/* Train through the whole-network kernel (exit 1 when the net cannot have it). */
static void use_whole(net *n, const char *model_name) {
  error e = {0};
  if (net_use_whole(n, NET_WHOLE_ON, &e) != 0 || !net_whole_on(n)) TEST_DIE("%s: no whole-network kernel: %s", model_name, e.msg);
}

static void replay(cl_runtime *rt, const char *model_name, const char *const *opts, net_gemm gemm, bool whole) {
  char path[1024], model_path[1024];
  snprintf(path, sizeof path, "%s/tests/golden/%s.bin", CLTRAIN_SOURCE_DIR, model_name);
  snprintf(model_path, sizeof model_path, "%s/tests/golden/%s.model", CLTRAIN_SOURCE_DIR, model_name);
  golden g;
  if (golden_load(path, &g) != 0) {
    CHECK(0, "cannot read golden file %s", path);
    return;
  }
  model_spec m;
  FILE *local = fopen(model_path, "r");
  if (local) fclose(local);
  error me = {0};
  if (model_load(local ? model_path : model_name, &m, &me) != 0) TEST_DIE("%s", me.msg);
  const int B = (int)recq(&g, "batch", 0);
  const uint64_t seed = (uint64_t)recq(&g, "seed", 0);
  const size_t P = m.n_params, S = m.n_stats, O = (size_t)m.output_width;
  float *x = recf(&g, "x", (size_t)B * m.input_width), *p0 = recf(&g, "params0", P), *s0 = recf(&g, "stats0", S);
  int32_t *y = xmalloc((size_t)B * sizeof *y);
  for (int i = 0; i < B; i++) y[i] = (int32_t)recq(&g, "y", (uint32_t)i);
  float *zeros = xcalloc(2 * P, sizeof *zeros), *out = xmalloc((size_t)B * O * 4);
  float *pg = xmalloc(P * 4), *sg = xmalloc((S ? S : 1) * 4), *og = xmalloc(2 * P * 4);

  /* the masks PyTorch used are the C mask */
  for (int i = 0; i < g.n; i++) {
    int layer, step;
    if (sscanf(g.recs[i].name, "mask.%d.%d", &layer, &step) != 2) continue;
    float *mask = recf(&g, g.recs[i].name, 0);
    uint32_t thr = dropout_threshold(m.layers[layer].arg), bad = 0;
    for (uint32_t j = 0; j < g.recs[i].n; j++)
      bad += (mask[j] != 0) != dropout_keep(seed, (uint64_t)step, (uint32_t)layer, j, thr);
    CHECK(bad == 0, "%s %s: %u mask entries differ from the C mask", model_name, g.recs[i].name, bad);
    free(mask);
  }

  net *n = dev_net_gemm(rt, &m, B, seed, OPTIM_ADAM, gemm);
  int linear = 0;
  for (int i = 0; i < m.n_layers; i++) linear += m.layers[i].kind == LAYER_LINEAR;
  CHECK(net_fused_stages(n) == (gemm == NET_GEMM_FUSED ? linear : 0), "%s --gemm %s: %d of %d Linear stages fused",
        model_name, net_gemm_name(gemm), net_fused_stages(n), linear);
  char label[96];
  snprintf(label, sizeof label, "%s (%s)", model_name, whole ? "whole" : net_gemm_name(gemm));
  model_name = label;
  net_write_state(n, p0, s0, zeros, NULL);
  net_set_batch_host(n, x, y, B);
  net_metrics mt;
  long *conf = xcalloc(O * O, sizeof *conf);

  /* evaluation mode: running statistics, no dropout */
  net_eval_batch(n, B);
  net_read_output(n, out, B, NULL);
  float *want = recf(&g, "eval.logits", (size_t)B * O);
  expect_close(model_name, "eval logits", out, want, (size_t)B * O);
  free(want);
  net_take_metrics(n, &mt, conf, NULL);
  float *wl = recf(&g, "eval.loss", 1);
  CHECK(rel_err(mt.loss_sum / mt.count, wl[0], 1e-3) < 1e-4, "%s eval loss %.8g want %.8g", model_name,
        mt.loss_sum / mt.count, wl[0]);
  CHECK(mt.correct == recq(&g, "eval.correct", 0) && mt.count == B, "%s eval correct %ld want %lld",
        model_name, mt.correct, (long long)recq(&g, "eval.correct", 0));
  long diag = 0, total = 0;
  for (size_t i = 0; i < O * O; i++) total += conf[i];
  for (size_t i = 0; i < O; i++) diag += conf[i * O + i];
  CHECK(total == B && diag == mt.correct, "%s confusion total %ld diagonal %ld", model_name, total, diag);
  free(wl);

  /* one training forward/backward at step 1 (whole: a full step, whose gradients and
     statistics are those of the forward/backward; the parameters are put back after) */
  cl_mem bx = dev_upload(rt, x, (size_t)B * m.input_width * 4), by = dev_upload(rt, y, (size_t)B * 4);
  if (whole) {
    optim_config adam;
    optim_config_default(&adam, OPTIM_ADAM, 1e-3f, 0.0f);
    use_whole(n, model_name);
    net_train_steps(n, bx, by, NULL, 0, B, (size_t)B, 1, &adam, 1);
  } else {
    net_forward(n, B, true, 1);
    net_loss(n, B);
    net_backward(n, B, 1);
    net_read_output(n, out, B, NULL);
    want = recf(&g, "train.logits", (size_t)B * O);
    expect_close(model_name, "train logits", out, want, (size_t)B * O);
    free(want);
  }
  net_take_metrics(n, &mt, NULL, NULL);
  wl = recf(&g, "train.loss", 1);
  CHECK(rel_err(mt.last_loss, wl[0], 1e-3) < 1e-4, "%s train loss %.8g want %.8g", model_name, mt.last_loss, wl[0]);
  CHECK(mt.correct == recq(&g, "train.correct", 0), "%s train correct %ld", model_name, mt.correct);
  free(wl);
  net_read_grads(n, pg, NULL);
  want = recf(&g, "grads", P);
  bool *noisy_p = xmalloc(P * sizeof *noisy_p), *noisy_s = xmalloc((S ? S : 1) * sizeof *noisy_s);
  bool *noisy_o = xmalloc(2 * P * sizeof *noisy_o);
  noise_driven(&m, noisy_p, noisy_s);
  memcpy(noisy_o, noisy_p, P * sizeof *noisy_o);
  memcpy(noisy_o + P, noisy_p, P * sizeof *noisy_o);
  double gmax = 0, noise_got = 0, noise_want = 0;
  for (size_t i = 0; i < P; i++) {
    gmax = fmax(gmax, fabs(want[i]));
    if (noisy_p[i]) { noise_got = fmax(noise_got, fabs(pg[i])); noise_want = fmax(noise_want, fabs(want[i])); }
  }
  CHECK(noise_got < 1e-5 * gmax && noise_want < 1e-5 * gmax,
        "%s: gradients of biases feeding a BatchNorm are not noise: %g (PyTorch %g), largest gradient %g",
        model_name, noise_got, noise_want, gmax);
  expect_close_except(model_name, "gradients", pg, want, P, noisy_p, 2e-5 * gmax);
  free(want);
  net_read_state(n, NULL, sg, NULL, NULL);
  want = recf(&g, "train.stats", S);
  expect_close(model_name, "running stats", sg, want, S);
  free(want);

  /* three optimizer steps from the same start */
  for (int o = 0; opts[o]; o++) {
    char key[64], what[64];
    optim_kind kind;
    const noise_bound *nb = NULL;
    for (size_t b = 0; b < sizeof noise_bounds / sizeof noise_bounds[0]; b++)
      if (strcmp(noise_bounds[b].name, opts[o]) == 0) nb = &noise_bounds[b];
    if (optim_kind_parse(opts[o], &kind) != 0 || !nb) TEST_DIE("optimizer %s unknown to the test", opts[o]);
    snprintf(key, sizeof key, "%s.hparams", opts[o]);
    float *hp = recf(&g, key, 2);
    optim_config oc;
    optim_config_default(&oc, kind, hp[0], hp[1]);
    error e = {0};
    CHECK(net_use_optimizer(n, kind, &e) == 0, "%s: %s", opts[o], e.msg);
    if (whole) use_whole(n, model_name);
    net_write_state(n, p0, s0, zeros, NULL);
    snprintf(key, sizeof key, "%s.losses", opts[o]);
    float *losses = recf(&g, key, 3);
    for (uint64_t step = 1; step <= 3; step++) {
      if (whole) net_train_steps(n, bx, by, NULL, 0, B, (size_t)B, 1, &oc, step);
      else net_train_step(n, B, &oc, step);
      net_take_metrics(n, &mt, NULL, NULL);
      CHECK(rel_err(mt.last_loss, losses[step - 1], 1e-3) < 1e-4, "%s %s step %d loss %.8g want %.8g",
            model_name, opts[o], (int)step, mt.last_loss, losses[step - 1]);
    }
    net_read_state(n, pg, sg, og, NULL);
    snprintf(key, sizeof key, "%s.params", opts[o]);
    want = recf(&g, key, P);
    snprintf(what, sizeof what, "%s params", opts[o]);
    const bool normalising = nb->params_lr > 0; /* turns noise into steps of its own size */
    expect_close_except(model_name, what, pg, want, P, normalising ? noisy_p : NULL, nb->params_lr * oc.lr);
    free(want);
    snprintf(key, sizeof key, "%s.stats", opts[o]);
    want = recf(&g, key, S);
    snprintf(what, sizeof what, "%s stats", opts[o]);
    expect_close_except(model_name, what, sg, want, S, normalising ? noisy_s : NULL, nb->stats_lr * oc.lr);
    free(want);
    snprintf(key, sizeof key, "%s.state", opts[o]);
    want = recf(&g, key, 2 * P);
    snprintf(what, sizeof what, "%s state", opts[o]);
    CHECK(net_optim_count(n) == (size_t)optim_state_per_param(kind) * P, "%s state size", opts[o]);
    expect_close_except(model_name, what, og, want, net_optim_count(n), noisy_o, 1e-4 * gmax);
    free(want);
    free(hp);
    free(losses);
  }
  rt_release(&bx);
  rt_release(&by);
  net_free(n);
  model_free(&m);
  free(g.buf); free(x); free(p0); free(s0); free(y); free(zeros); free(out); free(pg); free(sg); free(og);
  free(conf); free(noisy_p); free(noisy_s); free(noisy_o);
}

int main(void) {
  cl_runtime rt;
  dev_open(&rt);
  const char *const three[] = {"adam", "adamw", "sgd", NULL};
  const char *const four[] = {"adam", "adamw", "sgd", "rmsprop", NULL};
  /* CLBlast, fused, then the whole-network kernel (over fused stages); env
     CLTRAIN_GOLDEN_PATHS, a list of "clblast", "fused", "whole", runs only those (the
     Oclgrind stage runs the whole kernel's replay as a test of its own, in parallel) */
  static const char *const path_names[3] = {"clblast", "fused", "whole"};
  const char *only = getenv("CLTRAIN_GOLDEN_PATHS");
  for (int path = 0; path < 3; path++) {
    if (only && !strstr(only, path_names[path])) continue;
    const net_gemm g = path == 0 ? NET_GEMM_CLBLAST : NET_GEMM_FUSED;
    const bool whole = path == 2;
    replay(&rt, "jsc-toy", three, g, whole);
    replay(&rt, "jsc-trt", three, g, whole);
    replay(&rt, "mixed", three, g, whole); /* every stage kind of host/net/net_plan.c */
    replay(&rt, "gelu", four, g, whole);   /* GELU in every fusion; RMSprop */
  }
  rt_close(&rt);
  dev_check(&rt, "test_net_golden");
  return test_summary("test_net_golden");
}
