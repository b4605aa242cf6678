/* cltrain plot: redraw figures from existing run, sweep or compare directories. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "plot/plot.h"
#include "base/util.h"

static void plot_usage(FILE *out) {
  fprintf(out,
          "usage: cltrain plot RUN_DIR... [options]\n"
          "       cltrain plot SWEEP_DIR | COMPARE_DIR [options]\n"
          "\n"
          "Draw figures from finished (or running) runs with gnuplot: PNG and SVG, plus the\n"
          "data of each figure as CSV. Without gnuplot on PATH only the CSVs are written.\n"
          "\n"
          "  RUN_DIR      holds metrics.csv (and epochs.csv): train_acc, train_loss (vs step),\n"
          "               val_acc, val_loss (vs epoch), one line per run; a run with\n"
          "               confusion.csv also gets its confusion_matrix heat map, and one\n"
          "               with roc.csv (written by 'cltrain test') its roc figure\n"
          "  SWEEP_DIR    holds sweep.csv: the curves of its runs labelled by the varied\n"
          "               values, and time_vs_batch when the batch size varies\n"
          "  COMPARE_DIR  holds compare.csv: device_compare bars\n"
          "\n"
          "options:\n"
          "  -o, --out DIR       where figures go (default: the directory itself when one\n"
          "                      is given, else ./figures)\n"
          "  -l, --label KEY[,KEY...]\n"
          "                      legend label from each run's settings (summary.json or\n"
          "                      config.txt), e.g. --label batch-size gives 'batch 256';\n"
          "                      default: the run directory's name\n"
          "  -p, --prefix NAME   figure file names start with NAME_ (default: none)\n"
          "  -t, --title TEXT    added to every figure title\n"
          "  -q, --quiet         do not list the files written\n"
          "  -h, --help          this text\n");
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool has_file(const char *dir, const char *name) {
  char path[4096];
  struct stat st;
  int w = snprintf(path, sizeof path, "%s/%s", dir, name);
  return w > 0 && (size_t)w < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Last path component of DIR, trailing slashes ignored. */
static void base_name(const char *dir, char *buf, size_t n) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  size_t start = len;
  while (start > 0 && dir[start - 1] != '/') start--;
  snprintf(buf, n, "%.*s", (int)(len - start), dir + start);
}

/* Exit on a plot status: bad input is a usage error (exit 2), anything else exit 1. */
static int check(int rc, const char *err) {
  if (rc == PLOT_BAD_INPUT) cli_usage_exit("plot: %s", err);
  if (rc != PLOT_OK) fprintf(stderr, "cltrain: error: plot: %s\n", err);
  return rc;
}

/* "batch 256, lr 1e-3" from the comma-separated setting names in KEYS. */
static void run_label(const char *dir, const char *keys, char *buf, size_t n) {
  char list[256], err[512];
  snprintf(list, sizeof list, "%s", keys);
  size_t used = 0;
  buf[0] = '\0';
  for (char *save = NULL, *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    char value[256], part[300];
    if (plot_run_setting(dir, k, value, sizeof value, err, sizeof err) != 0)
      cli_usage_exit("plot: --label: %s", err);
    plot_label(part, sizeof part, k, value);
    int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", part);
    if (w < 0 || (size_t)w >= n - used) break;
    used += (size_t)w;
  }
}

typedef struct {
  const char *out, *label_keys, *prefix, *title;
  bool quiet;
} plot_args;

static int plot_option(void *ctx, int id, const char *arg, error *err) {
  plot_args *a = ctx;
  switch (id) {
    case 'o': a->out = arg; return 0;
    case 'l': a->label_keys = arg; return 0;
    case 'p': a->prefix = arg; return 0;
    case 't': a->title = arg; return 0;
    case 'q': a->quiet = true; return 0;
    default: return ERR_RUNTIME(err, "option id %d is not a plot option", id);
  }
}

