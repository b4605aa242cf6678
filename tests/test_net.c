/* The device network as a whole (net.h):
   - PyTorch initialisation: Linear weights and biases inside U(-1/sqrt(in), 1/sqrt(in))
     and spread over it, BatchNorm gamma 1 / beta 0, running mean 0 / var 1, optimizer 0;
   - determinism: the same seed twice (also in a fresh OpenCL context) gives bit-identical
     parameters, outputs, gradients, statistics, optimizer state and metrics after several
     training steps with dropout, batches gathered through a permutation; another seed
     gives different ones;
   - metrics: loss sum, correct count and confusion matrix taken after evaluation batches
     equal a double-precision recomputation from the logits read back (loss 1e-5 relative,
     counts exact), and taking resets them;
   - learning: 60 Adam steps on one batch lower the loss of every zoo model;
   - a batch read in place from the data set through a permutation trains bit-identically
     to the same rows copied in, and net_train_step (with its fused kernels) to the pieces
     forward, loss, backward, optimizer (every zoo model);
   - warm-up (net_warm_up, run before any clock starts) leaves no trace: a net warmed up
     at several training and evaluation batch sizes mid-run trains on bit-identically to
     one that was not, with the same metrics from there on;
   each on the CLBlast path and on the fused narrow-Linear path (--gemm fused), whose
   launches per step are counted for jsc-tiny and jsc-trt. */
#include <string.h>

#include "net/net.h"
#include "ops/ops.h"
#include "devutil.h"
#include "refops.h"
#include "base/rng.h"
#include "base/util.h"

enum { ROWS = 1200, B = 96 };

typedef struct {
  float *params, *stats, *optim, *grads, *out;
  net_metrics mt;
} snapshot;

static void synth(float *x, int32_t *y, int rows, int width) {
  ref_fill(x, (size_t)rows * width, 42, -2, 2);
  for (int i = 0; i < rows; i++) {
    y[i] = (int32_t)(i % 5);
    x[(size_t)i * width + (size_t)(i % width)] += 1.5f; /* a learnable signal */
  }
}

/* The test's ROWS rows of synth() on the host and on the device, and when WITH_PERM a
   shuffled order of them (rng_permutation under PERM_SEED; else perm and bp are NULL). */
typedef struct {
  float *x;
  int32_t *y;
  uint32_t *perm;
  cl_mem bx, by, bp;
} dev_rows;

static dev_rows dev_rows_make(cl_runtime *rt, int W, bool with_perm, uint64_t perm_seed) {
  dev_rows r = {xmalloc((size_t)ROWS * W * 4), xmalloc(ROWS * 4), NULL, NULL, NULL, NULL};
  synth(r.x, r.y, ROWS, W);
  r.bx = rt_alloc(rt, (size_t)ROWS * W * 4);
  r.by = rt_alloc(rt, ROWS * 4);
  rt_write(rt, r.bx, 0, (size_t)ROWS * W * 4, r.x);
  rt_write(rt, r.by, 0, ROWS * 4, r.y);
  if (with_perm) {
    r.perm = xmalloc(ROWS * 4);
    rng_state g;
    rng_seed(&g, perm_seed, 99);
    rng_permutation(&g, r.perm, ROWS);
    r.bp = rt_alloc(rt, ROWS * 4);
    rt_write(rt, r.bp, 0, ROWS * 4, r.perm);
  }
  return r;
}

static void dev_rows_free(dev_rows *r) {
  rt_release(&r->bx); rt_release(&r->by); rt_release(&r->bp);
  free(r->x); free(r->y); free(r->perm);
}

