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

#include "cli/cli_args.h"
#include "cli/cli_ranks.h"
#include "dist/dist.h"
#include "cli/commands.h"
#include "base/csvread.h"
#include "model/model.h"
#include "cli/cli_multirun.h"
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
    "  (device,epoch_s,samples_per_s,compile_s,launch_us,launches_per_step,final_val_acc,\n"
    "  max_abs_diff_val_acc,status,error) and the figure device_compare (.png/.svg/.csv; CSV only without gnuplot).\n"
    "  epoch_s: median wall time of an epoch (training steps, validation, checkpoints);\n"
    "  samples_per_s: median over the epochs of training samples per second of\n"
    "  training-step time; compile_s: kernel and GEMM compilation, done before any clock\n"
    "  starts and kept out of the other two; launch_us: the device's fixed cost of one kernel\n"
    "  launch, measured (a small model's step is a handful of launches, so on one CPU two\n"
    "  OpenCL implementations can differ by this alone); launches_per_step: kernel launches\n"
    "  and CLBlast calls of one training step; the table's launch% is their share of the\n"
    "  step time (launch_us x launches_per_step / step time);\n"
    "  max_abs_diff_val_acc: largest |val_acc - the first device's val_acc| over the\n"
    "  epochs both runs finished (0 for the first device).\n"
    "\n"
    "compare options:\n"
    "  --devices LIST           'all' (every OpenCL device) or device specs (flat index,\n"
    "                           P:D or a name substring) separated by commas\n"
    "  --out DIR                the compare directory (created)\n"
    "  --no-plot                write compare.csv but no figure\n"
    "  --prefix NAME            figure file name NAME_device_compare.png\n"
    "  --fail-fast              stop at the first device run that fails (default: record it\n"
    "                           in compare.csv and go on)\n"
    "\n"
    "Under mpirun -n N the listed devices are shared over the ranks: rank r trains devices\n"
    "r, r + N, ... of the list at the same time as the others, and rank 0 writes\n"
    "compare.csv and the figure (README \"Clusters\"). Ranks on one CPU share its cores, so\n"
    "their times are not those of one device alone.\n";

enum { OPT_DEVICES = MULTIRUN_OWN_ID_BASE };

#define MAX_DEVICES 32

typedef struct {
  multirun_args m;
  char devices[1024];
} compare_args;

static int compare_option(void *ctx, int id, const char *arg, error *err) {
  compare_args *a = ctx;
  if (id != OPT_DEVICES) return ERR_RUNTIME(err, "option id %d is not a compare option", id);
  if (!arg[0] || strlen(arg) >= sizeof a->devices) return ERR_USAGE(err, "--devices: empty or too long");
  snprintf(a->devices, sizeof a->devices, "%s", arg);
  return 0;
}

static void parse_args(int argc, char **argv, compare_args *a) {
  memset(a, 0, sizeof *a);
  static const struct option own[] = {{"devices", required_argument, NULL, OPT_DEVICES}, {NULL, 0, NULL, 0}};
  const multirun_parser p = {
      .command = "compare",
      .help = compare_help,
      .options_title = "training options (the same on every device):",
      .usage = "cltrain compare MODEL DATASET --devices all",
      .runs_are = "a comparison",
      .own = own,
      .own_option = compare_option,
      .ctx = a,
  };
  multirun_parse(argc, argv, &p, &a->m);
  if (!a->devices[0]) cli_usage_exit("compare: needs --devices all or --devices SPEC,SPEC,...");
  if (a->m.cfg.given[TOPT_DEVICE]) cli_usage_exit("compare: use --devices (a list), not --device");
}

/* Resolve --devices into flat device indices (every spec checked before any training). */
static int resolve_devices(const char *list, int *out) {
  device_list devs;
  error e = {0};
  if (device_list_get(&devs, &e)) cli_error_exit(&e);
  if (devs.count == 0) cli_usage_exit("compare: no OpenCL device found");
  int n = 0;
  if (strcmp(list, "all") == 0) {
    for (int i = 0; i < devs.count && n < MAX_DEVICES; i++) out[n++] = i;
  } else {
    char items[MAX_DEVICES][LIST_ITEM_MAX];
    n = split_list(list, items, MAX_DEVICES);
    if (n <= 0) cli_usage_exit("compare: --devices '%s' is not 'all' or a comma-separated list of devices", list);
    for (int i = 0; i < n; i++) {
      out[i] = device_select(&devs, items[i], &e);
      if (out[i] < 0) cli_usage_exit("compare: %s", e.msg);
    }
  }
  device_list_free(&devs);
  return n;
}

