/* Sweeps without training: --vary parsing and its refusals, grid expansion against nested
   loops, legend labels, matching existing runs by the configuration in their last.ckpt
   (what makes a re-run skip or continue them), and sweep.csv as plot_sweep reads it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "base/csvread.h"
#include "plot/plot.h"
#include "study/sweep.h"
#include "study/sweep_grid.h"
#include "study/sweep_runs.h"
#include "testutil.h"

static void add_ok(sweep_grid *g, const char *spec) {
  char err[512] = "";
  CHECK(sweep_grid_add(g, spec, err, sizeof err) == 0, "--vary %s refused: %s", spec, err);
}

static void add_bad(const char *spec, const char *needle) {
  sweep_grid g;
  sweep_grid_init(&g);
  add_ok(&g, "seed=1,2");
  char err[512] = "";
  int rc = sweep_grid_add(&g, spec, err, sizeof err);
  CHECK(rc == -1, "--vary %s accepted", spec);
  CHECK(strstr(err, needle) != NULL, "--vary %s: message '%s' lacks '%s'", spec, err, needle);
  CHECK(err[0] && strchr(err, '\n') == NULL, "--vary %s: message is not one line: '%s'", spec, err);
  CHECK(g.n_axes == 1, "--vary %s: a refused axis was kept", spec);
}

static void test_parse(void) {
  sweep_grid g;
  sweep_grid_init(&g);
  CHECK(sweep_grid_size(&g) == 1, "empty grid has %zu points", sweep_grid_size(&g));
  add_ok(&g, "batch-size=32,64,128");
  CHECK(g.n_axes == 1 && g.axes[0].opt == TOPT_BATCH_SIZE, "batch-size axis");
  CHECK(strcmp(g.axes[0].column, "batch_size") == 0, "column '%s'", g.axes[0].column);
  CHECK(g.axes[0].n_values == 3 && strcmp(g.axes[0].values[2], "128") == 0, "values kept in order");

  /* Short names and '_' for '-'; values keep the user's spelling. */
  sweep_grid_init(&g);
  add_ok(&g, "lr=1e-3,1e-2");
  add_ok(&g, "max_epochs=5,10");
  add_ok(&g, "batch=256");
  CHECK(g.axes[0].opt == TOPT_LEARNING_RATE && strcmp(g.axes[0].column, "learning_rate") == 0, "lr alias");
  CHECK(strcmp(g.axes[0].values[0], "1e-3") == 0, "value spelling '%s'", g.axes[0].values[0]);
  CHECK(g.axes[1].opt == TOPT_MAX_EPOCHS && strcmp(g.axes[1].column, "max_epochs") == 0, "max_epochs");
  CHECK(g.axes[2].opt == TOPT_BATCH_SIZE, "batch alias");
  CHECK(sweep_grid_size(&g) == 4, "2x2x1 grid has %zu points", sweep_grid_size(&g));
  sweep_grid_init(&g);
  add_ok(&g, "model=jsc-tiny,jsc-toy,models/my.model");
  add_ok(&g, "optimizer=adam,sgd");
  add_ok(&g, "device=0,pthread");
  add_ok(&g, "weight-decay=0,5e-4");
  CHECK(sweep_grid_size(&g) == 24, "3x2x2x2 grid has %zu points", sweep_grid_size(&g));

  add_bad("batch-size", "NAME=V1,V2");
  add_bad("=1,2", "no option name");
  add_bad("colour=red", "unknown training option 'colour'");
  add_bad("project-dir=a,b", "project-dir cannot be varied");
  add_bad("quiet=true,false", "cannot be varied");
  add_bad("seed=3,4", "seed is varied twice");
  add_bad("batch-size=", "no values");
  add_bad("batch-size=32,,64", "not a list");
  add_bad("batch-size=32,64,", "not a list");
  add_bad("batch-size=32,abc", "'abc' is not an integer");
  add_bad("batch-size=0", "batch-size");
  add_bad("learning-rate=1e-3,0.001", "'0.001' is listed twice");
  add_bad("learning-rate=-1", "learning-rate");
  add_bad("optimizer=adam,adagrad", "'adagrad' is not one of adam, adamw, sgd, rmsprop");
  add_bad("max-epochs=1.5", "max-epochs");

  /* Too many points. */
  sweep_grid_init(&g);
  add_ok(&g, "seed=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
  add_ok(&g, "batch-size=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
  char err[512] = "";
  CHECK(sweep_grid_add(&g, "max-epochs=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", err, sizeof err) == -1 &&
            strstr(err, "more than"),
        "a grid of 4352 points was accepted: '%s'", err);
}

/* Points come in nested-loop order: first --vary outermost. */
static void test_expansion(void) {
  sweep_grid g;
  sweep_grid_init(&g);
  add_ok(&g, "batch-size=32,64");
  add_ok(&g, "learning-rate=1e-5,1e-4,1e-3");
  add_ok(&g, "optimizer=adam,sgd");
  const long bs[] = {32, 64};
  const double lr[] = {1e-5, 1e-4, 1e-3};
  const optim_kind opt[] = {OPTIM_ADAM, OPTIM_SGD};
  size_t p = 0;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 2; k++, p++) {
        train_config cfg;
        train_config_default(&cfg);
        cfg.max_epochs = 7;
        char err[512] = "";
        CHECK(sweep_grid_apply(&g, p, &cfg, err, sizeof err) == 0, "apply %zu: %s", p, err);
        CHECK(cfg.batch_size == bs[i] && cfg.learning_rate == lr[j] && cfg.optimizer == opt[k],
              "point %zu is (%ld, %g, %d), want (%ld, %g, %d)", p, cfg.batch_size, cfg.learning_rate,
              (int)cfg.optimizer, bs[i], lr[j], (int)opt[k]);
        CHECK(cfg.given[TOPT_BATCH_SIZE] && cfg.given[TOPT_OPTIMIZER], "varied options count as given");
        CHECK(cfg.max_epochs == 7 && !cfg.given[TOPT_MAX_EPOCHS], "other options untouched");
        int idx[SWEEP_MAX_AXES];
        sweep_grid_indices(&g, p, idx);
        CHECK(idx[0] == i && idx[1] == j && idx[2] == k, "indices of point %zu", p);
      }
  CHECK(p == sweep_grid_size(&g), "grid size %zu, loops %zu", sweep_grid_size(&g), p);
  char label[256];
  sweep_point_label(&g, 5, label, sizeof label);
  CHECK(strcmp(label, "batch 32, lr 1e-3, sgd") == 0, "label of point 5: '%s'", label);
}

