/* The whole-network kernel (net.h "--whole-net", kernels/whole_net.cl) against the
   per-stage path, which the PyTorch golden replay holds to PyTorch (as it holds this
   kernel: tests/test_net_golden.c):
   - edge shapes: every zoo model and tests/golden/mixed.model (every stage kind, dropout,
     a stand-alone activation) at batches 1, 2, 15, 16, 17 and 33, several steps over a
     shuffled data set whose last batch is short: parameters, running statistics, optimizer
     state, the last step's gradients and the metrics equal the per-stage path's within
     float rounding. Tolerance: max |difference| per tensor below 2e-4 of the tensor's
     largest magnitude (a float's rounding is 6e-8 of it; five steps of training let the
     two summation orders drift apart, by up to 3e-5 measured for jsc-s at batch 33), loss
     sums 1e-5 relative, counts exact. SGD, because Adam turns the rounding noise of a bias
     that feeds a BatchNorm (mathematically zero gradient) into steps of lr in arbitrary
     directions (test_net_golden.c: noise_driven). Batches of 1 and 2 run 2 steps: a
     BatchNorm over two rows outputs +-1 whatever its inputs, so what reaches the layers
     before it is rounding noise, and the two paths drift apart ~50x per step from there
     (jsc-trt at batch 2: 1e-8, 3e-8, 1e-5, 6e-4, 8e-2 over steps 1-5);
   - the same bits however the steps are split into calls and launches (an epoch of 88
     steps in 1 call, in calls of 1, in calls of 3, 2, 70 (two launches) and the rest), run to
     run and in a fresh OpenCL context; a different seed gives different numbers;
   - one launch per NET_WHOLE_MAX_STEPS steps, no other kernel;
   - net_warm_up leaves no trace: a warmed-up net trains on bit-identically.
   CLTRAIN_TEST_SMALL (the Oclgrind stage): two batch sizes, fewer steps. */
#include <string.h>

#include "devutil.h"
#include "net/net.h"
#include "ops/ops.h"
#include "refops.h"
#include "testutil.h"
#include "base/rng.h"
#include "base/util.h"

enum { ROWS = 700 };

typedef struct {
  cl_mem x, y, perm;
  size_t rows;
} data;

static data data_make(cl_runtime *rt, int W, size_t rows, uint64_t seed) {
  float *x = xmalloc(rows * (size_t)W * 4);
  int32_t *y = xmalloc(rows * 4);
  uint32_t *perm = xmalloc(rows * 4);
  ref_fill(x, rows * (size_t)W, seed, -2, 2);
  for (size_t i = 0; i < rows; i++) {
    y[i] = (int32_t)(i % 5);
    x[i * (size_t)W + i % (size_t)W] += 1.5f; /* a learnable signal */
  }
  rng_state g;
  rng_seed(&g, seed, 3);
  rng_permutation(&g, perm, (uint32_t)rows);
  data d = {dev_upload(rt, x, rows * (size_t)W * 4), dev_upload(rt, y, rows * 4), dev_upload(rt, perm, rows * 4), rows};
  free(x);
  free(y);
  free(perm);
  return d;
}

static void data_free(data *d) {
  rt_release(&d->x);
  rt_release(&d->y);
  rt_release(&d->perm);
}

static net *make_net(cl_runtime *rt, const model_spec *m, int batch, uint64_t seed, optim_kind kind, bool whole) {
  net *n = dev_net_gemm(rt, m, batch, seed, kind, NET_GEMM_FUSED);
  error e = {0};
  if (net_use_whole(n, whole ? NET_WHOLE_ON : NET_WHOLE_OFF, &e) != 0 || net_whole_on(n) != whole)
    TEST_DIE("%s: net_use_whole: %s", m->name, e.msg);
  return n;
}

typedef struct {
  float *params, *stats, *optim, *grads;
  net_metrics mt;
} state;

static state state_take(net *n, const model_spec *m) {
  const size_t P = m->n_params;
  state s;
  s.params = xmalloc(P * 4);
  s.stats = xmalloc((m->n_stats ? m->n_stats : 1) * 4);
  s.optim = xcalloc(2 * P + 1, 4);
  s.grads = xmalloc(P * 4);
  net_read_state(n, s.params, s.stats, s.optim, NULL);
  net_read_grads(n, s.grads, NULL);
  net_take_metrics(n, &s.mt, NULL, NULL);
  return s;
}

static void state_free(state *s) {
  free(s->params);
  free(s->stats);
  free(s->optim);
  free(s->grads);
}

static bool state_same(const state *a, const state *b, const model_spec *m) {
  const size_t P = m->n_params;
  return !memcmp(a->params, b->params, P * 4) && !memcmp(a->stats, b->stats, m->n_stats * 4) &&
         !memcmp(a->optim, b->optim, 2 * P * 4) && !memcmp(a->grads, b->grads, P * 4) &&
         a->mt.loss_sum == b->mt.loss_sum && a->mt.correct == b->mt.correct && a->mt.count == b->mt.count &&
         a->mt.last_loss == b->mt.last_loss;
}

