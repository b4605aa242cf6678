#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void error_one_line(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) *s = ' ';
}

static int error_vset(error *e, int code, const char *prefix, const char *fmt, va_list ap) {
  if (e->code != 0) return -1;  /* keep the first cause */
  e->code = code;
  size_t used = 0;
  if (prefix) {
    int n = snprintf(e->msg, sizeof e->msg, "%s", prefix);
    used = n < 0 ? 0 : (size_t)n < sizeof e->msg ? (size_t)n : sizeof e->msg - 1;
  }
  vsnprintf(e->msg + used, sizeof e->msg - used, fmt, ap);
  error_one_line(e->msg);
  return -1;
}

int error_set(error *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  error_vset(e, code, NULL, fmt, ap);
  va_end(ap);
  return -1;
}

int error_set_at(error *e, int code, const char *file, int line, const char *fmt, ...) {
  char prefix[160];
  snprintf(prefix, sizeof prefix, "%s:%d: ", file, line);
  va_list ap;
  va_start(ap, fmt);
  error_vset(e, code, prefix, fmt, ap);
  va_end(ap);
  return -1;
}

void error_clear(error *e) {
  e->code = 0;
  e->msg[0] = '\0';
}

int error_report(const error *e) {
  if (e->code == 0) return 0;
  fprintf(stderr, "cltrain: error: %s\n", e->msg);
  return e->code;
}
