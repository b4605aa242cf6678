/* cltrain train MODEL DATASET [options]: one training run (see trainer.h). */
#include <stdio.h>

#include "cli/cli_args.h"
#include "cli/cli_ranks.h"
#include "cli/commands.h"
#include "train/train_config.h"
#include "train/trainer.h"

static const char train_help[] =
    "usage: cltrain train MODEL DATASET [options]\n"
    "       cltrain train --resume RUN_DIR/last.ckpt [options]\n"
    "\n"
    "Train MODEL (a zoo name: jsc-tiny, jsc-toy, jsc-s, jsc-trt; or a model file) on\n"
    "DATASET (jsc-synth, jsc, or a .h5/.csv file). Prints the effective configuration and\n"
    "the model, then a progress bar (plain lines when not on a terminal), and writes\n"
    "<project-dir>/<model>_<dataset>_<YYYYmmdd-HHMMSS>/ with config.txt, metrics.csv,\n"
    "epochs.csv, summary.json, best.ckpt and last.ckpt.\n"
    "\n"
    "Ctrl-C (or SIGTERM) finishes the current step, saves last.ckpt and the logs and exits\n"
    "with 130 (143); --resume continues the run exactly where it stopped.\n"
    "\n"
    "Under mpirun -n N the run is data-parallel: each rank trains a share of every batch\n"
    "on its own device and rank 0 writes the run directory (README \"Clusters\").\n";

int cmd_train(int argc, char **argv) {
  train_config cfg;
  train_config_default(&cfg);
  const struct option *tables[] = {train_config_long_options(), NULL};
  const cli_command c = {.cmd = "train", .tables = tables, .help = train_help, .train_options_title = "options:",
                         .apply = cli_apply_train_option, .ctx = &cfg};
  int first = cli_parse(argc, argv, &c), rest = argc - first;
  char err[512];
  if (rest == 2) {
    if (train_config_set_opt(&cfg, TOPT_MODEL, argv[first], err, sizeof err) ||
        train_config_set_opt(&cfg, TOPT_DATASET, argv[first + 1], err, sizeof err))
      cli_usage_exit("train: %s", err);
  } else if (rest > 2) {
    cli_usage_exit("train: unexpected argument '%s' (usage: cltrain train MODEL DATASET [options])", argv[first + 2]);
  } else if (rest != 0) {
    cli_usage_exit("train: needs MODEL and DATASET (usage: cltrain train MODEL DATASET [options])");
  }
  if (train_config_validate(&cfg, err, sizeof err)) cli_usage_exit("train: %s", err);
  /* Under mpirun -n N (N > 1): one data-parallel run over the ranks, each on its own device
     (README "Clusters"); rank 0 alone prints and writes the run directory. */
  dist_info d;
  cli_ranks_setup("train", &cfg, &d);
  if (d.size > 1) cfg.data_parallel = d.size;
  train_result result;
  error e = {0};
  int rc = train_run_all(&cfg, &result, &e);
  return rc < 0 ? cli_ranks_report("train", &e, &d) : rc;
}
