/* cltrain compare MODEL DATASET --devices all|SPEC,SPEC [options]: the same training (same
   configuration and seed, the data set loaded once) on each device through train_run; a
   table, compare.csv and the device_compare bar chart. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "base/csvread.h"
#include "model/model.h"
#include "study/multirun_args.h"
#include "plot/plot.h"
#include "cl/runtime.h"
#include "train/trainer.h"
#include "base/safe_file.h"
#include "base/util.h"

static const char compare_help[] =
    "usage: cltrain compare MODEL DATASET --devices all|SPEC,SPEC,... [options]\n"
    "\n"
    "Train MODEL on DATASET once per device with the same configuration and seed (the\n"
    "data set is loaded once) and compare: epoch time, training samples/s, final\n"
    "validation accuracy and how far each device's validation accuracy strays from the\n"
    "first device's. Example (two PoCL devices on one CPU):\n"
    "  POCL_DEVICES=\"pthread basic\" cltrain compare jsc-tiny jsc-synth --devices all\n"
    "\n"
    "Writes <project-dir>/compare_<model>_<dataset>_<YYYYmmdd-HHMMSS>/ (or --out DIR):\n"
    "  one run directory per device, compare.csv\n"
    "  (device,epoch_s,samples_per_s,final_val_acc,max_abs_diff_val_acc) and the figure\n"
    "  device_compare (.png/.svg/.csv; CSV only without gnuplot).\n"
    "  epoch_s: mean wall time of an epoch (training steps, validation, checkpoints);\n"
    "  samples_per_s: training samples per second of training-step time;\n"
    "  max_abs_diff_val_acc: largest |val_acc - the first device's val_acc| over the\n"
    "  epochs both runs finished (0 for the first device).\n"
    "\n"
    "compare options:\n"
    "  --devices LIST           'all' (every OpenCL device) or device specs (flat index,\n"
    "                           P:D or a name substring) separated by commas\n"
    "  --out DIR                the compare directory (created)\n"
    "  --no-plot                write compare.csv but no figure\n"
    "  --prefix NAME            figure file name NAME_device_compare.png\n";

enum { OPT_DEVICES = MULTIRUN_OWN_ID_BASE };

#define MAX_DEVICES 32

typedef struct {
  multirun_args m;
  char devices[1024];
} compare_args;

static void compare_option(void *ctx, int id, const char *arg) {
  compare_args *a = ctx;
  if (id != OPT_DEVICES) die_usage("compare: internal: option id %d", id);
  if (!arg[0] || strlen(arg) >= sizeof a->devices) die_usage("compare: --devices: empty or too long");
  snprintf(a->devices, sizeof a->devices, "%s", arg);
}

static void parse_args(int argc, char **argv, compare_args *a) {
  memset(a, 0, sizeof *a);
  const struct option own[] = {{"devices", required_argument, NULL, OPT_DEVICES}};
  const multirun_parser p = {
      .command = "compare",
      .help = compare_help,
      .options_title = "training options (the same on every device):",
      .usage = "cltrain compare MODEL DATASET --devices all",
      .own = own,
      .n_own = sizeof own / sizeof *own,
      .own_option = compare_option,
      .ctx = a,
  };
  multirun_parse(argc, argv, &p, &a->m);
  char err[1024];
  if (!a->devices[0]) die_usage("compare: needs --devices all or --devices SPEC,SPEC,...");
  if (a->m.cfg.given[TOPT_DEVICE]) die_usage("compare: use --devices (a list), not --device");
  if (a->m.cfg.resume[0]) die_usage("compare: --resume does not apply to a comparison");
  if (train_config_validate(&a->m.cfg, err, sizeof err)) die_usage("compare: %s", err);
}

/* Resolve --devices into flat device indices (every spec checked before any training). */
static int resolve_devices(const char *list, int *out) {
  device_list devs;
  device_list_get(&devs);
  if (devs.count == 0) die_usage("compare: no OpenCL device found");
  int n = 0;
  if (strcmp(list, "all") == 0) {
    for (int i = 0; i < devs.count && n < MAX_DEVICES; i++) out[n++] = i;
  } else {
    char items[MAX_DEVICES][LIST_ITEM_MAX], err[512];
    n = split_list(list, items, MAX_DEVICES);
    if (n <= 0) die_usage("compare: --devices '%s' is not 'all' or a comma-separated list of devices", list);
    for (int i = 0; i < n; i++) {
      out[i] = device_select(&devs, items[i], err, sizeof err);
      if (out[i] < 0) die_usage("compare: %s", err);
    }
  }
  device_list_free(&devs);
  return n;
}

static void new_compare_dir(const compare_args *a, char *dir, size_t n) {
  char model[160], data[TRAIN_PATH_MAX], err[1024];
  model_spec m;
  if (model_load(a->m.cfg.model, &m, err, sizeof err) != 0) die_usage("compare: %s", err);
  snprintf(model, sizeof model, "%s", m.name);
  model_free(&m);
  const char *base = strrchr(a->m.cfg.dataset, '/');
  snprintf(data, sizeof data, "%s", base ? base + 1 : a->m.cfg.dataset);
  char *dot = strrchr(data, '.');
  if (dot && dot != data) *dot = '\0';
  char stem[TRAIN_PATH_MAX + 200];
  snprintf(stem, sizeof stem, "compare_%s_%s", model, data);
  if (free_stamped_name(dir, n, a->m.cfg.project_dir, stem) != 0) die_usage("compare: directory name too long");
}

/* val_acc per epoch of a run directory (NULL and 0 when unreadable). */
static double *read_val_acc(const char *run_dir, size_t *n) {
  char path[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, run_dir, "epochs.csv");
  csv_table t;
  double *acc = NULL;
  *n = 0;
  if (csv_read(path, &t, err, sizeof err) != 0) return NULL;
  if (csv_numbers(&t, "val_acc", &acc, err, sizeof err) == 0) *n = t.nrows;
  csv_free(&t);
  return acc;
}

