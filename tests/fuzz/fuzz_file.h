/* Fuzz-target helper: the loaders under test read files by path, so each input is put in
   an in-memory file (memfd) and handed over as /proc/self/fd/N. No disk I/O per run. */
#ifndef CLTRAIN_FUZZ_FILE_H
#define CLTRAIN_FUZZ_FILE_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any #include (memfd_create)"
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The path of a file holding exactly DATA[0..N). Aborts (a harness bug, not a finding)
   when the memfd cannot be made or written. */
static inline const char *fuzz_file(const uint8_t *data, size_t n) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("cltrain-fuzz", 0);
    if (fd < 0) {
      perror("memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  size_t done = 0;
  while (done < n) {
    ssize_t w = pwrite(fd, data + done, n - done, (off_t)done);
    if (w <= 0) abort();
    done += (size_t)w;
  }
  return path;
}

#endif
