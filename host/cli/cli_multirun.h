/* The command line shared by the commands that train several runs (sweep, compare):
   MODEL DATASET, every training option, --out, --no-plot, --prefix, --fail-fast,
   -h/--help, plus a few options of the command's own. */
#ifndef CLTRAIN_CLI_MULTIRUN_H
#define CLTRAIN_CLI_MULTIRUN_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "train/run_log.h"
#include "train/train_config.h"

/* getopt ids of a command's own options start here (below TRAIN_OPT_ID_BASE). */
enum { MULTIRUN_OWN_ID_BASE = 16 };

typedef struct {
  train_config cfg;
  char out[RUN_PATH_MAX - 128]; /* --out DIR; room left for a run directory's name */
  char prefix[128];             /* --prefix NAME of the figure files */
  bool no_plot;
  bool fail_fast;               /* --fail-fast: stop at the first failed run */
} multirun_args;

typedef struct {
  const char *command;        /* "sweep" */
  const char *help;           /* --help text, printed before the training options */
  const char *options_title;  /* heading line of the training options in --help */
  const char *usage;          /* one-line usage for a missing MODEL/DATASET */
  const char *runs_are;       /* what --resume does not apply to: "a sweep (run it again ...)" */
  const struct option *own;   /* the command's own long options (ids from
                                 MULTIRUN_OWN_ID_BASE), NULL-terminated */
  /* Apply own option ID with its ARG: 0, or -1 with err (bad value). */
  int (*own_option)(void *ctx, int id, const char *arg, error *err);
  void *ctx;
} multirun_parser;

/* Parse argv into M (training defaults first), set MODEL and DATASET, refuse --resume and
   validate the configuration; bad input exits 2 with one line. The caller checks what is
   specific to it. */
void multirun_parse(int argc, char **argv, const multirun_parser *p, multirun_args *m);

#endif
