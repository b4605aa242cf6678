#include "train/run_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/safe_file.h"
#include "base/util.h"

int run_path(char *buf, size_t len, const char *dir, const char *name) {
  int n = snprintf(buf, len, "%s/%s", dir, name);
  if (n >= 0 && (size_t)n < len) return 0;
  buf[0] = '\0';
  return -1;
}

void path_dirname(char *buf, size_t len, const char *path) {
  snprintf(buf, len, "%s", path);
  char *slash = strrchr(buf, '/');
  while (slash && slash > buf && slash[1] == '\0') { /* trailing slashes */
    *slash = '\0';
    slash = strrchr(buf, '/');
  }
  if (!slash) snprintf(buf, len, ".");
  else if (slash == buf) buf[1] = '\0';
  else *slash = '\0';
}

void time_stamp(char *buf, size_t len) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(buf, len, "%Y%m%d-%H%M%S", &tm);
}

int free_stamped_name(char *dir, size_t len, const char *parent, const char *stem) {
  char stamp[32];
  time_stamp(stamp, sizeof stamp);
  for (int k = 0;; k++) {
    char suffix[16] = "";
    if (k) snprintf(suffix, sizeof suffix, "-%d", k);
    int n = snprintf(dir, len, "%s/%s_%s%s", parent, stem, stamp, suffix);
    if (n < 0 || (size_t)n >= len) return -1;
    /* Free name found; or the parent itself is unusable (a file, no access): creating
       the directory later reports that. Only "exists" tries the next name. */
    struct stat st;
    if (stat(dir, &st) != 0) return 0;
  }
}

