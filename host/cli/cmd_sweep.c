/* cltrain sweep MODEL DATASET --vary NAME=V1,V2,... [--vary ...] [options]: one training
   run per grid point in a sweep directory, sweep.csv and the sweep's figures. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "model/model.h"
#include "cli/cli_multirun.h"
#include "cli/cli_ranks.h"
#include "study/sweep.h"
#include "train/trainer.h"
#include "base/util.h"

static const char sweep_help[] =
    "usage: cltrain sweep MODEL DATASET --vary NAME=V1,V2,... [--vary ...] [options]\n"
    "\n"
    "One training run per value; several --vary make a grid (every combination; the\n"
    "first --vary is the outer loop). NAME is a training option: batch-size,\n"
    "learning-rate (lr), max-epochs (epochs), model, optimizer, device, weight-decay,\n"
    "scheduler, seed, early-stopping, val-fraction, synth-size, ... Every other option\n"
    "applies to all runs. Example:\n"
    "  cltrain sweep jsc-tiny jsc-synth --vary batch-size=32,64,128,256,512\n"
    "\n"
    "Writes <project-dir>/sweep_<model>_<dataset>_<names>_<time>/ (or --out DIR):\n"
    "  one run directory per point, sweep.csv (run_dir, the varied values,\n"
    "  final_val_acc, best_val_acc, train_s, samples_per_s) and the figures train_acc,\n"
    "  train_loss, val_acc, val_loss and, when the batch size varies, time_vs_batch.\n"
    "Running the same command again with the same --out skips runs that finished and\n"
    "continues interrupted ones from their last.ckpt. The data set is loaded once.\n"
    "\n"
    "sweep options:\n"
    "  --vary NAME=V1,V2,...    values of one option (repeatable)\n"
    "  --out DIR                the sweep directory (created; reused when it exists)\n"
    "  --no-plot                write sweep.csv but no figures\n"
    "  --prefix NAME            figure file names NAME_train_acc.png, ...\n"
    "  --fail-fast              stop at the first run that fails (default: record it and go on)\n"
    "  --verbose                each run's configuration, model table and epoch lines (default:\n"
    "                           one line per run and its result)\n";

enum { OPT_VARY = MULTIRUN_OWN_ID_BASE, OPT_VERBOSE };

typedef struct {
  multirun_args m;
  sweep_grid grid;
  bool verbose;
} sweep_args;

static int sweep_option(void *ctx, int id, const char *arg, error *err) {
  sweep_args *a = ctx;
  char msg[1024];
  if (id == OPT_VERBOSE) {
    a->verbose = true;
    return 0;
  }
  if (id != OPT_VARY) return ERR_RUNTIME(err, "option id %d is not a sweep option", id);
  if (sweep_grid_add(&a->grid, arg, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  return 0;
}

static void parse_args(int argc, char **argv, sweep_args *a) {
  memset(a, 0, sizeof *a);
  sweep_grid_init(&a->grid);
  static const struct option own[] = {{"vary", required_argument, NULL, OPT_VARY},
                                      {"verbose", no_argument, NULL, OPT_VERBOSE},
                                      {NULL, 0, NULL, 0}};
  const multirun_parser p = {
      .command = "sweep",
      .help = sweep_help,
      .options_title = "training options (the same for every run unless varied):",
      .usage = "cltrain sweep MODEL DATASET --vary NAME=V1,V2,...",
      .runs_are = "a sweep (run it again with the same --out)",
      .own = own,
      .own_option = sweep_option,
      .ctx = a,
  };
  multirun_parse(argc, argv, &p, &a->m);
  if (a->grid.n_axes == 0) cli_usage_exit("sweep: needs at least one --vary NAME=V1,V2,...");
  if (a->verbose && a->m.cfg.quiet) cli_usage_exit("sweep: --verbose and --quiet exclude each other");
  /* By default a run is one line (its number and values) and its result line, as in lab1. */
  if (!a->verbose) a->m.cfg.quiet = a->m.cfg.no_progress = true;
}

/* The model or dataset part of the directory name: the varied values joined with '+'. */
static void name_part(const sweep_args *a, train_option opt, char *buf, size_t n) {
  int ax = sweep_grid_find(&a->grid, opt);
  const char *given = opt == TOPT_MODEL ? a->m.cfg.model : a->m.cfg.dataset;
  if (ax < 0) {
    run_short_name(given, opt == TOPT_MODEL, buf, n);
    return;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < a->grid.axes[ax].n_values && used + 1 < n; i++) {
    char s[128];
    run_short_name(a->grid.axes[ax].values[i], opt == TOPT_MODEL, s, sizeof s);
    int w = snprintf(buf + used, n - used, "%s%s", i ? "+" : "", s);
    if (w < 0) break;
    used += (size_t)w < n - used ? (size_t)w : n - used - 1;
  }
}

/* <project-dir>/sweep_<model>_<dataset>_<names>_<YYYYmmdd-HHMMSS>[-N], a name not taken
   yet; sweep_execute creates it after checking every point, so bad input leaves nothing. */
static void new_sweep_dir(const sweep_args *a, char *dir, size_t n) {
  char model[160], data[160], names[256] = "";
  name_part(a, TOPT_MODEL, model, sizeof model);
  name_part(a, TOPT_DATASET, data, sizeof data);
  for (int i = 0, used = 0; i < a->grid.n_axes; i++)
    used += snprintf(names + used, sizeof names - (size_t)used, "%s%s", i ? "-" : "", a->grid.axes[i].column);
  char stem[800];
  snprintf(stem, sizeof stem, "sweep_%s_%s_%s", model, data, names);
  if (free_stamped_name(dir, n, a->m.cfg.project_dir, stem) != 0) cli_usage_exit("sweep: directory name too long");
}

int cmd_sweep(int argc, char **argv) {
  sweep_args *a = xmalloc(sizeof *a);
  parse_args(argc, argv, a);
  dist_info d;
  cli_ranks_setup("sweep", &a->m.cfg, &d);
  char dir[RUN_PATH_MAX];
  if (a->m.out[0]) snprintf(dir, sizeof dir, "%s", a->m.out);
  else if (d.rank == 0) new_sweep_dir(a, dir, sizeof dir);
  cli_ranks_share_dir(&d, dir, sizeof dir);
  char hint[4 * RUN_PATH_MAX];
  cli_rerun_hint(argc, argv, a->m.out[0] != '\0', dir, hint, sizeof hint);
  sweep_spec spec = {
      .cmd = "sweep",
      .base = &a->m.cfg,
      .grid = &a->grid,
      .dir = dir,
      .figure_prefix = a->m.prefix[0] ? a->m.prefix : NULL,
      .no_plot = a->m.no_plot,
      .fail_fast = a->m.fail_fast,
      .dist = &d,
      .announce = true,
      .stop_hint = hint,
  };
  plotter p;
  plotter_init(&p);
  p.quiet = a->m.cfg.quiet;
  sweep_data data;
  sweep_data_init(&data);
  error e = {0};
  int rc = sweep_execute(&spec, &data, &p, NULL, &e);
  if (rc < 0) rc = cli_ranks_report("sweep", &e, &d);
  else if (rc == EXIT_RUNTIME && error_is_set(&e)) cli_ranks_report("sweep", &e, &d);
  sweep_data_free(&data);
  free(a);
  return rc;
}