static void new_compare_dir(const compare_args *a, char *dir, size_t n) {
  char model[160], data[160];
  run_short_name(a->m.cfg.model, true, model, sizeof model);
  run_short_name(a->m.cfg.dataset, false, data, sizeof data);
  char stem[400];
  snprintf(stem, sizeof stem, "compare_%s_%s", model, data);
  if (free_stamped_name(dir, n, a->m.cfg.project_dir, stem) != 0) cli_usage_exit("compare: directory name too long");
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

/* Plain data: under MPI ranks rank 0 gathers the rows of the others (dist_collect). */
typedef struct {
  char name[300];
  train_result res;
  double max_diff;
  bool ran;      /* trained (or failed) by some rank; not: after --fail-fast stopped */
  bool failed;
  char error[512];
} compare_row;

static void write_csv(const char *path, const compare_row *rows, int n) {
  FILE *f = fopen(path, "w");
  if (!f) cli_usage_exit("compare: cannot write %s: %s", path, strerror(errno));
  fputs("device,epoch_s,samples_per_s,compile_s,launch_us,launches_per_step,final_val_acc,max_abs_diff_val_acc,status,"
        "error\n",
        f);
  for (int i = 0; i < n; i++) {
    const compare_row *r = &rows[i];
    csv_put_field(f, r->name);
    if (r->failed) fputs(",nan,nan,nan,nan,nan,nan,nan,failed,", f);
    else fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s,", r->res.median_epoch_s, r->res.median_samples_per_s,
                 r->res.compile_seconds, r->res.launch_us, r->res.launches_per_step, r->res.final_val_acc, r->max_diff,
                 train_status_name(r->res.status));
    csv_put_field(f, r->error);
    fputc('\n', f);
  }
  if (fclose(f) != 0) CLI_FAIL("compare: writing %s failed", path);
}

/* Train device DEV (the I-th of N) into ROW. Returns the run's code (-1: failed, recorded). */
static int run_device(const compare_args *a, const dataset *ds, const char *dir, int dev, int i, int n,
                      compare_row *row) {
  char err[RUN_PATH_MAX + 256];
  train_config cfg = a->m.cfg;
  char spec[32];
  snprintf(spec, sizeof spec, "%d", dev);
  if (train_config_set_opt(&cfg, TOPT_DEVICE, spec, err, sizeof err) ||
      train_config_set_opt(&cfg, TOPT_PROJECT_DIR, dir, err, sizeof err))
    cli_usage_exit("compare: %s", err);
  printf("%s== device %d of %d (index %d) ==\n", i ? "\n" : "", i + 1, n, dev);
  fflush(stdout);
  row->ran = true;
  error run_err = {0};
  int code = train_run_with_data(&cfg, ds, &row->res, &run_err);
  if (code >= 0) return code;
  /* Recorded, and the other devices still run (unless --fail-fast). */
  row->failed = true;
  snprintf(row->error, sizeof row->error, "%s", run_err.msg);
  error rec_err = {0};
  char run_dir[RUN_PATH_MAX];
  if (!row->res.run_dir[0] && train_record_failure(&cfg, run_err.msg, run_dir, sizeof run_dir, &rec_err) == 0)
    snprintf(row->res.run_dir, sizeof row->res.run_dir, "%s", run_dir);
  printf("compare: device %d failed: %s\n", dev, run_err.msg);
  return -1;
}

/* Row names (the device's, with its index when two rows share one) and each row's largest
   val_acc difference from the first row that trained, from the run directories. */
static void finish_rows(compare_row *rows, const int *devs, int n) {
  double *first_acc = NULL;
  size_t first_n = 0;
  for (int i = 0; i < n; i++) {
    if (!rows[i].ran) continue;
    if (rows[i].failed) {
      snprintf(rows[i].name, sizeof rows[i].name, "device %d", devs[i]);
      continue;
    }
    snprintf(rows[i].name, sizeof rows[i].name, "%s", rows[i].res.device);
    for (int j = 0; j < i; j++)
      if (rows[j].ran && !rows[j].failed && strcmp(rows[j].res.device, rows[i].res.device) == 0)
        snprintf(rows[i].name, sizeof rows[i].name, "%s (device %d)", rows[i].res.device, devs[i]);
    size_t acc_n;
    double *acc = read_val_acc(rows[i].res.run_dir, &acc_n);
    rows[i].max_diff = 0;
    if (!first_acc && !first_n) {
      first_acc = acc;
      first_n = acc_n;
      acc = NULL;
    } else {
      for (size_t ep = 0; ep < acc_n && ep < first_n; ep++)
        rows[i].max_diff = fmax(rows[i].max_diff, fabs(acc[ep] - first_acc[ep]));
      if (acc_n == 0 || first_n == 0) rows[i].max_diff = NAN;
    }
    free(acc);
  }
  free(first_acc);
}

/* The compare directory, made and locked by rank 0 (the lock held until exit); every rank
   learns whether that worked. */
static void make_compare_dir(const char *dir, const dist_info *d) {
  char err[RUN_PATH_MAX + 256];
  error e = {0};
  int rc = 0;
  if (d->rank == 0) {
    if (make_dirs(dir, err, sizeof err) != 0) rc = ERR_USAGE(&e, "%s", err);
    else if (dir_lock(dir, &e) < 0) rc = -1;
  }
  if (dist_agree(rc, &e)) exit(cli_ranks_report("compare", &e, d));
}

