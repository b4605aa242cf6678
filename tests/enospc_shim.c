/* Test-only LD_PRELOAD library: a full disk for chosen files, where mounting a small
   tmpfs is not allowed (no root, no CAP_SYS_ADMIN). Files whose path ends with
   $ENOSPC_SHIM_SUFFIX (e.g. ".ckpt.tmp") accept $ENOSPC_SHIM_BYTES bytes (default 0) and
   then every write() fails with ENOSPC, after a short write when the limit falls inside
   one. Only open()/openat() + write() are covered: that is how checkpoints are written
   (stdio writes go through glibc's internal entry points and are not seen here). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 1024

static unsigned char watched[MAX_FD];   /* fd -> 1 when its path matched */
static size_t written[MAX_FD];

static void track(int fd, const char *path) {
  if (fd < 0 || fd >= MAX_FD) return;
  const char *suffix = getenv("ENOSPC_SHIM_SUFFIX");
  size_t n = strlen(path), s = suffix ? strlen(suffix) : 0;
  watched[fd] = suffix && s && n >= s && strcmp(path + n - s, suffix) == 0;
  written[fd] = 0;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  static int (*real)(const char *, int, ...);
  if (!real) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  int fd = real(path, flags, mode);
  track(fd, path);
  return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
  static int (*real)(int, const char *, int, ...);
  if (!real) real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  int fd = real(dirfd, path, flags, mode);
  track(fd, path);
  return fd;
}

int close(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "close");
  if (fd >= 0 && fd < MAX_FD) watched[fd] = 0;
  return real(fd);
}

ssize_t write(int fd, const void *buf, size_t n) {
  static ssize_t (*real)(int, const void *, size_t);
  if (!real) real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  if (fd >= 0 && fd < MAX_FD && watched[fd]) {
    const char *limit_text = getenv("ENOSPC_SHIM_BYTES");
    size_t limit = limit_text ? (size_t)strtoull(limit_text, NULL, 10) : 0;
    if (written[fd] >= limit) {
      errno = ENOSPC;
      return -1;
    }
    if (n > limit - written[fd]) n = limit - written[fd];
    ssize_t w = real(fd, buf, n);
    if (w > 0) written[fd] += (size_t)w;
    return w;
  }
  return real(fd, buf, n);
}
