/* Process-level helpers: checked allocation, strict number parsing, paths, files. */
#ifndef CLTRAIN_UTIL_H
#define CLTRAIN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/error.h"  /* exit codes */

/* Print "cltrain: KIND: MESSAGE" on stderr as one line (control characters flattened). */
void vsay(const char *kind, const char *fmt, va_list ap);
/* Print "cltrain: warning: ..." on stderr. */
void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that cannot fail: out of host memory, the program prints one line (with
   the caller's file:line) and exits with EXIT_RUNTIME. One of the two process-level
   exits below host/cli/ (the other: base/interrupt.h's watchdog, for a signal the main
   thread cannot answer): no caller could do anything better with a failed small
   allocation. */
void *xmalloc_at(size_t n, const char *file, int line);
void *xcalloc_at(size_t count, size_t size, const char *file, int line);
void *xrealloc_at(void *p, size_t n, const char *file, int line);
char *xstrdup_at(const char *s, const char *file, int line);
#define xmalloc(n) xmalloc_at((n), __FILE__, __LINE__)
#define xcalloc(c, s) xcalloc_at((c), (s), __FILE__, __LINE__)
#define xrealloc(p, n) xrealloc_at((p), (n), __FILE__, __LINE__)
#define xstrdup(s) xstrdup_at((s), __FILE__, __LINE__)

/* Strict parsers: the whole string must be a number in [lo, hi]. Return false otherwise. */
bool parse_long(const char *s, long lo, long hi, long *out);
bool parse_double(const char *s, double lo, double hi, double *out);

/* Split a comma-separated list into items (empty items are an error). Returns the
   count, or -1 when an item is empty or too long or there are more than max. */
#define LIST_ITEM_MAX 128
int split_list(const char *s, char items[][LIST_ITEM_MAX], int max);

/* Format into a caller buffer (truncating safely); returns -1 so callers can `return seterr(...)`. */
int seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* mkdir -p: every missing part of PATH is created; an existing part that is not a
   directory is an error. 0 or -1 with err. */
int make_dirs(const char *path, char *err, size_t errlen);

/* Whole-file read; NULL and errno set on failure. *len excludes the added NUL. */
char *read_file(const char *path, size_t *len);

/* Monotonic wall clock in seconds. */
double now_seconds(void);

/* Median of N values (NaN for none or NULL); the mean of the middle two for an even N.
   V is left as it is. */
double median_of(const double *v, size_t n);

/* 64-bit FNV-1a hash, used for checksums and cache keys. */
uint64_t fnv1a64(const void *data, size_t n, uint64_t seed);
#define FNV1A64_INIT 0xcbf29ce484222325ull

#endif
