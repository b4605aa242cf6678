#include "study/sweep.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/interrupt.h"
#include "base/util.h"
#include "model/model.h"
#include "study/sweep_runs.h"
#include "train/trainer.h"
#include "base/safe_file.h"

/* ---- the shared data set ---- */

void sweep_data_init(sweep_data *d) { memset(d, 0, sizeof *d); }

void sweep_data_free(sweep_data *d) {
  if (d->loaded) dataset_free(&d->ds);
  d->loaded = false;
}

/* The options that decide the data set, one per line (each value is at most
   TRAIN_PATH_MAX + 64 characters, so the key always fits). */
static void data_key(const train_config *cfg, char *key, size_t n) {
  static const train_option opts[] = {TOPT_DATASET, TOPT_DATA, TOPT_VAL_FRACTION, TOPT_SYNTH_SIZE};
  size_t used = 0;
  key[0] = '\0';
  for (size_t i = 0; i < sizeof opts / sizeof opts[0] && used < n; i++) {
    char v[TRAIN_PATH_MAX + 64];
    train_config_value_text(cfg, opts[i], v, sizeof v);
    int w = snprintf(key + used, n - used, "%s\n", v);
    used += w > 0 ? (size_t)w : 0;
  }
}

const dataset *sweep_data_get(sweep_data *d, const train_config *cfg, const char *cmd, error *err) {
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
  char msg[2048];
  if (dataset_load(cfg->dataset, &opt, &d->ds, msg, sizeof msg)) {
    ERR_USAGE(err, "%s", msg);
    return NULL;
  }
  memcpy(d->key, key, sizeof key);
  d->loaded = true;
  return &d->ds;
}

/* ---- points ---- */

