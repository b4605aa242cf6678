#include "data/download.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sha256.h"
#include "base/util.h"

/* Create the parent directories of PATH (mkdir -p of its directory part). *made gets the
   shortest one this call created ("" when none), so a failed download can remove the
   folders it made and nothing else. */
static int make_parent_dirs(const char *path, char *made, size_t made_len) {
  char dir[1024];
  made[0] = '\0';
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return 0;
  *slash = '\0';
  for (char *p = dir + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    if (mkdir(dir, 0755) == 0) {
      if (!made[0]) snprintf(made, made_len, "%s", dir);
    } else if (errno != EEXIST) {
      return -1;
    }
    *p = c;
    if (!c) return 0;
  }
}

/* Remove the folders from TOP down to the file's folder that a failed download made,
   deepest first; a folder that is not empty stays. */
static void remove_made_dirs(const char *path, const char *top) {
  if (!top[0]) return;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  size_t top_len = strlen(top);
  for (char *slash = strrchr(dir, '/'); slash && (size_t)(slash - dir) >= top_len; slash = strrchr(dir, '/')) {
    *slash = '\0';
    if (rmdir(dir) != 0) return;
  }
}

static bool valid_sha256(const char *s) {
  if (strlen(s) != 64) return false;
  for (; *s; s++)
    if (!isxdigit((unsigned char)*s)) return false;
  return true;
}

/* Print the file's digest. 0 when it matches EXPECTED (or none is given); 1 when it does
   not; -1 with ERR when the file cannot be read. */
static int report_checksum(const char *path, const char *shown, const char *expected, error *err) {
  char hex[65];
  if (sha256_file(path, hex) != 0)
    return ERR_RUNTIME(err, "reading '%s' for its checksum failed: %s", path, strerror(errno));
  printf("sha256  %s  %s\n", hex, shown);
  if (!expected) return 0;
  return strcasecmp(hex, expected) == 0 ? 0 : 1;
}

#ifndef CLTRAIN_HAVE_CURL

static int fetch(const char *url, const char *part, error *err) {
  return ERR_USAGE(err,
                   "this cltrain was built without libcurl (install libcurl4-openssl-dev and rebuild); fetch %s with "
                   "curl or wget to %s instead",
                   url, part);
}

#else

#include <curl/curl.h>

/* Bounds of one download (README, "data download"): a file larger than the cap, a chain
   of more than MAX_REDIRECTS redirects, or less than LOW_SPEED bytes/s over LOW_SPEED_S
   seconds ends it. The cap can be lowered (tests) with CLTRAIN_DOWNLOAD_MAX_BYTES. */
#define DEFAULT_MAX_BYTES ((curl_off_t)4 << 30)
enum { MAX_REDIRECTS = 5, LOW_SPEED = 1024, LOW_SPEED_S = 30 };

static curl_off_t max_bytes(void) {
  const char *env = getenv("CLTRAIN_DOWNLOAD_MAX_BYTES");
  long v;
  if (env && parse_long(env, 1, LONG_MAX, &v)) return (curl_off_t)v;
  return DEFAULT_MAX_BYTES;
}

typedef struct {
  CURL *curl;
  FILE *f;
  curl_off_t max;        /* the cap on the whole file */
  bool too_large;        /* the body went past it */
  curl_off_t offset;     /* bytes already on disk when this attempt started */
  curl_off_t written;    /* bytes written by this attempt */
  bool first_write;
  bool tty;
  double started, last_print;
} transfer;

static size_t on_data(char *data, size_t size, size_t n, void *user) {
  transfer *t = user;
  if (t->first_write) {
    t->first_write = false;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (t->offset > 0 && code == 200) {
      /* The server ignored the Range request and sends the whole file: start over. */
      if (fflush(t->f) != 0 || ftruncate(fileno(t->f), 0) != 0) return 0;
      fprintf(stderr, "server does not resume; downloading from the start\n");
      t->offset = 0;
    }
  }
  /* An endless or oversized body stops here, whatever the headers announced. */
  if (t->offset + t->written + (curl_off_t)n > t->max) {
    t->too_large = true;
    return 0;
  }
  if (fwrite(data, size, n, t->f) != n) return 0;
  t->written += (curl_off_t)n;
  return n;
}

