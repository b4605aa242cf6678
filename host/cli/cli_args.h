/* The command line of every command: one getopt_long loop, and the one way a command
   reports bad input or a failure and exits. Only host/cli/ exits. */
#ifndef CLTRAIN_CLI_ARGS_H
#define CLTRAIN_CLI_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

/* Print "cltrain: error: MESSAGE" and exit 2 (bad input). */
_Noreturn void cli_usage_exit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print E (error_report) and exit with its code. */
_Noreturn void cli_error_exit(const error *e);
/* Print "cltrain: error: CMD: MESSAGE" of E and return its exit code. */
int cli_report(const char *cmd, const error *e);

/* A runtime failure found by the command itself: "FILE:LINE: MESSAGE", exit 1. */
#define CLI_FAIL(...)                   \
  do {                                  \
    error cli_fail_ = {0};              \
    ERR_RUNTIME(&cli_fail_, __VA_ARGS__); \
    cli_error_exit(&cli_fail_);         \
  } while (0)

/* The integer S of OPTION in [LO, HI], else exit 2 naming the option. */
long cli_parse_long(const char *option, const char *s, long lo, long hi);

/* Apply option ID with its ARG (NULL for a flag). 0, or -1 with ERR (bad value). */
typedef int (*cli_apply_fn)(void *ctx, int id, const char *arg, error *err);

typedef struct {
  const char *cmd;                    /* "train": prefix of messages, 'cltrain CMD --help' */
  const struct option *const *tables; /* NULL-terminated list of NULL-terminated option
                                         tables; --help/-h are added */
  const char *shortopts;              /* short options besides -h (NULL: none) */
  const char *help;                   /* --help text (or help_fn) */
  void (*help_fn)(FILE *out);
  const char *train_options_title;    /* not NULL: --help goes on with this line and the
                                         training options */
  cli_apply_fn apply;
  void *ctx;
} cli_command;

/* Run getopt_long over ARGV (argv[0] is the command name). Every option goes to
   C->apply; an error from it, a missing value or an unknown option prints one line
   "CMD: ..." and exits 2; -h/--help prints the help and exits 0. Returns the index of
   the first positional argument. */
int cli_parse(int argc, char **argv, const cli_command *c);

/* "to continue where it left off, run: cltrain CMD ARGS... --out DIR" into BUF: the command
   line ARGV (argv[0] the command) quoted for a POSIX shell, with "--out DIR" added unless
   OUT_GIVEN. */
void cli_rerun_hint(int argc, char **argv, bool out_given, const char *dir, char *buf, size_t n);

/* The ids training options have in train_config_long_options(): apply them to a
   train_config (CTX). For commands whose own apply function passes them on. */
int cli_apply_train_option(void *cfg, int id, const char *arg, error *err);

#endif
