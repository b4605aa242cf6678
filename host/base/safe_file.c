#include "base/safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *safe_read_file(const char *path, size_t cap, size_t *len) {
  /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; the mode
     check below refuses it before any read. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    return NULL;
  }
  if (st.st_size < 0 || (unsigned long long)st.st_size > cap) {
    close(fd);
    errno = EFBIG;
    return NULL;
  }
  /* The size can change under us: read at most CAP bytes whatever fstat said. */
  size_t want = (size_t)st.st_size, n = 0;
  char *buf = malloc(want + 1);
  if (!buf) {
    close(fd);
    errno = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (n == want) {
      char probe;
      ssize_t more = read(fd, &probe, 1);
      if (more == 0) break;
      if (more < 0 && errno == EINTR) continue;
      free(buf);
      close(fd);
      errno = more < 0 ? errno : EFBIG; /* the file grew while read */
      return NULL;
    }
    ssize_t got = read(fd, buf + n, want - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (got == 0) break; /* shrank: what is there */
    n += (size_t)got;
  }
  close(fd);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

const char *safe_read_why(int errnum, size_t cap, char *buf, size_t n) {
  if (errnum == EINVAL) snprintf(buf, n, " is not a regular file (a FIFO, a socket or a device)");
  else if (errnum == EISDIR) snprintf(buf, n, " is a directory, not a file");
  else if (errnum == EFBIG) snprintf(buf, n, " is larger than the %zu MiB cap on such files", cap >> 20);
  else snprintf(buf, n, ": %s", strerror(errnum));
  return buf;
}

int safe_tmp_open(const char *tmp) {
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST || attempt == 1) return fd;
    /* unlink removes a symlink itself, not its target; a directory stays and fails. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
      errno = EEXIST;
      return -1;
    }
  }
  return -1;
}

FILE *safe_tmp_fopen(const char *tmp) {
  int fd = safe_tmp_open(tmp);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    int e = errno;
    close(fd);
    unlink(tmp);
    errno = e;
  }
  return f;
}

/* fsync of the folder holding PATH, so the rename survives a crash. Best effort. */
static void sync_folder(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

int safe_tmp_commit(FILE *f, const char *tmp, const char *path) {
  int failed = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
  int e = errno;
  if (fclose(f) != 0 && !failed) {
    failed = 1;
    e = errno;
  }
  if (!failed && rename(tmp, path) != 0) {
    failed = 1;
    e = errno;
  }
  if (failed) {
    unlink(tmp);
    errno = e ? e : EIO;
    return -1;
  }
  sync_folder(path);
  return 0;
}

int dir_lock(const char *dir, error *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ERR_USAGE(err, "cannot open %s: %s", dir, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK) return ERR_USAGE(err, "%s is in use by another cltrain process", dir);
    return ERR_RUNTIME(err, "cannot lock %s: %s", dir, strerror(e));
  }
  return fd;
}

int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

const char *find_control_char(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) return s;
  return NULL;
}
