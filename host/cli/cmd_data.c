/* cltrain data info|export|download: inspect a dataset, write a split as CSV, fetch the
   real JSC file. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "data/data.h"
#include "data/download.h"
#include "base/safe_file.h"
#include "base/util.h"

static void data_usage(FILE *out) {
  fprintf(out,
          "usage: cltrain data info DATASET [options]\n"
          "       cltrain data export DATASET --split train|val|test|all --out FILE.csv [--raw] [options]\n"
          "       cltrain data download jsc [--url URL] [--sha256 HEX] [--out PATH]\n"
          "\n"
          "DATASET is jsc-synth (built-in generator, the default elsewhere), jsc (the real file:\n"
          "--data PATH or the download place) or a path to an HDF5 (MASE) or CSV (OpenML) file.\n"
          "Rows are de-duplicated, split 80/20 train/test by a seeded shuffle, a validation part\n"
          "is held out of train, and every split is standardized with the training mean/std.\n"
          "A CSV file with a 'split' column (train, val, test) gives its own splits instead.\n"
          "\n"
          "  info       rows per split, class balance, per-feature mean/std/min/max (raw units)\n"
          "  export     one split as CSV: the 16 feature columns then 'label' (g q w z t);\n"
          "             standardized values unless --raw (physical units); --out - for stdout;\n"
          "             --split all: every row, with a 'split' column (loads back as these splits)\n"
          "  download   fetch the JSC HDF5 file with progress, resuming a partial download,\n"
          "             print its SHA-256 and check it against --sha256 when given\n"
          "\n"
          "dataset options:\n"
          "%s"
          "download options:\n"
          "  --url URL            source (default: the file MASE downloads)\n"
          "  --sha256 HEX         expected checksum; a mismatch fails and removes the file\n"
          "  --out PATH           destination (default: where DATASET 'jsc' is looked for first)\n"
          "\n"
          "  -h, --help           this text\n",
          data_options_help);
}

enum { OPT_SPLIT = 1000, OPT_OUT, OPT_RAW, OPT_URL, OPT_SHA256, OPT_DATA_FIRST };

static const struct option long_options[] = {
    {"split", required_argument, NULL, OPT_SPLIT},
    {"out", required_argument, NULL, OPT_OUT},
    {"raw", no_argument, NULL, OPT_RAW},
    {"url", required_argument, NULL, OPT_URL},
    {"sha256", required_argument, NULL, OPT_SHA256},
    {"data", required_argument, NULL, OPT_DATA_FIRST + 0},
    {"val-fraction", required_argument, NULL, OPT_DATA_FIRST + 1},
    {"split-seed", required_argument, NULL, OPT_DATA_FIRST + 2},
    {"synth-size", required_argument, NULL, OPT_DATA_FIRST + 3},
    {"synth-seed", required_argument, NULL, OPT_DATA_FIRST + 4},
    {"no-cache", no_argument, NULL, OPT_DATA_FIRST + 5},
    {NULL, 0, NULL, 0}};

typedef struct {
  data_options data;
  const char *split, *out, *url, *sha256;
  bool raw;
  bool any_dataset_option;
} data_args;

static void load_or_die(const char *spec, const data_options *opt, dataset *d) {
  char err[1024];
  if (dataset_load(spec, opt, d, err, sizeof err)) cli_usage_exit("%s", err);
}

static void print_class_table(const dataset *d) {
  const data_split *s[3] = {&d->train, &d->val, &d->test};
  printf("\nclass balance     %16s %16s %16s\n", "train", "val", "test");
  for (int k = 0; k < JSC_N_CLASSES; k++) {
    printf("  %-15s", jsc_class_names[k]);
    for (int i = 0; i < 3; i++) {
      size_t n = 0;
      for (size_t r = 0; r < s[i]->rows; r++) n += s[i]->y[r] == k;
      printf(" %9zu %5.1f%%", n, s[i]->rows ? 100.0 * (double)n / (double)s[i]->rows : 0.0);
    }
    printf("\n");
  }
}

/* Per-feature statistics over every split, in raw units (the scaling undone). */
static void print_feature_table(const dataset *d) {
  const data_split *s[3] = {&d->train, &d->val, &d->test};
  printf("\nfeature (raw units, all rows)  %12s %12s %12s %12s\n", "mean", "std", "min", "max");
  for (int j = 0; j < JSC_N_FEATURES; j++) {
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    size_t n = 0;
    for (int i = 0; i < 3; i++)
      for (size_t r = 0; r < s[i]->rows; r++) {
        double v = (double)s[i]->x[r * JSC_N_FEATURES + j] * d->std[j] + d->mean[j];
        sum += v;
        sum2 += v * v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        n++;
      }
    double mean = sum / (double)n, var = sum2 / (double)n - mean * mean;
    printf("  %-28s %12.5g %12.5g %12.5g %12.5g\n", jsc_feature_names[j], mean, sqrt(var > 0 ? var : 0), lo, hi);
  }
}

