/* cltrain sweep MODEL DATASET --vary NAME=V1,V2,... [--vary ...] [options]: one training
   run per grid point in a sweep directory, sweep.csv and the sweep's figures. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "model.h"
#include "sweep.h"
#include "util.h"

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
    "  --prefix NAME            figure file names NAME_train_acc.png, ...\n";

enum { OPT_VARY = 1, OPT_OUT, OPT_NO_PLOT, OPT_PREFIX, OPT_HELP };

typedef struct {
  train_config cfg;
  sweep_grid grid;
  char out[RUN_PATH_MAX];
  char prefix[128];
  bool no_plot;
} sweep_args;

static void parse_args(int argc, char **argv, sweep_args *a) {
  memset(a, 0, sizeof *a);
  train_config_default(&a->cfg);
  sweep_grid_init(&a->grid);
  size_t n = train_config_long_options_count();
  /* On the stack: --help and bad input exit from inside the loop below, and a heap copy
     would then be reported as a leak by LeakSanitizer. */
  struct option opts[n + 6];
  memset(opts, 0, sizeof opts);
  memcpy(opts, train_config_long_options(), n * sizeof *opts);
  opts[n] = (struct option){"vary", required_argument, NULL, OPT_VARY};
  opts[n + 1] = (struct option){"out", required_argument, NULL, OPT_OUT};
  opts[n + 2] = (struct option){"no-plot", no_argument, NULL, OPT_NO_PLOT};
  opts[n + 3] = (struct option){"prefix", required_argument, NULL, OPT_PREFIX};
  opts[n + 4] = (struct option){"help", no_argument, NULL, OPT_HELP};
  optind = 0;
  opterr = 0;
  int c;
  char err[1024];
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
      case OPT_HELP:
        fputs(sweep_help, stdout);
        fputs("\ntraining options (the same for every run unless varied):\n", stdout);
        train_config_print_options_help(stdout);
        exit(EXIT_OK);
      case OPT_VARY:
        if (sweep_grid_add(&a->grid, optarg, err, sizeof err)) die_usage("sweep: %s", err);
        break;
      case OPT_OUT:
        if (!optarg[0] || strlen(optarg) >= sizeof a->out) die_usage("sweep: --out: empty or too long");
        snprintf(a->out, sizeof a->out, "%s", optarg);
        break;
      case OPT_NO_PLOT: a->no_plot = true; break;
      case OPT_PREFIX:
        if (!optarg[0] || strlen(optarg) >= sizeof a->prefix || strchr(optarg, '/'))
          die_usage("sweep: --prefix: '%s' is not a short file name part", optarg);
        snprintf(a->prefix, sizeof a->prefix, "%s", optarg);
        break;
      case ':': die_usage("sweep: option '%s' needs a value", argv[optind - 1]);
      case '?': die_usage("sweep: unknown option '%s' (see 'cltrain sweep --help')", argv[optind - 1]);
      default: train_config_getopt(&a->cfg, c, optarg, "sweep");
    }
  }
  if (argc - optind != 2) {
    if (argc - optind > 2) die_usage("sweep: unexpected argument '%s'", argv[optind + 2]);
    die_usage("sweep: needs MODEL and DATASET (usage: cltrain sweep MODEL DATASET --vary NAME=V1,V2,...)");
  }
  if (train_config_set_opt(&a->cfg, TOPT_MODEL, argv[optind], err, sizeof err) ||
      train_config_set_opt(&a->cfg, TOPT_DATASET, argv[optind + 1], err, sizeof err))
    die_usage("sweep: %s", err);
  if (a->grid.n_axes == 0) die_usage("sweep: needs at least one --vary NAME=V1,V2,...");
  if (a->cfg.resume[0]) die_usage("sweep: --resume does not apply to a sweep (run it again with the same --out)");
  if (train_config_validate(&a->cfg, err, sizeof err)) die_usage("sweep: %s", err);
}

/* Short name of a model (its zoo name or file name) or a dataset (file name without
   directory and extension). */
static void short_name(const char *spec, bool is_model, char *buf, size_t n) {
  if (is_model) {
    model_spec m;
    char err[1024];
    if (model_load(spec, &m, err, sizeof err) == 0) {
      snprintf(buf, n, "%s", m.name);
      model_free(&m);
      return;
    }
  }
  const char *base = strrchr(spec, '/');
  snprintf(buf, n, "%s", base ? base + 1 : spec);
  char *dot = strrchr(buf, '.');
  if (dot && dot != buf) *dot = '\0';
}

/* The model or dataset part of the directory name: the varied values joined with '+'. */
static void name_part(const sweep_args *a, train_option opt, char *buf, size_t n) {
  int ax = sweep_grid_find(&a->grid, opt);
  const char *given = opt == TOPT_MODEL ? a->cfg.model : a->cfg.dataset;
  if (ax < 0) {
    short_name(given, opt == TOPT_MODEL, buf, n);
    return;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < a->grid.axes[ax].n_values && used + 1 < n; i++) {
    char s[128];
    short_name(a->grid.axes[ax].values[i], opt == TOPT_MODEL, s, sizeof s);
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
  if (free_stamped_name(dir, n, a->cfg.project_dir, stem) != 0) die_usage("sweep: directory name too long");
}

int cmd_sweep(int argc, char **argv) {
  sweep_args *a = xmalloc(sizeof *a);
  parse_args(argc, argv, a);
  char dir[RUN_PATH_MAX];
  if (a->out[0]) snprintf(dir, sizeof dir, "%s", a->out);
  else new_sweep_dir(a, dir, sizeof dir);
  sweep_spec spec = {
      .cmd = "sweep",
      .base = &a->cfg,
      .grid = &a->grid,
      .dir = dir,
      .figure_prefix = a->prefix[0] ? a->prefix : NULL,
      .no_plot = a->no_plot,
  };
  plotter p;
  plotter_init(&p);
  p.quiet = a->cfg.quiet;
  sweep_data data;
  sweep_data_init(&data);
  int rc = sweep_execute(&spec, &data, &p, NULL);
  sweep_data_free(&data);
  free(a);
  return rc;
}
