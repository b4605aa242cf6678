/* Training a model in-process: `cltrain train` and, through the same entry points,
   `sweep` and `compare`.

   One run: load the data once and upload it to the device once; every epoch draw a
   permutation from the run's shuffle RNG and upload it (the net gathers batches on the
   device); queue the steps without host synchronisation; read metrics only at log rows
   and epoch ends; validate every epoch; per-epoch learning-rate schedule; early stopping
   on validation loss; best.ckpt (best val acc) and last.ckpt (every epoch end, and on
   interruption); at the end evaluate the final model on the test split.

   Bad input (unknown model, bad checkpoint, mismatched model, bad device) exits with
   code 2 after one message, as the command line does. */
#ifndef CLTRAIN_TRAINER_H
#define CLTRAIN_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "data/data.h"
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
  uint64_t best_epoch;           /* 0-based */
  bool have_test;
  double test_loss, test_acc;    /* final model on the test split */
  double train_seconds;          /* training + validation wall time, all sessions */
  double epoch_seconds;          /* mean wall time of the epochs finished in this session */
  double samples_per_s;          /* training samples / training-step time */
  double wall_seconds;           /* this call, data loading and compilation included */
} train_result;

/* Train as CFG says (loads the data set named by cfg->dataset). Returns the process exit
   code: 0 finished or early-stopped, 1 diverged, 130/143 interrupted. */
int train_run(const train_config *cfg, train_result *out);
/* Same with a data set loaded by the caller (sweeps load it once for all runs). DS must
   be what cfg's data options describe. */
int train_run_with_data(const train_config *cfg, const dataset *ds, train_result *out);

/* The data set fits the configuration: two training rows or more, a validation row, and
   a batch no larger than the training split. 0, or -1 with one line in err. */
int train_check_data(const train_config *cfg, const dataset *ds, char *err, size_t errlen);

/* data_options from the configuration (val-fraction, synth-size, data). */
void train_data_options(const train_config *cfg, data_options *opt);

/* For --resume: the configuration stored in the checkpoint with the command line's
   explicit options on top. Refuses (exit 2) to change the model, data or anything that
   would break the exact continuation (batch size, seed, optimizer); warns when the
   schedule or epoch count changes. */
void train_resolve_resume(const train_config *cli, train_config *eff);

/* Learning rate of EPOCH (0-based) under the configured schedule. */
double train_epoch_lr(const train_config *cfg, uint64_t epoch);

#endif
