/* Running a sweep: one training run per grid point, in grid order, each a normal run
   directory; sweep.csv with one row per run; the sweep's figures. `cltrain sweep` and
   `cltrain lab1` (one sweep per experiment) both run through here.

   Resumable: a point whose run already exists (see sweep_runs.h) is not trained again
   when that run is done, and is continued from its last.ckpt when it is not. The data set
   is loaded once and shared by every run whose data options are the same.

   A point that fails (its run cannot start, or an OpenCL or I/O failure ends it) is
   recorded: its run directory's summary.json says "status": "failed" with the one-line
   "error", and so does its sweep.csv row; the other points still run unless fail_fast.

   Over MPI ranks (spec.dist with size > 1) every rank runs this with the same spec: the
   points are handed out one at a time by rank 0 (dist_queue), so long and short runs
   balance; each run directory is written by the rank that trains it; rank 0 alone writes
   sweep.csv (once, at the end, from every rank's results) and the figures. A point's
   existing run is then found whatever device trained it, since the rank that continues
   it may have another.

   sweep.csv (read by plot_sweep and the lab report):
     run_dir,<one column per varied option: batch_size, learning_rate, ...>,
     final_val_acc,best_val_acc,test_acc,train_s,samples_per_s,status,error,best
   run_dir is relative to the sweep directory; the varied values are written as the user
   gave them; results come from each run's summary.json (nan when unknown); error is empty
   unless the point failed. It is rewritten after every run, so an interrupted sweep
   still lists what it did. */
#ifndef CLTRAIN_SWEEP_H
#define CLTRAIN_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "data/data.h"
#include "dist/dist.h"
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
/* The data set CFG describes (CMD names the command in the "loading" line). NULL with
   ERR on bad input (missing file, ...). */
const dataset *sweep_data_get(sweep_data *d, const train_config *cfg, const char *cmd, error *err);
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
  bool fail_fast;             /* stop at the first failed point */
  const char *stop_hint;      /* after an interruption: how to continue (NULL: generic) */
  const dist_info *dist;      /* MPI ranks sharing the sweep (NULL: this process alone) */
} sweep_spec;

/* What became of one point. */
typedef struct {
  bool have_run;              /* a run directory exists (false only after an interruption) */
  bool reused;                /* it was done before this call and was not trained again */
  char run_dir[RUN_PATH_MAX];
  char status[32];            /* summary.json status; "failed" when the point failed */
  char error[512];            /* the point's error when it failed */
  double final_val_acc, best_val_acc, train_s, samples_per_s, test_acc; /* NaN: unknown */
  uint64_t epochs_run;
} sweep_result;

/* Run every point of S (results: one per point, may be NULL), rewrite sweep.csv after
   each run, and draw the figures of the points that did not fail (unless no_plot).
   Returns 0 when every point is done (diverged runs included), 130/143 when interrupted
   (the run's last.ckpt is saved; re-running continues it), 1 when a point failed or a
   figure or sweep.csv could not be written (ERR then holds the first such failure), or
   -1 with ERR on bad input found before any run (a model, device, option or data set
   of a point; nothing is written). */
int sweep_execute(const sweep_spec *s, sweep_data *data, plotter *p, sweep_result *results, error *err);

/* Point P's configuration: BASE with the point's values and project_dir = RUNS_DIR.
   0 or -1 with ERR. */
int sweep_point_config(const sweep_spec *s, size_t p, train_config *cfg, error *err);

/* Legend-style text of point P ("batch 256, lr 1e-3"). */
void sweep_point_label(const sweep_grid *g, size_t p, char *buf, size_t n);

/* Number KEY of the run in DIR (summary.json, else config.txt); NaN when unknown. */
double sweep_summary_number(const char *dir, const char *key);

/* Read the results of the run in DIR from its summary.json into R (run_dir and
   have_run set too). */
void sweep_read_result(const char *dir, sweep_result *r);

/* Write DIR/sweep.csv for the points with a run (atomically). 0 or -1 with ERR. */
int sweep_write_csv(const sweep_spec *s, const sweep_result *results, error *err);

#endif
