/* The run-file CSV reader, legend labels and run-setting lookup, on hand-written files
   whose expected contents are spelled out here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/csvread.h"
#include "plot/plot.h"
#include "testutil.h"

static const char *DIR_ = "test_csvread_files";

static const char *write_file(const char *name, const char *text) { return test_write_file(DIR_, name, text); }

/* Read TEXT as a CSV file; returns csv_read's result, error text in err. */
static int read_text(const char *text, csv_table *t, char *err, size_t n) {
  return csv_read(write_file("t.csv", text), t, err, n);
}

static void test_good_files(void) {
  csv_table t;
  char err[512] = "";
  /* Quoting, escaped quotes, embedded comma and newline, CRLF, blank line, BOM, spaces. */
  int rc = read_text("\xef\xbb\xbf" "device, epoch_s ,note\r\n"
                     "\"a, b\",1.5,\"say \"\"hi\"\"\"\r\n"
                     "\r\n"
                     " plain , 2e-3 ,\"two\nlines\"\n"
                     "last,nan,x",  /* no final newline */
                     &t, err, sizeof err);
  CHECK(rc == 0, "read failed: %s", err);
  if (rc == 0) {
    CHECK(t.ncols == 3 && t.nrows == 3, "shape %zux%zu, want 3x3", t.nrows, t.ncols);
    CHECK(strcmp(t.header[0], "device") == 0, "BOM not stripped: '%s'", t.header[0]);
    CHECK(csv_col(&t, "epoch_s") == 1, "trimmed header name not found");
    CHECK(csv_col(&t, "missing") == -1, "absent column found");
    CHECK(strcmp(csv_cell(&t, 0, 0), "a, b") == 0, "cell 0,0 = '%s'", csv_cell(&t, 0, 0));
    CHECK(strcmp(csv_cell(&t, 0, 2), "say \"hi\"") == 0, "cell 0,2 = '%s'", csv_cell(&t, 0, 2));
    CHECK(strcmp(csv_cell(&t, 1, 0), "plain") == 0, "unquoted field not trimmed: '%s'",
          csv_cell(&t, 1, 0));
    CHECK(strcmp(csv_cell(&t, 1, 2), "two\nlines") == 0, "multi-line field '%s'", csv_cell(&t, 1, 2));
    CHECK(t.lines[0] == 2 && t.lines[1] == 4 && t.lines[2] == 6, "line numbers %zu %zu %zu",
          t.lines[0], t.lines[1], t.lines[2]);
    double *v = NULL;
    CHECK(csv_numbers(&t, "epoch_s", &v, err, sizeof err) == 0, "numbers: %s", err);
    if (v) {
      CHECK(v[0] == 1.5 && v[1] == 2e-3 && isnan(v[2]), "values %g %g %g", v[0], v[1], v[2]);
      free(v);
    }
    v = NULL;
    CHECK(csv_numbers(&t, "device", &v, err, sizeof err) != 0, "text column read as numbers");
    CHECK(strstr(err, ":2:") && strstr(err, "a, b"), "error does not name line and cell: %s", err);
    free(v);
    const char *need[] = {"device", "nope", NULL};
    CHECK(csv_require(&t, need, err, sizeof err) != 0 && strstr(err, "'nope'"),
          "require missed a column: %s", err);
    csv_free(&t);
  }
  rc = read_text("a,b\n", &t, err, sizeof err);
  CHECK(rc == 0 && t.nrows == 0 && t.ncols == 2, "header-only file: rc %d rows %zu", rc, t.nrows);
  if (rc == 0) csv_free(&t);
}

