/* Device comparison bars from compare.csv. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/csvread.h"
#include "plot/plot_internal.h"
#include "base/util.h"

/* How one panel's axis shows VALUES: divided by *div (k or M units for large numbers), on a
   log axis from *base to *top (room for the value labels) when they span more than a
   factor 20. */
static void axis_scale(const double *v, size_t n, bool allow_div, double *div, int *log_axis,
                       double *base, double *top) {
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i]) && v[i] > 0) {
      lo = fmin(lo, v[i]);
      hi = fmax(hi, v[i]);
    }
  *div = !allow_div || hi < 1e4 ? 1 : hi < 1e7 ? 1e3 : 1e6;
  *log_axis = hi > 0 && hi / lo > 20;
  *base = *log_axis ? pow(10, floor(log10(lo / *div))) : 0;
  *top = *log_axis ? pow(10, ceil(log10(4 * hi / *div))) : 0;
}

int plot_device_bars(plotter *p, const char *out_dir, const char *prefix, const char *title,
                     const char *compare_csv, char *err, size_t errlen) {
  csv_table t;
  if (csv_read(compare_csv, &t, err, errlen) != 0) return PLOT_BAD_INPUT;
  static const char *const need[] = {"device", "epoch_s", "samples_per_s", NULL};
  double *secs = NULL, *rate = NULL, *acc = NULL, *diff = NULL;
  int rc = PLOT_BAD_INPUT;
  if (csv_require(&t, need, err, errlen) != 0) goto done;
  if (t.nrows == 0) {
    seterr(err, errlen, "%s: no devices listed", compare_csv);
    goto done;
  }
  if (csv_numbers(&t, "epoch_s", &secs, err, errlen) != 0 ||
      csv_numbers(&t, "samples_per_s", &rate, err, errlen) != 0)
    goto done;
  bool has_acc = csv_col(&t, "final_val_acc") >= 0, has_diff = csv_col(&t, "max_abs_diff_val_acc") >= 0;
  if (has_acc && csv_numbers(&t, "final_val_acc", &acc, err, errlen) != 0) goto done;
  if (has_diff && csv_numbers(&t, "max_abs_diff_val_acc", &diff, err, errlen) != 0) goto done;
  /* Accuracy as a fraction or already in percent: show percent. */
  double acc_scale = 100, max_diff = 0;
  for (size_t r = 0; acc && r < t.nrows; r++)
    if (acc[r] > 1.5) acc_scale = 1;
  for (size_t r = 0; diff && r < t.nrows; r++)
    if (isfinite(diff[r])) max_diff = fmax(max_diff, diff[r]);

  figure f;
  rc = figure_begin(&f, out_dir, prefix, "device_compare", err, errlen);
  if (rc != PLOT_OK) goto done;
  size_t dc = (size_t)csv_col(&t, "device");
  double rate_div, rate_base, rate_top, time_div, time_base, time_top;
  int rate_log, time_log;
  axis_scale(rate, t.nrows, true, &rate_div, &rate_log, &rate_base, &rate_top);
  axis_scale(secs, t.nrows, false, &time_div, &time_log, &time_base, &time_top);
  size_t name_chars = 0;
  fputs("device,samples_per_s,epoch_s,final_val_acc_pct\n", f.csv);
  fputs("$bars << EOD\n", f.gp);
  const char **names = xmalloc(t.nrows * sizeof *names);
  char (*notes)[64] = xcalloc(t.nrows, sizeof *notes);
  const char **note_ptrs = xmalloc(t.nrows * sizeof *note_ptrs);
  for (size_t r = 0; r < t.nrows; r++) {
    names[r] = csv_cell(&t, r, dc);
    size_t len = strlen(names[r]);
    name_chars = len > name_chars ? len : name_chars;
    double a = acc ? acc[r] * acc_scale : NAN;
    if (isfinite(a)) snprintf(notes[r], sizeof notes[r], "final val acc %.2f%%", a);
    note_ptrs[r] = notes[r];
    csv_put_field(f.csv, names[r]);
    fprintf(f.csv, ",%.9g,%.9g,%.9g\n", rate[r], secs[r], a);
    fprintf(f.gp, "%zu ", r + 1);
    gp_number(f.gp, rate[r] / rate_div);
    fputc(' ', f.gp);
    gp_number(f.gp, rate[r]);
    fputc(' ', f.gp);
    gp_number(f.gp, secs[r]);
    fputc('\n', f.gp);
  }
  fputs("EOD\n", f.gp);
  char text[512], foot[160] = "";
  figure_title(text, sizeof text, "Device comparison", title);
  gp_set_string(f.gp, "fig_title", text);
  if (diff)
    snprintf(foot, sizeof foot, "largest difference in validation accuracy between devices: %.3g%s",
             max_diff * acc_scale, acc_scale == 100 ? " percentage points" : "");
  gp_set_string(f.gp, "footnote", foot);
  gp_string_array(f.gp, "devices", names, t.nrows);
  gp_string_array(f.gp, "notes", note_ptrs, t.nrows);
  gp_set_string(f.gp, "rate_unit", rate_div == 1 ? "samples/s" : rate_div == 1e3 ? "thousand samples/s"
                                                                  : "million samples/s");
  fprintf(f.gp, "n_devices = %zu\nname_chars = %zu\n", t.nrows, name_chars);
  fprintf(f.gp, "rate_log = %d\nrate_base = %.9g\nrate_top = %.9g\n", rate_log, rate_base, rate_top);
  fprintf(f.gp, "time_log = %d\ntime_base = %.9g\ntime_top = %.9g\n", time_log, time_base, time_top);
  free(names);
  free(notes);
  free(note_ptrs);
  int height = 260 + 2 * 70 * (int)(t.nrows < 12 ? t.nrows : 12);
  rc = figure_finish(p, &f, "device_bars", 1100, height, err, errlen);
done:
  free(secs);
  free(rate);
  free(acc);
  free(diff);
  csv_free(&t);
  return rc;
}