static void check_init(cl_runtime *rt, const model_spec *m) {
  net *n = dev_net(rt, m, 8, 7, OPTIM_ADAM);
  float *p = xmalloc(m->n_params * 4), *s = xmalloc((m->n_stats ? m->n_stats : 1) * 4);
  float *o = xmalloc(2 * m->n_params * 4);
  net_read_state(n, p, s, o, NULL);
  for (int i = 0; i < m->n_layers; i++) {
    const layer_spec *L = &m->layers[i];
    if (L->kind == LAYER_LINEAR) {
      double bound = 1.0 / sqrt(L->in), lo = 1, hi = -1;
      int outside = 0;
      for (size_t j = 0; j < L->n_params; j++) {
        float v = p[L->param_offset + j];
        outside += fabs(v) > bound;
        lo = fmin(lo, v / bound);
        hi = fmax(hi, v / bound);
      }
      CHECK(outside == 0 && lo < -0.8 && hi > 0.8, "%s layer %d: %d outside the bound, spread [%g, %g]", m->name, i,
            outside, lo, hi);
    } else if (L->kind == LAYER_BATCHNORM) {
      int bad = 0;
      for (int c = 0; c < L->out; c++) {
        bad += p[L->param_offset + (size_t)c] != 1.0f || p[L->param_offset + (size_t)(L->out + c)] != 0.0f;
        bad += s[L->stats_offset + (size_t)c] != 0.0f || s[L->stats_offset + (size_t)(L->out + c)] != 1.0f;
      }
      CHECK(bad == 0, "%s layer %d: batch norm init", m->name, i);
    }
  }
  int nonzero = 0;
  for (size_t j = 0; j < 2 * m->n_params; j++) nonzero += o[j] != 0.0f;
  CHECK(nonzero == 0, "%s: optimizer state not zero", m->name);
  net_free(n);
  free(p); free(s); free(o);
}

/* Everything a net holds after a step: state, gradients, the last batch's output and the
   metrics taken (which resets them). The optimizer array has room for 2P floats (Adam's),
   zero beyond what the net's optimizer keeps, so comparing 2P floats is always defined. */
static snapshot snapshot_take(net *n, const model_spec *m) {
  snapshot s;
  const size_t P = m->n_params;
  s.params = xmalloc(P * 4);
  s.stats = xmalloc((m->n_stats ? m->n_stats : 1) * 4);
  s.optim = xcalloc(2 * P + net_optim_count(n) + 1, 4);
  s.grads = xmalloc(P * 4);
  s.out = xmalloc((size_t)B * m->output_width * 4);
  net_read_state(n, s.params, s.stats, s.optim, NULL);
  net_read_grads(n, s.grads, NULL);
  net_read_output(n, s.out, B, NULL);
  net_take_metrics(n, &s.mt, NULL, NULL);
  return s;
}

static snapshot run(cl_runtime *rt, const model_spec *m, uint64_t seed, net_gemm gemm) {
  dev_rows d = dev_rows_make(rt, m->input_width, true, seed);
  net *n = dev_net_gemm(rt, m, B, seed, OPTIM_ADAM, gemm);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-2f, 1e-3f);
  for (uint64_t step = 1; step <= 6; step++) {
    net_set_batch(n, d.bx, d.by, d.bp, (size_t)(step - 1) * B, B);
    net_train_step(n, B, &o, step);
  }
  snapshot s = snapshot_take(n, m);
  net_free(n);
  dev_rows_free(&d);
  return s;
}

static bool same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

static void snapshot_free(snapshot *s) {
  free(s->params); free(s->stats); free(s->optim); free(s->grads); free(s->out);
}

/* The same bits in everything a snapshot holds (2P optimizer floats: see snapshot_take). */
static bool snapshot_same(const snapshot *a, const snapshot *b, const model_spec *m) {
  const size_t P = m->n_params;
  return same(a->params, b->params, P * 4) && same(a->stats, b->stats, m->n_stats * 4) &&
         same(a->optim, b->optim, 2 * P * 4) && same(a->grads, b->grads, P * 4) &&
         same(a->out, b->out, (size_t)B * m->output_width * 4) && a->mt.loss_sum == b->mt.loss_sum &&
         a->mt.correct == b->mt.correct && a->mt.count == b->mt.count && a->mt.last_loss == b->mt.last_loss;
}