static int data_info(const char *spec, const data_args *a) {
  dataset d;
  load_or_die(spec, &a->data, &d);
  size_t total = d.train.rows + d.val.rows + d.test.rows;
  printf("dataset           %s\n", d.name);
  printf("source            %s\n", d.source);
  printf("rows              %zu read, %zu duplicates dropped, %zu used\n", d.raw_rows, d.duplicates_dropped,
         total);
  printf("splits            train %zu, val %zu, test %zu (split seed %llu, test %.2f, val %.2f of train)\n",
         d.train.rows, d.val.rows, d.test.rows, (unsigned long long)a->data.split_seed, a->data.test_fraction,
         a->data.val_fraction);
  printf("features          %d, classes %d (", d.n_features, d.n_classes);
  for (int k = 0; k < JSC_N_CLASSES; k++) printf("%s%s", k ? " " : "", jsc_class_names[k]);
  printf(")\n");
  print_class_table(&d);
  print_feature_table(&d);
  dataset_free(&d);
  return EXIT_OK;
}

/* The rows of split S as CSV lines; SPLIT_NAME not NULL: a last `split` column. */
static size_t write_rows(FILE *f, const dataset *d, const data_split *s, bool raw, const char *split_name) {
  static const char *const lower[JSC_N_CLASSES] = {"g", "q", "w", "z", "t"};
  for (size_t r = 0; r < s->rows; r++) {
    const float *x = s->x + r * JSC_N_FEATURES;
    for (int j = 0; j < JSC_N_FEATURES; j++) {
      float v = raw ? (float)((double)x[j] * d->std[j] + d->mean[j]) : x[j];
      fprintf(f, "%.9g,", (double)v);
    }
    fprintf(f, "%s%s%s\n", lower[s->y[r]], split_name ? "," : "", split_name ? split_name : "");
  }
  return s->rows;
}

static int data_export(const char *spec, const data_args *a) {
  if (!a->split) cli_usage_exit("data export: --split train|val|test|all is required");
  if (!a->out) cli_usage_exit("data export: --out FILE.csv is required ('-' for standard output)");
  bool all = strcmp(a->split, "all") == 0;
  if (!all && strcmp(a->split, "train") && strcmp(a->split, "val") && strcmp(a->split, "test"))
    cli_usage_exit("data export: --split: '%s' is not train, val, test or all", a->split);
  dataset d;
  load_or_die(spec, &a->data, &d);
  bool to_stdout = strcmp(a->out, "-") == 0;
  /* Same device and inode, not the same name: writing would truncate the input. */
  if (!to_stdout && same_file(d.source, a->out))
    cli_usage_exit("data export: --out '%s' is the input file '%s'", a->out, d.source);
  FILE *f = to_stdout ? stdout : fopen(a->out, "w");
  if (!f) cli_usage_exit("data export: cannot write '%s': %s", a->out, strerror(errno));
  for (int j = 0; j < JSC_N_FEATURES; j++) fprintf(f, "%s,", jsc_feature_names[j]);
  /* --split all: every row, with a split column, so the file loads back with these very
     splits (data/README.md "Predefined splits"). */
  fprintf(f, "label%s\n", all ? ",split" : "");
  size_t rows = 0;
  if (all) {
    static const char *const names[3] = {"train", "val", "test"};
    for (int i = 0; i < 3; i++) rows += write_rows(f, &d, dataset_split(&d, names[i]), a->raw, names[i]);
  } else {
    rows = write_rows(f, &d, dataset_split(&d, a->split), a->raw, NULL);
  }
  bool failed = ferror(f) != 0;
  if (!to_stdout && fclose(f) != 0) failed = true;
  if (to_stdout && fflush(f) != 0) failed = true;
  if (failed) CLI_FAIL("writing '%s' failed: %s", a->out, strerror(errno));
  if (!to_stdout)
    fprintf(stderr, "wrote %zu rows of %s (%s split%s) to %s\n", rows, d.name, all ? "every" : a->split,
            a->raw ? ", raw units" : ", standardized", a->out);
  dataset_free(&d);
  return EXIT_OK;
}

