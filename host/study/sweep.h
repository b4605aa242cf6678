/* Running a sweep: one training run per grid point, in grid order, each a normal run
   directory; sweep.csv with one row per run; the sweep's figures. `cltrain sweep` and
   `cltrain lab1` (one sweep per experiment) both run through here.

   Resumable: a point whose run already exists (see sweep_runs.h) is not trained again
   when that run is done, and is continued from its last.ckpt when it is not. The data set
   is loaded once and shared by every run whose data options are the same.

   sweep.csv (read by plot_sweep and the lab report):
     run_dir,<one column per varied option: batch_size, learning_rate, ...>,
     final_val_acc,best_val_acc,train_s,samples_per_s
   run_dir is relative to the sweep directory; the varied values are written as the user
   gave them; results come from each run's summary.json (nan when unknown). It is
   rewritten after every run, so an interrupted sweep still lists what it did. */
#ifndef CLTRAIN_SWEEP_H
#define CLTRAIN_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "data/data.h"
#include "plot/plot.h"
#include "train/run_log.h"
#include "study/sweep_grid.h"
#include "train/train_config.h"

/* The data set of the runs: loaded on first use, kept while the next run's data options
   (dataset, data, val-fraction, synth-size) are the same, replaced when they change. */
typedef struct {
  bool loaded;
  char key[4 * (TRAIN_PATH_MAX + 64)];
  dataset ds;
} sweep_data;

void sweep_data_init(sweep_data *d);
/* The data set CFG describes. Bad input (missing file, ...) exits 2 naming CMD. */
const dataset *sweep_data_get(sweep_data *d, const train_config *cfg, const char *cmd);
void sweep_data_free(sweep_data *d);

typedef struct {
  const char *cmd;            /* "sweep" or "lab1", for messages */
  const train_config *base;   /* every option not varied; project_dir is ignored */
  const sweep_grid *grid;
  const char *dir;            /* sweep directory: sweep.csv and the figures */
  const char *runs_dir;       /* where runs are made and looked for (NULL: dir) */
  const char *runs_dir_rel;   /* runs_dir as seen from dir, for sweep.csv (NULL: "") */
  const char *figure_prefix;  /* figure names PREFIX_train_acc, ... (NULL: none) */
  const char *label;          /* shown in the per-run headers, e.g. "batch-size sweep" */
  bool no_plot;
  bool announce;              /* one line per run even when base->quiet */
  const char *stop_hint;      /* after an interruption: how to continue (NULL: generic) */
} sweep_spec;

/* What became of one point. */
typedef struct {
  bool have_run;              /* a run directory exists (false only after an interruption) */
  bool reused;                /* it was done before this call and was not trained again */
  char run_dir[RUN_PATH_MAX];
  char status[32];            /* summary.json status */
  double final_val_acc, best_val_acc, train_s, samples_per_s, test_acc; /* NaN: unknown */
  uint64_t epochs_run;
} sweep_result;

/* Run every point of S (results: one per point, may be NULL), rewrite sweep.csv after
   each run, and draw the figures when all points are done (unless no_plot). Returns 0
   when every point is done (diverged runs included), 130/143 when interrupted (the run's
   last.ckpt is saved; re-running continues it), 1 when a figure or sweep.csv could not be
   written. Bad input exits 2. */
int sweep_execute(const sweep_spec *s, sweep_data *data, plotter *p, sweep_result *results);

/* Point P's configuration: BASE with the point's values and project_dir = RUNS_DIR. */
void sweep_point_config(const sweep_spec *s, size_t p, train_config *cfg);

/* Legend-style text of point P ("batch 256, lr 1e-3"). */
void sweep_point_label(const sweep_grid *g, size_t p, char *buf, size_t n);

/* Read the results of the run in DIR from its summary.json into R (run_dir and
   have_run set too). */
void sweep_read_result(const char *dir, sweep_result *r);

/* Write DIR/sweep.csv for the points with a run (atomically). 0 or -1 with err. */
int sweep_write_csv(const sweep_spec *s, const sweep_result *results, char *err, size_t errlen);

#endif