static void determinism(const model_spec *m, net_gemm gemm) {
  cl_runtime rt1, rt2;
  dev_open(&rt1);
  snapshot a = run(&rt1, m, 5, gemm), b = run(&rt1, m, 5, gemm), d = run(&rt1, m, 6, gemm);
  rt_close(&rt1);
  dev_open(&rt2);
  snapshot c = run(&rt2, m, 5, gemm);
  rt_close(&rt2);
  const size_t P = m->n_params, S = m->n_stats, O = (size_t)B * m->output_width;
  snapshot *others[] = {&b, &c};
  for (int i = 0; i < 2; i++) {
    snapshot *o = others[i];
    CHECK(same(a.params, o->params, P * 4) && same(a.stats, o->stats, S * 4) && same(a.optim, o->optim, 2 * P * 4),
          "%s (%s) run %d: state not bit-identical", m->name, net_gemm_name(gemm), i + 2);
    CHECK(same(a.grads, o->grads, P * 4) && same(a.out, o->out, O * 4), "%s run %d: gradients/outputs differ",
          m->name, i + 2);
    CHECK(a.mt.loss_sum == o->mt.loss_sum && a.mt.correct == o->mt.correct && a.mt.last_loss == o->mt.last_loss,
          "%s run %d: metrics differ", m->name, i + 2);
  }
  CHECK(!same(a.params, d.params, P * 4) && a.mt.loss_sum != d.mt.loss_sum, "%s: another seed changes nothing",
        m->name);
  CHECK(a.mt.count == 6 * B && isfinite(a.mt.loss_sum), "%s: count %ld loss %g", m->name, a.mt.count, a.mt.loss_sum);
  snapshot_free(&a); snapshot_free(&b); snapshot_free(&c); snapshot_free(&d);
}

/* A batch set with net_set_batch (read in place through the permutation where a kernel
   can) and the same rows copied in with net_set_batch_host train bit-identically: state,
   gradients, outputs and metrics after training steps and an evaluation batch. */
static void in_place_batches(cl_runtime *rt, const model_spec *m) {
  const int W = m->input_width;
  dev_rows d = dev_rows_make(rt, W, true, 17);
  const float *x = d.x;
  const int32_t *y = d.y;
  const uint32_t *perm = d.perm;
  float *xb = xmalloc((size_t)B * W * 4);
  int32_t *yb = xmalloc(B * 4);
  net *a = dev_net(rt, m, B, 4, OPTIM_ADAM), *c = dev_net(rt, m, B, 4, OPTIM_ADAM);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-2f, 0.0f);
  for (uint64_t step = 1; step <= 4; step++) {
    const size_t start = (size_t)(step * 37);
    const int batch = step == 4 ? B - 11 : B;
    for (int i = 0; i < batch; i++) {
      memcpy(xb + (size_t)i * W, x + (size_t)perm[start + (size_t)i] * W, (size_t)W * 4);
      yb[i] = y[perm[start + (size_t)i]];
    }
    net_set_batch(a, d.bx, d.by, d.bp, start, batch);
    net_set_batch_host(c, xb, yb, batch);
    net_train_step(a, batch, &o, step);
    net_train_step(c, batch, &o, step);
  }
  net_set_batch(a, d.bx, d.by, NULL, 100, B); /* evaluation rows in order */
  net_set_batch_host(c, x + 100 * (size_t)W, y + 100, B);
  net_eval_batch(a, B);
  net_eval_batch(c, B);
  snapshot sa = snapshot_take(a, m), sc = snapshot_take(c, m);
  CHECK(snapshot_same(&sa, &sc, m), "%s: a batch read in place differs from the copied batch", m->name);
  net_free(a);
  net_free(c);
  snapshot_free(&sa); snapshot_free(&sc);
  dev_rows_free(&d);
  free(xb); free(yb);
}

/* net_train_step (its fused paths: the loss inside the last stage's backward kernel) and
   the pieces net_forward, net_loss, net_backward, net_optimizer_step give bit-identical
   state, gradients, outputs and metrics. */
static void step_equals_pieces(cl_runtime *rt, const model_spec *m, net_gemm gemm) {
  dev_rows d = dev_rows_make(rt, m->input_width, false, 0);
  net *nets[2] = {dev_net_gemm(rt, m, B, 8, OPTIM_ADAMW, gemm), dev_net_gemm(rt, m, B, 8, OPTIM_ADAMW, gemm)};
  optim_config o;
  optim_config_default(&o, OPTIM_ADAMW, 1e-2f, 1e-2f);
  for (uint64_t step = 1; step <= 3; step++)
    for (int i = 0; i < 2; i++) {
      net_set_batch(nets[i], d.bx, d.by, NULL, (size_t)step * 50, B);
      if (i == 0) {
        net_train_step(nets[i], B, &o, step);
        continue;
      }
      net_forward(nets[i], B, true, step);
      net_loss(nets[i], B);
      net_backward(nets[i], B, step);
      net_optimizer_step(nets[i], &o, step);
    }
  snapshot snap[2];
  for (int i = 0; i < 2; i++) snap[i] = snapshot_take(nets[i], m);
  CHECK(snapshot_same(&snap[0], &snap[1], m), "%s (%s): net_train_step differs from forward + loss + backward + optimizer",
        m->name, net_gemm_name(gemm));
  for (int i = 0; i < 2; i++) {
    net_free(nets[i]);
    snapshot_free(&snap[i]);
  }
  dev_rows_free(&d);
}

