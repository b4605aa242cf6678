/* Confusion-matrix heat map from confusion.csv (rows: true class, columns: predicted). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/csvread.h"
#include "plot/plot_internal.h"
#include "base/util.h"

int plot_confusion(plotter *p, const char *out_dir, const char *prefix, const char *title,
                   const char *confusion_csv, char *err, size_t errlen) {
  csv_table t;
  if (csv_read(confusion_csv, &t, err, errlen) != 0) return PLOT_BAD_INPUT;
  int rc = PLOT_BAD_INPUT;
  size_t k = t.ncols - 1;
  double *counts = NULL;
  if (csv_col(&t, "class") != 0) {
    seterr(err, errlen, "%s: the first column must be 'class' (the true class)", confusion_csv);
    goto done;
  }
  if (k == 0 || t.nrows != k) {
    seterr(err, errlen, "%s: %zu rows for %zu predicted classes: the matrix must be square",
           confusion_csv, t.nrows, k);
    goto done;
  }
  counts = xmalloc(k * k * sizeof *counts);
  for (size_t c = 0; c < k; c++) {
    double *col;
    if (csv_numbers(&t, t.header[c + 1], &col, err, errlen) != 0) goto done;
    for (size_t r = 0; r < k; r++) {
      if (!(col[r] >= 0) || !isfinite(col[r])) {
        seterr(err, errlen, "%s:%zu: count '%s' is not a non-negative number", confusion_csv,
               t.lines[r], csv_cell(&t, r, c + 1));
        free(col);
        goto done;
      }
      counts[r * k + c] = col[r];
    }
    free(col);
  }
  double total = 0, correct = 0;
  for (size_t r = 0; r < k; r++)
    for (size_t c = 0; c < k; c++) {
      total += counts[r * k + c];
      if (r == c) correct += counts[r * k + c];
    }

  figure f;
  rc = figure_begin(&f, out_dir, prefix, "confusion_matrix", err, errlen);
  if (rc != PLOT_OK) goto done;
  fputs("true_class,predicted_class,count,percent_of_true_class\n", f.csv);
  fputs("$cells << EOD\n", f.gp);
  const char **rows = xmalloc(k * sizeof *rows), **cols = xmalloc(k * sizeof *cols);
  for (size_t r = 0; r < k; r++) {
    double sum = 0;
    for (size_t c = 0; c < k; c++) sum += counts[r * k + c];
    rows[r] = csv_cell(&t, r, 0);
    cols[r] = t.header[r + 1];
    for (size_t c = 0; c < k; c++) {
      double pct = sum > 0 ? 100.0 * counts[r * k + c] / sum : 0;
      csv_put_field(f.csv, rows[r]);
      fputc(',', f.csv);
      csv_put_field(f.csv, t.header[c + 1]);
      fprintf(f.csv, ",%.0f,%.4f\n", counts[r * k + c], pct);
      fprintf(f.gp, "%zu %zu %.0f %.6g\n", c, r, counts[r * k + c], pct);
    }
  }
  fputs("EOD\n", f.gp);
  char what[128], text[512];
  snprintf(what, sizeof what, "Confusion matrix: %.2f%% of %.0f correct",
           total > 0 ? 100 * correct / total : 0.0, total);
  figure_title(text, sizeof text, what, title);
  gp_set_string(f.gp, "fig_title", text);
  gp_tic_array(f.gp, "true_names", rows, k);
  gp_tic_array(f.gp, "pred_names", cols, k);
  fprintf(f.gp, "n_classes = %zu\n", k);
  free(rows);
  free(cols);
  int side = 360 + 80 * (int)(k < 12 ? k : 12);
  rc = figure_finish(p, &f, "confusion", side + 120, side, err, errlen);
done:
  free(counts);
  csv_free(&t);
  return rc;
}