int project_dir_check(const char *path, char *err, size_t errlen) {
  if (!path[0]) return seterr(err, errlen, "empty directory name");
  char dir[RUN_PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return seterr(err, errlen, "path too long: %s", path);
  struct stat st;
  /* Walk up to the deepest part that exists. */
  while (stat(dir, &st) != 0) {
    if (errno != ENOENT) return seterr(err, errlen, "%s: %s", dir, strerror(errno));
    char parent[RUN_PATH_MAX];
    path_dirname(parent, sizeof parent, dir);
    if (strcmp(parent, dir) == 0) return seterr(err, errlen, "%s: %s", dir, strerror(ENOENT));
    snprintf(dir, sizeof dir, "%s", parent);
  }
  if (!S_ISDIR(st.st_mode)) return seterr(err, errlen, "%s is not a directory", dir);
  if (access(dir, W_OK | X_OK) != 0) return seterr(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
  return 0;
}

/* Hold an exclusive flock on the run directory: two processes writing one run (a second
   --resume of a run that is still training) would interleave and cut each other's rows. */
static int lock_run_dir(run_log *r, char *err, size_t errlen) {
  r->lock_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (r->lock_fd < 0) return seterr(err, errlen, "cannot open %s: %s", r->dir, strerror(errno));
  if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(r->lock_fd);
    r->lock_fd = -1;
    if (e == EWOULDBLOCK) return seterr(err, errlen, "run %s is in use by another cltrain process", r->dir);
    return seterr(err, errlen, "cannot lock %s: %s", r->dir, strerror(e));
  }
  return 0;
}

static int open_csv(FILE **f, const char *dir, const char *name, const char *mode, const char *header, char *err,
                    size_t errlen) {
  char path[RUN_PATH_MAX];
  run_path(path, sizeof path, dir, name);
  *f = fopen(path, mode);
  if (!*f) return seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
  if (header) {
    fprintf(*f, "%s\n", header);
    fflush(*f);
  }
  return 0;
}

int run_log_create(run_log *r, const char *project_dir, const char *model, const char *dataset, char *err,
                   size_t errlen) {
  memset(r, 0, sizeof *r);
  r->lock_fd = -1;
  if (make_dirs(project_dir, err, errlen)) return -1;
  char stamp[32];
  time_stamp(stamp, sizeof stamp);
  /* mkdir is the atomic test: parallel runs started in the same second get -1, -2, ... */
  for (int k = 0;; k++) {
    char suffix[16] = "";
    if (k) snprintf(suffix, sizeof suffix, "-%d", k);
    int n = dataset ? snprintf(r->dir, sizeof r->dir, "%s/%s_%s_%s%s", project_dir, model, dataset, stamp, suffix)
                    : snprintf(r->dir, sizeof r->dir, "%s/%s_%s%s", project_dir, model, stamp, suffix);
    if (n < 0 || (size_t)n >= sizeof r->dir) return seterr(err, errlen, "run directory path too long");
    if (mkdir(r->dir, 0755) == 0) break;
    if (errno != EEXIST || k > 10000) return seterr(err, errlen, "cannot create %s: %s", r->dir, strerror(errno));
  }
  if (lock_run_dir(r, err, errlen)) return -1;
  if (open_csv(&r->metrics, r->dir, "metrics.csv", "w", METRICS_HEADER, err, errlen)) return -1;
  if (open_csv(&r->epochs, r->dir, "epochs.csv", "w", EPOCHS_HEADER, err, errlen)) return -1;
  return 0;
}

/* Rewrite DIR/NAME keeping the header and the rows whose first column is below LIMIT. */
static int keep_rows_below(const char *dir, const char *name, const char *header, uint64_t limit, char *err,
                           size_t errlen) {
  char path[RUN_PATH_MAX], tmp[RUN_PATH_MAX + 8];
  run_path(path, sizeof path, dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return seterr(err, errlen, "cannot resume: %s: %s", path, strerror(errno));
  size_t hlen = strlen(header);
  if (strncmp(text, header, hlen) != 0 || (text[hlen] != '\n' && text[hlen] != '\0')) {
    free(text);
    return seterr(err, errlen, "cannot resume: %s does not start with the header '%s'", path, header);
  }
  FILE *out = safe_tmp_fopen(tmp);
  if (!out) {
    free(text);
    return seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  }
  fprintf(out, "%s\n", header);
  char *p = text + hlen + (text[hlen] == '\n');
  while (*p) {
    char *eol = strchr(p, '\n');
    if (!eol) break; /* a partial last line: dropped */
    char *end;
    unsigned long long key = strtoull(p, &end, 10);
    if (end != p && *end == ',' && key < limit) fwrite(p, 1, (size_t)(eol - p + 1), out);
    p = eol + 1;
  }
  free(text);
  if (fclose(out) || rename(tmp, path)) {
    seterr(err, errlen, "cannot rewrite %s: %s", path, strerror(errno));
    unlink(tmp); /* the original is untouched; leave no half-written copy */
    return -1;
  }
  return 0;
}

int run_log_resume(run_log *r, const char *dir, uint64_t step, uint64_t epochs, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->lock_fd = -1;
  if (snprintf(r->dir, sizeof r->dir, "%s", dir) >= (int)sizeof r->dir) return seterr(err, errlen, "path too long");
  if (lock_run_dir(r, err, errlen)) return -1;
  if (keep_rows_below(dir, "metrics.csv", METRICS_HEADER, step + 1, err, errlen)) return -1;
  if (keep_rows_below(dir, "epochs.csv", EPOCHS_HEADER, epochs, err, errlen)) return -1;
  if (open_csv(&r->metrics, dir, "metrics.csv", "a", NULL, err, errlen)) return -1;
  if (open_csv(&r->epochs, dir, "epochs.csv", "a", NULL, err, errlen)) return -1;
  return 0;
}

int run_log_step(run_log *r, uint64_t step, uint64_t epoch, double loss, double acc, double lr, double elapsed_s,
                 error *err) {
  fprintf(r->metrics, "%llu,%llu,%.9g,%.9g,%.9g,%.3f\n", (unsigned long long)step, (unsigned long long)epoch, loss,
          acc, lr, elapsed_s);
  if (fflush(r->metrics)) return ERR_RUNTIME(err, "cannot write %s/metrics.csv: %s", r->dir, strerror(errno));
  return 0;
}

int run_log_epoch(run_log *r, const epoch_row *e, error *err) {
  fprintf(r->epochs, "%llu,%llu,%.9g,%.9g,%.9g,%.9g,%.9g,%.3f,%.1f\n", (unsigned long long)e->epoch,
          (unsigned long long)e->step, e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->lr, e->epoch_s,
          e->samples_per_s);
  if (fflush(r->epochs)) return ERR_RUNTIME(err, "cannot write %s/epochs.csv: %s", r->dir, strerror(errno));
  return 0;
}

void run_log_close(run_log *r) {
  if (r->metrics && fclose(r->metrics)) warnf("closing %s/metrics.csv: %s", r->dir, strerror(errno));
  if (r->epochs && fclose(r->epochs)) warnf("closing %s/epochs.csv: %s", r->dir, strerror(errno));
  r->metrics = r->epochs = NULL;
  if (r->lock_fd >= 0) close(r->lock_fd); /* releases the flock */
  r->lock_fd = -1;
}