/* Kernels and CLBlast calls of one training step on each path: the fused path runs every
   Linear of jsc-tiny and jsc-trt (all up to 64 wide) without CLBlast, in one launch forward
   and one or two backward (ops_fused.h), so its counts are these exact numbers. */
static void launch_counts(cl_runtime *rt, const model_spec *m, net_gemm gemm, unsigned long launches,
                          unsigned long gemms) {
  net *n = dev_net_gemm(rt, m, B, 2, OPTIM_ADAM, gemm);
  float *x = xmalloc((size_t)B * m->input_width * 4);
  int32_t *y = xmalloc(B * 4);
  synth(x, y, B, m->input_width);
  net_set_batch_host(n, x, y, B);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-3f, 0.0f);
  net_train_step(n, B, &o, 1); /* the first step may copy the batch */
  const unsigned long l0 = rt->launches, g0 = rt->gemm_calls;
  net_train_step(n, B, &o, 2);
  const unsigned long dl = rt->launches - l0, dg = rt->gemm_calls - g0;
  CHECK(dl == launches && dg == gemms, "%s (%s): %lu kernels and %lu CLBlast calls a step, expected %lu and %lu",
        m->name, net_gemm_name(gemm), dl, dg, launches, gemms);
  net_free(n);
  free(x); free(y);
}

static void metrics_and_learning(cl_runtime *rt, const model_spec *m) {
  const int W = m->input_width, C = m->output_width;
  float *x = xmalloc((size_t)B * W * 4), *out = xmalloc((size_t)B * C * 4);
  int32_t *y = xmalloc(B * 4);
  synth(x, y, B, W);
  net *n = dev_net(rt, m, B, 3, OPTIM_ADAM);
  net_set_batch_host(n, x, y, B);
  net_metrics mt;
  net_take_metrics(n, &mt, NULL, NULL);
  double want_loss = 0;
  long want_correct = 0, *want_conf = xcalloc((size_t)C * C, sizeof(long)), *conf = xcalloc((size_t)C * C, sizeof(long));
  for (int rep = 0; rep < 3; rep++) {
    net_eval_batch(n, B - rep * 10);
    net_read_output(n, out, B - rep * 10, NULL);
    double *zd = ref_dup(out, (size_t)(B - rep * 10) * C);
    want_loss += ref_xent(B - rep * 10, C, zd, y, NULL, &want_correct, want_conf) * (B - rep * 10);
    free(zd);
  }
  net_take_metrics(n, &mt, conf, NULL);
  CHECK(rel_err(mt.loss_sum, want_loss, 1e-3) < 1e-5, "%s eval loss sum %.9g want %.9g", m->name, mt.loss_sum, want_loss);
  CHECK(mt.correct == want_correct && mt.count == 3 * B - 30, "%s correct %ld want %ld count %ld", m->name,
        mt.correct, want_correct, mt.count);
  CHECK(memcmp(conf, want_conf, (size_t)C * C * sizeof(long)) == 0, "%s confusion matrix differs", m->name);
  net_take_metrics(n, &mt, conf, NULL);
  long left = 0;
  for (int i = 0; i < C * C; i++) left += conf[i];
  CHECK(mt.loss_sum == 0 && mt.correct == 0 && mt.count == 0 && left == 0, "%s: take does not reset", m->name);

  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-2f, 0.0f);
  double first = 0, last = 0;
  for (uint64_t step = 1; step <= 60; step++) {
    net_train_step(n, B, &o, step);
    if (step == 1 || step == 60) {
      net_take_metrics(n, &mt, NULL, NULL);
      if (step == 1) first = mt.last_loss;
      else last = mt.last_loss;
    }
  }
  CHECK(last < 0.8 * first, "%s: loss %g -> %g after 60 Adam steps", m->name, first, last);
  printf("  %s: loss %.4f -> %.4f over 60 steps\n", m->name, first, last);
  net_free(n);
  free(x); free(out); free(y); free(want_conf); free(conf);
}

