/* ROC figure from roc.csv (class,threshold,signal_efficiency,background_efficiency,auc,
   as `cltrain test` writes it): one curve per class in the order of first appearance.
   The figure's own CSV (OUT_DIR/roc.csv) repeats the input cell for cell, so drawing
   into the run directory rewrites roc.csv unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/csvread.h"
#include "base/util.h"
#include "plot/plot_internal.h"

#define ROC_MAX_CLASSES 32

int plot_roc(plotter *p, const char *out_dir, const char *prefix, const char *title, const char *roc_csv, char *err,
             size_t errlen) {
  csv_table t;
  if (csv_read(roc_csv, &t, err, errlen) != 0) return PLOT_BAD_INPUT;
  static const char *const need[] = {"class", "signal_efficiency", "background_efficiency", "auc", NULL};
  double *sig = NULL, *bkg = NULL, *auc = NULL;
  int rc = PLOT_BAD_INPUT;
  if (csv_require(&t, need, err, errlen) || csv_numbers(&t, "signal_efficiency", &sig, err, errlen) ||
      csv_numbers(&t, "background_efficiency", &bkg, err, errlen) || csv_numbers(&t, "auc", &auc, err, errlen))
    goto done;
  if (t.nrows == 0) {
    seterr(err, errlen, "%s: no ROC points", roc_csv);
    goto done;
  }
  int ccol = csv_col(&t, "class");
  const char *names[ROC_MAX_CLASSES];
  double class_auc[ROC_MAX_CLASSES];
  size_t k = 0;
  for (size_t r = 0; r < t.nrows; r++) {
    const char *c = csv_cell(&t, r, (size_t)ccol);
    if (k && strcmp(names[k - 1], c) == 0) continue;
    for (size_t j = 0; j < k; j++)
      if (strcmp(names[j], c) == 0) {
        seterr(err, errlen, "%s:%zu: the rows of class '%s' are not together", roc_csv, t.lines[r], c);
        goto done;
      }
    if (k == ROC_MAX_CLASSES) {
      seterr(err, errlen, "%s: more than %d classes", roc_csv, ROC_MAX_CLASSES);
      goto done;
    }
    names[k] = c;
    class_auc[k++] = auc[r];
  }
  for (size_t r = 0; r < t.nrows; r++)
    if (!(sig[r] >= 0 && sig[r] <= 1 && bkg[r] >= 0 && bkg[r] <= 1)) {
      seterr(err, errlen, "%s:%zu: efficiencies must be in [0, 1]", roc_csv, t.lines[r]);
      goto done;
    }

  figure f;
  rc = figure_begin(&f, out_dir, prefix, "roc", err, errlen);
  if (rc != PLOT_OK) goto done;
  for (size_t c = 0; c < t.ncols; c++) {
    if (c) fputc(',', f.csv);
    csv_put_field(f.csv, t.header[c]);
  }
  fputc('\n', f.csv);
  for (size_t r = 0; r < t.nrows; r++)
    for (size_t c = 0; c < t.ncols; c++) {
      csv_put_field(f.csv, csv_cell(&t, r, c));
      fputc(c + 1 < t.ncols ? ',' : '\n', f.csv);
    }
  fputs("$curves << EOD\n", f.gp);
  double y_min = 1;
  for (size_t j = 0; j < k; j++) {
    if (j) fputs("\n\n", f.gp);
    for (size_t r = 0; r < t.nrows; r++) {
      if (strcmp(csv_cell(&t, r, (size_t)ccol), names[j]) != 0) continue;
      if (bkg[r] <= 0) continue; /* not on a log axis */
      fprintf(f.gp, "%.9g %.9g\n", sig[r], bkg[r]);
      if (bkg[r] < y_min) y_min = bkg[r];
    }
  }
  fputs("EOD\n", f.gp);
  char (*labels)[96] = xmalloc(k * sizeof *labels);
  const char **lp = xmalloc(k * sizeof *lp);
  for (size_t j = 0; j < k; j++) {
    if (isfinite(class_auc[j])) snprintf(labels[j], sizeof labels[j], "%.40s (AUC %.4f)", names[j], class_auc[j]);
    else snprintf(labels[j], sizeof labels[j], "%.40s (AUC n/a)", names[j]);
    lp[j] = labels[j];
  }
  char text[512];
  figure_title(text, sizeof text, "ROC, one class against the rest", title);
  gp_set_string(f.gp, "fig_title", text);
  gp_string_array(f.gp, "labels", lp, k);
  fprintf(f.gp, "n_classes = %zu\ny_min = ", k);
  /* A whole decade below the smallest drawn point, so the curve does not sit on the frame. */
  gp_number(f.gp, pow(10, floor(log10(y_min < 1 ? y_min : 0.1))));
  fputc('\n', f.gp);
  free(labels);
  free(lp);
  rc = figure_finish(p, &f, "roc", 800, 600, err, errlen);
done:
  free(sig);
  free(bkg);
  free(auc);
  csv_free(&t);
  return rc;
}
