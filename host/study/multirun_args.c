/* The command line of sweep and compare: see multirun_args.h. */
#include "study/multirun_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

enum { OPT_OUT = 1, OPT_NO_PLOT, OPT_PREFIX, OPT_HELP, SHARED_IDS_END };
_Static_assert((int)SHARED_IDS_END <= (int)MULTIRUN_OWN_ID_BASE, "shared ids overlap the command's own");

static void copy_value(char *dst, size_t size, const char *arg, const char *cmd, const char *opt) {
  if (!arg[0] || strlen(arg) >= size) die_usage("%s: %s: empty or too long", cmd, opt);
  snprintf(dst, size, "%s", arg);
}

void multirun_parse(int argc, char **argv, const multirun_parser *p, multirun_args *m) {
  const char *cmd = p->command;
  memset(m, 0, sizeof *m);
  train_config_default(&m->cfg);
  const struct option shared[] = {
      {"out", required_argument, NULL, OPT_OUT},
      {"no-plot", no_argument, NULL, OPT_NO_PLOT},
      {"prefix", required_argument, NULL, OPT_PREFIX},
      {"help", no_argument, NULL, OPT_HELP},
  };
  const size_t n_train = train_config_long_options_count(), n_shared = sizeof shared / sizeof *shared;
  /* On the stack: --help and bad input exit from inside the loop below, and a heap copy
     would then be reported as a leak by LeakSanitizer. The last entry stays zero. */
  struct option opts[n_train + n_shared + p->n_own + 1];
  memset(opts, 0, sizeof opts);
  memcpy(opts, train_config_long_options(), n_train * sizeof *opts);
  memcpy(opts + n_train, shared, sizeof shared);
  if (p->n_own) memcpy(opts + n_train + n_shared, p->own, p->n_own * sizeof *opts);
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
      case OPT_HELP:
        fputs(p->help, stdout);
        fprintf(stdout, "\n%s\n", p->options_title);
        train_config_print_options_help(stdout);
        exit(EXIT_OK);
      case OPT_OUT: copy_value(m->out, sizeof m->out, optarg, cmd, "--out"); break;
      case OPT_NO_PLOT: m->no_plot = true; break;
      case OPT_PREFIX:
        if (!optarg[0] || strlen(optarg) >= sizeof m->prefix || strchr(optarg, '/'))
          die_usage("%s: --prefix: '%s' is not a short file name part", cmd, optarg);
        snprintf(m->prefix, sizeof m->prefix, "%s", optarg);
        break;
      case ':': die_usage("%s: option '%s' needs a value", cmd, argv[optind - 1]);
      case '?': die_usage("%s: unknown option '%s' (see 'cltrain %s --help')", cmd, argv[optind - 1], cmd);
      default:
        if (!train_config_getopt(&m->cfg, c, optarg, cmd)) p->own_option(p->ctx, c, optarg);
    }
  }
  if (argc - optind != 2) {
    if (argc - optind > 2) die_usage("%s: unexpected argument '%s'", cmd, argv[optind + 2]);
    die_usage("%s: needs MODEL and DATASET (usage: %s)", cmd, p->usage);
  }
  char err[1024];
  if (train_config_set_opt(&m->cfg, TOPT_MODEL, argv[optind], err, sizeof err) ||
      train_config_set_opt(&m->cfg, TOPT_DATASET, argv[optind + 1], err, sizeof err))
    die_usage("%s: %s", cmd, err);
}
