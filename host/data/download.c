#include "data/download.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sha256.h"
#include "base/util.h"

/* Create the parent directories of PATH (mkdir -p of its directory part). */
static int make_parent_dirs(const char *path) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return 0;
  *slash = '\0';
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static bool valid_sha256(const char *s) {
  if (strlen(s) != 64) return false;
  for (; *s; s++)
    if (!isxdigit((unsigned char)*s)) return false;
  return true;
}

/* Print the file's digest; 0 when it matches EXPECTED (or none is given), 1 otherwise. */
static int report_checksum(const char *path, const char *shown, const char *expected) {
  char hex[65];
  if (sha256_file(path, hex) != 0) DIE("reading '%s' for its checksum failed: %s", path, strerror(errno));
  printf("sha256  %s  %s\n", hex, shown);
  if (!expected) return 0;
  return strcasecmp(hex, expected) == 0 ? 0 : 1;
}

#ifndef CLTRAIN_HAVE_CURL

static int fetch(const char *url, const char *part) {
  fprintf(stderr,
          "cltrain: error: this cltrain was built without libcurl (install libcurl4-openssl-dev and rebuild); "
          "fetch %s with curl or wget to %s instead\n",
          url, part);
  return EXIT_USAGE;
}

#else

#include <curl/curl.h>

typedef struct {
  CURL *curl;
  FILE *f;
  curl_off_t offset;     /* bytes already on disk when this attempt started */
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
  return fwrite(data, size, n, t->f) == n ? n : 0;
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

static bool retryable(CURLcode rc) {
  return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING || rc == CURLE_HTTP2_STREAM;
}

enum { MAX_ATTEMPTS = 5 };

/* One transfer attempt appending to PART. Returns the curl code; *http the status. */
static CURLcode attempt(const char *url, const char *part, long *http, curl_off_t *have) {
  FILE *f = fopen(part, "ab");
  if (!f) DIE("cannot write '%s': %s", part, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0) DIE("stat '%s': %s", part, strerror(errno));
  transfer t = {.f = f, .offset = st.st_size, .first_write = true, .tty = isatty(2) != 0};
  t.started = t.last_print = now_seconds();
  CURL *c = curl_easy_init();
  if (!c) DIE("curl_easy_init failed");
  t.curl = c;
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);   /* give up on a stalled connection */
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "cltrain/" CLTRAIN_VERSION);
  if (t.offset > 0) {
    fprintf(stderr, "resuming at %.1f MiB\n", (double)t.offset / (1024.0 * 1024.0));
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, t.offset);
  }
  CURLcode rc = curl_easy_perform(c);
  *http = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
  curl_off_t got = 0;
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
  if (rc == CURLE_OK) print_progress(&t, got, got, true);
  else if (t.tty) fputc('\n', stderr);
  if (rc != CURLE_OK) fprintf(stderr, "transfer stopped: %s\n", errbuf[0] ? errbuf : curl_easy_strerror(rc));
  curl_easy_cleanup(c);
  if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) DIE("writing '%s' failed: %s", part, strerror(errno));
  *have = stat(part, &st) == 0 ? st.st_size : 0;
  return rc;
}

static int fetch(const char *url, const char *part) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) DIE("curl_global_init failed");
  int result = EXIT_RUNTIME;
  for (int i = 1; i <= MAX_ATTEMPTS; i++) {
    long http;
    curl_off_t have;
    CURLcode rc = attempt(url, part, &http, &have);
    if (rc == CURLE_OK) {
      result = EXIT_OK;
      break;
    }
    if (http == 416 || rc == CURLE_RANGE_ERROR) {
      /* The partial file does not fit what the server has: start again from zero. */
      fprintf(stderr, "server rejected the resume offset; discarding the partial file\n");
      if (remove(part) != 0) DIE("removing '%s': %s", part, strerror(errno));
      continue;
    }
    if (!retryable(rc) || i == MAX_ATTEMPTS) {
      fprintf(stderr, "cltrain: error: downloading %s failed", url);
      if (http >= 400) fprintf(stderr, " (HTTP %ld)", http);
      fprintf(stderr, ": %s", curl_easy_strerror(rc));
      if (have > 0) fprintf(stderr, "; %lld bytes kept in %s, run the same command again to resume", (long long)have, part);
      fputc('\n', stderr);
      break;
    }
    fprintf(stderr, "retrying (attempt %d of %d)\n", i + 1, MAX_ATTEMPTS);
    struct timespec pause = {0, 250000000L * i};
    if (i >= 4) pause = (struct timespec){1, 0};
    nanosleep(&pause, NULL);
  }
  curl_global_cleanup();
  return result;
}

#endif

int download_run(const download_request *req) {
  if (req->sha256 && !valid_sha256(req->sha256))
    die_usage("--sha256: '%s' is not 64 hexadecimal digits", req->sha256);
  if (access(req->out, F_OK) == 0) {
    printf("%s is already present\n", req->out);
    if (report_checksum(req->out, req->out, req->sha256) != 0) {
      fprintf(stderr, "cltrain: error: %s does not match --sha256 %s; remove it to download again\n", req->out,
              req->sha256);
      return EXIT_RUNTIME;
    }
    return EXIT_OK;
  }
  if (make_parent_dirs(req->out) != 0) die_usage("cannot create the directory of '%s': %s", req->out, strerror(errno));
  char part[1100];
  snprintf(part, sizeof part, "%s.part", req->out);
  fprintf(stderr, "downloading %s\n     to %s\n", req->url, req->out);
  int rc = fetch(req->url, part);
  if (rc != EXIT_OK) return rc;
  if (report_checksum(part, req->out, req->sha256) != 0) {
    remove(part);
    fprintf(stderr, "cltrain: error: checksum mismatch: expected %s; the download was removed\n", req->sha256);
    return EXIT_RUNTIME;
  }
  if (rename(part, req->out) != 0) DIE("renaming '%s' to '%s': %s", part, req->out, strerror(errno));
  if (!req->sha256) fprintf(stderr, "no --sha256 given: keep the checksum above to verify later copies\n");
  fprintf(stderr, "saved %s\n", req->out);
  return EXIT_OK;
}
