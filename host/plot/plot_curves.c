/* Learning curves: training accuracy/loss per logged step (metrics.csv) and validation
   accuracy/loss per epoch (epochs.csv), one line per run. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/csvread.h"
#include "plot/plot_internal.h"
#include "base/util.h"

/* One run's values of one quantity. */
typedef struct {
  double *x, *y;
  size_t n;
} series;

/* What one curve figure shows. */
typedef struct {
  const char *name;    /* train_acc, ... */
  const char *what;    /* title text */
  const char *x_label, *y_label;
  const char *x_col, *y_col; /* CSV column names written to NAME.csv */
  bool accuracy;       /* shown in percent */
  bool smooth;         /* per-batch values: draw a moving average over them */
} curve_spec;

static const curve_spec TRAIN_ACC = {"train_acc", "Training accuracy (per batch)",
                                     "training step (optimizer updates)", "accuracy (%)",
                                     "step", "train_acc", true, true};
static const curve_spec TRAIN_LOSS = {"train_loss", "Training loss (per batch)",
                                      "training step (optimizer updates)",
                                      "cross-entropy loss (nats)", "step", "train_loss", false, true};
static const curve_spec VAL_ACC = {"val_acc", "Validation accuracy", "epoch", "accuracy (%)",
                                   "epoch", "val_acc", true, false};
static const curve_spec VAL_LOSS = {"val_loss", "Validation loss", "epoch",
                                    "cross-entropy loss (nats)", "epoch", "val_loss", false, false};

/* A run's two tables: metrics.csv always, epochs.csv when it exists. */
typedef struct {
  series train_acc, train_loss, val_acc, val_loss;
} run_data;

static void series_free(series *s) {
  free(s->x);
  free(s->y);
  memset(s, 0, sizeof *s);
}

static void run_data_free(run_data *r) {
  series_free(&r->train_acc);
  series_free(&r->train_loss);
  series_free(&r->val_acc);
  series_free(&r->val_loss);
}

/* Columns X and Y of T as two series sharing x (x copied). */
static int load_pair(const csv_table *t, const char *x, const char *y1, const char *y2,
                     series *s1, series *s2, char *err, size_t errlen) {
  double *xs = NULL;
  if (csv_numbers(t, x, &xs, err, errlen) != 0) return -1;
  if (csv_numbers(t, y1, &s1->y, err, errlen) != 0 || csv_numbers(t, y2, &s2->y, err, errlen) != 0) {
    free(xs);
    series_free(s1);
    return -1;
  }
  s1->n = s2->n = t->nrows;
  s1->x = xs;
  s2->x = xmalloc(t->nrows * sizeof *xs + 1);
  memcpy(s2->x, xs, t->nrows * sizeof *xs);
  return 0;
}

static int load_run(const char *dir, run_data *r, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  char path[4096];
  csv_table t;
  if (path_join(path, sizeof path, dir, "metrics.csv", err, errlen) != 0) return -1;
  if (access(dir, F_OK) != 0) return seterr(err, errlen, "%s: no such run directory", dir);
  if (access(path, F_OK) != 0)
    return seterr(err, errlen, "%s: not a run directory (no metrics.csv)", dir);
  if (csv_read(path, &t, err, errlen) != 0) return -1;
  int rc = load_pair(&t, "step", "train_acc", "train_loss", &r->train_acc, &r->train_loss, err, errlen);
  csv_free(&t);
  if (rc != 0) return -1;

  if (path_join(path, sizeof path, dir, "epochs.csv", err, errlen) != 0) goto fail;
  if (access(path, F_OK) != 0) return 0; /* stopped inside the first epoch */
  if (csv_read(path, &t, err, errlen) != 0) goto fail;
  rc = load_pair(&t, "epoch", "val_acc", "val_loss", &r->val_acc, &r->val_loss, err, errlen);
  csv_free(&t);
  if (rc != 0) goto fail;
  /* epochs.csv counts from 0 (as Lightning's CSV logger); people read epochs from 1, as
     the console and summary.json show them (README "Epoch numbering"). */
  for (size_t i = 0; i < r->val_acc.n; i++) {
    r->val_acc.x[i] += 1;
    r->val_loss.x[i] += 1;
  }
  return 0;
fail:
  run_data_free(r);
  return -1;
}

