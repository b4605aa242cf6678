/* cltrain: train small JSC networks on any OpenCL device. Dispatches sub-commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "base/util.h"

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"models", cmd_models, "list the model zoo or describe a model file"},
    {"train", cmd_train, "train a model; writes a run directory with logs and checkpoints"},
    {"test", cmd_test, "evaluate a checkpoint (test split, or --split val|train|all): accuracy, confusion, ROC"},
    {"predict", cmd_predict, "class probabilities of every row of a data file from a checkpoint"},
    {"export", cmd_export, "write a checkpoint's network as ONNX, JSON or C99 source"},
    {"plot", cmd_plot, "draw figures (gnuplot) from existing run, sweep or compare directories"},
    {"tune", cmd_tune, "search CLBlast GEMM parameters for this device and store them"},
    {"data", cmd_data, "inspect a dataset, export it as CSV, download the real JSC file"},
    {"sweep", cmd_sweep, "one training run per value of --vary NAME=V1,V2,... and the sweep's figures"},
    {"lab1", cmd_lab1, "run the MASE Lab 1 experiments: figures 1-6 and more, and report.md"},
    {"compare", cmd_compare, "the same training on several devices: time, samples/s, accuracy, figure"},
    {"bench", cmd_bench, "steady-state training throughput per model and batch size, epoch time"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fprintf(out,
          "usage: cltrain COMMAND [ARGS...]\n"
          "\n"
          "Train small neural networks for Jet Substructure Classification on any OpenCL\n"
          "device (GPU or CPU).\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n"
          "options:\n"
          "  -h, --help     this text; 'cltrain COMMAND --help' documents a command\n"
          "  -V, --version  print the version\n"
          "\n"
          "environment:\n"
          "  CLTRAIN_DEVICE       default device spec (index, P:D or name substring)\n"
          "  CLTRAIN_KERNELS_DIR  load kernels/*.cl from this directory instead of the\n"
          "                       copies embedded in the binary (development)\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  const char *action = argv[1];
  if (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0 || strcmp(action, "help") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  if (strcmp(action, "-V") == 0 || strcmp(action, "--version") == 0) {
    printf("cltrain %s\n", CLTRAIN_VERSION);
    return EXIT_OK;
  }
  /* read by host/ops/ops_build.c, which takes any other value as unset */
  const char *form = getenv("CLTRAIN_KERNEL_FORM");
  if (form && *form && strcmp(form, "workgroup") != 0 && strcmp(form, "vector") != 0)
    die_usage("CLTRAIN_KERNEL_FORM is '%s': use 'workgroup' or 'vector' (or leave it unset)", form);
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(action, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  cli_usage_exit("unknown command '%s' (see 'cltrain --help')", action);
}
