/* Figures of a sweep directory: learning curves of its runs and wall time vs batch size. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/csvread.h"
#include "plot/plot_internal.h"
#include "base/util.h"

/* sweep.csv columns that are results, not varied settings. */
static bool is_result_column(const char *name) {
  static const char *const results[] = {"run_dir", "final_val_acc", "best_val_acc", "test_acc", "train_s",
                                        "samples_per_s", "status", "error", "best", NULL};
  for (const char *const *r = results; *r; r++)
    if (strcmp(name, *r) == 0) return true;
  return false;
}

/* A point that failed has nothing to draw (older sweep.csv files have no status). */
static bool row_failed(const csv_table *t, size_t r) {
  int c = csv_col(t, "status");
  return c >= 0 && strcmp(csv_cell(t, r, (size_t)c), "failed") == 0;
}

static int batch_column(const csv_table *t) {
  static const char *const names[] = {"batch_size", "batch-size", "batch"};
  for (int i = 0; i < 3; i++) {
    int c = csv_col(t, names[i]);
    if (c >= 0) return c;
  }
  return -1;
}

/* Legend label of row R from its varied columns, leaving out column SKIP (-1: none). */
static void row_label(const csv_table *t, size_t r, int skip, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t c = 0; c < t->ncols; c++) {
    if ((int)c == skip || is_result_column(t->header[c])) continue;
    char part[256];
    plot_label(part, sizeof part, t->header[c], csv_cell(t, r, c));
    int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", part);
    if (w < 0 || (size_t)w >= n - used) break;
    used += (size_t)w;
  }
}

typedef struct {
  double batch, seconds, rate;
} batch_point;

static int by_batch(const void *a, const void *b) {
  double x = ((const batch_point *)a)->batch, y = ((const batch_point *)b)->batch;
  return (x > y) - (x < y);
}

int plot_time_vs_batch(plotter *p, const char *out_dir, const char *prefix, const char *title,
                       const char *sweep_csv, char *err, size_t errlen) {
  csv_table t;
  if (csv_read(sweep_csv, &t, err, errlen) != 0) return PLOT_BAD_INPUT;
  int bc = batch_column(&t);
  double *batch = NULL, *secs = NULL, *rate = NULL;
  int rc = PLOT_BAD_INPUT;
  if (bc < 0) {
    seterr(err, errlen, "%s: no batch_size column: the sweep does not vary the batch size", sweep_csv);
    goto done;
  }
  if (t.nrows == 0) {
    seterr(err, errlen, "%s: no runs listed", sweep_csv);
    goto done;
  }
  if (csv_numbers(&t, t.header[bc], &batch, err, errlen) != 0 ||
      csv_numbers(&t, "train_s", &secs, err, errlen) != 0)
    goto done;
  bool has_rate = csv_col(&t, "samples_per_s") >= 0;
  if (has_rate && csv_numbers(&t, "samples_per_s", &rate, err, errlen) != 0) goto done;
  for (size_t r = 0; r < t.nrows; r++)
    if (!row_failed(&t, r) && !(batch[r] >= 1)) {
      seterr(err, errlen, "%s:%zu: batch size %s is not positive", sweep_csv, t.lines[r],
             csv_cell(&t, r, (size_t)bc));
      goto done;
    }

  /* Group rows by their other varied values, in order of first appearance. */
  char (*group)[256] = xcalloc(t.nrows, sizeof *group);
  size_t *group_of = xcalloc(t.nrows, sizeof *group_of), ngroups = 0;
  for (size_t r = 0; r < t.nrows; r++) {
    group_of[r] = (size_t)-1;
    if (row_failed(&t, r)) continue;
    char label[256];
    row_label(&t, r, bc, label, sizeof label);
    size_t g = 0;
    while (g < ngroups && strcmp(group[g], label) != 0) g++;
    if (g == ngroups) memcpy(group[ngroups++], label, sizeof label);
    group_of[r] = g;
  }
  figure f;
  rc = figure_begin(&f, out_dir, prefix, "time_vs_batch", err, errlen);
  if (rc == PLOT_OK) {
    fputs("group,batch_size,train_s,samples_per_s\n", f.csv);
    fputs("$points << EOD\n", f.gp);
    batch_point *pts = xmalloc(t.nrows * sizeof *pts);
    double lo = INFINITY, hi = 0;
    for (size_t g = 0; g < ngroups; g++) {
      size_t n = 0;
      for (size_t r = 0; r < t.nrows; r++)
        if (group_of[r] == g) pts[n++] = (batch_point){batch[r], secs[r], rate ? rate[r] : NAN};
      qsort(pts, n, sizeof *pts, by_batch);
      for (size_t i = 0; i < n; i++) {
        csv_put_field(f.csv, group[g]);
        fprintf(f.csv, ",%.9g,%.9g,%.9g\n", pts[i].batch, pts[i].seconds, pts[i].rate);
        fprintf(f.gp, "%.9g ", pts[i].batch);
        gp_number(f.gp, pts[i].seconds);
        fputc(' ', f.gp);
        gp_number(f.gp, pts[i].rate);
        fputc('\n', f.gp);
        if (isfinite(pts[i].seconds) && pts[i].seconds > 0) {
          lo = fmin(lo, pts[i].seconds);
          hi = fmax(hi, pts[i].seconds);
        }
      }
      if (g + 1 < ngroups) fputs("\n\n", f.gp);
    }
    fputs("EOD\n", f.gp);
    free(pts);
    char text[512];
    figure_title(text, sizeof text, "Training wall time vs batch size", title);
    gp_set_string(f.gp, "fig_title", text);
    const char **labels = xmalloc(ngroups * sizeof *labels);
    for (size_t g = 0; g < ngroups; g++) labels[g] = group[g];
    gp_string_array(f.gp, "labels", labels, ngroups);
    free(labels);
    fprintf(f.gp, "n_groups = %zu\nlog_y = %d\n", ngroups, hi > 0 && hi / lo > 10);
    rc = figure_finish(p, &f, "time_vs_batch", 1000, 600, err, errlen);
  }
  free(group);
  free(group_of);
done:
  free(batch);
  free(secs);
  free(rate);
  csv_free(&t);
  return rc;
}