static int data_download(const char *what, const data_args *a) {
  if (strcmp(what, "jsc") != 0) cli_usage_exit("data download: only 'jsc' can be downloaded (got '%s')", what);
  if (a->any_dataset_option) cli_usage_exit("data download: dataset options do not apply to download");
  download_request req = {.url = a->url ? a->url : JSC_DOWNLOAD_URL, .sha256 = a->sha256, .out = a->out};
  char paths[DATA_JSC_MAX_PATHS][1024];
  if (!req.out) {
    data_jsc_default_paths(paths, DATA_JSC_MAX_PATHS);
    req.out = paths[0];
  }
  /* The path is quoted in messages and becomes a file name: no control characters (an
     --out argument was checked by main; the default comes from the environment). */
  if (find_control_char(req.out)) cli_usage_exit("data download: --out: the path contains a control character");
  error e = {0};
  if (download_run(&req, &e)) return error_report(&e);
  return EXIT_OK;
}

static int data_option(void *ctx, int id, const char *arg, error *err) {
  data_args *a = ctx;
  switch (id) {
    case OPT_SPLIT: a->split = arg; return 0;
    case OPT_OUT: a->out = arg; return 0;
    case OPT_RAW: a->raw = true; return 0;
    case OPT_URL: a->url = arg; return 0;
    case OPT_SHA256: a->sha256 = arg; return 0;
  }
  for (const struct option *o = long_options; o->name; o++) {
    if (o->val != id) continue;
    a->any_dataset_option = true;
    return data_options_apply(&a->data, o->name, arg, err) < 0 ? -1 : 0;
  }
  return ERR_RUNTIME(err, "option id %d is not a data option", id);
}

int cmd_data(int argc, char **argv) {
  data_args a;
  memset(&a, 0, sizeof a);
  data_options_default(&a.data);
  const struct option *tables[] = {long_options, NULL};
  const cli_command c = {.cmd = "data", .tables = tables, .help_fn = data_usage, .apply = data_option, .ctx = &a};
  const int first = cli_parse(argc, argv, &c);
  if (first >= argc) cli_usage_exit("data: missing action: info, export or download (see 'cltrain data --help')");
  const char *action = argv[first];
  if (first + 1 >= argc) cli_usage_exit("data %s: missing DATASET (jsc-synth, jsc or a file path)", action);
  if (first + 2 < argc) cli_usage_exit("data %s: unexpected argument '%s'", action, argv[first + 2]);
  const char *spec = argv[first + 1];
  bool is_download = strcmp(action, "download") == 0;
  if (!is_download && (a.url || a.sha256)) cli_usage_exit("data %s: --url and --sha256 belong to 'data download'", action);
  if (strcmp(action, "info") == 0) {
    if (a.split || a.out || a.raw) cli_usage_exit("data info: --split, --out and --raw belong to 'data export'");
    return data_info(spec, &a);
  }
  if (strcmp(action, "export") == 0) return data_export(spec, &a);
  if (is_download) {
    if (a.split || a.raw) cli_usage_exit("data download: --split and --raw belong to 'data export'");
    return data_download(spec, &a);
  }
  cli_usage_exit("data: unknown action '%s' (expected info, export or download)", action);
}
