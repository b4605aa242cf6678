/* The results side of a sweep: legend text of a point, the results of a run read from its
   summary.json, and sweep.csv. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/csvread.h"
#include "study/sweep.h"
#include "base/safe_file.h"
#include "base/util.h"

void sweep_point_label(const sweep_grid *g, size_t p, char *buf, size_t n) {
  int idx[SWEEP_MAX_AXES];
  sweep_grid_indices(g, p, idx);
  size_t used = 0;
  buf[0] = '\0';
  for (int a = 0; a < g->n_axes; a++) {
    char part[256];
    plot_label(part, sizeof part, g->axes[a].column, g->axes[a].values[idx[a]]);
    int w = snprintf(buf + used, n - used, "%s%s", a ? ", " : "", part);
    if (w < 0 || (size_t)w >= n - used) break;
    used += (size_t)w;
  }
}

double sweep_summary_number(const char *dir, const char *key) {
  char v[64], err[512];
  double x;
  if (plot_run_setting(dir, key, v, sizeof v, err, sizeof err) || !parse_double(v, -INFINITY, INFINITY, &x))
    return NAN;
  return x;
}

void sweep_read_result(const char *dir, sweep_result *r) {
  memset(r, 0, sizeof *r);
  r->have_run = true;
  snprintf(r->run_dir, sizeof r->run_dir, "%s", dir);
  char err[512];
  if (plot_run_setting(dir, "status", r->status, sizeof r->status, err, sizeof err))
    snprintf(r->status, sizeof r->status, "unknown");
  if (strcmp(r->status, "failed") == 0 &&
      plot_run_setting(dir, "error", r->error, sizeof r->error, err, sizeof err))
    r->error[0] = '\0';
  r->final_val_acc = sweep_summary_number(dir, "final_val_acc");
  r->best_val_acc = sweep_summary_number(dir, "best_val_acc");
  r->train_s = sweep_summary_number(dir, "train_seconds");
  r->samples_per_s = sweep_summary_number(dir, "samples_per_s");
  r->test_acc = sweep_summary_number(dir, "test_acc");
  double epochs = sweep_summary_number(dir, "epochs_run");
  r->epochs_run = isfinite(epochs) && epochs > 0 ? (uint64_t)epochs : 0;
}

static void put_number(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, ",%.6g", v);
  else fputs(",nan", f);
}

int sweep_write_csv(const sweep_spec *s, const sweep_result *results, error *err) {
  char path[RUN_PATH_MAX], tmp[RUN_PATH_MAX + 8];
  run_path(path, sizeof path, s->dir, "sweep.csv");
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) return ERR_RUNTIME(err, "cannot write %s: %s", tmp, strerror(errno));
  const sweep_grid *g = s->grid;
  fputs("run_dir", f);
  for (int a = 0; a < g->n_axes; a++) fprintf(f, ",%s", g->axes[a].column);
  fputs(",final_val_acc,best_val_acc,test_acc,train_s,samples_per_s,status,error,best\n", f);
  size_t n = sweep_grid_size(g);
  /* The best run: highest best validation accuracy among the runs that did not fail. */
  size_t best = n;
  for (size_t p = 0; p < n; p++) {
    const sweep_result *r = &results[p];
    if (r->have_run && strcmp(r->status, "failed") != 0 && isfinite(r->best_val_acc) &&
        (best == n || r->best_val_acc > results[best].best_val_acc))
      best = p;
  }
  for (size_t p = 0; p < n; p++) {
    const sweep_result *r = &results[p];
    if (!r->have_run) continue;
    const char *base = strrchr(r->run_dir, '/');
    base = base ? base + 1 : r->run_dir;
    char rel[RUN_PATH_MAX];
    int w = s->runs_dir_rel && s->runs_dir_rel[0] ? snprintf(rel, sizeof rel, "%s/%s", s->runs_dir_rel, base)
                                                   : snprintf(rel, sizeof rel, "%s", base);
    if (w < 0 || (size_t)w >= sizeof rel) {
      fclose(f);
      unlink(tmp);
      return ERR_USAGE(err, "run folder name too long for %s: %s", path, base);
    }
    csv_put_field(f, rel);
    int idx[SWEEP_MAX_AXES];
    sweep_grid_indices(g, p, idx);
    for (int a = 0; a < g->n_axes; a++) {
      fputc(',', f);
      csv_put_field(f, g->axes[a].values[idx[a]]);
    }
    put_number(f, r->final_val_acc);
    put_number(f, r->best_val_acc);
    put_number(f, r->test_acc);
    put_number(f, r->train_s);
    put_number(f, r->samples_per_s);
    fputc(',', f);
    csv_put_field(f, r->status);
    fputc(',', f);
    csv_put_field(f, r->error);
    fputs(p == best ? ",1\n" : ",0\n", f);
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) return ERR_RUNTIME(err, "cannot write %s: %s", path, strerror(errno));
  return 0;
}

