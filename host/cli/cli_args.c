/* The command-line loop and exits shared by every command (cli_args.h). */
#include "cli/cli_args.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "dist/dist.h"
#include "train/train_config.h"

void cli_usage_exit(const char *fmt, ...) {
  /* Under mpirun every rank parses the same command line: rank 0 alone says what is
     wrong, all exit 2 (the launcher then ends the job). */
  dist_info d;
  dist_get(&d);
  if (d.rank == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsay("error", fmt, ap);
    va_end(ap);
  }
  exit(EXIT_USAGE);
}

void cli_error_exit(const error *e) { exit(error_report(e)); }

int cli_report(const char *cmd, const error *e) {
  fprintf(stderr, "cltrain: error: %s: %s\n", cmd, e->msg);
  return e->code ? e->code : EXIT_RUNTIME;
}

long cli_parse_long(const char *option, const char *s, long lo, long hi) {
  long v;
  if (!parse_long(s, lo, hi, &v)) cli_usage_exit("%s: '%s' is not an integer in [%ld, %ld]", option, s ? s : "", lo, hi);
  return v;
}

static void print_help(const cli_command *c) {
  if (c->help) fputs(c->help, stdout);
  if (c->help_fn) c->help_fn(stdout);
  if (c->train_options_title) {
    fprintf(stdout, "\n%s\n", c->train_options_title);
    train_config_print_options_help(stdout);
  }
  fflush(stdout);
}

enum { ID_HELP = 'h' };

int cli_parse(int argc, char **argv, const cli_command *c) {
  size_t n = 0;
  for (const struct option *const *t = c->tables; t && *t; t++)
    for (const struct option *o = *t; o->name; o++) n++;
  /* On the stack: --help and bad input exit from inside the loop, and a heap copy would
     then be reported as a leak by LeakSanitizer. The last entry stays zero. */
  struct option opts[n + 2];
  memset(opts, 0, sizeof opts);
  n = 0;
  for (const struct option *const *t = c->tables; t && *t; t++)
    for (const struct option *o = *t; o->name; o++) opts[n++] = *o;
  opts[n] = (struct option){"help", no_argument, NULL, ID_HELP};
  char shortopts[64];
  snprintf(shortopts, sizeof shortopts, ":h%s", c->shortopts ? c->shortopts : "");
  optind = 0; /* full re-initialisation of glibc getopt: a command may parse more than once */
  opterr = 0;
  int id;
  while ((id = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
    if (id == ID_HELP) {
      print_help(c);
      exit(EXIT_OK);
    }
    if (id == ':') cli_usage_exit("%s: option '%s' needs a value", c->cmd, argv[optind - 1]);
    if (id == '?') {
      if (optopt > 0 && optopt < 256 && optopt != '?')
        cli_usage_exit("%s: unknown option '-%c' (see 'cltrain %s --help')", c->cmd, optopt, c->cmd);
      cli_usage_exit("%s: unknown option '%s' (see 'cltrain %s --help')", c->cmd, argv[optind - 1], c->cmd);
    }
    error err = {0};
    if (c->apply(c->ctx, id, optarg, &err)) cli_usage_exit("%s: %s", c->cmd, err.msg);
  }
  return optind;
}

/* Append S to BUF (used so far: *USED) in single quotes when it holds anything a shell
   would read specially. */
static void append_word(char *buf, size_t n, size_t *used, const char *s) {
  bool plain = *s != '\0';
  for (const char *p = s; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+.,/:@%", *p)) plain = false;
  if (*used + 1 >= n) return;
  int w = 0;
  if (plain) {
    w = snprintf(buf + *used, n - *used, " %s", s);
  } else {
    w = snprintf(buf + *used, n - *used, " '");
    for (const char *p = s; *p && w >= 0 && *used + (size_t)w + 5 < n; p++)
      w += *p == '\'' ? snprintf(buf + *used + w, n - *used - (size_t)w, "'\\''")
                      : snprintf(buf + *used + w, n - *used - (size_t)w, "%c", *p);
    if (*used + (size_t)w + 1 < n) w += snprintf(buf + *used + w, n - *used - (size_t)w, "'");
  }
  if (w > 0) *used += (size_t)w < n - *used ? (size_t)w : n - *used - 1;
}

void cli_rerun_hint(int argc, char **argv, bool out_given, const char *dir, char *buf, size_t n) {
  size_t used = 0;
  int w = snprintf(buf, n, "to continue where it left off, run: cltrain");
  used = w > 0 && (size_t)w < n ? (size_t)w : 0;
  for (int i = 0; i < argc; i++) append_word(buf, n, &used, argv[i]);
  if (!out_given) {
    append_word(buf, n, &used, "--out");
    append_word(buf, n, &used, dir);
  }
}

int cli_apply_train_option(void *cfg, int id, const char *arg, error *err) {
  return train_config_getopt(cfg, id, arg, err);
}
