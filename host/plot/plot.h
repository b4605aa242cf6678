/* Figures of runs, sweeps and device comparisons, drawn by gnuplot.

   Every figure NAME writes OUT_DIR/NAME.csv (exactly the data it shows) and, when gnuplot
   is on PATH, OUT_DIR/NAME.png (pngcairo) and OUT_DIR/NAME.svg. Without gnuplot the first
   figure prints one warning line and every figure still writes its CSV and succeeds.
   OUT_DIR is created when missing. The gnuplot scripts are plots/NAME.gp, embedded in the
   binary; cltrain sends gnuplot a preamble of variables and inline data blocks followed by
   the script, so paths and labels with spaces or quotes need no care from callers.

   Use: one plotter per command (it carries the "gnuplot missing" warning state), then any
   number of plot_* calls. Each returns a PLOT_* status that is also an exit code. */
#ifndef CLTRAIN_PLOT_H
#define CLTRAIN_PLOT_H

#include <stdbool.h>
#include <stddef.h>

enum {
  PLOT_OK = 0,
  PLOT_FAILED = 1,    /* gnuplot failed or a file could not be written (EXIT_RUNTIME) */
  PLOT_BAD_INPUT = 2, /* missing or malformed input file (EXIT_USAGE) */
};

typedef struct {
  char gnuplot[4096]; /* gnuplot found on PATH, "" when there is none */
  bool warned;        /* the "gnuplot not found" line was printed */
  bool quiet;         /* when false, each figure prints one "figure NAME: FILES" line */
  int drawn;          /* figures written as PNG + SVG */
  int data_only;      /* figures written as CSV only (no gnuplot) */
} plotter;

/* Look for gnuplot on PATH. Prints nothing. */
void plotter_init(plotter *p);
bool plotter_has_gnuplot(const plotter *p);

/* One training run to draw: DIR holds metrics.csv (required) and epochs.csv (optional: a
   run stopped inside its first epoch has none). LABEL is its legend entry; NULL means the
   directory's base name. */
typedef struct {
  const char *dir;
  const char *label;
} plot_run;

/* Learning curves, one line per run, four figures named PREFIX_NAME (PREFIX NULL or "":
   just NAME):
     train_acc, train_loss  per-batch values of metrics.csv vs optimizer step; a bold
                            moving average over the faint raw values when runs are long;
     val_acc, val_loss      epochs.csv vs epoch (skipped when no run has a finished epoch).
   Accuracy is shown in percent (fractions are scaled). TITLE (may be NULL) is
   appended to each figure's title, e.g. "jsc-tiny, batch-size sweep". */
int plot_learning_curves(plotter *p, const char *out_dir, const char *prefix, const char *title,
                         const plot_run *runs, size_t n, char *err, size_t errlen);

/* Figure PREFIX_time_vs_batch from a sweep.csv: wall time (train_s) against batch size on
   a log2 axis, log wall-time axis; samples/s on the right axis when the sweep varies only
   the batch size, else one line per combination of the other varied values. The batch
   column is batch_size, batch-size or batch. Bad input when none exists. */
int plot_time_vs_batch(plotter *p, const char *out_dir, const char *prefix, const char *title,
                       const char *sweep_csv, char *err, size_t errlen);

/* Figure PREFIX_device_compare from compare.csv (device,epoch_s,samples_per_s,
   final_val_acc,max_abs_diff_val_acc): horizontal bars of samples/s and of epoch time per
   device, each device labelled with its final validation accuracy. */
int plot_device_bars(plotter *p, const char *out_dir, const char *prefix, const char *title,
                     const char *compare_csv, char *err, size_t errlen);

/* Figure PREFIX_confusion_matrix from confusion.csv (class,<one column per predicted
   class>; one row per true class, counts): heat map of row percentages (recall), each
   cell annotated with its count and percent, overall accuracy in the title. */
int plot_confusion(plotter *p, const char *out_dir, const char *prefix, const char *title,
                   const char *confusion_csv, char *err, size_t errlen);

/* Figure PREFIX_roc from roc.csv (class,threshold,signal_efficiency,
   background_efficiency,auc; one block of rows per class, as `cltrain test` writes it):
   signal efficiency on x, background efficiency on a log y axis, one curve per class
   with its AUC in the legend. */
int plot_roc(plotter *p, const char *out_dir, const char *prefix, const char *title, const char *roc_csv,
             char *err, size_t errlen);

/* Everything a sweep directory can show: its sweep.csv names the runs (run_dir relative to
   SWEEP_DIR or absolute) and the varied columns (every column other than run_dir,
   final_val_acc, best_val_acc, train_s, samples_per_s), which make the legend labels
   ("batch 256, lr 1e-3"). Draws the learning curves and, when the batch size varies,
   time_vs_batch. OUT_DIR NULL means SWEEP_DIR. */
int plot_sweep(plotter *p, const char *sweep_dir, const char *out_dir, const char *prefix,
               char *err, size_t errlen);

/* Legend text for setting KEY = VALUE, the same in every figure: "batch 256", "lr 1e-3",
   "epochs 20", "wd 5e-4"; model, dataset, optimizer and device show the value alone;
   any other key gives "KEY VALUE". Keys match with '-' or '_' and in any case. */
void plot_label(char *buf, size_t n, const char *key, const char *value);

/* Value of setting KEY of the run in DIR, from summary.json, else config.txt (first
   column the setting name, last column its effective value). Returns 0 or -1 with err. */
int plot_run_setting(const char *dir, const char *key, char *value, size_t n, char *err,
                     size_t errlen);

#endif
