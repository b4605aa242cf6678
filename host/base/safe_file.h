/* Files treated as hostile: reads of regular files below a size cap (a FIFO, a device
   such as /dev/zero or an oversized file is refused before anything is read), and
   writes through a temporary file that is created exclusively (never through a symlink
   or a file planted at its name), synced, and renamed over the target. */
#ifndef CLTRAIN_SAFE_FILE_H
#define CLTRAIN_SAFE_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

/* Caps on what cltrain reads whole into memory (README, "Limits"). */
#define SAFE_CAP_TEXT ((size_t)16 << 20)        /* model files, tuning files */
#define SAFE_CAP_CHECKPOINT ((size_t)1 << 30)   /* checkpoints */

/* The whole of PATH, NUL-terminated, when it is a regular file of at most CAP bytes;
   *len excludes the NUL. NULL on failure with errno set (ENOENT, EACCES, ... as open
   says; EINVAL: not a regular file; EFBIG: larger than CAP); safe_read_why() turns that
   errno into the words for a message. A FIFO is opened without blocking, so it never
   hangs. */
char *safe_read_file(const char *path, size_t cap, size_t *len);
/* The end of a message "KIND 'PATH'...": "is not a regular file (...)", "is a directory,
   not a file", "is larger than the N MiB cap on such files", or ": strerror(errnum)". */
const char *safe_read_why(int errnum, size_t cap, char *buf, size_t n);

/* Open TMP (a temporary name next to the target, e.g. "PATH.tmp") for writing, created
   with O_CREAT|O_EXCL|O_NOFOLLOW. Whatever is already at TMP (a crash's leftover, or a
   planted symlink) is unlinked first, never followed or written through. Returns the fd,
   or -1 with errno. */
int safe_tmp_open(const char *tmp);
/* The same as a stdio stream ("w" semantics); NULL with errno. */
FILE *safe_tmp_fopen(const char *tmp);
/* Finish a file opened by safe_tmp_fopen: flush, fsync, close, rename over PATH and sync
   the folder. On any failure TMP is removed and -1 returned with errno; F is closed in
   every case. */
int safe_tmp_commit(FILE *f, const char *tmp, const char *path);

/* Lock folder DIR for this process (an exclusive flock on it, no waiting): two sweeps,
   lab1s or compares writing one --out would train every point twice and race on their
   CSV files and figures. Returns the fd holding the lock (closing it, or exiting,
   releases it), or -1 with err: "DIR is in use by another cltrain process" or why it
   could not be opened (usage errors), or why it could not be locked (runtime). */
int dir_lock(const char *dir, error *err);

/* True when A and B name the same existing file (same device and inode). */
int same_file(const char *a, const char *b);

/* The first control character (< 0x20 or 0x7f) in S, or NULL. Paths and values that
   end up in files, plots or one-line messages must have none. */
const char *find_control_char(const char *s);

#endif