typedef struct {
  char name[300];
  train_result res;
  double max_diff;
} compare_row;

static void write_csv(const char *path, const compare_row *rows, int n) {
  FILE *f = fopen(path, "w");
  if (!f) die_usage("compare: cannot write %s: %s", path, strerror(errno));
  fputs("device,epoch_s,samples_per_s,final_val_acc,max_abs_diff_val_acc\n", f);
  for (int i = 0; i < n; i++) {
    csv_put_field(f, rows[i].name);
    fprintf(f, ",%.6g,%.6g,%.6g,%.6g\n", rows[i].res.epoch_seconds, rows[i].res.samples_per_s,
            rows[i].res.final_val_acc, rows[i].max_diff);
  }
  if (fclose(f) != 0) DIE("compare: writing %s failed", path);
}

int cmd_compare(int argc, char **argv) {
  compare_args *a = xmalloc(sizeof *a);
  parse_args(argc, argv, a);
  int devs[MAX_DEVICES];
  const int n = resolve_devices(a->devices, devs);
  char dir[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  if (a->m.out[0]) snprintf(dir, sizeof dir, "%s", a->m.out);
  else new_compare_dir(a, dir, sizeof dir);

  /* Check the model before loading data; the trainer checks the rest. */
  model_spec m;
  if (model_load(a->m.cfg.model, &m, err, sizeof err) != 0) die_usage("compare: %s", err);
  model_free(&m);
  data_options opt;
  train_data_options(&a->m.cfg, &opt);
  dataset ds;
  if (!a->m.cfg.quiet) printf("loading %s ...\n", a->m.cfg.dataset);
  fflush(stdout);
  if (dataset_load(a->m.cfg.dataset, &opt, &ds, err, sizeof err)) die_usage("compare: %s", err);
  /* A batch larger than the data is refused before the compare directory exists. */
  if (train_check_data(&a->m.cfg, &ds, err, sizeof err)) die_usage("compare: %s", err);
  if (make_dirs(dir, err, sizeof err) != 0) die_usage("compare: %s", err);
  if (dir_lock(dir, err, sizeof err) < 0) die_usage("compare: %s", err); /* held until exit */

  compare_row *rows = xcalloc((size_t)n, sizeof *rows);
  double *first_acc = NULL;
  size_t first_n = 0;
  int rc = EXIT_OK;
  for (int i = 0; i < n && rc == EXIT_OK; i++) {
    train_config cfg = a->m.cfg;
    char spec[32];
    snprintf(spec, sizeof spec, "%d", devs[i]);
    if (train_config_set_opt(&cfg, TOPT_DEVICE, spec, err, sizeof err) ||
        train_config_set_opt(&cfg, TOPT_PROJECT_DIR, dir, err, sizeof err))
      die_usage("compare: %s", err);
    printf("%s== device %d of %d (index %d) ==\n", i ? "\n" : "", i + 1, n, devs[i]);
    fflush(stdout);
    rc = train_run_with_data(&cfg, &ds, &rows[i].res);
    snprintf(rows[i].name, sizeof rows[i].name, "%s", rows[i].res.device);
    for (int j = 0; j < i; j++)
      if (strcmp(rows[j].res.device, rows[i].res.device) == 0)
        snprintf(rows[i].name, sizeof rows[i].name, "%s (device %d)", rows[i].res.device, devs[i]);
    size_t acc_n;
    double *acc = read_val_acc(rows[i].res.run_dir, &acc_n);
    if (i == 0) {
      first_acc = acc;
      first_n = acc_n;
      acc = NULL;
    } else {
      for (size_t e = 0; e < acc_n && e < first_n; e++)
        rows[i].max_diff = fmax(rows[i].max_diff, fabs(acc[e] - first_acc[e]));
      if (acc_n == 0 || first_n == 0) rows[i].max_diff = NAN;
    }
    free(acc);
  }
  free(first_acc);
  dataset_free(&ds);
  if (rc != EXIT_OK) {
    fprintf(stderr, "cltrain: compare: a run ended with code %d; no comparison written\n", rc);
    free(rows);
    free(a);
    return rc;
  }

  printf("\n%-48s %10s %12s %9s %12s %8s\n", "device", "epoch_s", "samples/s", "val_acc", "max|dacc|", "speed");
  for (int i = 0; i < n; i++) {
    const train_result *r = &rows[i].res;
    printf("%-48.48s %10.3f %12.0f %9.4f %12.4g %7.2fx\n", rows[i].name, r->epoch_seconds, r->samples_per_s,
           r->final_val_acc, rows[i].max_diff, r->samples_per_s / rows[0].res.samples_per_s);
  }
  char csv[RUN_PATH_MAX];
  run_path(csv, sizeof csv, dir, "compare.csv");
  write_csv(csv, rows, n);
  printf("\nwrote %s\n", csv);
  if (!a->m.no_plot) {
    plotter p;
    plotter_init(&p);
    p.quiet = a->m.cfg.quiet;
    char title[512];
    snprintf(title, sizeof title, "%s on %s, batch %ld, %ld epochs", rows[0].res.model, rows[0].res.dataset,
             a->m.cfg.batch_size, a->m.cfg.max_epochs);
    rc = plot_device_bars(&p, dir, a->m.prefix[0] ? a->m.prefix : NULL, title, csv, err, sizeof err);
    if (rc != PLOT_OK) fprintf(stderr, "cltrain: error: compare: %s\n", err);
  }
  free(rows);
  free(a);
  return rc;
}