int sweep_point_config(const sweep_spec *s, size_t p, train_config *cfg, error *err) {
  *cfg = *s->base;
  char msg[512];
  if (sweep_grid_apply(s->grid, p, cfg, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  const char *runs = s->runs_dir ? s->runs_dir : s->dir;
  if (train_config_set_opt(cfg, TOPT_PROJECT_DIR, runs, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  return 0;
}

/* The --device spec of point P. */
static const char *point_device_spec(const sweep_spec *s, size_t p) {
  int a = sweep_grid_find(s->grid, TOPT_DEVICE);
  if (a < 0) return s->base->device;
  int idx[SWEEP_MAX_AXES];
  sweep_grid_indices(s->grid, p, idx);
  return s->grid->axes[a].values[idx[a]];
}

/* Bad input of the command line, found before the first run starts: every point's
   options, model, device and data set. What only fails for one point's run (a batch
   larger than its training split, a failure while running) is that point's failure. */
static int check_points(const sweep_spec *s, sweep_data *data, char (*devices)[256], error *err) {
  size_t n = sweep_grid_size(s->grid);
  char msg[2048];
  for (size_t p = 0; p < n; p++) {
    train_config cfg;
    if (sweep_point_config(s, p, &cfg, err)) return -1;
    model_spec m;
    if (model_load(cfg.model, &m, err)) return -1;
    model_free(&m);
    /* Enumerating OpenCL devices is slow: resolve each distinct spec once. */
    size_t same = 0;
    while (same < p && strcmp(point_device_spec(s, same), cfg.device) != 0) same++;
    if (same < p) memcpy(devices[p], devices[same], sizeof devices[p]); /* same < p: distinct rows */
    else if (sweep_device_name(cfg.device, devices[p], sizeof devices[p], msg, sizeof msg))
      return ERR_USAGE(err, "--device: %s", msg);
    if (train_config_validate(&cfg, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
    if (!sweep_data_get(data, &cfg, s->cmd, err)) return -1;
  }
  return 0;
}

/* Train point P (continuing FOUND when not NULL; its checkpoint is taken over). Returns
   the run's exit code, or -1 with ERR and R->run_dir naming the run directory when one
   was made. */
static int train_point(const sweep_spec *s, sweep_data *data, const train_config *point, sweep_found *found,
                       sweep_result *r, error *err) {
  train_config cfg = *point;
  checkpoint *ckpt = NULL;
  if (found) {
    /* Continue exactly where the run stopped: the checkpoint holds the configuration. */
    cfg.load[0] = '\0';
    cfg.given[TOPT_LOAD] = false;
    char path[RUN_PATH_MAX], msg[512];
    run_path(path, sizeof path, found->dir, "last.ckpt");
    if (train_config_set_opt(&cfg, TOPT_RESUME, path, msg, sizeof msg)) {
      checkpoint_free(&found->ckpt);
      return ERR_USAGE(err, "%s", msg);
    }
    ckpt = &found->ckpt;
  }
  train_run run;
  if (train_open(&run, &cfg, ckpt, err)) return -1;
  train_result res;
  memset(&res, 0, sizeof res);
  const dataset *ds = sweep_data_get(data, &run.cfg, s->cmd, err);
  int rc = ds ? train_execute(&run, ds, &res, err) : -1;
  train_close(&run);
  if (res.run_dir[0]) sweep_read_result(res.run_dir, r);
  return rc;
}

/* Point P failed with E: its run directory says so (one is made when the run had none
   yet), and so does its result. */
static void record_failure(const sweep_spec *s, size_t p, const train_config *cfg, const error *e, sweep_result *r) {
  char dir[RUN_PATH_MAX];
  error ignored = {0};
  if (r->have_run) snprintf(dir, sizeof dir, "%s", r->run_dir);
  else if (train_record_failure(cfg, e->msg, dir, sizeof dir, &ignored)) dir[0] = '\0';
  if (dir[0]) sweep_read_result(dir, r);
  r->have_run = true;
  snprintf(r->run_dir, sizeof r->run_dir, "%s", dir);
  snprintf(r->status, sizeof r->status, "failed");
  snprintf(r->error, sizeof r->error, "%s", e->msg);
  char label[512];
  sweep_point_label(s->grid, p, label, sizeof label);
  printf("%s: run %zu (%s) failed: %s\n", s->cmd, p + 1, label, e->msg);
  fflush(stdout);
}

static void announce(const sweep_spec *s, size_t i, size_t n, const char *label, const char *what, const char *dir) {
  printf("%s%s: %s%srun %zu of %zu (%s)%s%s\n", s->base->quiet ? "" : "\n", s->cmd, s->label ? s->label : "",
         s->label ? " " : "", i + 1, n, label, what, dir);
  fflush(stdout);
}

/* The sweep's figures, from the points that did not fail. 0, or EXIT_RUNTIME with ERR. */
static int draw(const sweep_spec *s, plotter *p, error *err) {
  char msg[RUN_PATH_MAX + 256];
  int prc = plot_sweep(p, s->dir, NULL, s->figure_prefix, msg, sizeof msg);
  if (prc == PLOT_BAD_INPUT) {
    /* The runs are fine; they logged too little to draw (e.g. fewer steps than
       --log-every-n-steps, or every point failed). */
    warnf("%s: no figures: %s", s->cmd, msg);
  } else if (prc != PLOT_OK) {
    ERR_RUNTIME(err, "figures: %s", msg);
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}

static void summary_line(const sweep_spec *s, size_t n, size_t reused, size_t diverged, size_t failed) {
  char csv[RUN_PATH_MAX];
  run_path(csv, sizeof csv, s->dir, "sweep.csv");
  printf("%s: %zu run%s (%zu trained now, %zu done before)%s%s; wrote %s\n", s->cmd, n, n == 1 ? "" : "s",
         n - reused, reused, diverged ? " - some diverged, see their summary.json" : "",
         failed ? " - some failed, see sweep.csv" : "", csv);
}

/* The next point for this process: in order alone, from rank 0's queue over MPI ranks.
   -1 when none is left. */
static long next_point(dist_queue *q, size_t *cursor, size_t n) {
  if (q) return dist_queue_next(q);
  return *cursor < n ? (long)(*cursor)++ : -1;
}

/* Over MPI ranks: every rank's results reach rank 0 (each point from the rank that ran
   it), and the counts are taken again from them. 0, or -1 with ERR. */
static int gather_results(const sweep_spec *s, sweep_result *results, const bool *mine, size_t n, size_t *reused,
                          size_t *diverged, size_t *failed, char *first_failure, size_t ff_len, error *err) {
  if (dist_collect(results, n, sizeof *results, mine, err)) return -1;
  if (s->dist->rank != 0) return 0;
  *reused = *diverged = *failed = 0;
  first_failure[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (results[i].reused) (*reused)++;
    if (strcmp(results[i].status, "diverged") == 0) (*diverged)++;
    if (strcmp(results[i].status, "failed") == 0) {
      if (!*failed) {
        char label[512];
        sweep_point_label(s->grid, i, label, sizeof label);
        snprintf(first_failure, ff_len, "run %zu (%s): %s", i + 1, label, results[i].error);
      }
      (*failed)++;
    }
  }
  return 0;
}

/* Points that are finished (not failed, not interrupted). */
static size_t done_count(const sweep_result *r, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += r[i].have_run && sweep_status_done(r[i].status);
  return k;
}

int sweep_execute(const sweep_spec *s, sweep_data *data, plotter *p, sweep_result *results, error *err) {
  size_t n = sweep_grid_size(s->grid);
  const bool ranks = s->dist && s->dist->size > 1;
  const bool root = !ranks || s->dist->rank == 0;
  sweep_result *own = NULL;
  if (!results) results = own = xcalloc(n, sizeof *results);
  memset(results, 0, n * sizeof *results);
  char (*devices)[256] = xcalloc(n, sizeof *devices);
  bool *mine = xcalloc(n, sizeof *mine);
  const char *runs_dir = s->runs_dir ? s->runs_dir : s->dir;
  char msg[RUN_PATH_MAX + 256];
  int rc = check_points(s, data, devices, err);
  if (rc == 0 && (make_dirs(s->dir, msg, sizeof msg) || make_dirs(runs_dir, msg, sizeof msg)))
    rc = ERR_USAGE(err, "%s", msg);
  /* One writer per sweep folder: a second sweep on it is refused. Over MPI ranks rank 0
     holds the lock for the job, and the ranks agree before the queue opens. */
  int lock = -1;
  if (rc == 0 && root && (lock = dir_lock(s->dir, err)) < 0) rc = -1;
  if (ranks && dist_any(rc != 0) && rc == 0) rc = ERR_USAGE(err, "%s: rank 0 refused the sweep", s->cmd);
  dist_queue *q = NULL;
  if (rc == 0 && ranks && !(q = dist_queue_open((long)n, err))) rc = -1;
  if (rc) {
    if (lock >= 0) close(lock);
    free(devices);
    free(mine);
    free(own);
    return -1;
  }
  if (root)
    printf("%s: %s%s%zu run%s in %s\n", s->cmd, s->label ? s->label : "", s->label ? ": " : "", n,
           n == 1 ? "" : "s", s->dir);
  if (ranks && root) printf("%s: %d MPI ranks share the runs\n", s->cmd, s->dist->size);
  size_t diverged = 0, reused = 0, failed = 0, cursor = 0, started = 0;
  char first_failure[1100] = "";
  /* Ctrl-C between two runs (loading, opening a device) stops the sweep as one inside a
     run does: with sweep.csv written and the message how to continue. */
  interrupt_install();
  /* Test hook: SIGINT to itself before point N (1-based) starts, i.e. between two runs. */
  const char *hook = getenv("CLTRAIN_TEST_SIGNAL_BEFORE_RUN");
  long hook_run = hook ? atol(hook) : 0;
  for (long next; rc == EXIT_OK && (next = next_point(q, &cursor, n)) >= 0;) {
    const size_t i = (size_t)next;
    if (hook_run > 0 && (size_t)hook_run == i + 1) raise(SIGINT);
    int sig = interrupt_pending();
    if (sig) {
      rc = interrupt_exit_code(sig);
      break;
    }
    mine[i] = true;
    started++;
    train_config cfg;
    sweep_point_config(s, i, &cfg, err); /* checked above */
    char label[512];
    sweep_point_label(s->grid, i, label, sizeof label);
    sweep_found found;
    bool have = sweep_find_run(runs_dir, &cfg, ranks ? NULL : devices[i], &found);
    if (have && sweep_status_done(found.status)) {
      checkpoint_free(&found.ckpt);
      sweep_read_result(found.dir, &results[i]);
      results[i].reused = true;
      reused++;
      printf("%s: %s%srun %zu of %zu (%s): %s already in %s, skipped\n", s->cmd, s->label ? s->label : "",
             s->label ? " " : "", i + 1, n, label, found.status, found.dir);
      fflush(stdout);
    } else {
      if (!s->base->quiet || s->announce) announce(s, i, n, label, have ? ": continuing " : "", have ? found.dir : "");
      error point_err = {0};
      int code = train_point(s, data, &cfg, have ? &found : NULL, &results[i], &point_err);
      if (code < 0) {
        record_failure(s, i, &cfg, &point_err, &results[i]);
        if (!failed) snprintf(first_failure, sizeof first_failure, "run %zu (%s): %s", i + 1, label, point_err.msg);
        failed++;
        if (s->fail_fast) rc = EXIT_RUNTIME;
      } else if (code == EXIT_SIGINT || code == EXIT_SIGTERM) {
        rc = code;
      } else if (code != EXIT_OK) {
        diverged++;
      }
    }
    if (!ranks && sweep_write_csv(s, results, err)) rc = EXIT_RUNTIME;
    if (rc == EXIT_OK && interrupt_pending()) rc = interrupt_exit_code(interrupt_pending());
  }
  if (ranks) {
    /* A rank that stopped (interrupt, --fail-fast) empties the queue, so every rank gets
       here; the job then agrees on the outcome and rank 0 writes it. */
    dist_queue_close(q);
    int worst = dist_max_int(rc == EXIT_SIGINT || rc == EXIT_SIGTERM ? rc : 0);
    if (gather_results(s, results, mine, n, &reused, &diverged, &failed, first_failure, sizeof first_failure, err))
      rc = EXIT_RUNTIME;
    else if (worst) rc = worst;
    started = n; /* the "not run" count below is rank 0's view of the whole job */
    for (size_t k = 0; k < n; k++)
      if (root && !results[k].have_run) started--;
    if (!root) {
      interrupt_uninstall();
      free(devices);
      free(mine);
      free(own);
      return rc == EXIT_SIGINT || rc == EXIT_SIGTERM ? rc : EXIT_OK;
    }
    if (sweep_write_csv(s, results, err)) rc = EXIT_RUNTIME;
  }
  interrupt_uninstall();
  if (rc == EXIT_SIGINT || rc == EXIT_SIGTERM) {
    fprintf(stderr, "cltrain: %s: interrupted by %s; %zu of %zu runs done; %s%s\n", s->cmd,
            rc == EXIT_SIGTERM ? "SIGTERM" : "SIGINT", done_count(results, n), n,
            s->stop_hint ? "" : "to continue where it left off, run the same command with --out ",
            s->stop_hint ? s->stop_hint : s->dir);
  } else if (failed && s->fail_fast) {
    fprintf(stderr, "cltrain: %s: stopped at the first failed run (--fail-fast); %zu of %zu not run\n", s->cmd,
            n - started, n);
  } else if (rc == EXIT_OK) {
    summary_line(s, n, reused, diverged, failed);
    if (!s->no_plot) rc = draw(s, p, err);
  }
  if (failed && rc != EXIT_SIGINT && rc != EXIT_SIGTERM) {
    error_clear(err); /* the failed points say more than what came of them later */
    error_set(err, EXIT_RUNTIME, "%zu of %zu runs failed (see sweep.csv); %s", failed, n, first_failure);
    rc = EXIT_RUNTIME;
  }
  fflush(stdout);
  if (lock >= 0) close(lock);
  free(devices);
  free(mine);
  free(own);
  return rc;
}
