/* The trainer as sweep/compare use it: several runs in one process on one loaded data set.
   Checks that a run's result matches the files it wrote, that the same configuration
   twice gives bit-identical metrics (fixed-order reductions, seeded shuffles), that
   another seed gives other metrics, and the learning-rate schedule against PyTorch's
   recursive CosineAnnealingLR formula. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "train/trainer.h"

/* PyTorch's CosineAnnealingLR.get_lr (the recursive form), stepped once per epoch. */
static void torch_cosine(double base, double eta_min, int t_max, int epochs, double *out) {
  const double pi = 3.14159265358979323846;
  double lr = base;
  for (int e = 0; e < epochs; e++) {
    if (e > 0) {
      if ((e - 1 - t_max) % (2 * t_max) == 0)
        lr = lr + (base - eta_min) * (1 - cos(pi / t_max)) / 2;
      else
        lr = (1 + cos(pi * e / t_max)) / (1 + cos(pi * (e - 1) / t_max)) * (lr - eta_min) + eta_min;
    }
    out[e] = lr;
  }
}

/* Last data row of DIR/epochs.csv: val_loss and val_acc. */
static int last_epoch_row(const char *dir, double *val_loss, double *val_acc, long *rows) {
  char path[4200], line[512], last[512] = "";
  snprintf(path, sizeof path, "%s/epochs.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  *rows = -1; /* the header */
  while (fgets(line, sizeof line, f)) {
    snprintf(last, sizeof last, "%s", line);
    (*rows)++;
  }
  fclose(f);
  unsigned long long epoch, step;
  double tl, ta;
  return sscanf(last, "%llu,%llu,%lf,%lf,%lf,%lf", &epoch, &step, &tl, &ta, val_loss, val_acc) == 6 ? 0 : -1;
}

static void configure(train_config *cfg, const char *project, const char *batch, const char *seed) {
  char err[512];
  train_config_default(cfg);
  const char *kv[][2] = {{"model", "jsc-toy"},        {"dataset", "jsc-synth"},  {"synth-size", "3000"},
                         {"max-epochs", "2"},         {"batch-size", batch},     {"learning-rate", "0.01"},
                         {"seed", seed},              {"project-dir", project},  {"quiet", "true"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    CHECK(train_config_set(cfg, kv[i][0], kv[i][1], err, sizeof err) == 0, "%s: %s", kv[i][0], err);
}

int main(void) {
  train_config cfg;
  train_config_default(&cfg);
  double want[12];
  torch_cosine(1e-3, 1e-6, 10, 12, want);
  for (int e = 0; e < 12; e++) {
    cfg.max_epochs = 10;
    cfg.learning_rate = 1e-3;
    CHECK(rel_err(train_epoch_lr(&cfg, (uint64_t)e), want[e], 1e-12) < 1e-9, "epoch %d lr %.12g, torch %.12g", e,
          train_epoch_lr(&cfg, (uint64_t)e), want[e]);
  }
  cfg.scheduler = SCHED_NONE;
  CHECK(train_epoch_lr(&cfg, 7) == 1e-3, "scheduler none");

  char project[256];
  snprintf(project, sizeof project, "/tmp/cltrain-test-trainer-%d", (int)getpid());
  configure(&cfg, project, "64", "0");
  data_options opt;
  train_data_options(&cfg, &opt);
  CHECK(opt.synth_size == 3000 && opt.val_fraction == 0.1 && opt.data_path == NULL, "data options");
  dataset ds;
  char err[1024];
  if (dataset_load("jsc-synth", &opt, &ds, err, sizeof err)) {
    fprintf(stderr, "dataset: %s\n", err);
    return 1;
  }

  train_result r[3];
  const char *batches[3] = {"64", "64", "64"}, *seeds[3] = {"0", "0", "5"};
  for (int i = 0; i < 3; i++) {
    configure(&cfg, project, batches[i], seeds[i]);
    error e = {0};
    int rc = train_run_with_data(&cfg, &ds, &r[i], &e);
    CHECK(rc >= 0, "run %d failed: %s", i, e.msg);
    CHECK(rc == 0 && r[i].status == TRAIN_FINISHED, "run %d: rc %d status %d", i, rc, (int)r[i].status);
    size_t steps_per_epoch = ds.train.rows / 64 + (ds.train.rows % 64 >= 2);
    CHECK(r[i].epochs_run == 2 && r[i].steps == 2 * steps_per_epoch, "run %d: %llu epochs %llu steps", i,
          (unsigned long long)r[i].epochs_run, (unsigned long long)r[i].steps);
    CHECK(r[i].params == 327 && strcmp(r[i].model, "jsc-toy") == 0 && strcmp(r[i].dataset, "jsc-synth") == 0,
          "run %d identity", i);
    double vl, va;
    long rows;
    CHECK(last_epoch_row(r[i].run_dir, &vl, &va, &rows) == 0 && rows == 2, "run %d: epochs.csv in %s", i, r[i].run_dir);
    CHECK(rel_err(vl, r[i].final_val_loss, 1e-9) < 1e-7 && rel_err(va, r[i].final_val_acc, 1e-9) < 1e-7,
          "run %d: result %g/%g vs epochs.csv %g/%g", i, r[i].final_val_loss, r[i].final_val_acc, vl, va);
    CHECK(r[i].have_test && r[i].test_acc > 0.2 && r[i].test_acc <= 1.0, "run %d test acc %g", i, r[i].test_acc);
    CHECK(r[i].best_val_acc >= r[i].final_val_acc, "run %d best < final", i);
    CHECK(r[i].samples_per_s > 0 && r[i].train_seconds > 0, "run %d timing", i);
  }
  CHECK(strcmp(r[0].run_dir, r[1].run_dir) != 0, "two runs share a directory");
  CHECK(r[0].final_val_loss == r[1].final_val_loss && r[0].final_val_acc == r[1].final_val_acc &&
            r[0].final_train_loss == r[1].final_train_loss && r[0].test_acc == r[1].test_acc,
        "same seed, different metrics: %.9g vs %.9g", r[0].final_val_loss, r[1].final_val_loss);
  CHECK(r[0].final_val_loss != r[2].final_val_loss, "seed 5 gives the metrics of seed 0");

  /* Failures come back as values, the process goes on: a batch larger than the training
     split is bad input (no run directory made), an unknown model too. */
  train_result bad;
  error e = {0};
  char big[32];
  snprintf(big, sizeof big, "%zu", ds.train.rows + 1);
  configure(&cfg, project, big, "0");
  CHECK(train_run_with_data(&cfg, &ds, &bad, &e) == -1 && e.code == EXIT_USAGE &&
            strstr(e.msg, "larger than the training split") && !bad.run_dir[0],
        "batch > training rows: code %d '%s' dir '%s'", e.code, e.msg, bad.run_dir);
  configure(&cfg, project, "64", "0");
  CHECK(train_config_set(&cfg, "model", "no-such-model", err, sizeof err) == 0, "set model: %s", err);
  error_clear(&e);
  CHECK(train_run_with_data(&cfg, &ds, &bad, &e) == -1 && e.code == EXIT_USAGE && strstr(e.msg, "no-such-model"),
        "unknown model: code %d '%s'", e.code, e.msg);

  dataset_free(&ds);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", project);
  CHECK(system(cmd) == 0, "cleanup");
  return test_summary("test_trainer");
}
