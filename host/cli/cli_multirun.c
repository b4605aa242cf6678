/* The command line of sweep and compare: see cli_multirun.h. */
#include "cli/cli_multirun.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"

enum { OPT_OUT = 1, OPT_NO_PLOT, OPT_PREFIX, OPT_FAIL_FAST, SHARED_IDS_END };
_Static_assert((int)SHARED_IDS_END <= (int)MULTIRUN_OWN_ID_BASE, "shared ids overlap the command's own");

typedef struct {
  const multirun_parser *p;
  multirun_args *m;
} parse_ctx;

static int apply(void *ctx, int id, const char *arg, error *err) {
  parse_ctx *c = ctx;
  multirun_args *m = c->m;
  switch (id) {
    case OPT_OUT:
      if (!arg[0] || strlen(arg) >= sizeof m->out) return ERR_USAGE(err, "--out: empty or too long");
      snprintf(m->out, sizeof m->out, "%s", arg);
      return 0;
    case OPT_NO_PLOT: m->no_plot = true; return 0;
    case OPT_FAIL_FAST: m->fail_fast = true; return 0;
    case OPT_PREFIX:
      if (!arg[0] || strlen(arg) >= sizeof m->prefix || strchr(arg, '/'))
        return ERR_USAGE(err, "--prefix: '%s' is not a short file name part", arg);
      snprintf(m->prefix, sizeof m->prefix, "%s", arg);
      return 0;
    default:
      if (train_config_is_option_id(id)) return train_config_getopt(&m->cfg, id, arg, err);
      return c->p->own_option(c->p->ctx, id, arg, err);
  }
}

void multirun_parse(int argc, char **argv, const multirun_parser *p, multirun_args *m) {
  const char *cmd = p->command;
  memset(m, 0, sizeof *m);
  train_config_default(&m->cfg);
  static const struct option shared[] = {
      {"out", required_argument, NULL, OPT_OUT},
      {"no-plot", no_argument, NULL, OPT_NO_PLOT},
      {"prefix", required_argument, NULL, OPT_PREFIX},
      {"fail-fast", no_argument, NULL, OPT_FAIL_FAST},
      {NULL, 0, NULL, 0},
  };
  const struct option *tables[] = {train_config_long_options(), shared, p->own, NULL};
  parse_ctx ctx = {p, m};
  const cli_command c = {.cmd = cmd, .tables = tables, .help = p->help, .train_options_title = p->options_title,
                         .apply = apply, .ctx = &ctx};
  int first = cli_parse(argc, argv, &c);
  if (argc - first != 2) {
    if (argc - first > 2) cli_usage_exit("%s: unexpected argument '%s'", cmd, argv[first + 2]);
    cli_usage_exit("%s: needs MODEL and DATASET (usage: %s)", cmd, p->usage);
  }
  char err[1024];
  if (train_config_set_opt(&m->cfg, TOPT_MODEL, argv[first], err, sizeof err) ||
      train_config_set_opt(&m->cfg, TOPT_DATASET, argv[first + 1], err, sizeof err))
    cli_usage_exit("%s: %s", cmd, err);
  if (m->cfg.resume[0]) cli_usage_exit("%s: --resume does not apply to %s", cmd, p->runs_are);
  if (train_config_validate(&m->cfg, err, sizeof err)) cli_usage_exit("%s: %s", cmd, err);
}
