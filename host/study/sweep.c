#include "study/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "study/sweep_runs.h"
#include "train/trainer.h"
#include "base/safe_file.h"
#include "base/util.h"

/* ---- the shared data set ---- */

void sweep_data_init(sweep_data *d) { memset(d, 0, sizeof *d); }

void sweep_data_free(sweep_data *d) {
  if (d->loaded) dataset_free(&d->ds);
  d->loaded = false;
}

static void data_key(const train_config *cfg, char *key, size_t n) {
  static const train_option opts[] = {TOPT_DATASET, TOPT_DATA, TOPT_VAL_FRACTION, TOPT_SYNTH_SIZE};
  size_t used = 0;
  key[0] = '\0';
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    char v[TRAIN_PATH_MAX + 64];
    train_config_value_text(cfg, opts[i], v, sizeof v);
    int w = snprintf(key + used, n - used, "%s\n", v);
    if (w < 0 || (size_t)w >= n - used) DIE("data key too long");
    used += (size_t)w;
  }
}

const dataset *sweep_data_get(sweep_data *d, const train_config *cfg, const char *cmd) {
  char key[sizeof d->key];
  data_key(cfg, key, sizeof key);
  if (d->loaded && strcmp(key, d->key) == 0) return &d->ds;
  sweep_data_free(d);
  data_options opt;
  train_data_options(cfg, &opt);
  if (!cfg->quiet) {
    printf("%s: loading %s ...\n", cmd, cfg->dataset);
    fflush(stdout);
  }
  char err[2048];
  if (dataset_load(cfg->dataset, &opt, &d->ds, err, sizeof err)) die_usage("%s: %s", cmd, err);
  memcpy(d->key, key, sizeof key);
  d->loaded = true;
  return &d->ds;
}

/* ---- points ---- */

void sweep_point_config(const sweep_spec *s, size_t p, train_config *cfg) {
  *cfg = *s->base;
  char err[512];
  if (sweep_grid_apply(s->grid, p, cfg, err, sizeof err)) DIE("%s", err);
  const char *runs = s->runs_dir ? s->runs_dir : s->dir;
  if (train_config_set_opt(cfg, TOPT_PROJECT_DIR, runs, err, sizeof err)) die_usage("%s: %s", s->cmd, err);
}

/* ---- running ---- */

/* The --device spec of point P. */
static const char *point_device_spec(const sweep_spec *s, size_t p) {
  int a = sweep_grid_find(s->grid, TOPT_DEVICE);
  if (a < 0) return s->base->device;
  int idx[SWEEP_MAX_AXES];
  sweep_grid_indices(s->grid, p, idx);
  return s->grid->axes[a].values[idx[a]];
}

/* Every point's model and device, checked before the first run starts. */
static void check_points(const sweep_spec *s, char (*devices)[256]) {
  size_t n = sweep_grid_size(s->grid);
  char err[2048];
  for (size_t p = 0; p < n; p++) {
    train_config cfg;
    sweep_point_config(s, p, &cfg);
    model_spec m;
    if (model_load(cfg.model, &m, err, sizeof err)) die_usage("%s: %s", s->cmd, err);
    model_free(&m);
    /* Enumerating OpenCL devices is slow: resolve each distinct spec once. */
    size_t same = 0;
    while (same < p && strcmp(point_device_spec(s, same), cfg.device) != 0) same++;
    if (same < p) memcpy(devices[p], devices[same], sizeof devices[p]); /* same < p: distinct rows */
    else if (sweep_device_name(cfg.device, devices[p], sizeof devices[p], err, sizeof err))
      die_usage("%s: --device: %s", s->cmd, err);
    if (train_config_validate(&cfg, err, sizeof err)) die_usage("%s: %s", s->cmd, err);
  }
}

/* Train point P (continuing FOUND when not NULL). Returns the trainer's exit code. */
static int train_point(const sweep_spec *s, sweep_data *data, const train_config *point, const sweep_found *found,
                       sweep_result *r) {
  train_config cfg = *point, resumed;
  const train_config *run_cfg = &cfg;
  if (found) {
    /* Continue exactly where the run stopped: the checkpoint holds the configuration. */
    cfg.load[0] = '\0';
    cfg.given[TOPT_LOAD] = false;
    char ckpt[RUN_PATH_MAX];
    run_path(ckpt, sizeof ckpt, found->dir, "last.ckpt");
    char err[512];
    if (train_config_set_opt(&cfg, TOPT_RESUME, ckpt, err, sizeof err)) die_usage("%s: %s", s->cmd, err);
    train_resolve_resume(&cfg, &resumed);
    run_cfg = &resumed;
  }
  const dataset *ds = sweep_data_get(data, run_cfg, s->cmd);
  train_result res;
  int rc = train_run_with_data(run_cfg, ds, &res);
  if (res.run_dir[0]) sweep_read_result(res.run_dir, r);
  return rc;
}

