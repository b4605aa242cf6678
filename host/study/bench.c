/* bench.h: steady-state samples/s of net_train_step. */
#include "study/bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cl/gemm.h"
#include "net/net.h"
#include "ops/ops.h"
#include "base/rng.h"
#include "base/util.h"

void bench_options_default(bench_options *o, bool quick) {
  o->reps = quick ? 3 : 7;
  o->rep_seconds = quick ? 0.05 : 0.4;
  o->warmup_steps = quick ? 5 : 20;
  o->gemm = NET_GEMM_AUTO;
  o->whole = NET_WHOLE_AUTO;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct {
  cl_runtime *rt;
  net *n;
  cl_mem x, y, perm;
  size_t pool_rows;
  int batch;
  size_t next;       /* start of the next batch in the permutation */
  uint64_t step;
  optim_config opt;
} bench_state;

/* STEPS training steps on the pool's batches in turn: as many at a time as the pool has
   left (one call of the whole-network kernel runs them in its launches). */
static void run_steps(bench_state *s, long steps) {
  const size_t b = (size_t)s->batch;
  for (long done = 0; done < steps;) {
    if (s->next + b > s->pool_rows) s->next = 0;
    long count = (long)((s->pool_rows - s->next) / b);
    if (count > steps - done) count = steps - done;
    net_train_steps(s->n, s->x, s->y, s->perm, s->next, s->batch, s->pool_rows, (int)count, &s->opt, s->step + 1);
    s->step += (uint64_t)count;
    s->next += (size_t)count * b;
    done += count;
  }
}

/* A pool of at least 8 batches (and 8192 rows) of standard-normal features and uniform
   labels, and a shuffled permutation of it, all on the device. */
static void make_pool(cl_runtime *rt, const model_spec *m, bench_state *s) {
  size_t rows = (size_t)s->batch * 8;
  if (rows < 8192) rows = 8192;
  size_t W = (size_t)m->input_width;
  float *x = xmalloc(rows * W * sizeof *x);
  int32_t *y = xmalloc(rows * sizeof *y);
  uint32_t *perm = xmalloc(rows * sizeof *perm);
  rng_state r;
  rng_seed(&r, 1234, 0xbe4c4);
  for (size_t i = 0; i < rows * W; i++) x[i] = (float)rng_normal(&r);
  for (size_t i = 0; i < rows; i++) y[i] = (int32_t)rng_below(&r, (uint64_t)m->output_width);
  rng_permutation(&r, perm, (uint32_t)rows);
  s->x = rt_alloc(rt, rows * W * sizeof *x);
  s->y = rt_alloc(rt, rows * sizeof *y);
  s->perm = rt_alloc(rt, rows * sizeof *perm);
  rt_write(rt, s->x, 0, rows * W * sizeof *x, x);
  rt_write(rt, s->y, 0, rows * sizeof *y, y);
  rt_write(rt, s->perm, 0, rows * sizeof *perm, perm);
  s->pool_rows = rows;
  free(x);
  free(y);
  free(perm);
}

/* Which path the Linear stages of N (a net for M) take: clblast, fused or mixed. */
static void gemm_label(const net *n, const model_spec *m, char out[8]) {
  int linear = 0;
  for (int l = 0; l < m->n_layers; l++) linear += m->layers[l].kind == LAYER_LINEAR;
  const int fused = net_fused_stages(n);
  snprintf(out, 8, "%s", !linear ? "none" : fused == 0 ? "clblast" : fused == linear ? "fused" : "mixed");
}

/* The state's device buffers and net. */
static void free_state(bench_state *s) {
  rt_release(&s->x);
  rt_release(&s->y);
  rt_release(&s->perm);
  if (s->n) net_free(s->n);
  s->n = NULL;
}

/* A net for M at BATCH with Adam, and the pool of rows its batches are drawn from. */
static int open_state(bench_state *s, cl_runtime *rt, const model_spec *m, int batch, net_gemm gemm,
                      net_whole_mode whole, error *err) {
  *s = (bench_state){.rt = rt, .batch = batch};
  optim_config_default(&s->opt, OPTIM_ADAM, 1e-3f, 0.0f);
  s->n = net_create(rt, m, batch, 0, gemm, err);
  if (!s->n || net_use_optimizer(s->n, s->opt.kind, err) || net_use_whole(s->n, whole, err)) {
    free_state(s);
    return -1;
  }
  make_pool(rt, m, s);
  return 0;
}

int bench_train_step(cl_runtime *rt, const model_spec *m, int batch, const bench_options *o, bench_result *out,
                     error *err) {
  bench_state s;
  if (open_state(&s, rt, m, batch, o->gemm, o->whole, err)) return -1;
  gemm_label(s.n, m, out->gemm);
  out->whole = net_whole_on(s.n);
  net_metrics met;

  /* Warm-up: compiles every CLBlast program this shape needs; then a short timed run
     sizes the repetitions. */
  run_steps(&s, o->warmup_steps);
  rt_finish(rt);
  double t0 = now_seconds();
  const long probe = 10;
  run_steps(&s, probe);
  rt_finish(rt);
  double per_step = (now_seconds() - t0) / probe;
  long steps = per_step > 0 ? (long)(o->rep_seconds / per_step) : 1000;
  if (steps < 10) steps = 10;
  if (steps > 1000000) steps = 1000000;
  if (net_take_metrics(s.n, &met, NULL, err)) {
    free_state(&s);
    return -1;
  }

  double *rates = xmalloc((size_t)o->reps * sizeof *rates);
  unsigned long launches = rt->launches, gemms = rt->gemm_calls;
  for (int r = 0; r < o->reps; r++) {
    double start = now_seconds();
    run_steps(&s, steps);
    rt_finish(rt);
    double secs = now_seconds() - start;
    rates[r] = (double)steps * batch / secs;
  }
  double total_steps = (double)steps * o->reps;
  out->launches_per_step = (double)(rt->launches - launches) / total_steps;
  out->gemm_calls_per_step = (double)(rt->gemm_calls - gemms) / total_steps;
  if (net_take_metrics(s.n, &met, NULL, err)) {
    free(rates);
    free_state(&s);
    return -1;
  }
  out->final_loss = met.count ? met.loss_sum / (double)met.count : NAN;

  qsort(rates, (size_t)o->reps, sizeof *rates, cmp_double);
  out->reps = o->reps;
  out->steps_per_rep = (int)steps;
  out->samples_per_s_min = rates[0];
  out->samples_per_s_max = rates[o->reps - 1];
  out->samples_per_s = o->reps % 2 ? rates[o->reps / 2]
                                   : 0.5 * (rates[o->reps / 2 - 1] + rates[o->reps / 2]);
  out->step_us = 1e6 * batch / out->samples_per_s;
  free(rates);
  free_state(&s);
  return 0;
}

/* Steps cut after phase LAST (0 gather, 1 forward, 2 loss, 3 backward, 4 optimizer). */
static void run_prefix(bench_state *s, long steps, int last) {
  for (long i = 0; i < steps; i++) {
    if (s->next + (size_t)s->batch > s->pool_rows) s->next = 0;
    net_set_batch(s->n, s->x, s->y, s->perm, s->next, s->batch);
    s->next += (size_t)s->batch;
    ++s->step;
    if (last >= 1) net_forward(s->n, s->batch, true, s->step);
    if (last >= 2) net_loss(s->n, s->batch);
    if (last >= 3) net_backward(s->n, s->batch, s->step);
    if (last >= 4) net_optimizer_step(s->n, &s->opt, s->step);
    /* net_train_step bounds the queue itself; these partial steps wait every 16 steps */
    if (i % 16 == 15) rt_finish(s->rt);
  }
}

/* Best of the repetitions, microseconds per call of FN(ctx, steps). */
typedef void (*steps_fn)(void *ctx, long steps);
static double best_us(cl_runtime *rt, steps_fn fn, void *ctx, long steps, int reps) {
  double best = INFINITY;
  for (int r = 0; r < reps; r++) {
    double t0 = now_seconds();
    fn(ctx, steps);
    rt_finish(rt);
    best = fmin(best, (now_seconds() - t0) / (double)steps * 1e6);
  }
  return best;
}

typedef struct {
  bench_state *s;
  int last;
} prefix_ctx;

static void prefix_steps(void *ctx, long steps) {
  prefix_ctx *p = ctx;
  run_prefix(p->s, steps, p->last);
}

typedef struct {
  cl_runtime *rt;
  const model_spec *m;
  const bool *fused;   /* per layer: its stage is fused (makes no CLBlast call) */
  int batch;
  cl_mem a, b, c;
  int calls;
} gemm_ctx;

/* The CLBlast GEMMs of one training step with the net's shapes and transpositions
   (linear_step_gemms, ops/ops.h): those of the Linear stages not fused. */
static void gemm_steps(void *ctx, long steps) {
  gemm_ctx *g = ctx;
  g->calls = 0;
  for (long i = 0; i < steps; i++) {
    for (int l = 0; l < g->m->n_layers; l++) {
      if (g->fused[l]) continue;
      gemm_shape s[LINEAR_GEMM_COUNT];
      const int n = linear_step_gemms(g->m, l, (size_t)g->batch, s);
      for (int j = 0; j < n; j++) gemm_shaped(g->rt, &s[j], g->a, 0, g->b, 0, g->c, 0);
      g->calls += n;
    }
    if (i % 4 == 3) rt_finish(g->rt); /* a queue as deep as a training step's */
  }
}

int bench_step_breakdown(cl_runtime *rt, const model_spec *m, int batch, const bench_options *o,
                         bench_breakdown *out, error *err) {
  bench_state s;
  if (open_state(&s, rt, m, batch, o->gemm, NET_WHOLE_OFF, err)) return -1;
  gemm_label(s.n, m, out->gemm);
  bool fused[MODEL_MAX_LAYERS];
  for (int l = 0; l < m->n_layers; l++) fused[l] = net_layer_fused(s.n, l);
  run_steps(&s, o->warmup_steps);
  rt_finish(rt);
  /* about rep_seconds per repetition of the full step */
  prefix_ctx full = {&s, 4};
  double probe = best_us(rt, prefix_steps, &full, 16, 1);
  long steps = probe > 0 ? (long)(o->rep_seconds * 1e6 / probe) : 100;
  steps = steps < 16 ? 16 : steps > 100000 ? 100000 : steps;
  /* the prefixes in interleaved rounds, so a change in background load hits all alike */
  double prefix[5] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
  for (int round = 0; round < 2 * o->reps; round++)
    for (int last = 0; last < 5; last++) {
      prefix_ctx p = {&s, last};
      prefix[last] = fmin(prefix[last], best_us(rt, prefix_steps, &p, steps, 1));
    }
  /* background load can make a small phase's difference come out below zero: 0 then */
  out->gather_us = prefix[0];
  out->forward_us = fmax(0, prefix[1] - prefix[0]);
  out->loss_us = fmax(0, prefix[2] - prefix[1]);
  out->backward_us = fmax(0, prefix[3] - prefix[2]);
  out->optimizer_us = fmax(0, prefix[4] - prefix[3]);
  out->step_us = prefix[4];
  net_metrics met;
  const int failed = net_take_metrics(s.n, &met, NULL, err);
  free_state(&s);
  if (failed) return -1;

  /* the GEMMs alone, on scratch buffers big enough for every operand */
  size_t elems = 1;
  for (int l = 0; l < m->n_layers; l++) {
    const size_t w = (size_t)(m->layers[l].in > m->layers[l].out ? m->layers[l].in : m->layers[l].out);
    if ((size_t)batch * w > elems) elems = (size_t)batch * w;
    if ((size_t)m->layers[l].in * (size_t)m->layers[l].out > elems)
      elems = (size_t)m->layers[l].in * (size_t)m->layers[l].out;
  }
  gemm_ctx g = {rt, m, fused, batch, rt_alloc(rt, elems * 4), rt_alloc(rt, elems * 4), rt_alloc(rt, elems * 4), 0};
  rt_zero(rt, g.a, 0, elems * 4);
  rt_zero(rt, g.b, 0, elems * 4);
  gemm_steps(&g, 2); /* compiles nothing new: the net's steps used these shapes */
  rt_finish(rt);
  out->clblast_calls = g.calls / 2;
  out->clblast_us = out->clblast_calls ? best_us(rt, gemm_steps, &g, 16, o->reps * 2) : 0;
  rt_release(&g.a);
  rt_release(&g.b);
  rt_release(&g.c);
  return rt_status(rt, err);
}
