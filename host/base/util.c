#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void vsay(const char *kind, const char *fmt, va_list ap) {
  char msg[4096];
  vsnprintf(msg, sizeof msg, fmt, ap);
  error_one_line(msg);
  fprintf(stderr, "cltrain: %s: %s\n", kind, msg);
}

void warnf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay("warning", fmt, ap);
  va_end(ap);
}

static _Noreturn void out_of_memory(const char *file, int line, size_t n) {
  fprintf(stderr, "cltrain: error: %s:%d: out of host memory allocating %zu bytes\n", file, line, n);
  exit(EXIT_RUNTIME);
}

void *xmalloc_at(size_t n, const char *file, int line) {
  void *p = malloc(n ? n : 1);
  if (!p) out_of_memory(file, line, n);
  return p;
}

void *xcalloc_at(size_t count, size_t size, const char *file, int line) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) out_of_memory(file, line, count * size);
  return p;
}

void *xrealloc_at(void *old, size_t n, const char *file, int line) {
  void *p = realloc(old, n ? n : 1);
  if (!p) out_of_memory(file, line, n);
  return p;
}

char *xstrdup_at(const char *s, const char *file, int line) {
  size_t n = strlen(s) + 1;
  char *p = xmalloc_at(n, file, line);
  memcpy(p, s, n);
  return p;
}

/* strtol/strtod skip leading white space; a value with it is not "the whole string". */
bool parse_long(const char *s, long lo, long hi, long *out) {
  if (!s || !*s || isspace((unsigned char)*s)) return false;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool parse_double(const char *s, double lo, double hi, double *out) {
  if (!s || !*s || isspace((unsigned char)*s)) return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v) || v < lo || v > hi) return false;
  *out = v;
  return true;
}

int seterr(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    error_one_line(err); /* one line, as every message */
  }
  return -1;
}

char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  errno = 0;
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  /* Keep the reason of a failed read (EISDIR for a directory) for the caller's message. */
  int failed = ferror(f), read_errno = errno;
  fclose(f);
  if (failed) {
    free(buf);
    errno = read_errno ? read_errno : EIO;
    return NULL;
  }
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t fnv1a64(const void *data, size_t n, uint64_t h) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

int split_list(const char *s, char items[][LIST_ITEM_MAX], int max) {
  int n = 0;
  if (!s || !*s) return -1;
  for (;;) {
    size_t len = strcspn(s, ",");
    if (len == 0 || len >= LIST_ITEM_MAX || n == max) return -1;
    memcpy(items[n], s, len);
    items[n++][len] = '\0';
    s += len;
    if (*s == '\0') return n;
    s++;
  }
}

int make_dirs(const char *dir, char *err, size_t errlen) {
  char path[4096];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof path) return seterr(err, errlen, "bad directory name '%s'", dir);
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char saved = path[i];
    path[i] = '\0';
    struct stat st;
    if (stat(path, &st) != 0) {
      if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return seterr(err, errlen, "cannot create %s: %s", path, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      return seterr(err, errlen, "%s is not a directory", path);
    }
    path[i] = saved;
  }
  return 0;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double median_of(const double *v, size_t n) {
  if (n == 0 || !v) return NAN;
  double *c = xmalloc(n * sizeof *c);
  memcpy(c, v, n * sizeof *c);
  qsort(c, n, sizeof *c, compare_doubles);
  double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
  free(c);
  return m;
}