int cmd_plot(int argc, char **argv) {
  const char *out = NULL, *label_keys = NULL, *prefix = NULL, *title = NULL;
  bool quiet = false;
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},   {"label", required_argument, NULL, 'l'},
      {"prefix", required_argument, NULL, 'p'}, {"title", required_argument, NULL, 't'},
      {"quiet", no_argument, NULL, 'q'},       {NULL, 0, NULL, 0}};
  plot_args a = {0};
  const struct option *tables[] = {opts, NULL};
  const cli_command c = {.cmd = "plot", .tables = tables, .shortopts = "o:l:p:t:q", .help_fn = plot_usage,
                         .apply = plot_option, .ctx = &a};
  const int first = cli_parse(argc, argv, &c);
  out = a.out, label_keys = a.label_keys, prefix = a.prefix, title = a.title, quiet = a.quiet;
  int n = argc - first;
  char **dirs = argv + first;
  if (n < 1)
    cli_usage_exit("plot: give at least one run, sweep or compare directory (see 'cltrain plot --help')");
  if (out && !*out) cli_usage_exit("plot: --out: empty directory name");
  if (label_keys && !*label_keys) cli_usage_exit("plot: --label: empty setting name");
  for (int i = 0; i < n; i++)
    if (!is_dir(dirs[i])) cli_usage_exit("plot: %s: no such directory", dirs[i]);

  plotter p;
  plotter_init(&p);
  p.quiet = quiet;
  char err[1024];
  bool single = n == 1 && !has_file(dirs[0], "metrics.csv");
  if (single && has_file(dirs[0], "sweep.csv")) {
    if (label_keys)
      cli_usage_exit("plot: --label is for run directories; a sweep labels its runs by what it varies");
    return check(plot_sweep(&p, dirs[0], out, prefix, err, sizeof err), err);
  }
  if (single && has_file(dirs[0], "compare.csv")) {
    char path[4096];
    snprintf(path, sizeof path, "%s/compare.csv", dirs[0]);
    int rc = plot_device_bars(&p, out ? out : dirs[0], prefix, title, path, err, sizeof err);
    return check(rc, err);
  }

  /* Run directories. */
  plot_run *runs = xcalloc((size_t)n, sizeof *runs);
  char (*labels)[512] = xcalloc((size_t)n, sizeof *labels);
  for (int i = 0; i < n; i++) {
    if (!has_file(dirs[i], "metrics.csv"))
      cli_usage_exit("plot: %s: not a run directory (no metrics.csv)%s", dirs[i],
                has_file(dirs[i], "sweep.csv") || has_file(dirs[i], "compare.csv")
                    ? "; give a sweep or compare directory on its own" : "");
    if (label_keys) run_label(dirs[i], label_keys, labels[i], sizeof labels[i]);
    runs[i] = (plot_run){dirs[i], label_keys ? labels[i] : NULL};
  }
  if (!out) out = n == 1 ? dirs[0] : "figures";
  int rc = plot_learning_curves(&p, out, prefix, title, runs, (size_t)n, err, sizeof err);
  check(rc, err);
  for (int i = 0; rc == PLOT_OK && i < n; i++) {
    char path[4096], run_prefix[512];
    /* Several runs share OUT: name each matrix and ROC figure after its run. */
    char base[256];
    base_name(dirs[i], base, sizeof base);
    if (n > 1 && prefix) snprintf(run_prefix, sizeof run_prefix, "%s_%s", prefix, base);
    else snprintf(run_prefix, sizeof run_prefix, "%s", n > 1 ? base : prefix ? prefix : "");
    const char *label = runs[i].label ? runs[i].label : base;
    if (has_file(dirs[i], "confusion.csv")) {
      snprintf(path, sizeof path, "%s/confusion.csv", dirs[i]);
      rc = plot_confusion(&p, out, run_prefix, label, path, err, sizeof err);
      check(rc, err);
    }
    if (has_file(dirs[i], "roc.csv")) {
      snprintf(path, sizeof path, "%s/roc.csv", dirs[i]);
      rc = plot_roc(&p, out, run_prefix, label, path, err, sizeof err);
      check(rc, err);
    }
  }
  free(runs);
  free(labels);
  return rc;
}
