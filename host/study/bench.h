/* Steady-state throughput of a full training step (README.md "cltrain bench").

   One measurement: a net for MODEL at batch BATCH on an open runtime, a resident pool of
   random rows on the device gathered through a shuffled permutation as training does, then
   net_set_batch + net_train_step (Adam) repeated. Warm-up steps run first and are not
   timed (every kernel and CLBlast program is compiled by then); then REPS repetitions of
   STEPS steps each, each ended by clFinish, give one samples/s figure each. The median
   is the result; min and max show the spread. */
#ifndef CLTRAIN_BENCH_H
#define CLTRAIN_BENCH_H

#include <stdbool.h>

#include "model/model.h"
#include "cl/runtime.h"
#include "net/net.h"
#include "net/net_gemm.h"

typedef struct {
  int reps;            /* timed repetitions (median over them) */
  double rep_seconds;  /* target length of one repetition; sets the steps per repetition */
  int warmup_steps;
  net_gemm gemm;       /* engine of the Linear layers (net_gemm.h) */
  net_whole_mode whole; /* steps in the whole-network kernel (net.h) */
} bench_options;

/* 7 repetitions of about 0.4 s, 20 warm-up steps; QUICK: 3 of about 0.05 s, 5 warm-up;
   --gemm auto, --whole-net auto. */
void bench_options_default(bench_options *o, bool quick);

typedef struct {
  double samples_per_s;          /* median over the repetitions */
  double samples_per_s_min, samples_per_s_max;
  double step_us;                /* median step time */
  int reps, steps_per_rep;
  double launches_per_step;      /* kernels enqueued by cltrain per step */
  double gemm_calls_per_step;    /* CLBlast calls per step */
  double final_loss;             /* mean loss of the last repetition (a sanity check) */
  char gemm[8];                  /* the Linear stages' path: clblast, fused, mixed (none: no Linear) */
  bool whole;                    /* the steps ran in the whole-network kernel */
} bench_result;

/* 0, or -1 with ERR (the device failed). */
int bench_train_step(cl_runtime *rt, const model_spec *m, int batch, const bench_options *o, bench_result *out,
                     error *err);

/* Where a step's time goes: each prefix of the step (gather; + forward; + loss;
   + backward; + optimizer = the full step) timed like a step, the differences giving each
   phase, and the CLBlast calls the step makes, alone (the GEMM shapes of its stages on
   CLBlast, on scratch buffers; none when every Linear stage is fused).
   Microseconds per step, each the best of 2 x REPS repetitions taken in interleaved
   rounds; a phase whose difference comes out negative under background load is 0. The
   phases are the per-stage path's (the whole-network kernel has none apart). */
typedef struct {
  double gather_us, forward_us, loss_us, backward_us, optimizer_us, step_us;
  double clblast_us;   /* the step's CLBlast GEMMs alone (0 when it makes none) */
  int clblast_calls;
  char gemm[8];        /* as bench_result's */
} bench_breakdown;

int bench_step_breakdown(cl_runtime *rt, const model_spec *m, int batch, const bench_options *o,
                         bench_breakdown *out, error *err);

#endif