/* ---- matching existing runs ---- */

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* A run directory with a last.ckpt holding CFG (trained on DEVICE) after STEPS steps and
   a summary.json with STATUS (NULL: none). */
static void fake_run(const char *dir, const train_config *cfg, const char *device, uint64_t steps,
                     const char *status) {
  mkdir(dir, 0755);
  checkpoint c;
  memset(&c, 0, sizeof c);
  snprintf(c.model_name, sizeof c.model_name, "jsc-tiny");
  c.model_text = "input 16\nlinear 5\n";
  c.config_text = train_config_to_text(cfg);
  snprintf(c.dataset_name, sizeof c.dataset_name, "jsc-synth");
  snprintf(c.device_name, sizeof c.device_name, "%s", device);
  c.progress.step = steps;
  float params[1] = {0}, stats[1] = {0}, optim[1] = {0};
  c.params = params;
  c.stats = stats;
  c.optim = optim;
  char path[1024], err[1024];
  snprintf(path, sizeof path, "%s/last.ckpt", dir);
  CHECK(checkpoint_write(path, &c, err, sizeof err) == 0, "checkpoint_write: %s", err);
  free(c.config_text);
  if (status) {
    char json[512];
    snprintf(json, sizeof json,
             "{\n  \"model\": \"jsc-tiny\",\n  \"status\": \"%s\",\n  \"epochs_run\": 3,\n  \"best_val_acc\": 0.625,\n"
             "  \"final_val_acc\": 0.5,\n  \"test_acc\": null,\n  \"train_seconds\": 12.5,\n  \"samples_per_s\": 40000\n}\n",
             status);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    write_text(path, json);
  }
}

