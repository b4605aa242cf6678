#include "cl/tuning.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/gemm.h"
#include "base/safe_file.h"
#include "base/util.h"

#define TUNING_MAGIC "cltrain-tuning 1"

void tuning_path(const device_info *d, char *out, size_t n) {
  char dir[768];
  const char *env = getenv("CLTRAIN_TUNING_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (env && *env) snprintf(dir, sizeof dir, "%s", env);
  else if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/cltrain/tuning", xdg);
  else snprintf(dir, sizeof dir, "%s/.cache/cltrain/tuning", home && *home ? home : ".");
  char slug[64];
  size_t k = 0;
  for (const char *p = d->name; *p && k + 1 < sizeof slug; p++)
    slug[k++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
  slug[k] = '\0';
  uint64_t h = fnv1a64(d->name, strlen(d->name), FNV1A64_INIT);
  h = fnv1a64(d->platform_name, strlen(d->platform_name), h);
  snprintf(out, n, "%s/%s-%08x.tune", dir, slug, (unsigned)(h & 0xffffffffu));
}

int tuning_save(const char *path, const tuning *t, char *err, size_t errlen) {
  char body[8192];
  size_t len = 0;
#define ADD(...) len += (size_t)snprintf(body + len, sizeof body - len, __VA_ARGS__)
  ADD("%s\ndevice %s\nplatform %s\ndriver %s\n", TUNING_MAGIC, t->device, t->platform, t->driver);
  ADD("measured_us %.3f default_us %.3f\n", t->tuned_us, t->default_us);
  for (int s = 0; s < t->n_sets; s++) {
    ADD("set %s", t->sets[s].kernel);
    for (int i = 0; i < t->sets[s].n; i++) ADD(" %s=%zu", t->sets[s].names[i], t->sets[s].values[i]);
    ADD("\n");
  }
#undef ADD
  if (len >= sizeof body - 40) return seterr(err, errlen, "tuning file too large");
  len += (size_t)snprintf(body + len, sizeof body - len, "checksum %016llx\n",
                          (unsigned long long)fnv1a64(body, len, FNV1A64_INIT));

  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    if (make_dirs(dir, err, errlen) != 0) return -1;
  }
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) return seterr(err, errlen, "cannot write tuning file '%s': %s", tmp, strerror(errno));
  int bad = fwrite(body, 1, len, f) != len;
  bad |= fflush(f) != 0;
  bad |= fsync(fileno(f)) != 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return seterr(err, errlen, "cannot write tuning file '%s': %s", path, strerror(e));
  }
  return 0;
}

/* Copy the rest of LINE after "KEY " into out. */
static int field(const char *line, const char *key, char *out, size_t n) {
  size_t k = strlen(key);
  if (strncmp(line, key, k) != 0 || line[k] != ' ') return -1;
  snprintf(out, n, "%s", line + k + 1);
  return 0;
}

static int parse_set(char *rest, tuning_set *s) {
  memset(s, 0, sizeof *s);
  char *tok = strtok(rest, " ");
  if (!tok || strlen(tok) >= sizeof s->kernel) return -1;
  snprintf(s->kernel, sizeof s->kernel, "%s", tok);
  while ((tok = strtok(NULL, " "))) {
    char *eq = strchr(tok, '=');
    long v;
    if (!eq || s->n == TUNING_MAX_PARAMS || (size_t)(eq - tok) >= sizeof s->names[0]) return -1;
    *eq = '\0';
    if (!parse_long(eq + 1, 0, 1L << 30, &v)) return -1;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", tok);
    s->values[s->n++] = (size_t)v;
  }
  return s->n > 0 ? 0 : -1;
}

int tuning_load(const char *path, tuning *t, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  size_t len;
  char *text = safe_read_file(path, SAFE_CAP_TEXT, &len);
  char why[96];
  if (!text) return seterr(err, errlen, "tuning file '%s'%s", path, safe_read_why(errno, SAFE_CAP_TEXT, why, sizeof why));
  char *sum = strstr(text, "checksum ");
  unsigned long long want;
  if (!sum || (sum != text && sum[-1] != '\n') || sscanf(sum, "checksum %16llx", &want) != 1 ||
      fnv1a64(text, (size_t)(sum - text), FNV1A64_INIT) != want) {
    free(text);
    return seterr(err, errlen, "'%s' is corrupt (checksum mismatch or missing)", path);
  }
  *sum = '\0';
  int rc = 0, lineno = 0;
  for (char *line = text, *next; *line && rc == 0; line = next) {
    char *eol = strchr(line, '\n');
    next = eol ? eol + 1 : line + strlen(line);
    if (eol) *eol = '\0';
    lineno++;
    char rest[512];
    if (lineno == 1) {
      rc = strcmp(line, TUNING_MAGIC) == 0 ? 0 : -1;
    } else if (field(line, "device", t->device, sizeof t->device) == 0 ||
               field(line, "platform", t->platform, sizeof t->platform) == 0 ||
               field(line, "driver", t->driver, sizeof t->driver) == 0 ||
               sscanf(line, "measured_us %lf default_us %lf", &t->tuned_us, &t->default_us) == 2) {
      /* header field */
    } else if (field(line, "set", rest, sizeof rest) == 0 && t->n_sets < TUNING_MAX_SETS &&
               parse_set(rest, &t->sets[t->n_sets]) == 0) {
      t->n_sets++;
    } else {
      rc = -1;
    }
  }
  free(text);
  if (rc || !t->device[0] || !t->driver[0])
    return seterr(err, errlen, "'%s' is corrupt (malformed line %d)", path, lineno);
  return 0;
}

int tuning_apply(cl_runtime *rt, const tuning *t, char *err, size_t errlen) {
  for (int s = 0; s < t->n_sets; s++) {
    const tuning_set *ts = &t->sets[s];
    const char *names[TUNING_MAX_PARAMS];
    for (int i = 0; i < ts->n; i++) names[i] = ts->names[i];
    int st = gemm_override(rt, ts->kernel, (size_t)ts->n, names, ts->values);
    if (st != 0)
      return seterr(err, errlen, "CLBlast refused the %s parameters: %s", ts->kernel, clblast_status_name(st));
  }
  return 0;
}

int tuning_apply_stored(cl_runtime *rt) {
  const char *off = getenv("CLTRAIN_NO_TUNING");
  if (off && *off && strcmp(off, "0") != 0) return 0;
  char path[1200], err[1400];
  tuning_path(&rt->info, path, sizeof path);
  if (access(path, F_OK) != 0) return 0;
  tuning t;
  if (tuning_load(path, &t, err, sizeof err) != 0) {
    warnf("ignoring tuning file: %s; using CLBlast defaults (re-run 'cltrain tune')", err);
    return 0;
  }
  if (strcmp(t.device, rt->info.name) != 0 || strcmp(t.platform, rt->info.platform_name) != 0 ||
      strcmp(t.driver, rt->info.driver) != 0) {
    warnf("ignoring stale tuning file '%s' (tuned for driver '%s', this is '%s'); re-run 'cltrain tune'",
          path, t.driver, rt->info.driver);
    return 0;
  }
  if (tuning_apply(rt, &t, err, sizeof err) != 0) {
    warnf("ignoring tuning file '%s': %s", path, err);
    return 0;
  }
  return 1;
}
