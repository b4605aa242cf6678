/* cltrain: train small JSC networks on any OpenCL device. Dispatches sub-commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "base/safe_file.h"
#include "base/util.h"
#include "dist/dist.h"

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

/* The commands that share their work over MPI ranks (mpirun -n N cltrain ...). */
static bool runs_on_ranks(const char *name) {
  static const char *const names[] = {"sweep", "lab1", "train", "compare"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) return true;
  return false;
}

/* Run command C as one rank of an MPI job when an MPI launcher started the process (else
   alone). A command that cannot share its work is refused by every rank, with one line
   from rank 0, rather than run N times over the same files. */
static int run_command(const command *c, int argc, char **argv) {
  dist_info d;
  error e = {0};
  if (dist_init(&argc, &argv, &d, &e)) return error_report(&e);
  int rc;
  if (d.size > 1 && !runs_on_ranks(c->name)) {
    if (d.rank == 0)
      fprintf(stderr,
              "cltrain: error: %s runs in one process; under mpirun only train, sweep, lab1 and compare share their work over ranks "
              "(started with %d ranks)\n",
              c->name, d.size);
    rc = EXIT_USAGE;
  } else {
    rc = c->run(argc - 1, argv + 1);
  }
  dist_finalize();
  return rc;
}

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
    char mpi[128];
    dist_library_version(mpi, sizeof mpi);
    printf("cltrain %s (%s)\n", CLTRAIN_VERSION, dist_built_with_mpi() ? mpi : "built without MPI");
    return EXIT_OK;
  }
  /* Every argument ends up in a path, a CSV cell, a figure or a one-line message; a
     newline or another control character would break them, so none is taken. */
  for (int i = 1; i < argc; i++)
    if (find_control_char(argv[i])) {
      if (i > 2 && argv[i - 1][0] == '-' && argv[i][0] != '-')
        cli_usage_exit("%s: the value contains a control character (newline, tab, escape...)", argv[i - 1]);
      cli_usage_exit("argument %d contains a control character (newline, tab, escape...)", i);
    }
  /* CLTRAIN_DEVICE is a device spec too (host/cl/runtime.c device_select), quoted in messages. */
  const char *device = getenv("CLTRAIN_DEVICE");
  if (device && find_control_char(device))
    cli_usage_exit("CLTRAIN_DEVICE: the value contains a control character (newline, tab, escape...)");
  /* read by host/ops/ops_build.c, which takes any other value as unset */
  const char *form = getenv("CLTRAIN_KERNEL_FORM");
  if (form && *form && strcmp(form, "workgroup") != 0 && strcmp(form, "vector") != 0)
    cli_usage_exit("CLTRAIN_KERNEL_FORM is '%s': use 'workgroup' or 'vector' (or leave it unset)", form);
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(action, commands[i].name) == 0) return run_command(&commands[i], argc, argv);
  cli_usage_exit("unknown command '%s' (see 'cltrain --help')", action);
}