static void set(train_config *cfg, const char *name, const char *value) {
  char err[512];
  CHECK(train_config_set(cfg, name, value, err, sizeof err) == 0, "%s=%s: %s", name, value, err);
}

static void test_matching(const char *tmp) {
  train_config a;
  train_config_default(&a);
  set(&a, "model", "jsc-tiny");
  set(&a, "dataset", "jsc-synth");
  set(&a, "batch-size", "64");
  set(&a, "learning-rate", "1e-3");
  char *text = train_config_to_text(&a);
  train_config b = a;
  CHECK(sweep_same_run(&b, "cpu", text, "cpu"), "identical configuration not matched");
  set(&b, "project-dir", "elsewhere");
  set(&b, "quiet", NULL);
  set(&b, "device", "pthread");
  CHECK(sweep_same_run(&b, "cpu", text, "cpu"), "where/how to show a run must not matter");
  CHECK(!sweep_same_run(&b, "gpu", text, "cpu"), "another device matched");
  set(&b, "learning-rate", "0.001");
  CHECK(sweep_same_run(&b, "cpu", text, "cpu"), "0.001 and 1e-3 are the same learning rate");
  set(&b, "batch-size", "128");
  CHECK(!sweep_same_run(&b, "cpu", text, "cpu"), "another batch size matched");
  b = a;
  set(&b, "max-epochs", "5");
  CHECK(!sweep_same_run(&b, "cpu", text, "cpu"), "another epoch count matched");
  b = a;
  set(&b, "synth-size", "1000");
  CHECK(!sweep_same_run(&b, "cpu", text, "cpu"), "other data matched");
  CHECK(!sweep_same_run(&a, "cpu", "garbage", "cpu"), "unreadable stored configuration matched");
  free(text);

  char runs[512], dir[600];
  snprintf(runs, sizeof runs, "%s/runs", tmp);
  sweep_found f;
  CHECK(!sweep_find_run(runs, &a, "cpu", &f), "found a run in a missing directory");
  mkdir(runs, 0755);
  train_config other = a;
  set(&other, "batch-size", "32");
  snprintf(dir, sizeof dir, "%s/r1_other", runs);
  fake_run(dir, &other, "cpu", 500, "finished");
  snprintf(dir, sizeof dir, "%s/r2_nockpt", runs);
  mkdir(dir, 0755);
  CHECK(!sweep_find_run(runs, &a, "cpu", &f), "matched another configuration or a run without checkpoint");

  snprintf(dir, sizeof dir, "%s/r3_interrupted", runs);
  fake_run(dir, &a, "cpu", 300, "interrupted");
  snprintf(dir, sizeof dir, "%s/r4_running_further", runs);
  fake_run(dir, &a, "cpu", 400, "running");
  CHECK(sweep_find_run(runs, &a, "cpu", &f) && strstr(f.dir, "r4_running_further"),
        "unfinished runs: expected the one furthest along, got %s", f.dir);
  CHECK(strcmp(f.status, "running") == 0 && f.steps == 400 && !sweep_status_done(f.status), "status %s steps %llu",
        f.status, (unsigned long long)f.steps);
  /* The found run's checkpoint is read once, for continuing it. */
  CHECK(f.ckpt.progress.step == 400, "found checkpoint holds step %llu", (unsigned long long)f.ckpt.progress.step);
  checkpoint_free(&f.ckpt);

  snprintf(dir, sizeof dir, "%s/r0_finished", runs);
  fake_run(dir, &a, "cpu", 200, "finished");
  CHECK(sweep_find_run(runs, &a, "cpu", &f) && strstr(f.dir, "r0_finished") && sweep_status_done(f.status),
        "a finished run is preferred, got %s (%s)", f.dir, f.status);
  checkpoint_free(&f.ckpt);
  CHECK(!sweep_find_run(runs, &a, "gpu", &f), "matched a run of another device");
  CHECK(sweep_status_done("diverged") && sweep_status_done("early-stopped") && !sweep_status_done("interrupted") &&
            !sweep_status_done("unknown"),
        "done states");

  /* A corrupted checkpoint is ignored (with a warning), not fatal. */
  snprintf(dir, sizeof dir, "%s/r5_corrupt", runs);
  mkdir(dir, 0755);
  char path[700];
  snprintf(path, sizeof path, "%s/last.ckpt", dir);
  write_text(path, "CLTRCKPT but not really");
  CHECK(sweep_find_run(runs, &a, "cpu", &f) && strstr(f.dir, "r0_finished"), "corrupt checkpoint broke the search");
  checkpoint_free(&f.ckpt);

  sweep_result r;
  snprintf(dir, sizeof dir, "%s/r0_finished", runs);
  sweep_read_result(dir, &r);
  CHECK(r.have_run && strcmp(r.status, "finished") == 0 && r.epochs_run == 3, "status %s epochs %llu", r.status,
        (unsigned long long)r.epochs_run);
  CHECK(r.best_val_acc == 0.625 && r.final_val_acc == 0.5 && r.train_s == 12.5 && r.samples_per_s == 40000,
        "results %g %g %g %g", r.best_val_acc, r.final_val_acc, r.train_s, r.samples_per_s);
  CHECK(isnan(r.test_acc), "null test_acc read as %g", r.test_acc);
}

