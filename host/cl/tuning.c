#include "cl/tuning.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/gemm.h"
#include "base/safe_file.h"
#include "base/util.h"

/* Format 2 adds the "linear" lines (GEMM path per Linear shape); format 1 files, written
   before them, still load (docs/FORMATS.md "Tuning files"). */
#define TUNING_MAGIC "cltrain-tuning 2"
#define TUNING_MAGIC_V1 "cltrain-tuning 1"

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
  char body[16384];
  size_t len = 0;
#define ADD(...) len += (size_t)snprintf(body + len, sizeof body - len, __VA_ARGS__)
  ADD("%s\ndevice %s\nplatform %s\ndriver %s\n", TUNING_MAGIC, t->device, t->platform, t->driver);
  ADD("measured_us %.3f default_us %.3f\n", t->tuned_us, t->default_us);
  for (int s = 0; s < t->n_sets; s++) {
    ADD("set %s", t->sets[s].kernel);
    for (int i = 0; i < t->sets[s].n; i++) ADD(" %s=%zu", t->sets[s].names[i], t->sets[s].values[i]);
    ADD("\n");
  }
  for (int i = 0; i < t->choices.n; i++) {
    const gemm_choice *c = &t->choices.items[i];
    ADD("linear %d %d %d %s %.3f %.3f\n", c->in, c->out, c->batch, gemm_path_name(c->path), c->clblast_us,
        c->fused_us);
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

/* The value of NAME in S, or 0 when absent (every checked parameter is at least 1). */
static size_t param(const tuning_set *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0) return s->values[i];
  return 0;
}

static bool power_of_two_upto(size_t v, size_t max) { return v >= 1 && v <= max && (v & (v - 1)) == 0; }

/* XgemmDirect's parameters against CLBlast's own constraints (its tuner,
   src/tuning/kernels/xgemm_direct.hpp; README, "Limits"): WGD a multiple of KWID, of
   MDIMCD*VWMD, NDIMCD*VWND, MDIMAD*VWMD, NDIMBD*VWND, and of MDIMCD*NDIMCD/MDIMAD and
   /NDIMBD (which must divide exactly); vector widths 1-16 in powers of two; padding 0 or
   1; and sane sizes (WGD <= 256, thread counts <= 1024), so a hostile file cannot make the
   compiler unroll for hours. 0, or -1 with the first violation in err. */
static int check_direct(const tuning_set *s, char *err, size_t errlen) {
  static const char *const need[] = {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                     "KWID", "VWMD", "VWND", "PADA", "PADB"};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    bool found = false;
    for (int j = 0; j < s->n; j++) found |= strcmp(s->names[j], need[i]) == 0;
    if (!found) return seterr(err, errlen, "XgemmDirect lacks parameter %s", need[i]);
  }
  if (s->n != 10) return seterr(err, errlen, "XgemmDirect has %d parameters, CLBlast takes 10", s->n);
  size_t wgd = param(s, "WGD"), mc = param(s, "MDIMCD"), nc = param(s, "NDIMCD"), ma = param(s, "MDIMAD"),
         nb = param(s, "NDIMBD"), kwi = param(s, "KWID"), vm = param(s, "VWMD"), vn = param(s, "VWND");
  if (wgd < 1 || wgd > 256) return seterr(err, errlen, "XgemmDirect WGD=%zu is outside 1-256", wgd);
  if (mc < 1 || nc < 1 || ma < 1 || nb < 1 || mc > 1024 || nc > 1024 || ma > 1024 || nb > 1024 || mc * nc > 1024)
    return seterr(err, errlen, "XgemmDirect thread counts MDIMCD=%zu NDIMCD=%zu MDIMAD=%zu NDIMBD=%zu are outside 1-1024",
                  mc, nc, ma, nb);
  if (!power_of_two_upto(vm, 16) || !power_of_two_upto(vn, 16))
    return seterr(err, errlen, "XgemmDirect vector widths VWMD=%zu VWND=%zu are not 1, 2, 4, 8 or 16", vm, vn);
  if (param(s, "PADA") > 1 || param(s, "PADB") > 1)
    return seterr(err, errlen, "XgemmDirect PADA/PADB must be 0 or 1");
  if (kwi < 1 || wgd % kwi) return seterr(err, errlen, "XgemmDirect WGD=%zu is not a multiple of KWID=%zu", wgd, kwi);
  const size_t divisors[4][2] = {{mc, vm}, {nc, vn}, {ma, vm}, {nb, vn}};
  static const char *const what[4] = {"MDIMCD*VWMD", "NDIMCD*VWND", "MDIMAD*VWMD", "NDIMBD*VWND"};
  for (int i = 0; i < 4; i++)
    if (wgd % (divisors[i][0] * divisors[i][1]))
      return seterr(err, errlen, "XgemmDirect WGD=%zu is not a multiple of %s=%zu", wgd, what[i],
                    divisors[i][0] * divisors[i][1]);
  if ((mc * nc) % ma || (mc * nc) % nb || wgd % (mc * nc / ma) || wgd % (mc * nc / nb))
    return seterr(err, errlen, "XgemmDirect WGD=%zu is not a multiple of MDIMCD*NDIMCD/MDIMAD and /NDIMBD", wgd);
  return 0;
}

