/* Minimal test harness: CHECK records a failure and continues; main returns
   test_summary() so ctest sees a non-zero exit when anything failed. */
#ifndef CLTRAIN_TESTUTIL_H
#define CLTRAIN_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures_ = 0;
static int test_checks_ = 0;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    test_checks_++;                                                        \
    if (!(cond)) {                                                         \
      test_failures_++;                                                    \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

/* A test that cannot go on (its fixture is missing or broken): the message with this
   file:line, exit 1. The program's own code returns errors instead (base/error.h). */
#define TEST_DIE(...)                                   \
  do {                                                  \
    fprintf(stderr, "FATAL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                       \
    fputc('\n', stderr);                                \
    exit(1);                                            \
  } while (0)

/* Relative error with an absolute floor, so values near zero compare sensibly. */
static inline double rel_err(double got, double want, double floor_) {
  double d = fabs(got - want);
  double s = fabs(want) > floor_ ? fabs(want) : floor_;
  return d / s;
}

static inline double max_rel_err(const float *got, const float *want, size_t n, double floor_) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double e = rel_err(got[i], want[i], floor_);
    if (!(e <= m)) m = e; /* NaN propagates as failure */
  }
  return m;
}

/* Write TEXT to DIR/NAME (exit 1 when that fails); the path, valid until the next call. */
static inline const char *test_write_file(const char *dir, const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  return path;
}

static inline int test_summary(const char *name) {
  if (test_failures_) {
    fprintf(stderr, "%s: %d of %d checks FAILED\n", name, test_failures_, test_checks_);
    return 1;
  }
  if (test_checks_ == 0) {
    fprintf(stderr, "%s: no checks ran\n", name);
    return 1;
  }
  printf("%s: all %d checks passed\n", name, test_checks_);
  return 0;
}

#endif