int cmd_compare(int argc, char **argv) {
  compare_args *a = xmalloc(sizeof *a);
  parse_args(argc, argv, a);
  dist_info d;
  dist_get(&d);
  int devs[MAX_DEVICES];
  const int n = resolve_devices(a->devices, devs);
  char dir[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  if (a->m.out[0]) snprintf(dir, sizeof dir, "%s", a->m.out);
  else new_compare_dir(a, dir, sizeof dir);
  cli_ranks_share_dir(&d, dir, sizeof dir); /* rank 0's time stamp */
  if (d.size > 1 && d.rank == 0)
    printf("compare: %d MPI ranks share the %d device run%s (rank r: devices r, r + %d, ... of the list)\n", d.size,
           n, n == 1 ? "" : "s", d.size);

  /* Check the model before loading data; the trainer checks the rest. */
  model_spec m;
  error me = {0};
  if (model_load(a->m.cfg.model, &m, &me) != 0) cli_usage_exit("compare: %s", me.msg);
  model_free(&m);
  data_options opt;
  train_data_options(&a->m.cfg, &opt);
  dataset ds;
  if (!a->m.cfg.quiet && d.rank == 0) printf("loading %s ...\n", a->m.cfg.dataset);
  fflush(stdout);
  if (dataset_load(a->m.cfg.dataset, &opt, &ds, err, sizeof err)) cli_usage_exit("compare: %s", err);
  /* A batch larger than the data is refused before the compare directory exists. */
  error e = {0};
  if (train_check_data(&a->m.cfg, &ds, &e)) exit(cli_ranks_report("compare", &e, &d));
  make_compare_dir(dir, &d);

  compare_row *rows = xcalloc((size_t)n, sizeof *rows);
  bool *mine = xcalloc((size_t)n, sizeof *mine);
  int rc = EXIT_OK, failed = 0;
  for (int i = d.rank; i < n && rc == EXIT_OK; i += d.size) {
    mine[i] = true;
    int code = run_device(a, &ds, dir, devs[i], i, n, &rows[i]);
    if (code < 0 && a->m.fail_fast) rc = EXIT_RUNTIME;
    else if (code >= 0) rc = code;
  }
  dataset_free(&ds);
  if (d.size > 1) {
    /* every rank's rows to rank 0, and the worst way a rank's loop ended */
    rc = dist_max_int(rc);
    if (dist_collect(rows, (size_t)n, sizeof *rows, mine, &e)) exit(cli_report("compare", &e));
  }
  free(mine);
  if (d.rank != 0) {
    free(rows);
    free(a);
    return rc;
  }
  for (int i = 0; i < n; i++)
    if (rows[i].ran && rows[i].failed && !failed++) error_set(&e, EXIT_RUNTIME, "%s", rows[i].error);
  if (rc != EXIT_OK && !(failed && a->m.fail_fast)) {
    fprintf(stderr, "cltrain: compare: a run ended with code %d; no comparison written\n", rc);
    free(rows);
    free(a);
    return rc;
  }
  if (failed && a->m.fail_fast) printf("compare: stopped at the first failed run (--fail-fast)\n");
  finish_rows(rows, devs, n);

  printf("\n%-48s %10s %12s %10s %9s %7s %9s %12s %8s\n", "device", "epoch_s", "samples/s", "compile_s", "launch_us",
         "launch%", "val_acc", "max|dacc|", "speed");
  int done = 0;
  for (int i = 0; i < n; i++) {
    if (!rows[i].ran) continue;
    rows[done++] = rows[i]; /* the rows that ran, in list order */
  }
  const double base_rate = rows[0].failed ? NAN : rows[0].res.median_samples_per_s;
  for (int i = 0; i < done; i++) {
    if (rows[i].failed) {
      printf("%-48.48s failed: %s\n", rows[i].name, rows[i].error);
      continue;
    }
    const train_result *r = &rows[i].res;
    /* the share of a step's time its launches cost: launch_us per launch, batch rows a step */
    const double step_us = (double)a->m.cfg.batch_size / r->median_samples_per_s * 1e6;
    const double launch_pct = 100.0 * r->launch_us * r->launches_per_step / step_us;
    printf("%-48.48s %10.3f %12.0f %10.1f %9.2f %6.0f%% %9.4f %12.4g %7.2fx\n", rows[i].name, r->median_epoch_s,
           r->median_samples_per_s, r->compile_seconds, r->launch_us, launch_pct, r->final_val_acc, rows[i].max_diff,
           r->median_samples_per_s / base_rate);
  }
  char csv[RUN_PATH_MAX];
  run_path(csv, sizeof csv, dir, "compare.csv");
  write_csv(csv, rows, done);
  printf("\nwrote %s\n", csv);
  if (failed) {
    /* The figure compares every device: with one missing it would mislead. */
    printf("compare: no figure: %d of %d device runs failed\n", failed, n);
    free(rows);
    free(a);
    cli_report("compare", &e);
    return EXIT_RUNTIME; /* a run failed: whatever kind of failure it was */
  }
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
