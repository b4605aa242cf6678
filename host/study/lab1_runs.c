/* What the lab report knows about each run (read from its run directory) and the number
   formats its tables and observations share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csvread.h"
#include "base/util.h"
#include "study/lab1_report_internal.h"

const char *lab1_number(double v, char buf[32]) {
  /* %g, with the exponent's leading zero dropped: 1e-05 -> 1e-5 */
  snprintf(buf, 32, "%g", v);
  char *e = strstr(buf, "e-0");
  if (!e) e = strstr(buf, "e+0");
  if (e) memmove(e + 2, e + 3, strlen(e + 3) + 1);
  return buf;
}

const char *lab1_pct(double fraction, char buf[32]) {
  if (isfinite(fraction)) snprintf(buf, 32, "%.1f%%", 100.0 * fraction);
  else snprintf(buf, 32, "n/a");
  return buf;
}

typedef enum { HALF_CHANGE, HALF_SPREAD, FIRST_ROW } row_stat;

/* Column COL of DIR/FILE: its change over the second half of the rows, its standard
   deviation there, or its first value. */
static double column_stat(const char *dir, const char *file, const char *col, row_stat what) {
  char path[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, dir, file);
  csv_table t;
  if (csv_read(path, &t, err, sizeof err)) return NAN;
  double *v = NULL, result = NAN;
  if (t.nrows >= 1 && csv_numbers(&t, col, &v, err, sizeof err) == 0) {
    size_t from = t.nrows / 2, n = t.nrows - from;
    if (what == FIRST_ROW) {
      result = v[0];
    } else if (what == HALF_CHANGE) {
      if (from >= 1) result = v[t.nrows - 1] - v[from - 1];
    } else if (n >= 2) {
      double mean = 0, ss = 0;
      for (size_t i = from; i < t.nrows; i++) mean += v[i];
      mean /= (double)n;
      for (size_t i = from; i < t.nrows; i++) ss += (v[i] - mean) * (v[i] - mean);
      result = sqrt(ss / (double)(n - 1));
    }
  }
  free(v);
  csv_free(&t);
  return result;
}

void lab1_run_info_get(const lab1_outcome *o, size_t i, lab1_run_info *info) {
  memset(info, 0, sizeof *info);
  info->r = &o->results[i];
  info->cfg = &o->configs[i];
  info->value = o->grid.axes[0].values[i];
  const char *dir = info->r->run_dir;
  info->steps = sweep_summary_number(dir, "steps");
  info->params = sweep_summary_number(dir, "params");
  info->best_epoch = sweep_summary_number(dir, "best_epoch"); /* 1-based in summary.json */
  info->acc_std = column_stat(dir, "metrics.csv", "train_acc", HALF_SPREAD);
  info->val_rise = column_stat(dir, "epochs.csv", "val_acc", HALF_CHANGE);
  info->first_val = column_stat(dir, "epochs.csv", "val_acc", FIRST_ROW);
}