static void print_progress(const transfer *t, curl_off_t total, curl_off_t now, bool final) {
  double mib = 1024.0 * 1024.0, secs = now_seconds() - t->started;
  double done = (double)(t->offset + now) / mib, rate = secs > 0 ? (double)now / mib / secs : 0;
  if (total > 0) {
    double all = (double)(t->offset + total) / mib;
    fprintf(stderr, "%s%9.1f / %.1f MiB %5.1f%% %7.2f MiB/s%s", t->tty ? "\r" : "", done, all,
            100.0 * done / all, rate, t->tty && !final ? "" : "\n");
  } else {
    fprintf(stderr, "%s%9.1f MiB %7.2f MiB/s%s", t->tty ? "\r" : "", done, rate, t->tty && !final ? "" : "\n");
  }
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  transfer *t = user;
  double now = now_seconds();
  if (now - t->last_print >= (t->tty ? 0.25 : 5.0)) {
    t->last_print = now;
    print_progress(t, dltotal, dlnow, false);
  }
  return 0;
}

/* A dropped connection is worth another attempt; a stall only when the attempt moved at
   least a window's worth of bytes (a trickling server is not retried for ever). */
static bool retryable(CURLcode rc, curl_off_t moved) {
  if (rc == CURLE_OPERATION_TIMEDOUT) return moved >= (curl_off_t)LOW_SPEED * LOW_SPEED_S;
  return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
         rc == CURLE_HTTP2_STREAM;
}

/* The reason of a failed attempt, in words for the one error line. */
static void describe(CURLcode rc, long http, bool too_large, curl_off_t max, char *buf, size_t n) {
  if (too_large || rc == CURLE_FILESIZE_EXCEEDED)
    snprintf(buf, n, "the file is larger than the %lld-byte cap (CLTRAIN_DOWNLOAD_MAX_BYTES)", (long long)max);
  else if (rc == CURLE_TOO_MANY_REDIRECTS)
    snprintf(buf, n, "more than %d redirects (a redirect loop?)", MAX_REDIRECTS);
  else if (http >= 400)
    snprintf(buf, n, "the server answered HTTP %ld", http);
  else if (rc == CURLE_OPERATION_TIMEDOUT)
    snprintf(buf, n, "slower than %d bytes/s for %d s (stalled)", LOW_SPEED, LOW_SPEED_S);
  else
    snprintf(buf, n, "%s", curl_easy_strerror(rc));
}

enum { MAX_ATTEMPTS = 5 };

typedef struct {
  CURLcode rc;
  long http;
  bool too_large;
  curl_off_t have;    /* bytes in PART afterwards */
  curl_off_t moved;   /* bytes this attempt wrote */
  char why[CURL_ERROR_SIZE];  /* libcurl's words, shown when the attempt is retried */
} outcome;

/* One transfer attempt appending to PART (never through a symlink planted there). */
static int attempt(const char *url, const char *part, curl_off_t max, outcome *o, error *err) {
  int fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ERR_USAGE(err, "data download: cannot write '%s': %s", part, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return ERR_USAGE(err, "data download: '%s' is not a regular file", part);
  }
  FILE *f = fdopen(fd, "ab");
  if (!f) {
    close(fd);
    return ERR_RUNTIME(err, "fdopen '%s': %s", part, strerror(errno));
  }
  transfer t = {.f = f, .max = max, .offset = st.st_size, .first_write = true, .tty = isatty(2) != 0};
  t.started = t.last_print = now_seconds();
  CURL *c = curl_easy_init();
  if (!c) {
    fclose(f);
    return ERR_RUNTIME(err, "curl_easy_init failed");
  }
  t.curl = c;
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_S);
  /* An announced length over the cap fails before the body (the body is bounded too). */
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, max - t.offset > 0 ? max - t.offset : (curl_off_t)1);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cltrain/" CLTRAIN_VERSION);
  if (t.offset > 0) {
    fprintf(stderr, "resuming at %.1f MiB\n", (double)t.offset / (1024.0 * 1024.0));
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, t.offset);
  }
  o->rc = curl_easy_perform(c);
  o->http = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &o->http);
  curl_off_t got = 0;
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
  if (o->rc == CURLE_OK) print_progress(&t, got, got, true);
  else if (t.tty) fputc('\n', stderr);
  o->too_large = t.too_large;
  o->moved = t.written;
  curl_easy_cleanup(c);
  if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0)
    return ERR_RUNTIME(err, "writing '%s' failed: %s", part, strerror(errno));
  o->have = stat(part, &st) == 0 ? st.st_size : 0;
  snprintf(o->why, sizeof o->why, "%s", errbuf[0] ? errbuf : curl_easy_strerror(o->rc));
  return 0;
}

