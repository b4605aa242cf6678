/* The plotting API on fake run, sweep and compare directories written here: every figure
   appears as a valid PNG and SVG, its CSV holds the data recomputed independently here,
   bad input is reported as PLOT_BAD_INPUT, and without gnuplot only the CSVs appear. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/csvread.h"
#include "plot/plot.h"
#include "testutil.h"

#define ROOT "test_plot_files"
#define N_STEPS 120 /* logged rows per run: enough for the moving average (window 3) */

static void write_text(const char *path, const char *fmt, ...) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
}

/* Deterministic "training" values of run R at logged row I. */
static double fake_acc(int r, int i) { return 0.2 + 0.5 * (1 - exp(-i / (10.0 + 10 * r))) + 0.03 * sin(i * 1.7 + r); }
static double fake_loss(int r, int i) { return r == 2 ? 1.25 : 1.6 - 0.8 * (1 - exp(-i / 15.0)) + 0.05 * cos(i * 2.3); }

static void make_run(const char *dir, int r, int epochs) {
  char path[512];
  mkdir(dir, 0777);
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "step,epoch,train_loss,train_acc,lr,elapsed_s\n");
  for (int i = 0; i < N_STEPS; i++)
    fprintf(f, "%d,%d,%.17g,%.17g,0.001,%g\n", 50 * (i + 1), i / 24, fake_loss(r, i), fake_acc(r, i), 0.1 * i);
  fclose(f);
  snprintf(path, sizeof path, "%s/epochs.csv", dir);
  f = fopen(path, "w");
  fprintf(f, "epoch,step,train_loss,train_acc,val_loss,val_acc,lr,epoch_s,samples_per_s\n");
  for (int e = 0; e < epochs; e++)
    fprintf(f, "%d,%d,1.0,0.5,%g,%g,0.001,2.5,1000\n", e, 1200 * (e + 1), 1.5 - 0.1 * e, 0.4 + 0.05 * e + 0.01 * r);
  fclose(f);
  snprintf(path, sizeof path, "%s/summary.json", dir);
  write_text(path, "{\"model\": \"jsc-tiny\", \"dataset\": \"jsc-synth\", \"params\": 117}\n");
}