static bool has_finite(const series *s) {
  for (size_t i = 0; i < s->n; i++)
    if (isfinite(s->x[i]) && isfinite(s->y[i])) return true;
  return false;
}

/* Runs with fewer logged points are drawn as they are. */
#define SMOOTH_MIN_POINTS 80
/* At most this many points of a run go to gnuplot (every k-th, after averaging over all of
   them) so that figures of long runs logged every step stay small; NAME.csv has them all. */
#define DRAW_MAX_POINTS 5000

/* Exponential moving average with start-up bias correction (as TensorBoard's smoothing);
   the window is 1/40 of the run, so runs of any length look equally smooth. */
static void moving_average(const series *s, double *out) {
  double window = s->n >= SMOOTH_MIN_POINTS ? (double)s->n / 40.0 : 1;
  double alpha = window > 1 ? 2.0 / (window + 1.0) : 1.0;
  double num = 0, den = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!isfinite(s->y[i])) {
      out[i] = NAN;
      continue;
    }
    num = (1 - alpha) * num + alpha * s->y[i];
    den = (1 - alpha) * den + alpha;
    out[i] = num / den;
  }
}

/* One figure: SERIES[i] of run i (runs without finite points are left out). Returns PLOT_*;
   a figure with no data at all is skipped and counts as success. */
static int curve_figure(plotter *p, const char *out_dir, const char *prefix, const char *title,
                        const curve_spec *spec, const char *const *labels, series *const *s,
                        size_t n, char *err, size_t errlen) {
  size_t used = 0;
  double ymax = -INFINITY, ymin = INFINITY, xmax = -INFINITY, xmin = INFINITY;
  bool smooth = false;
  for (size_t i = 0; i < n; i++) {
    if (!has_finite(s[i])) continue;
    used++;
    smooth |= spec->smooth && s[i]->n >= SMOOTH_MIN_POINTS;
    for (size_t k = 0; k < s[i]->n; k++)
      if (isfinite(s[i]->y[k]) && isfinite(s[i]->x[k])) {
        ymax = fmax(ymax, s[i]->y[k]);
        ymin = fmin(ymin, s[i]->y[k]);
        xmax = fmax(xmax, s[i]->x[k]);
        xmin = fmin(xmin, s[i]->x[k]);
      }
  }
  if (used == 0) return PLOT_OK;
  /* Fractions are shown in percent. Accuracies logged in percent are never all below 1.5 %
     (chance on 5 classes is 20 %), so the largest value tells the two apart. */
  double scale = spec->accuracy && ymax <= 1.5 ? 100.0 : 1.0;
  bool log_y = !spec->accuracy && ymin > 0 && ymax / ymin > 30;

  figure f;
  int rc = figure_begin(&f, out_dir, prefix, spec->name, err, errlen);
  if (rc != PLOT_OK) return rc;
  const char **used_labels = xmalloc(used * sizeof *used_labels);
  fprintf(f.csv, "label,%s,%s%s", spec->x_col, spec->y_col, scale != 1 ? "_pct" : "");
  if (spec->smooth) fprintf(f.csv, ",%s%s_smoothed", spec->y_col, scale != 1 ? "_pct" : "");
  fputc('\n', f.csv);
  fputs("$curves << EOD\n", f.gp);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!has_finite(s[i])) continue;
    used_labels[k++] = labels[i];
    double *avg = xmalloc(s[i]->n * sizeof *avg + 1);
    if (spec->smooth) moving_average(s[i], avg);
    size_t stride = (s[i]->n + DRAW_MAX_POINTS - 1) / DRAW_MAX_POINTS;
    for (size_t j = 0; j < s[i]->n; j++) {
      double x = s[i]->x[j], y = s[i]->y[j] * scale;
      csv_put_field(f.csv, labels[i]);
      fprintf(f.csv, ",%.9g,%.9g", x, y);
      if (spec->smooth) fprintf(f.csv, ",%.9g", avg[j] * scale);
      fputc('\n', f.csv);
      if (j % stride != 0 && j + 1 != s[i]->n) continue;
      gp_number(f.gp, x);
      fputc(' ', f.gp);
      gp_number(f.gp, y);
      if (spec->smooth) {
        fputc(' ', f.gp);
        gp_number(f.gp, avg[j] * scale);
      }
      fputc('\n', f.gp);
    }
    free(avg);
    if (k < used) fputs("\n\n", f.gp); /* two blank lines: next `index` */
  }
  fputs("EOD\n", f.gp);
  char text[512];
  figure_title(text, sizeof text, spec->what, title);
  gp_set_string(f.gp, "fig_title", text);
  gp_set_string(f.gp, "x_label", spec->x_label);
  gp_set_string(f.gp, "y_label", spec->y_label);
  fprintf(f.gp, "n_runs = %zu\nsmoothed = %d\nlog_y = %d\nx_max = %.9g\nper_epoch = %d\n", used,
          smooth, log_y, xmax, !spec->smooth);
  fprintf(f.gp, "percent = %d\nx_min = %.9g\ny_min = %.9g\ny_max = %.9g\n", spec->accuracy, xmin,
          ymin * scale, ymax * scale);
  gp_string_array(f.gp, "labels", used_labels, used);
  free(used_labels);
  return figure_finish(p, &f, "learning_curve", 1100, 620, err, errlen);
}

