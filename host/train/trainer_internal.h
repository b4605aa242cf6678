/* Private to the trainer (trainer.c: setup; trainer_loop.c: the epochs; trainer_save.c:
   checkpoints, summary and result, used by both). */
#ifndef CLTRAIN_TRAINER_INTERNAL_H
#define CLTRAIN_TRAINER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/progress.h"
#include "train/run_log.h"
#include "train/trainer.h"

/* Stream of the shuffle RNG (distinct from the streams of init, splits and synthesis). */
#define SHUFFLE_STREAM 0x5348554646ull

typedef struct {
  const train_config *cfg;  /* the opened run's (train_run) */
  const dataset *ds;
  cl_runtime *rt;
  const model_spec *model;
  net *net;
  device_data dev;
  run_log log;
  progress prog;
  train_progress st;        /* everything a checkpoint must hold to continue */
  int batch;                /* rows per step (batch-size capped at the training rows) */
  int eval_batch;           /* rows per evaluation batch (the net's max_batch) */
  uint64_t steps_per_epoch;
  uint64_t epoch_samples;
  cl_mem perm_buf;
  uint32_t *perm;
  uint64_t signal_at_step;  /* test hook CLTRAIN_TEST_SIGNAL_AT_STEP=N[:TERM|:KILL], 0 = off */
  int signal_kind;
  double session_start;     /* now_seconds() minus train_seconds already done */
  double session_epoch_s;   /* sum of the wall times of epochs finished in this session */
  uint64_t session_epochs;
  double *epoch_s_seen;     /* epoch_s and samples_per_s of each epoch finished in this session */
  double *rate_seen;        /* (max-epochs entries), for the medians */
  double compile_seconds;   /* net creation and warm-up of this session */
  double launch_us;         /* launch_probe_us after the warm-up */
  double launches_per_step; /* kernel launches and CLBlast calls of a training step (last epoch) */
  bool have_last;           /* the run directory holds a last.ckpt */
  uint64_t saved_step;      /* ... written at this step */
  /* Data-parallel training over MPI ranks (trainer_dp.c): ranks > 1 when cfg->data_parallel
     asks for it; else rank 0 of 1. Only the writer (rank 0) writes the run directory and
     prints. */
  int rank, ranks;
  bool writer;
} trainer;

/* trainer_dp.c. Rows of a global batch of TOTAL rows held by RANK of RANKS: contiguous,
   the first TOTAL % RANKS ranks one row more; *OFFSET is where they start. */
void trainer_dp_share(size_t total, int rank, int ranks, size_t *rows, size_t *offset);
/* Collective over the ranks of a data-parallel run: RC of every rank agreed (dist_agree);
   RC itself for one process. */
int trainer_agree(const trainer *t, int rc, error *err);
/* Every rank gets at least one row of every batch (EXIT_USAGE otherwise). */
int trainer_dp_check(const trainer *t, error *err);
/* The net trains data-parallel: the reducer, then a warm-up of the sharded step and of
   this rank's evaluation batch sizes (state restored). Collective. */
int trainer_dp_start(trainer *t, error *err);
/* COUNT training steps, the first on the global batch from row START of the permutation:
   this rank's rows of each (data-parallel) or all of them (net_train_steps). */
void trainer_steps(trainer *t, size_t start, int count, const optim_config *opt);
/* net_take_metrics, summed over the ranks of a data-parallel run (then a failure on any
   rank fails every rank with its message). */
int trainer_take_metrics(trainer *t, net_metrics *m, error *err);
/* Evaluation of split S: data-parallel, each rank its share of the rows, summed. */
int trainer_evaluate(trainer *t, const device_split *s, eval_result *out, error *err);
/* The signal to stop at: interrupt_pending(), the largest over the ranks (collective). */
int trainer_signal(const trainer *t);

/* Write NAME (last.ckpt, best.ckpt) into the run directory with the current state.
   0 or -1 with ERR. */
int trainer_save_checkpoint(trainer *t, const char *name, error *err);
/* Result fields from the current state. */
void trainer_fill_result(const trainer *t, train_status status, train_result *out);
/* summary.json with STATUS ("running", "failed" or train_status_name()) and, for
   "failed", the error MESSAGE (else NULL). 0 or -1 with ERR. */
int trainer_write_summary(const trainer *t, const train_result *r, const char *status, const char *message,
                          error *err);
/* The epochs: returns the run's exit code (0, 1 diverged, 130/143 interrupted) with OUT
   filled, or -1 with ERR. */
int trainer_loop(trainer *t, train_result *out, error *err);

#endif