static bool starts_with(const char *path, const char *magic, size_t n, long *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  char buf[512] = {0};
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fseek(f, 0, SEEK_END);
  *size = ftell(f);
  fclose(f);
  return got >= n && memcmp(buf, magic, n) == 0;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* NAME.png is a PNG, NAME.svg an XML file with an <svg element, NAME.csv exists. */
static void check_figure(const char *dir, const char *name) {
  char path[512];
  long size = 0;
  snprintf(path, sizeof path, "%s/%s.png", dir, name);
  CHECK(starts_with(path, "\x89PNG\r\n\x1a\n", 8, &size) && size > 2000, "%s: not a PNG (%ld bytes)", path, size);
  snprintf(path, sizeof path, "%s/%s.svg", dir, name);
  bool xml = starts_with(path, "<?xml", 5, &size);
  char *text = NULL;
  FILE *f = fopen(path, "r");
  if (f) {
    text = calloc(1, (size_t)size + 1);
    if (fread(text, 1, (size_t)size, f) != (size_t)size) text[0] = 0;
    fclose(f);
  }
  CHECK(xml && text && strstr(text, "<svg") && strstr(text, "</svg>"), "%s: not an SVG", path);
  free(text);
  snprintf(path, sizeof path, "%s/%s.csv", dir, name);
  CHECK(exists(path), "%s missing", path);
}

static csv_table read_csv(const char *dir, const char *name) {
  char path[512], err[512];
  csv_table t = {0};
  snprintf(path, sizeof path, "%s/%s.csv", dir, name);
  CHECK(csv_read(path, &t, err, sizeof err) == 0, "%s", err);
  return t;
}

static double num(const csv_table *t, size_t r, const char *col) {
  int c = csv_col(t, col);
  return c < 0 || r >= t->nrows ? NAN : atof(csv_cell(t, r, (size_t)c));
}

/* The moving average written to train_*.csv, recomputed as an explicit weighted sum: the
   bias-corrected EMA with alpha = 2/(w+1), w = N_STEPS/40. */
static double reference_ema(int r, int i, bool acc) {
  double alpha = 2.0 / (N_STEPS / 40.0 + 1.0), num_ = 0, den = 0;
  for (int k = 0; k <= i; k++) {
    double w = alpha * pow(1 - alpha, i - k);
    num_ += w * (acc ? 100 * fake_acc(r, k) : fake_loss(r, k));
    den += w;
  }
  return num_ / den;
}

static void test_learning_curves(plotter *p) {
  const char *labels[3] = {"batch 64", "lr 1e-3, it's \"quoted\"", NULL};
  char dirs[3][256];
  plot_run runs[3];
  for (int r = 0; r < 3; r++) {
    snprintf(dirs[r], sizeof dirs[r], ROOT "/run %d, with spaces", r);
    make_run(dirs[r], r, 4 + r);
    runs[r] = (plot_run){dirs[r], labels[r]};
  }
  char err[1024] = "";
  int rc = plot_learning_curves(p, ROOT "/out curves", "lc", "test runs", runs, 3, err, sizeof err);
  CHECK(rc == PLOT_OK, "learning curves: %d %s", rc, err);
  const char *names[] = {"lc_train_acc", "lc_train_loss", "lc_val_acc", "lc_val_loss"};
  for (int i = 0; i < 4; i++) check_figure(ROOT "/out curves", names[i]);

  csv_table t = read_csv(ROOT "/out curves", "lc_train_acc");
  CHECK(t.nrows == 3 * N_STEPS, "train_acc.csv rows %zu", t.nrows);
  double worst = 0;
  for (int r = 0; r < 3 && t.nrows == 3 * N_STEPS; r++)
    for (int i = 0; i < N_STEPS; i++) {
      size_t row = (size_t)(r * N_STEPS + i);
      worst = fmax(worst, rel_err(num(&t, row, "train_acc_pct"), 100 * fake_acc(r, i), 1e-9));
      worst = fmax(worst, rel_err(num(&t, row, "train_acc_pct_smoothed"), reference_ema(r, i, true), 1e-9));
      worst = fmax(worst, rel_err(num(&t, row, "step"), 50.0 * (i + 1), 1e-9));
    }
  CHECK(worst < 1e-7, "train_acc.csv differs from the runs: max rel err %g (tolerance 1e-7)", worst);
  CHECK(t.nrows && strcmp(csv_cell(&t, 0, 0), "batch 64") == 0, "label of run 0");
  CHECK(t.nrows && strcmp(csv_cell(&t, 2 * N_STEPS, 0), "run 2, with spaces") == 0,
        "a run without a label is named after its directory: '%s'", t.nrows ? csv_cell(&t, 2 * N_STEPS, 0) : "");
  csv_free(&t);

  t = read_csv(ROOT "/out curves", "lc_train_loss");
  worst = 0;
  for (int i = 0; i < N_STEPS && t.nrows == 3 * N_STEPS; i++) {
    worst = fmax(worst, rel_err(num(&t, (size_t)i, "train_loss_smoothed"), reference_ema(0, i, false), 1e-9));
    /* Run 2's loss is constant: its average must be that constant. */
    worst = fmax(worst, rel_err(num(&t, (size_t)(2 * N_STEPS + i), "train_loss_smoothed"), 1.25, 1e-9));
  }
  CHECK(t.nrows == 3 * N_STEPS && worst < 1e-7, "train_loss.csv: rows %zu, max rel err %g", t.nrows, worst);
  csv_free(&t);

  t = read_csv(ROOT "/out curves", "lc_val_acc");
  CHECK(t.nrows == 4 + 5 + 6, "val_acc.csv rows %zu, want 15", t.nrows);
  CHECK(fabs(num(&t, 4 + 2, "val_acc_pct") - 100 * (0.4 + 0.05 * 2 + 0.01)) < 1e-9, "val acc run 1 epoch 2: %g",
        num(&t, 6, "val_acc_pct"));
  csv_free(&t);
}

static void test_confusion(plotter *p) {
  static const double counts[5][5] = {{50, 10, 0, 0, 3}, {12, 40, 1, 0, 0}, {0, 2, 30, 9, 1},
                                      {0, 0, 11, 33, 2}, {1, 0, 3, 2, 60}};
  static const char *cls[5] = {"g", "q", "W", "Z", "t"};
  FILE *f = fopen(ROOT "/confusion.csv", "w");
  fprintf(f, "class,g,q,W,Z,t\n");
  for (int r = 0; r < 5; r++)
    fprintf(f, "%s,%g,%g,%g,%g,%g\n", cls[r], counts[r][0], counts[r][1], counts[r][2], counts[r][3], counts[r][4]);
  fclose(f);
  char err[1024] = "";
  int rc = plot_confusion(p, ROOT "/out", NULL, "jsc-tiny", ROOT "/confusion.csv", err, sizeof err);
  CHECK(rc == PLOT_OK, "confusion: %d %s", rc, err);
  check_figure(ROOT "/out", "confusion_matrix");
  csv_table t = read_csv(ROOT "/out", "confusion_matrix");
  CHECK(t.nrows == 25, "confusion_matrix.csv rows %zu", t.nrows);
  for (int r = 0; r < 5 && t.nrows == 25; r++) {
    double sum = 0;
    for (int c = 0; c < 5; c++) sum += counts[r][c];
    for (int c = 0; c < 5; c++) {
      size_t row = (size_t)(r * 5 + c);
      CHECK(strcmp(csv_cell(&t, row, 0), cls[r]) == 0 && strcmp(csv_cell(&t, row, 1), cls[c]) == 0,
            "cell order at %zu", row);
      CHECK(num(&t, row, "count") == counts[r][c], "count %d,%d", r, c);
      CHECK(fabs(num(&t, row, "percent_of_true_class") - 100 * counts[r][c] / sum) < 1e-3, "percent %d,%d", r, c);
    }
  }
  csv_free(&t);
}

static void test_sweep_and_compare(plotter *p) {
  mkdir(ROOT "/sweep", 0777);
  int batches[3] = {512, 32, 128};
  for (int i = 0; i < 3; i++) {
    char dir[256];
    snprintf(dir, sizeof dir, ROOT "/sweep/run_b%d", batches[i]);
    make_run(dir, i, 3);
  }
  write_text(ROOT "/sweep/sweep.csv",
             "run_dir,batch_size,final_val_acc,best_val_acc,train_s,samples_per_s\n"
             "run_b512,512,0.70,0.71,12.5,48000\nrun_b32,32,0.69,0.70,190,3100\n"
             "run_b128,128,0.70,0.70,50,12000\n");
  char err[1024] = "";
  int rc = plot_sweep(p, ROOT "/sweep", NULL, NULL, err, sizeof err);
  CHECK(rc == PLOT_OK, "sweep: %d %s", rc, err);
  check_figure(ROOT "/sweep", "train_acc");
  check_figure(ROOT "/sweep", "val_loss");
  check_figure(ROOT "/sweep", "time_vs_batch");
  csv_table t = read_csv(ROOT "/sweep", "time_vs_batch");
  CHECK(t.nrows == 3 && num(&t, 0, "batch_size") == 32 && num(&t, 1, "batch_size") == 128 &&
            num(&t, 2, "batch_size") == 512 && num(&t, 0, "train_s") == 190,
        "time_vs_batch.csv not sorted by batch size with its times");
  csv_free(&t);
  t = read_csv(ROOT "/sweep", "train_acc");
  CHECK(t.nrows == 3 * N_STEPS && strcmp(csv_cell(&t, 0, 0), "batch 512") == 0 &&
            strcmp(csv_cell(&t, N_STEPS, 0), "batch 32") == 0,
        "sweep labels from the varied column");
  csv_free(&t);

  write_text(ROOT "/compare.csv",
             "device,epoch_s,samples_per_s,final_val_acc,max_abs_diff_val_acc\n"
             "\"pthread, 100%% CPU\",12.5,47800,0.7123,0\nbasic,95.2,6270,0.7123,0.0001\n");
  rc = plot_device_bars(p, ROOT "/out", "cmp", NULL, ROOT "/compare.csv", err, sizeof err);
  CHECK(rc == PLOT_OK, "device bars: %d %s", rc, err);
  check_figure(ROOT "/out", "cmp_device_compare");
  t = read_csv(ROOT "/out", "cmp_device_compare");
  CHECK(t.nrows == 2 && strcmp(csv_cell(&t, 0, 0), "pthread, 100% CPU") == 0 &&
            num(&t, 1, "samples_per_s") == 6270 && fabs(num(&t, 0, "final_val_acc_pct") - 71.23) < 1e-9,
        "device_compare.csv content");
  csv_free(&t);
}

static void test_bad_input(plotter *p) {
  char err[1024];
  plot_run missing = {ROOT "/no such run", NULL};
  CHECK(plot_learning_curves(p, ROOT "/bad", NULL, NULL, &missing, 1, err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "no such run"),
        "missing run dir: %s", err);
  mkdir(ROOT "/empty run", 0777);
  plot_run empty = {ROOT "/empty run", NULL};
  CHECK(plot_learning_curves(p, ROOT "/bad", NULL, NULL, &empty, 1, err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "metrics.csv"),
        "run dir without metrics.csv: %s", err);
  mkdir(ROOT "/broken", 0777);
  write_text(ROOT "/broken/metrics.csv", "step,epoch,train_loss,train_acc,lr,elapsed_s\n50,0,1.2,abc,0.1,1\n");
  plot_run broken = {ROOT "/broken", NULL};
  CHECK(plot_learning_curves(p, ROOT "/bad", NULL, NULL, &broken, 1, err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "metrics.csv:2") && strstr(err, "abc"),
        "malformed metrics.csv: %s", err);
  write_text(ROOT "/broken/metrics.csv", "step,epoch,train_loss\n50,0,1.2\n");
  CHECK(plot_learning_curves(p, ROOT "/bad", NULL, NULL, &broken, 1, err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "train_acc"),
        "metrics.csv without train_acc: %s", err);
  write_text(ROOT "/bad_confusion.csv", "class,g,q\ng,1,2\n");
  CHECK(plot_confusion(p, ROOT "/bad", NULL, NULL, ROOT "/bad_confusion.csv", err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "square"),
        "non-square confusion: %s", err);
  write_text(ROOT "/bad_confusion.csv", "class,g,q\ng,1,2\nq,-1,2\n");
  CHECK(plot_confusion(p, ROOT "/bad", NULL, NULL, ROOT "/bad_confusion.csv", err, sizeof err) == PLOT_BAD_INPUT,
        "negative count accepted");
  write_text(ROOT "/no_batch.csv", "run_dir,learning_rate,final_val_acc,best_val_acc,train_s,samples_per_s\nx,0.1,1,1,1,1\n");
  CHECK(plot_time_vs_batch(p, ROOT "/bad", NULL, NULL, ROOT "/no_batch.csv", err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "batch"),
        "sweep without batch column: %s", err);
  CHECK(plot_device_bars(p, ROOT "/bad", NULL, NULL, ROOT "/no_batch.csv", err, sizeof err) == PLOT_BAD_INPUT &&
            strstr(err, "'device'"),
        "compare.csv without device column: %s", err);
  CHECK(plot_sweep(p, ROOT "/empty run", NULL, NULL, err, sizeof err) == PLOT_BAD_INPUT && strstr(err, "sweep.csv"),
        "directory without sweep.csv: %s", err);
}

/* With PATH pointing at a directory without gnuplot: CSVs only, success. */
static void test_without_gnuplot(void) {
  const char *old = getenv("PATH");
  char *saved = old ? strdup(old) : NULL;
  mkdir(ROOT "/empty bin", 0777);
  setenv("PATH", ROOT "/empty bin", 1);
  plotter p;
  plotter_init(&p);
  p.quiet = true;
  CHECK(!plotter_has_gnuplot(&p), "gnuplot found in an empty PATH: %s", p.gnuplot);
  make_run(ROOT "/run nognuplot", 0, 2);
  write_text(ROOT "/confusion2.csv", "class,a,b\na,3,1\nb,0,4\n");
  plot_run run = {ROOT "/run nognuplot", "only"};
  char err[1024] = "";
  int rc = plot_learning_curves(&p, ROOT "/out nognuplot", NULL, NULL, &run, 1, err, sizeof err);
  rc |= plot_confusion(&p, ROOT "/out nognuplot", NULL, NULL, ROOT "/confusion2.csv", err, sizeof err);
  CHECK(rc == PLOT_OK, "without gnuplot: %s", err);
  CHECK(p.drawn == 0 && p.data_only == 5 && p.warned, "drawn %d data_only %d warned %d", p.drawn, p.data_only, p.warned);
  CHECK(exists(ROOT "/out nognuplot/train_acc.csv") && exists(ROOT "/out nognuplot/confusion_matrix.csv"),
        "CSV data missing without gnuplot");
  CHECK(!exists(ROOT "/out nognuplot/train_acc.png") && !exists(ROOT "/out nognuplot/train_acc.svg"),
        "image written without gnuplot");
  if (saved) setenv("PATH", saved, 1);
  free(saved);
}

int main(void) {
  if (system("rm -rf " ROOT) != 0) return 1;
  mkdir(ROOT, 0777);
  plotter p;
  plotter_init(&p);
  p.quiet = true;
  CHECK(plotter_has_gnuplot(&p), "gnuplot is not on PATH (scripts/bootstrap installs gnuplot-nox)");
  if (plotter_has_gnuplot(&p)) {
    test_learning_curves(&p);
    test_confusion(&p);
    test_sweep_and_compare(&p);
    CHECK(p.drawn == 4 + 1 + 5 + 1 && p.data_only == 0 && !p.warned, "drawn %d data_only %d", p.drawn, p.data_only);
  }
  test_bad_input(&p);
  test_without_gnuplot();
  return test_summary("test_plot");
}