static const char *base_name(const char *dir, char *buf, size_t n) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  size_t start = len;
  while (start > 0 && dir[start - 1] != '/') start--;
  snprintf(buf, n, "%.*s", (int)(len - start), dir + start);
  return buf;
}

int plot_learning_curves(plotter *p, const char *out_dir, const char *prefix, const char *title,
                         const plot_run *runs, size_t n, char *err, size_t errlen) {
  if (n == 0) {
    seterr(err, errlen, "no runs to plot");
    return PLOT_BAD_INPUT;
  }
  run_data *data = xcalloc(n, sizeof *data);
  char (*names)[256] = xcalloc(n, sizeof *names);
  const char **labels = xcalloc(n, sizeof *labels);
  series **s = xcalloc(n, sizeof *s);
  int rc = PLOT_OK;
  size_t loaded = 0;
  for (; loaded < n; loaded++) {
    if (load_run(runs[loaded].dir, &data[loaded], err, errlen) != 0) {
      rc = PLOT_BAD_INPUT;
      break;
    }
    labels[loaded] = runs[loaded].label && *runs[loaded].label
                         ? runs[loaded].label
                         : base_name(runs[loaded].dir, names[loaded], sizeof names[0]);
  }
  bool any_train = false;
  for (size_t i = 0; rc == PLOT_OK && i < n; i++) any_train |= has_finite(&data[i].train_acc);
  if (rc == PLOT_OK && !any_train) {
    if (n == 1) seterr(err, errlen, "%s/metrics.csv has no data rows", runs[0].dir);
    else seterr(err, errlen, "none of the %zu runs has data rows in metrics.csv", n);
    rc = PLOT_BAD_INPUT;
  }
  const curve_spec *specs[4] = {&TRAIN_ACC, &TRAIN_LOSS, &VAL_ACC, &VAL_LOSS};
  for (int f = 0; rc == PLOT_OK && f < 4; f++) {
    for (size_t i = 0; i < n; i++)
      s[i] = f == 0 ? &data[i].train_acc : f == 1 ? &data[i].train_loss
           : f == 2 ? &data[i].val_acc : &data[i].val_loss;
    rc = curve_figure(p, out_dir, prefix, title, specs[f], labels, s, n, err, errlen);
  }
  for (size_t i = 0; i < loaded; i++) run_data_free(&data[i]);
  free(data);
  free(names);
  free(labels);
  free(s);
  return rc;
}