/* sweep.csv has the columns plot_sweep expects, and plot_sweep labels the runs from them. */
static void test_csv(const char *tmp) {
  sweep_grid g;
  sweep_grid_init(&g);
  add_ok(&g, "batch-size=64,512");
  add_ok(&g, "lr=1e-3");
  train_config base;
  train_config_default(&base);
  char sweep_dir[512], runs[512];
  snprintf(sweep_dir, sizeof sweep_dir, "%s/sweep", tmp);
  snprintf(runs, sizeof runs, "%s/shared runs", tmp);
  mkdir(sweep_dir, 0755);
  mkdir(runs, 0755);
  sweep_spec s = {.cmd = "test", .base = &base, .grid = &g, .dir = sweep_dir, .runs_dir = runs,
                  .runs_dir_rel = "../shared runs"};
  sweep_result res[2];
  memset(res, 0, sizeof res);
  const char *names[2] = {"b64", "b512"};
  for (int i = 0; i < 2; i++) {
    char dir[700], path[800];
    snprintf(dir, sizeof dir, "%s/%s", runs, names[i]);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    write_text(path, "step,epoch,train_loss,train_acc,lr,elapsed_s\n50,0,1.5,0.3,0.001,1\n100,0,1.4,0.4,0.001,2\n");
    snprintf(path, sizeof path, "%s/epochs.csv", dir);
    write_text(path, "epoch,step,train_loss,train_acc,val_loss,val_acc,lr,epoch_s,samples_per_s\n"
                     "0,100,1.45,0.35,1.4,0.41,0.001,2,5000\n");
    res[i] = (sweep_result){.have_run = true, .final_val_acc = 0.41, .best_val_acc = 0.41 + i,
                            .train_s = 20.0 / (i + 1), .samples_per_s = NAN};
    snprintf(res[i].run_dir, sizeof res[i].run_dir, "%s", dir);
  }
  char err[1024] = "";
  error e = {0};
  snprintf(res[0].status, sizeof res[0].status, "finished");
  snprintf(res[1].status, sizeof res[1].status, "finished");
  CHECK(sweep_write_csv(&s, res, &e) == 0, "sweep_write_csv: %s", e.msg);
  char path[700];
  snprintf(path, sizeof path, "%s/sweep.csv", sweep_dir);
  csv_table t;
  CHECK(csv_read(path, &t, err, sizeof err) == 0, "csv_read: %s", err);
  const char *want[] = {"run_dir", "batch_size", "learning_rate", "final_val_acc", "best_val_acc", "test_acc",
                        "train_s", "samples_per_s", "status", "error", "best"};
  CHECK(t.ncols == 11, "%zu columns", t.ncols);
  for (size_t c = 0; c < 11 && c < t.ncols; c++)
    CHECK(strcmp(t.header[c], want[c]) == 0, "column %zu is '%s', want '%s'", c, t.header[c], want[c]);
  CHECK(t.nrows == 2, "%zu rows", t.nrows);
  if (t.nrows == 2 && t.ncols == 11) {
    CHECK(strcmp(csv_cell(&t, 0, 8), "finished") == 0 && strcmp(csv_cell(&t, 0, 9), "") == 0, "status '%s' error '%s'",
          csv_cell(&t, 0, 8), csv_cell(&t, 0, 9));
    CHECK(strcmp(csv_cell(&t, 1, 0), "../shared runs/b512") == 0, "run_dir '%s'", csv_cell(&t, 1, 0));
    CHECK(strcmp(csv_cell(&t, 1, 1), "512") == 0 && strcmp(csv_cell(&t, 1, 2), "1e-3") == 0, "values");
    CHECK(strcmp(csv_cell(&t, 1, 4), "1.41") == 0 && strcmp(csv_cell(&t, 0, 7), "nan") == 0, "numbers '%s' '%s'",
          csv_cell(&t, 1, 4), csv_cell(&t, 0, 7));
  }
  csv_free(&t);

  /* A point without a run is not listed. */
  res[0].have_run = false;
  CHECK(sweep_write_csv(&s, res, &e) == 0, "sweep_write_csv: %s", e.msg);
  CHECK(csv_read(path, &t, err, sizeof err) == 0 && t.nrows == 1, "unfinished point listed");
  csv_free(&t);
  res[0].have_run = true;

  /* A failed point: its row says so, with the error (a comma in it quoted), and the
     figures leave it out. */
  sweep_result failed = res[1];
  snprintf(res[1].status, sizeof res[1].status, "failed");
  snprintf(res[1].error, sizeof res[1].error, "--batch-size 512 is larger than the training split, 400 rows");
  CHECK(sweep_write_csv(&s, res, &e) == 0, "sweep_write_csv: %s", e.msg);
  CHECK(csv_read(path, &t, err, sizeof err) == 0 && t.nrows == 2 && t.ncols == 11, "failed row not listed");
  if (t.nrows == 2 && t.ncols == 11)
    CHECK(strcmp(csv_cell(&t, 1, 8), "failed") == 0 && strcmp(csv_cell(&t, 1, 9), res[1].error) == 0 &&
              strcmp(csv_cell(&t, 1, 10), "0") == 0,
          "failed row: status '%s' error '%s' best '%s'", csv_cell(&t, 1, 8), csv_cell(&t, 1, 9), csv_cell(&t, 1, 10));
  csv_free(&t);
  plotter q;
  plotter_init(&q);
  q.gnuplot[0] = '\0';
  q.quiet = q.warned = true;
  CHECK(plot_sweep(&q, sweep_dir, NULL, "f", err, sizeof err) == PLOT_OK, "plot_sweep with a failed row: %s", err);
  snprintf(path, sizeof path, "%s/f_train_acc.csv", sweep_dir);
  char *curves = read_file(path, NULL);
  CHECK(curves && strstr(curves, "batch 64") && !strstr(curves, "batch 512"), "the failed run was drawn");
  free(curves);
  snprintf(path, sizeof path, "%s/sweep.csv", sweep_dir);
  res[1] = failed;
  CHECK(sweep_write_csv(&s, res, &e) == 0, "sweep_write_csv: %s", e.msg);

  /* plot_sweep reads it: data-only figures (no gnuplot) labelled from the varied columns. */
  plotter p;
  plotter_init(&p);
  p.gnuplot[0] = '\0';
  p.quiet = true;
  p.warned = true;
  CHECK(plot_sweep(&p, sweep_dir, NULL, "t", err, sizeof err) == PLOT_OK, "plot_sweep: %s", err);
  snprintf(path, sizeof path, "%s/t_train_acc.csv", sweep_dir);
  char *fig = read_file(path, NULL);
  CHECK(fig && strstr(fig, "batch 512, lr 1e-3"), "train_acc.csv lacks the label 'batch 512, lr 1e-3'");
  free(fig);
  snprintf(path, sizeof path, "%s/t_time_vs_batch.csv", sweep_dir);
  CHECK(access(path, F_OK) == 0, "no time_vs_batch figure for a batch-size sweep");
}

int main(void) {
  char tmp[] = "/tmp/test_sweep_XXXXXX";
  CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
  test_parse();
  test_expansion();
  test_matching(tmp);
  test_csv(tmp);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
  return test_summary("test_sweep");
}