int sweep_execute(const sweep_spec *s, sweep_data *data, plotter *p, sweep_result *results) {
  size_t n = sweep_grid_size(s->grid);
  sweep_result *own = NULL;
  if (!results) results = own = xcalloc(n, sizeof *results);
  memset(results, 0, n * sizeof *results);
  char (*devices)[256] = xcalloc(n, sizeof *devices);
  check_points(s, devices);
  char err[RUN_PATH_MAX + 256];
  /* Each point's batch must fit its data set: checked (the data loaded) before any run. */
  for (size_t i = 0; i < n; i++) {
    train_config cfg;
    sweep_point_config(s, i, &cfg);
    if (train_check_data(&cfg, sweep_data_get(data, &cfg, s->cmd), err, sizeof err)) die_usage("%s: %s", s->cmd, err);
  }
  const char *runs_dir = s->runs_dir ? s->runs_dir : s->dir;
  if (make_dirs(s->dir, err, sizeof err) || make_dirs(runs_dir, err, sizeof err)) die_usage("%s: %s", s->cmd, err);
  int lock = dir_lock(s->dir, err, sizeof err); /* held until this sweep returns */
  if (lock < 0) die_usage("%s: %s", s->cmd, err);
  bool quiet = s->base->quiet;
  printf("%s: %s%s%zu run%s in %s\n", s->cmd, s->label ? s->label : "", s->label ? ": " : "", n,
         n == 1 ? "" : "s", s->dir);
  int rc = EXIT_OK;
  size_t diverged = 0, reused = 0;
  for (size_t i = 0; i < n; i++) {
    train_config cfg;
    sweep_point_config(s, i, &cfg);
    char label[512];
    sweep_point_label(s->grid, i, label, sizeof label);
    sweep_found found;
    bool have = sweep_find_run(runs_dir, &cfg, devices[i], &found);
    if (have && sweep_status_done(found.status)) {
      sweep_read_result(found.dir, &results[i]);
      results[i].reused = true;
      reused++;
      printf("%s: %s%srun %zu of %zu (%s): %s already in %s, skipped\n", s->cmd, s->label ? s->label : "",
             s->label ? " " : "", i + 1, n, label, found.status, found.dir);
      fflush(stdout);
    } else {
      if (!quiet || s->announce) {
        printf("%s%s: %s%srun %zu of %zu (%s)%s%s\n", quiet ? "" : "\n", s->cmd, s->label ? s->label : "",
               s->label ? " " : "", i + 1, n, label, have ? ": continuing " : "", have ? found.dir : "");
        fflush(stdout);
      }
      int code = train_point(s, data, &cfg, have ? &found : NULL, &results[i]);
      if (code == EXIT_SIGINT || code == EXIT_SIGTERM) {
        rc = code;
      } else if (code != EXIT_OK) {
        diverged++;
      }
    }
    if (sweep_write_csv(s, results, err, sizeof err)) {
      fprintf(stderr, "cltrain: error: %s: %s\n", s->cmd, err);
      rc = EXIT_RUNTIME;
    }
    if (rc != EXIT_OK) break;
  }
  if (rc == EXIT_SIGINT || rc == EXIT_SIGTERM) {
    fprintf(stderr, "cltrain: %s: stopped; %s\n", s->cmd,
            s->stop_hint ? s->stop_hint : "run the same command again (same --out) to continue where it left off");
  } else if (rc == EXIT_OK) {
    char csv[RUN_PATH_MAX];
    run_path(csv, sizeof csv, s->dir, "sweep.csv");
    printf("%s: %zu run%s (%zu trained now, %zu done before)%s; wrote %s\n", s->cmd, n, n == 1 ? "" : "s",
           n - reused, reused, diverged ? " - some diverged, see their summary.json" : "", csv);
    if (!s->no_plot) {
      int prc = plot_sweep(p, s->dir, NULL, s->figure_prefix, err, sizeof err);
      if (prc == PLOT_BAD_INPUT) {
        /* The runs are fine; they logged too little to draw (e.g. fewer steps than
           --log-every-n-steps). */
        warnf("%s: no figures: %s", s->cmd, err);
      } else if (prc != PLOT_OK) {
        fprintf(stderr, "cltrain: error: %s: figures: %s\n", s->cmd, err);
        rc = EXIT_RUNTIME;
      }
    }
  }
  fflush(stdout);
  close(lock);
  free(devices);
  free(own);
  return rc;
}