static int fetch(const char *url, const char *part, error *err) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) return ERR_RUNTIME(err, "curl_global_init failed");
  curl_off_t max = max_bytes();
  int result = -1;
  for (int i = 1; i <= MAX_ATTEMPTS; i++) {
    outcome o;
    if (attempt(url, part, max, &o, err) != 0) break;
    if (o.rc == CURLE_OK) {
      result = 0;
      break;
    }
    if (o.http == 416 || o.rc == CURLE_RANGE_ERROR) {
      /* The partial file does not fit what the server has: start again from zero. */
      fprintf(stderr, "server rejected the resume offset; discarding the partial file\n");
      if (remove(part) != 0) {
        ERR_RUNTIME(err, "removing '%s': %s", part, strerror(errno));
        break;
      }
      continue;
    }
    if (!o.too_large && retryable(o.rc, o.moved) && i < MAX_ATTEMPTS) {
      fprintf(stderr, "transfer stopped: %s; retrying (attempt %d of %d)\n", o.why, i + 1, MAX_ATTEMPTS);
      struct timespec pause = {0, 250000000L * i};
      if (i >= 4) pause = (struct timespec){1, 0};
      nanosleep(&pause, NULL);
      continue;
    }
    char why[160];
    describe(o.rc, o.http, o.too_large, max, why, sizeof why);
    /* An oversized body is no start of the file: drop it. What an interrupted transfer
       kept stays for the next run to resume. */
    if (o.too_large || o.rc == CURLE_FILESIZE_EXCEEDED) o.have = remove(part) == 0 ? 0 : o.have;
    if (o.have > 0)
      ERR_RUNTIME(err, "downloading %s failed: %s; %lld bytes kept in %s, run the same command again to resume", url,
                  why, (long long)o.have, part);
    else
      ERR_RUNTIME(err, "downloading %s failed: %s", url, why);
    break;
  }
  curl_global_cleanup();
  return result;
}

#endif

int download_run(const download_request *req, error *err) {
  if (req->sha256 && !valid_sha256(req->sha256))
    return ERR_USAGE(err, "--sha256: '%s' is not 64 hexadecimal digits", req->sha256);
  size_t out_len = strlen(req->out);
  if (out_len == 0 || req->out[out_len - 1] == '/')
    return ERR_USAGE(err, "data download: --out '%s' names a directory; give a file path such as DIR/jsc.h5", req->out);
  struct stat st;
  if (stat(req->out, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return ERR_USAGE(err, "data download: --out '%s' is %s, not a regular file", req->out,
                       S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
    printf("%s is already present\n", req->out);
    int rc = report_checksum(req->out, req->out, req->sha256, err);
    if (rc > 0)
      return error_set(err, EXIT_RUNTIME, "%s does not match --sha256 %s; remove it to download again", req->out,
                       req->sha256);
    return rc;
  }
  char part[1100];
  if (snprintf(part, sizeof part, "%s.part", req->out) >= (int)sizeof part)
    return ERR_USAGE(err, "data download: --out '%s' is too long", req->out);
  char made[1024];
  if (make_parent_dirs(req->out, made, sizeof made) != 0)
    return ERR_USAGE(err, "cannot create the directory of '%s': %s", req->out, strerror(errno));
  fprintf(stderr, "downloading %s\n     to %s\n", req->url, req->out);
  if (fetch(req->url, part, err) != 0) {
    /* Leave nothing behind but a partial file worth resuming. */
    if (stat(part, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) remove(part);
    remove_made_dirs(req->out, made);
    return -1;
  }
  int rc = report_checksum(part, req->out, req->sha256, err);
  if (rc != 0) {
    remove(part);
    remove_made_dirs(req->out, made);
    if (rc > 0)
      error_set(err, EXIT_RUNTIME, "checksum mismatch: expected %s; the download was removed", req->sha256);
    return -1;
  }
  if (rename(part, req->out) != 0)
    return ERR_RUNTIME(err, "renaming '%s' to '%s': %s", part, req->out, strerror(errno));
  if (!req->sha256) fprintf(stderr, "no --sha256 given: keep the checksum above to verify later copies\n");
  fprintf(stderr, "saved %s\n", req->out);
  return 0;
}
