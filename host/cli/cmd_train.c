/* cltrain train MODEL DATASET [options]: one training run (see trainer.h). */
#include <stdio.h>

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
    "with 130 (143); --resume continues the run exactly where it stopped.\n";

int cmd_train(int argc, char **argv) {
  train_config cfg;
  train_config_default(&cfg);
  train_config_parse_cli(&cfg, argc, argv, "train", train_help, true);
  train_result result;
  return train_run(&cfg, &result);
}
