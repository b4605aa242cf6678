/* Errors as values. Everything below the command layer reports a failure by filling an
   `error` and returning -1 (or NULL); only host/cli/ decides to print it and exit with
   its code. The code says whose fault it is: EXIT_USAGE (bad input: an option, a file, a
   model, a device spec; exit 2) or EXIT_RUNTIME (OpenCL, CLBlast, I/O or host memory
   failure while running; exit 1). Runtime errors carry the file:line that detected them. */
#ifndef CLTRAIN_ERROR_H
#define CLTRAIN_ERROR_H

#include <stdbool.h>

/* Exit codes shared by every command. */
enum {
  EXIT_OK = 0,
  EXIT_RUNTIME = 1,   /* OpenCL/CLBlast/IO failure while running */
  EXIT_USAGE = 2,     /* bad input: option, value, file, model, device */
  EXIT_SIGINT = 130,
  EXIT_SIGTERM = 143,
};

typedef struct {
  int code;        /* 0: no error; else EXIT_USAGE or EXIT_RUNTIME */
  char msg[512];   /* one line, no "cltrain: error: " prefix */
} error;

/* Record a failure of kind CODE and return -1 (so callers can `return error_set(...)`).
   The first failure wins: a later one does not overwrite the cause. */
int error_set(error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with "FILE:LINE: " in front, for runtime failures found by the program. */
int error_set_at(error *e, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define ERR_USAGE(e, ...) error_set((e), EXIT_USAGE, __VA_ARGS__)
#define ERR_RUNTIME(e, ...) error_set_at((e), EXIT_RUNTIME, __FILE__, __LINE__, __VA_ARGS__)

/* Messages are one line: every control character (a newline, a tab or an escape quoted
   from a file, a CSV cell or a path) becomes a space. error_set does it to every message. */
void error_one_line(char *s);

static inline bool error_is_set(const error *e) { return e->code != 0; }
void error_clear(error *e);

/* Command layer only: print "cltrain: error: MSG" on stderr and return the exit code. */
int error_report(const error *e);

#endif