static void warm_up_leaves_no_trace(cl_runtime *rt, const model_spec *m, net_gemm gemm) {
  dev_rows d = dev_rows_make(rt, m->input_width, false, 0);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-2f, 1e-3f);
  snapshot got[2];
  const size_t P = m->n_params;
  for (int warmed = 0; warmed < 2; warmed++) {
    net *n = dev_net_gemm(rt, m, B, 11, OPTIM_ADAM, gemm);
    for (uint64_t step = 1; step <= 5; step++) {
      if (step == 3) {
        /* Mid-run, with optimizer state and running statistics to keep. The warm-up
           clears the metric accumulators (it runs before a run's first step), so both
           nets start counting from here. */
        net_metrics before;
        net_take_metrics(n, &before, NULL, NULL);
        const int tb[3] = {B, 33, 2}, eb[3] = {B, 7, 1};
        error e = {0};
        if (warmed)
          CHECK(net_warm_up(n, d.bx, d.by, ROWS, tb, 3, eb, 3, &o, &e) == 0, "%s: net_warm_up: %s", m->name, e.msg);
      }
      net_set_batch(n, d.bx, d.by, NULL, (size_t)(step - 1) * B, B);
      net_train_step(n, B, &o, step);
    }
    got[warmed] = snapshot_take(n, m);
    if (warmed) {
      CHECK(same(got[0].params, got[1].params, P * 4), "%s: parameters differ after a warm-up", m->name);
      CHECK(!m->n_stats || same(got[0].stats, got[1].stats, m->n_stats * 4), "%s: running statistics differ",
            m->name);
      CHECK(same(got[0].optim, got[1].optim, net_optim_count(n) * 4), "%s: optimizer state differs", m->name);
      CHECK(same(got[0].grads, got[1].grads, P * 4), "%s: gradients differ", m->name);
      CHECK(same(got[0].out, got[1].out, (size_t)B * m->output_width * 4), "%s: outputs differ", m->name);
      CHECK(got[0].mt.count == got[1].mt.count && got[0].mt.correct == got[1].mt.correct &&
                same(&got[0].mt.loss_sum, &got[1].mt.loss_sum, sizeof(double)),
            "%s: metrics differ after a warm-up (count %ld vs %ld)", m->name, got[0].mt.count, got[1].mt.count);
    }
    net_free(n);
  }
  for (int i = 0; i < 2; i++) snapshot_free(&got[i]);
  dev_rows_free(&d);
}

int main(void) {
  cl_runtime rt;
  dev_open(&rt);
  for (const char *const *name = model_zoo_names; *name; name++) {
    model_spec m;
    error e = {0};
    if (model_load(*name, &m, &e) != 0) TEST_DIE("%s", e.msg);
    check_init(&rt, &m);
    metrics_and_learning(&rt, &m);
    if (strcmp(*name, "jsc-trt") == 0 || strcmp(*name, "jsc-tiny") == 0) {
      determinism(&m, NET_GEMM_CLBLAST);
      determinism(&m, NET_GEMM_FUSED);
    }
    /* jsc-tiny's Linear is its last stage: one backward launch with the loss, dW, db and
       dx (fused_dw_loss_cpu); jsc-trt ends in a BatchNorm, whose backward takes the loss */
    if (strcmp(*name, "jsc-tiny") == 0) launch_counts(&rt, &m, NET_GEMM_FUSED, 5, 0);
    if (strcmp(*name, "jsc-trt") == 0) launch_counts(&rt, &m, NET_GEMM_FUSED, 24, 0);
    in_place_batches(&rt, &m);
    step_equals_pieces(&rt, &m, NET_GEMM_CLBLAST);
    step_equals_pieces(&rt, &m, NET_GEMM_FUSED);
    warm_up_leaves_no_trace(&rt, &m, NET_GEMM_CLBLAST);
    warm_up_leaves_no_trace(&rt, &m, NET_GEMM_FUSED);
    model_free(&m);
  }
  rt_close(&rt);
  dev_check(&rt, "test_net");
  return test_summary("test_net");
}
