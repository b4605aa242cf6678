/* Training a model in-process: `cltrain train` and, through the same entry points,
   `sweep` and `compare`.

   One run: load the data once and upload it to the device once; every epoch draw a
   permutation from the run's shuffle RNG and upload it (the net gathers batches on the
   device); queue the steps without host synchronisation; read metrics only at log rows
   and epoch ends; validate every epoch; per-epoch learning-rate schedule; early stopping
   on validation loss; best.ckpt (best val acc) and last.ckpt (every epoch end, and on
   interruption); at the end evaluate the final model on the test split.

   Failures are returned (base/error.h): bad input (unknown model, bad checkpoint,
   mismatched model, bad device) as EXIT_USAGE, runtime failures as EXIT_RUNTIME. */
#ifndef CLTRAIN_TRAINER_H
#define CLTRAIN_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "cl/runtime.h"
#include "data/data.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/run_log.h"
#include "train/train_config.h"

typedef enum {
  TRAIN_FINISHED,       /* max-epochs reached */
  TRAIN_EARLY_STOPPED,  /* --early-stopping patience ran out */
  TRAIN_INTERRUPTED,    /* SIGINT/SIGTERM: last.ckpt and logs saved */
  TRAIN_DIVERGED,       /* NaN/Inf loss: stopped, last good checkpoint kept */
} train_status;

typedef struct {
  train_status status;
  int signal;                    /* TRAIN_INTERRUPTED: the signal */
  char run_dir[RUN_PATH_MAX];
  char model[128], dataset[128], device[256];
  size_t params;
  uint64_t epochs_run;           /* finished epochs, all sessions of a resumed run */
  uint64_t steps;
  double final_train_loss, final_train_acc, final_val_loss, final_val_acc; /* last finished epoch */
  double best_val_acc;           /* -1 when no epoch finished */
  uint64_t best_epoch;           /* 1-based (people read it); 0 none */
  bool have_test;
  double test_loss, test_acc;    /* final model on the test split */
  double train_seconds;          /* training + validation wall time, all sessions */
  double epoch_seconds;          /* mean wall time of the epochs finished in this session */
  double samples_per_s;          /* training samples / training-step time */
  double median_epoch_s;         /* median over this session's epochs of epoch_s (epochs.csv) */
  double median_samples_per_s;   /* ... and of samples_per_s: robust to one slow epoch */
  double compile_seconds;        /* this session's kernel and GEMM compilation (and warm-up),
                                    outside every other time */
  double launch_us;              /* the device's fixed cost of one kernel launch (launch_probe.h),
                                    measured after the warm-up; NaN when not measured */
  double launches_per_step;      /* kernel launches and CLBlast calls per training step; NaN: none */
  bool whole_net;                /* the steps ran in the whole-network kernel (--whole-net) */
  double wall_seconds;           /* this call, data loading and compilation included */
} train_result;

/* A run opened once: the configuration resolved (--resume: the stored one with the
   command line's explicit options on top), the checkpoint of --resume/--load read once,
   the model parsed once (from the checkpoint when resuming) and checked against it, the
   device opened once. The data set is loaded by the caller (sweeps share it). */
typedef struct {
  train_config cfg;         /* effective configuration */
  bool have_ckpt;
  checkpoint ckpt;          /* --resume or --load */
  bool have_model;
  model_spec model;
  cl_runtime rt;
  bool rt_open;
} train_run;

/* Open the run CLI describes. CKPT, when not NULL, is the checkpoint of cli->resume or
   cli->load already read by the caller (a sweep that found the run): it is taken over
   (freed by train_close, also on failure). Checks the project directory before any
   data is read. 0, or -1 with ERR (bad model, checkpoint, device: EXIT_USAGE). */
int train_open(train_run *run, const train_config *cli, checkpoint *ckpt, error *err);
void train_close(train_run *run);

/* Train the opened run on DS, which must be what run->cfg's data options describe.
   Returns the run's exit code (0 finished or early-stopped, 1 diverged, 130/143
   interrupted) with OUT filled, or -1 with ERR. When the run directory already existed
   at the failure, OUT->run_dir names it and its summary.json says "failed" and the error. */
int train_execute(train_run *run, const dataset *ds, train_result *out, error *err);

/* Open, load the data set cfg->dataset names, execute, close: `cltrain train`. */
int train_run_all(const train_config *cfg, train_result *out, error *err);
/* Open, execute on DS (loaded by the caller), close. */
int train_run_with_data(const train_config *cfg, const dataset *ds, train_result *out, error *err);

/* Record a run that failed before it had a run directory: make one under
   cfg->project_dir with summary.json saying "failed" and MESSAGE, its name into DIR.
   0 or -1 with ERR. */
int train_record_failure(const train_config *cfg, const char *message, char *dir, size_t dir_len, error *err);

/* Short name of a model (its zoo name or the name its file gives; else the file name) or
   a dataset (file name without directory and extension), for directory names. */
void run_short_name(const char *spec, bool is_model, char *buf, size_t n);

/* The data set fits the configuration: two training rows or more, a validation row, and
   a batch no larger than the training split. 0, or -1 with ERR (EXIT_USAGE). */
int train_check_data(const train_config *cfg, const dataset *ds, error *err);

/* data_options from the configuration (val-fraction, synth-size, data). */
void train_data_options(const train_config *cfg, data_options *opt);

/* For --resume: the configuration stored in CKPT (read from cli->resume) with the
   command line's explicit options on top. Refuses (EXIT_USAGE) to change the model,
   data or anything that would break the exact continuation (batch size, seed,
   optimizer); warns when the schedule or epoch count changes. 0 or -1 with ERR. */
int train_resolve_resume(const train_config *cli, const checkpoint *ckpt, train_config *eff, error *err);

/* "finished", "early-stopped", "interrupted", "diverged". */
const char *train_status_name(train_status s);

/* Learning rate of EPOCH (0-based) under the configured schedule. */
double train_epoch_lr(const train_config *cfg, uint64_t epoch);

#endif
