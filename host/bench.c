/* bench.h: steady-state samples/s of net_train_step. */
#include "bench.h"

#include <math.h>
#include <stdlib.h>

#include "net.h"
#include "rng.h"
#include "util.h"

void bench_options_default(bench_options *o, bool quick) {
  o->reps = quick ? 3 : 7;
  o->rep_seconds = quick ? 0.05 : 0.4;
  o->warmup_steps = quick ? 5 : 20;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct {
  net *n;
  cl_mem x, y, perm;
  size_t pool_rows;
  int batch;
  size_t next;       /* start of the next batch in the permutation */
  uint64_t step;
  optim_config opt;
} bench_state;

static void run_steps(bench_state *s, long steps) {
  for (long i = 0; i < steps; i++) {
    if (s->next + (size_t)s->batch > s->pool_rows) s->next = 0;
    net_set_batch(s->n, s->x, s->y, s->perm, s->next, s->batch);
    net_train_step(s->n, s->batch, &s->opt, ++s->step);
    s->next += (size_t)s->batch;
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

void bench_train_step(cl_runtime *rt, const model_spec *m, int batch, const bench_options *o,
                      bench_result *out) {
  bench_state s = {.batch = batch};
  optim_config_default(&s.opt, OPTIM_ADAM, 1e-3f, 0.0f);
  s.n = net_create(rt, m, batch, 0);
  make_pool(rt, m, &s);
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
  net_take_metrics(s.n, &met, NULL);

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
  net_take_metrics(s.n, &met, NULL);
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
  rt_release(&s.x);
  rt_release(&s.y);
  rt_release(&s.perm);
  net_free(s.n);
}