/* "jsc-tiny on jsc-synth" from the first run, leaving out what the sweep varies. */
static void sweep_title(const csv_table *t, const char *run_dir, char *buf, size_t n) {
  char model[128] = "", dataset[128] = "", e[256];
  if (csv_col(t, "model") < 0) plot_run_setting(run_dir, "model", model, sizeof model, e, sizeof e);
  if (csv_col(t, "dataset") < 0)
    plot_run_setting(run_dir, "dataset", dataset, sizeof dataset, e, sizeof e);
  if (model[0] && dataset[0]) snprintf(buf, n, "%s on %s", model, dataset);
  else snprintf(buf, n, "%s", model[0] ? model : dataset);
}

int plot_sweep(plotter *p, const char *sweep_dir, const char *out_dir, const char *prefix,
               char *err, size_t errlen) {
  char path[4096];
  if (!out_dir) out_dir = sweep_dir;
  if (path_join(path, sizeof path, sweep_dir, "sweep.csv", err, errlen) != 0) return PLOT_BAD_INPUT;
  csv_table t;
  if (csv_read(path, &t, err, errlen) != 0) return PLOT_BAD_INPUT;
  static const char *const need[] = {"run_dir", NULL};
  if (csv_require(&t, need, err, errlen) != 0 || t.nrows == 0) {
    if (t.nrows == 0) seterr(err, errlen, "%s: no runs listed", path);
    csv_free(&t);
    return PLOT_BAD_INPUT;
  }
  size_t rc_col = (size_t)csv_col(&t, "run_dir");
  plot_run *runs = xcalloc(t.nrows, sizeof *runs);
  char (*dirs)[4096] = xcalloc(t.nrows, sizeof *dirs);
  char (*labels)[256] = xcalloc(t.nrows, sizeof *labels);
  int rc = PLOT_OK;
  size_t nruns = 0;
  for (size_t r = 0; r < t.nrows && rc == PLOT_OK; r++) {
    if (row_failed(&t, r)) continue;
    const char *d = csv_cell(&t, r, rc_col);
    if (d[0] == '/') snprintf(dirs[nruns], sizeof dirs[nruns], "%s", d);
    else if (path_join(dirs[nruns], sizeof dirs[nruns], sweep_dir, d, err, errlen) != 0) rc = PLOT_BAD_INPUT;
    row_label(&t, r, -1, labels[nruns], sizeof labels[nruns]);
    runs[nruns] = (plot_run){dirs[nruns], labels[nruns][0] ? labels[nruns] : NULL};
    nruns++;
  }
  if (rc == PLOT_OK && nruns == 0) {
    seterr(err, errlen, "%s: every run listed failed", path);
    rc = PLOT_BAD_INPUT;
  }
  char title[300] = "";
  if (rc == PLOT_OK) sweep_title(&t, dirs[0], title, sizeof title);
  if (rc == PLOT_OK) rc = plot_learning_curves(p, out_dir, prefix, title, runs, nruns, err, errlen);
  int bc = batch_column(&t);
  bool batch_varies = false;
  for (size_t r = 0, first = (size_t)-1; bc >= 0 && r < t.nrows; r++) {
    if (row_failed(&t, r)) continue;
    if (first == (size_t)-1) first = r;
    batch_varies |= strcmp(csv_cell(&t, r, (size_t)bc), csv_cell(&t, first, (size_t)bc)) != 0;
  }
  if (rc == PLOT_OK && batch_varies)
    rc = plot_time_vs_batch(p, out_dir, prefix, title, path, err, errlen);
  free(runs);
  free(dirs);
  free(labels);
  csv_free(&t);
  return rc;
}