static void test_bad_files(void) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"", "empty file"},
      {"\n\n", "empty file"},
      {"a,b\n1,2\n3\n", ":3: 1 fields where the header has 2"},
      {"a,b\n1,2,3\n", ":2: 3 fields"},
      {"a,b\n\"open,2\n", ":2: unterminated quoted field"},
      {"a,b\n\"x\"y,2\n", "text after a closing quote"},
      {"a,b\nx\"y,2\n", "quote inside an unquoted field"},
      {"a,,c\n1,2,3\n", "column 2 has an empty name"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    csv_table t;
    char err[512] = "";
    int rc = read_text(cases[i].text, &t, err, sizeof err);
    CHECK(rc != 0, "case %zu accepted", i);
    CHECK(strstr(err, cases[i].want) != NULL, "case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
    CHECK(strstr(err, "t.csv") != NULL, "case %zu: error does not name the file: %s", i, err);
  }
  csv_table t;
  char err[256] = "";
  FILE *f = fopen("test_csvread_files/bin.csv", "wb");
  fwrite("a,b\n\0\1,2\n", 1, 10, f);
  fclose(f);
  CHECK(csv_read("test_csvread_files/bin.csv", &t, err, sizeof err) != 0 && strstr(err, "NUL"),
        "binary file accepted: %s", err);
  CHECK(csv_read("test_csvread_files/none.csv", &t, err, sizeof err) != 0 && strstr(err, "none.csv"),
        "missing file: %s", err);
}

static void test_put_field(void) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  csv_put_field(m, "plain");
  fputc('|', m);
  csv_put_field(m, "a,b");
  fputc('|', m);
  csv_put_field(m, "q\"q");
  fclose(m);
  CHECK(strcmp(text, "plain|\"a,b\"|\"q\"\"q\"") == 0, "got %s", text);
  free(text);
}

static void test_labels(void) {
  static const char *const cases[][3] = {
      {"batch_size", "256", "batch 256"},     {"batch-size", "32", "batch 32"},
      {"learning-rate", "0.001", "lr 1e-3"},   {"learning_rate", "1e-05", "lr 1e-5"},
      {"lr", "0.01", "lr 1e-2"},               {"learning-rate", "0.0025", "lr 0.0025"},
      {"learning-rate", "5e-4", "lr 5e-4"},    {"learning-rate", "0.1", "lr 0.1"},
      {"max-epochs", "20", "epochs 20"},       {"--weight-decay", "0.0005", "wd 5e-4"},
      {"model", "jsc-tiny", "jsc-tiny"},       {"Optimizer", "adamw", "adamw"},
      {"device", "pthread cpu", "pthread cpu"}, {"dropout", "0.5", "dropout 0.5"},
      {"seed", "7", "seed 7"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[64];
    plot_label(buf, sizeof buf, cases[i][0], cases[i][1]);
    CHECK(strcmp(buf, cases[i][2]) == 0, "label(%s, %s) = '%s', want '%s'", cases[i][0],
          cases[i][1], buf, cases[i][2]);
  }
}

static void test_run_setting(void) {
  mkdir("test_csvread_files/run", 0777);
  write_file("run/summary.json",
             "{\"model\": \"jsc-toy\", \"dataset\":\"jsc-synth\", \"params\": 327,\n"
             " \"device\": \"pthread-Intel(R) \\\"Xeon\\\"\", \"note\": \"batch_size\"}\n");
  write_file("run/config.txt",
             "name            default   override  effective\n"
             "--------------  --------  --------  ---------\n"
             "batch-size      128       256       256\n"
             "| learning-rate | 1e-05 | 0.001 | 0.001 |\n"
             "max-epochs,20,,5\n");
  static const char *const cases[][2] = {
      {"model", "jsc-toy"}, {"params", "327"}, {"device", "pthread-Intel(R) \"Xeon\""},
      {"batch_size", "256"}, {"learning-rate", "0.001"}, {"max_epochs", "5"},
  };
  char value[128], err[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = plot_run_setting("test_csvread_files/run", cases[i][0], value, sizeof value, err, sizeof err);
    CHECK(rc == 0 && strcmp(value, cases[i][1]) == 0, "setting %s: rc %d '%s' (%s), want '%s'",
          cases[i][0], rc, rc == 0 ? value : "", rc ? err : "", cases[i][1]);
  }
  CHECK(plot_run_setting("test_csvread_files/run", "optimizer", value, sizeof value, err, sizeof err) != 0 &&
            strstr(err, "'optimizer'"),
        "absent setting found: %s", err);
  CHECK(plot_run_setting("test_csvread_files/nowhere", "model", value, sizeof value, err, sizeof err) != 0,
        "setting read from a missing directory");
}

int main(void) {
  mkdir(DIR_, 0777);
  test_good_files();
  test_bad_files();
  test_put_field();
  test_labels();
  test_run_setting();
  return test_summary("test_csvread");
}
