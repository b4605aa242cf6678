/* The run directory (README.md "cltrain train", docs/FORMATS.md): <project-dir>/<model>_<dataset>_<YYYYmmdd-HHMMSS>[-N]/
   with metrics.csv (one row every --log-every-n-steps steps) and epochs.csv (one row per
   finished epoch). Epochs are counted from 0 in both files, as PyTorch Lightning's CSV
   logger does; `step` is the number of optimizer steps done when the row was written.
   Rows are flushed as they are written, so an interrupted run keeps every logged row. */
#ifndef CLTRAIN_RUN_LOG_H
#define CLTRAIN_RUN_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "base/util.h" /* make_dirs */

#define RUN_PATH_MAX 4096

#define METRICS_HEADER "step,epoch,train_loss,train_acc,lr,elapsed_s"
#define EPOCHS_HEADER "epoch,step,train_loss,train_acc,val_loss,val_acc,lr,epoch_s,samples_per_s"

typedef struct {
  char dir[RUN_PATH_MAX];
  FILE *metrics;
  FILE *epochs;
  int lock_fd;   /* the run directory, flock()ed while this process writes it; -1 none */
} run_log;

typedef struct {
  uint64_t epoch, step;
  double train_loss, train_acc, val_loss, val_acc, lr, epoch_s, samples_per_s;
} epoch_row;

/* Make a new run directory PROJECT_DIR/MODEL_DATASET_<time> (MODEL_<time> when DATASET is
   NULL: a --name) with the project directory, and write both CSV headers. */
int run_log_create(run_log *r, const char *project_dir, const char *model, const char *dataset, char *err,
                   size_t errlen);
/* Reopen DIR to continue a run whose checkpoint holds STEP steps and EPOCHS finished epochs:
   rows written after that checkpoint (a crash between a log row and the next checkpoint)
   are dropped, so the resumed run neither duplicates nor loses rows. Refused while
   another process has the run open (both lock the directory until run_log_close). */
int run_log_resume(run_log *r, const char *dir, uint64_t step, uint64_t epochs, char *err, size_t errlen);
/* Append a row and flush it: 0, or -1 with ERR (a full disk). */
int run_log_step(run_log *r, uint64_t step, uint64_t epoch, double loss, double acc, double lr, double elapsed_s,
                 error *err);
int run_log_epoch(run_log *r, const epoch_row *row, error *err);
void run_log_close(run_log *r);

/* "DIR/NAME" into buf: 0, or -1 when it does not fit, with BUF empty (so that opening it
   fails and the message names the problem). Run, sweep and lab directories are made
   with room for their file names, so most callers need not check. */
int run_path(char *buf, size_t len, const char *dir, const char *name);
/* The directory part of PATH ("." when none) into buf. */
void path_dirname(char *buf, size_t len, const char *path);
/* Whether run directories can be made under PATH without making anything yet: every
   existing part of PATH is a directory and the deepest existing one is writable.
   0 or -1 with err ("PATH is not a directory", "cannot write in DIR: ..."). */
int project_dir_check(const char *path, char *err, size_t errlen);
/* Local time as YYYYmmdd-HHMMSS. */
void time_stamp(char *buf, size_t len);
/* "PARENT/STEM_<YYYYmmdd-HHMMSS>[-N]": the first such name that does not exist yet (for
   sweep and compare directories, created later). -1 when it does not fit. */
int free_stamped_name(char *dir, size_t len, const char *parent, const char *stem);

#endif