/* max |got - want| / max |want|: the error against the tensor's scale (a float's rounding
   is 6e-8 of it; see the file's head for the bound) */
static double tensor_err(const float *got, const float *want, size_t n) {
  double scale = 0, worst = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
  for (size_t i = 0; i < n; i++) {
    const double d = fabs((double)got[i] - want[i]);
    if (!(d <= worst)) worst = d; /* NaN fails */
  }
  return scale > 0 ? worst / scale : worst;
}

/* STEPS steps at BATCH from row START of the permutation (the rows end at TOTAL). */
static void train(net *n, const data *d, int batch, size_t start, size_t total, int steps, const optim_config *o,
                  uint64_t first_step) {
  net_train_steps(n, d->x, d->y, d->perm, start, batch, total, steps, o, first_step);
}

static void against_stages(cl_runtime *rt, const model_spec *m, int batch, int steps) {
  data d = data_make(rt, m->input_width, ROWS, 11);
  /* the last of STEPS batches is short by a third (at least one row) */
  const size_t total = (size_t)(steps - 1) * (size_t)batch + (size_t)(batch - batch / 3);
  optim_config o;
  optim_config_default(&o, OPTIM_SGD, 5e-2f, 1e-3f);
  state s[2];
  for (int w = 0; w < 2; w++) {
    net *n = make_net(rt, m, batch, 9, OPTIM_SGD, w == 1);
    train(n, &d, batch, 0, total, steps, &o, 1);
    s[w] = state_take(n, m);
    net_free(n);
  }
  const size_t P = m->n_params;
  const double e_p = tensor_err(s[1].params, s[0].params, P), e_s = tensor_err(s[1].stats, s[0].stats, m->n_stats),
               e_o = tensor_err(s[1].optim, s[0].optim, P), e_g = tensor_err(s[1].grads, s[0].grads, P);
  CHECK(e_p < 2e-4 && e_s < 2e-4 && e_o < 2e-4 && e_g < 2e-4,
        "%s batch %d: whole vs stages: params %.3g stats %.3g momentum %.3g grads %.3g", m->name, batch, e_p, e_s, e_o,
        e_g);
  CHECK(s[0].mt.count == (long)total && s[1].mt.count == (long)total && s[0].mt.correct == s[1].mt.correct,
        "%s batch %d: count %ld / %ld, correct %ld / %ld", m->name, batch, s[0].mt.count, s[1].mt.count,
        s[0].mt.correct, s[1].mt.correct);
  CHECK(rel_err(s[1].mt.loss_sum, s[0].mt.loss_sum, 1e-6) < 1e-5 && rel_err(s[1].mt.last_loss, s[0].mt.last_loss, 1e-6) < 1e-5,
        "%s batch %d: loss sum %.9g / %.9g, last %.9g / %.9g", m->name, batch, s[1].mt.loss_sum, s[0].mt.loss_sum,
        s[1].mt.last_loss, s[0].mt.last_loss);
  printf("  %-10s batch %4d  %d steps  whole vs stages: params %.2g stats %.2g momentum %.2g grads %.2g\n", m->name,
         batch, steps, e_p, e_s, e_o, e_g);
  state_free(&s[0]);
  state_free(&s[1]);
  data_free(&d);
}

/* STEPS steps of the whole kernel split as SPLIT (steps per call, 0-terminated; the rest in
   one call), in runtime RT, seed SEED. */
static state whole_run(cl_runtime *rt, const model_spec *m, const data *d, int batch, int steps, const int *split,
                       uint64_t seed) {
  net *n = make_net(rt, m, batch, seed, OPTIM_ADAMW, true);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAMW, 1e-2f, 1e-2f);
  int done = 0;
  for (int i = 0; split[i] && done < steps; i++) {
    const int count = split[i] < steps - done ? split[i] : steps - done;
    train(n, d, batch, (size_t)done * (size_t)batch, d->rows, count, &o, (uint64_t)done + 1);
    done += count;
  }
  if (done < steps) train(n, d, batch, (size_t)done * (size_t)batch, d->rows, steps - done, &o, (uint64_t)done + 1);
  state s = state_take(n, m);
  net_free(n);
  return s;
}