/* Every set names a kernel cltrain tunes, with values CLBlast can compile. */
static int check_sets(const tuning *t, char *err, size_t errlen) {
  for (int i = 0; i < t->n_sets; i++) {
    const tuning_set *s = &t->sets[i];
    if (strcmp(s->kernel, "XgemmDirect") == 0) {
      if (check_direct(s, err, errlen)) return -1;
    } else if (strcmp(s->kernel, "GemmRoutine") == 0) {
      /* cltrain tune stores 2^20 for "never indirect" (m*n*k below 2^60): only compared,
         never compiled, so the bound is just a sanity limit */
      if (s->n != 1 || strcmp(s->names[0], "XGEMM_MIN_INDIRECT_SIZE") != 0 || s->values[0] > TUNING_NEVER_INDIRECT)
        return seterr(err, errlen, "GemmRoutine takes XGEMM_MIN_INDIRECT_SIZE of 0-%d only", TUNING_NEVER_INDIRECT);
    } else {
      return seterr(err, errlen, "kernel '%s' is not one 'cltrain tune' stores (XgemmDirect, GemmRoutine)", s->kernel);
    }
  }
  return 0;
}

/* Limits of a "linear" line: widths as model files allow (model/model.h MODEL_MAX_WIDTH),
   batches as the commands allow, times below 1000 s. */
#define CHOICE_MAX_WIDTH 65536
#define CHOICE_MAX_BATCH (1 << 20)

/* "IN OUT BATCH PATH CLBLAST_US FUSED_US" (after "linear ") into a new entry of C. 0, or -1
   with what is wrong in err. */