static void splits_and_determinism(cl_runtime *rt, const model_spec *m, int batch) {
  const int steps = (ROWS + batch - 1) / batch; /* the last one short */
  data d = data_make(rt, m->input_width, ROWS, 5);
  static const int one_call[] = {0}, singles[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, uneven[] = {3, 2, 70, 0};
  state a = whole_run(rt, m, &d, batch, steps, one_call, 4);
  state b = whole_run(rt, m, &d, batch, steps, singles, 4);
  state c = whole_run(rt, m, &d, batch, steps, uneven, 4);
  state e = whole_run(rt, m, &d, batch, steps, one_call, 5);
  CHECK(state_same(&a, &b, m) && state_same(&a, &c, m), "%s batch %d: the split into calls changes the bits", m->name,
        batch);
  CHECK(memcmp(a.params, e.params, m->n_params * 4) != 0, "%s: another seed changes nothing", m->name);
  CHECK(a.mt.count == ROWS && isfinite(a.mt.loss_sum), "%s: count %ld, loss %g", m->name, a.mt.count,
        a.mt.loss_sum);
  data_free(&d);
  cl_runtime fresh;
  dev_open(&fresh);
  d = data_make(&fresh, m->input_width, ROWS, 5);
  state f = whole_run(&fresh, m, &d, batch, steps, one_call, 4);
  CHECK(state_same(&a, &f, m), "%s batch %d: a fresh OpenCL context gives other bits", m->name, batch);
  data_free(&d);
  rt_close(&fresh);
  state_free(&a);
  state_free(&b);
  state_free(&c);
  state_free(&e);
  state_free(&f);
}

static void launches(cl_runtime *rt, const model_spec *m) {
  data d = data_make(rt, m->input_width, ROWS, 6);
  net *n = make_net(rt, m, 8, 1, OPTIM_ADAM, true);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-3f, 0.0f);
  train(n, &d, 4, 0, d.rows, 1, &o, 1); /* the scalar table: written once before */
  const unsigned long before = rt->launches, gemms = rt->gemm_calls;
  train(n, &d, 4, 4, d.rows, 2 * NET_WHOLE_MAX_STEPS + 1, &o, 2);
  CHECK(rt->launches - before == 3 && rt->gemm_calls == gemms, "%s: %lu launches and %lu GEMMs for %d steps", m->name,
        rt->launches - before, rt->gemm_calls - gemms, 2 * NET_WHOLE_MAX_STEPS + 1);
  net_free(n);
  data_free(&d);
}

/* Train 3 steps, warm up (steps and evaluation at other sizes, state restored), train 3
   more; against 6 steps without the warm-up. */
static void warm_up_leaves_no_trace(cl_runtime *rt, const model_spec *m) {
  data d = data_make(rt, m->input_width, ROWS, 7);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 1e-2f, 0.0f);
  state s[2];
  for (int w = 0; w < 2; w++) {
    net *n = make_net(rt, m, 40, 3, OPTIM_ADAM, true);
    train(n, &d, 40, 0, d.rows, 3, &o, 1);
    if (w) {
      const int tb[] = {40, 7}, eb[] = {40, 13};
      error e = {0};
      CHECK(net_warm_up(n, d.x, d.y, d.rows, tb, 2, eb, 2, &o, &e) == 0, "warm-up: %s", e.msg);
    }
    train(n, &d, 40, 120, d.rows, 3, &o, 4);
    s[w] = state_take(n, m);
    net_free(n);
  }
  /* the warm-up took the metrics of the first 3 steps away: compare the state alone */
  const size_t P = m->n_params;
  CHECK(!memcmp(s[0].params, s[1].params, P * 4) && !memcmp(s[0].stats, s[1].stats, m->n_stats * 4) &&
            !memcmp(s[0].optim, s[1].optim, 2 * P * 4),
        "%s: a warm-up mid-run changes the training", m->name);
  state_free(&s[0]);
  state_free(&s[1]);
  data_free(&d);
}

int main(void) {
  cl_runtime rt;
  dev_open(&rt);
  const bool small = getenv("CLTRAIN_TEST_SMALL") != NULL;
  char mixed[1024];
  snprintf(mixed, sizeof mixed, "%s/tests/golden/mixed.model", CLTRAIN_SOURCE_DIR);
  const char *models[] = {"jsc-tiny", "jsc-toy", "jsc-trt", "jsc-s", mixed, NULL};
  static const int batches[] = {1, 2, 15, 16, 17, 33};
  for (const char *const *name = models; *name; name++) {
    model_spec m;
    error e = {0};
    if (model_load(*name, &m, &e) != 0) TEST_DIE("%s", e.msg);
    if (small && strcmp(*name, "jsc-s") == 0) { /* the widest: the others cover its code */
      model_free(&m);
      continue;
    }
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
      if (!small || batches[b] == 2 || batches[b] == 17)
        against_stages(&rt, &m, batches[b], batches[b] <= 2 ? 2 : small ? 3 : 5);
    if (!small) {
      splits_and_determinism(&rt, &m, 8); /* 88 steps: calls of 70 steps are two launches */
      launches(&rt, &m);
      warm_up_leaves_no_trace(&rt, &m);
    }
    model_free(&m);
  }
  rt_close(&rt);
  dev_check(&rt, "test_net_whole");
  return test_summary("test_net_whole");
}