static int parse_choice(char *rest, gemm_choices *c, char *err, size_t errlen) {
  char *tok[7];
  int n = 0;
  char *save = NULL;
  for (char *p = strtok_r(rest, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
    if (n == 6) return seterr(err, errlen, "more than 6 fields");
    for (const char *q = p; *q; q++)
      if (!isgraph((unsigned char)*q)) return seterr(err, errlen, "field %d has a control or non-ASCII character", n + 1);
    tok[n++] = p;
  }
  if (n != 6) return seterr(err, errlen, "%d fields, expected 6 (in out batch path clblast_us fused_us)", n);
  long in, out, batch;
  double us[2];
  if (!parse_long(tok[0], 1, CHOICE_MAX_WIDTH, &in) || !parse_long(tok[1], 1, CHOICE_MAX_WIDTH, &out))
    return seterr(err, errlen, "widths '%.32s' '%.32s' are not integers in [1, %d]", tok[0], tok[1], CHOICE_MAX_WIDTH);
  if (!parse_long(tok[2], 1, CHOICE_MAX_BATCH, &batch))
    return seterr(err, errlen, "batch size '%.32s' is not an integer in [1, %d]", tok[2], CHOICE_MAX_BATCH);
  gemm_path path = GEMM_PATH_NONE;
  for (int p = GEMM_PATH_CLBLAST; p < GEMM_PATH_COUNT; p++)
    if (strcmp(tok[3], gemm_path_name((gemm_path)p)) == 0) path = (gemm_path)p;
  if (path == GEMM_PATH_NONE) return seterr(err, errlen, "path '%.32s' is not clblast or fused", tok[3]);
  for (int i = 0; i < 2; i++)
    if (!parse_double(tok[4 + i], 0, 1e9, &us[i]) || !isfinite(us[i]))
      return seterr(err, errlen, "time '%.32s' is not a number of microseconds in [0, 1e9]", tok[4 + i]);
  for (int i = 0; i < c->n; i++)
    if (c->items[i].in == in && c->items[i].out == out && c->items[i].batch == batch)
      return seterr(err, errlen, "a second entry for %ldx%ld at batch %ld", in, out, batch);
  if (c->n == GEMM_CHOICES_MAX) return seterr(err, errlen, "more than %d entries", GEMM_CHOICES_MAX);
  c->items[c->n++] = (gemm_choice){(int)in, (int)out, (int)batch, path, us[0], us[1]};
  return 0;
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
  int rc = 0, lineno = 0, version = 0;
  char bad_choice[160] = "";
  for (char *line = text, *next; *line && rc == 0; line = next) {
    char *eol = strchr(line, '\n');
    next = eol ? eol + 1 : line + strlen(line);
    if (eol) *eol = '\0';
    lineno++;
    char rest[512];
    if (lineno == 1) {
      version = strcmp(line, TUNING_MAGIC) == 0 ? 2 : strcmp(line, TUNING_MAGIC_V1) == 0 ? 1 : 0;
      rc = version ? 0 : -1;
    } else if (version >= 2 && field(line, "linear", rest, sizeof rest) == 0) {
      rc = parse_choice(rest, &t->choices, bad_choice, sizeof bad_choice);
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
  if (rc && bad_choice[0]) return seterr(err, errlen, "tuning file '%s' line %d: linear: %s", path, lineno, bad_choice);
  if (rc || !t->device[0] || !t->driver[0])
    return seterr(err, errlen, "'%s' is corrupt (malformed line %d)", path, lineno);
  char bad[256];
  if (check_sets(t, bad, sizeof bad)) return seterr(err, errlen, "tuning file '%s': %s", path, bad);
  return 0;
}

/* The device's limits: the work-group of MDIMCD x NDIMCD items and the two local tiles
   of WGD x (WGD + PAD) floats must fit. */
static int check_device_limits(const cl_runtime *rt, const tuning_set *s, char *err, size_t errlen) {
  if (strcmp(s->kernel, "XgemmDirect") != 0) return 0;
  size_t wgd = param(s, "WGD"), items = param(s, "MDIMCD") * param(s, "NDIMCD");
  if (items > rt->info.max_work_group)
    return seterr(err, errlen, "XgemmDirect work-group of %zu items exceeds the device's %zu", items,
                  rt->info.max_work_group);
  cl_ulong local = 0;
  if (clGetDeviceInfo(rt->info.device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL) != CL_SUCCESS) return 0;
  size_t need = sizeof(float) * (wgd * (wgd + param(s, "PADA")) + wgd * (wgd + param(s, "PADB")));
  if (need > local)
    return seterr(err, errlen, "XgemmDirect WGD=%zu needs %zu bytes of local memory, the device has %llu", wgd, need,
                  (unsigned long long)local);
  return 0;
}

int tuning_apply(cl_runtime *rt, const tuning *t, char *err, size_t errlen) {
  if (check_sets(t, err, errlen)) return -1;
  for (int s = 0; s < t->n_sets; s++) {
    const tuning_set *ts = &t->sets[s];
    if (check_device_limits(rt, ts, err, errlen)) return -1;
    const char *names[TUNING_MAX_PARAMS];
    for (int i = 0; i < ts->n; i++) names[i] = ts->names[i];
    int st = gemm_override(rt, ts->kernel, (size_t)ts->n, names, ts->values);
    if (st != 0)
      return seterr(err, errlen, "CLBlast refused the %s parameters: %s", ts->kernel, clblast_status_name(st));
  }
  return 0;
}

bool tuning_apply_stored(cl_runtime *rt) {
  rt->tuned = false;
  rt->gemm_paths.n = 0;
  const char *off = getenv("CLTRAIN_NO_TUNING");
  if (off && *off && strcmp(off, "0") != 0) return false;
  char path[1200], err[1400];
  tuning_path(&rt->info, path, sizeof path);
  if (access(path, F_OK) != 0) return false;
  tuning t;
  if (tuning_load(path, &t, err, sizeof err) != 0) {
    warnf("ignoring tuning file: %s; using CLBlast defaults (re-run 'cltrain tune')", err);
    return false;
  }
  if (strcmp(t.device, rt->info.name) != 0 || strcmp(t.platform, rt->info.platform_name) != 0 ||
      strcmp(t.driver, rt->info.driver) != 0) {
    warnf("ignoring stale tuning file '%s' (tuned for driver '%s', this is '%s'); re-run 'cltrain tune'",
          path, t.driver, rt->info.driver);
    return false;
  }
  if (tuning_apply(rt, &t, err, sizeof err) != 0) {
    warnf("ignoring tuning file '%s': %s", path, err);
    return false;
  }
  rt->gemm_paths = t.choices;
  return rt->tuned = true;
}
