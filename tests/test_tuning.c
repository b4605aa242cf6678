/* Stored CLBlast tuning: a saved file survives a restart (is applied by the next
   tuning_apply_stored on the same device, never by rt_open alone), and a corrupt,
   truncated or stale file is ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl/runtime.h"
#include "devutil.h"
#include "testutil.h"
#include "cl/tuning.h"
#include "base/util.h"

/* What a run does: open the device, then apply its stored tuning. */
static void open_tuned(cl_runtime *rt) {
  dev_open(rt);
  CHECK(tuning_apply_stored(rt) == rt->tuned, "tuning_apply_stored returns rt->tuned");
}

static void write_text(const char *path, const char *text, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fwrite(text, 1, n, f);
  fclose(f);
}

int main(void) {
  char dir[] = "/tmp/cltrain-tuning-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  setenv("CLTRAIN_TUNING_DIR", dir, 1);

  cl_runtime rt;
  open_tuned(&rt);
  CHECK(!rt.tuned, "a fresh tuning dir must not apply anything");
  char path[1200], err[1400];
  tuning_path(&rt.info, path, sizeof path);
  CHECK(strncmp(path, dir, strlen(dir)) == 0, "path %s not under %s", path, dir);

  tuning t = {0};
  snprintf(t.device, sizeof t.device, "%s", rt.info.name);
  snprintf(t.platform, sizeof t.platform, "%s", rt.info.platform_name);
  snprintf(t.driver, sizeof t.driver, "%s", rt.info.driver);
  t.tuned_us = 12.5;
  t.default_us = 20.25;
  t.n_sets = 1;
  tuning_set *s = &t.sets[0];
  snprintf(s->kernel, sizeof s->kernel, "GemmRoutine");
  s->n = 1;
  snprintf(s->names[0], sizeof s->names[0], "XGEMM_MIN_INDIRECT_SIZE");
  s->values[0] = 77;
  CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save: %s", err);
  rt_close(&rt);

  tuning back;
  CHECK(tuning_load(path, &back, err, sizeof err) == 0, "load: %s", err);
  CHECK(strcmp(back.device, t.device) == 0 && strcmp(back.driver, t.driver) == 0, "identity fields");
  CHECK(back.n_sets == 1 && back.sets[0].n == 1 && back.sets[0].values[0] == 77 &&
        strcmp(back.sets[0].names[0], "XGEMM_MIN_INDIRECT_SIZE") == 0, "parameter set round trip");
  CHECK(back.tuned_us == 12.5 && back.default_us == 20.25, "timings round trip");

  /* Restart: the next runtime on this device applies it. */
  open_tuned(&rt);
  CHECK(rt.tuned, "stored tuning not applied after restart");
  rt_close(&rt);
  /* rt_open alone leaves CLBlast's defaults (cltrain tune measures from them). */
  dev_open(&rt);
  CHECK(!rt.tuned, "rt_open applied the stored tuning by itself");
  rt_close(&rt);
  /* CLTRAIN_NO_TUNING keeps CLBlast's defaults. */
  setenv("CLTRAIN_NO_TUNING", "1", 1);
  open_tuned(&rt);
  CHECK(!rt.tuned, "CLTRAIN_NO_TUNING=1 still applied the stored tuning");
  rt_close(&rt);
  setenv("CLTRAIN_NO_TUNING", "0", 1);
  open_tuned(&rt);
  CHECK(rt.tuned, "CLTRAIN_NO_TUNING=0 must not switch the tuning off");
  rt_close(&rt);
  unsetenv("CLTRAIN_NO_TUNING");

  size_t len;
  char *good = read_file(path, &len);
  CHECK(good != NULL, "reread");

  /* Corrupt: one byte changed -> checksum mismatch -> ignored. */
  char *bad = xstrdup(good);
  char *v = strstr(bad, "=77");
  if (v) v[1] = '9';
  write_text(path, bad, len);
  CHECK(tuning_load(path, &back, err, sizeof err) == -1 && strstr(err, "corrupt"), "corrupt accepted: %s", err);
  open_tuned(&rt);
  CHECK(!rt.tuned, "corrupt tuning applied");
  rt_close(&rt);

  /* Truncated. */
  write_text(path, good, len / 2);
  CHECK(tuning_load(path, &back, err, sizeof err) == -1, "truncated accepted");
  open_tuned(&rt);
  CHECK(!rt.tuned, "truncated tuning applied");
  rt_close(&rt);

  /* Stale: a valid file for another driver version is ignored. */
  snprintf(t.driver, sizeof t.driver, "some-older-driver-0.1");
  CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save stale: %s", err);
  CHECK(tuning_load(path, &back, err, sizeof err) == 0, "stale file itself is well-formed");
  open_tuned(&rt);
  CHECK(!rt.tuned, "stale tuning applied");
  rt_close(&rt);

  /* Hostile parameters (issue 15): refused at load, naming the file and the violated
     CLBlast constraint, so no compile is ever attempted (WGD=2^30 kept LLVM busy for 15
     minutes at 2.3 GB; all zeros printed 200 lines of compiler errors). A set that
     cltrain tune itself stores is accepted and applied. */
  snprintf(t.driver, sizeof t.driver, "%s", rt.info.driver);
  static const struct {
    const char *kernel;
    size_t v[10];
    const char *needle;
  } sets[] = {
      {"XgemmDirect", {1073741824, 8, 8, 8, 8, 2, 1, 1, 0, 0}, "WGD=1073741824 is outside 1-256"},
      {"XgemmDirect", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "WGD=0 is outside"},
      {"XgemmDirect", {16, 2, 2, 2, 2, 3, 8, 8, 0, 0}, "not a multiple of KWID=3"},
      {"XgemmDirect", {16, 4, 4, 4, 4, 2, 8, 8, 0, 0}, "not a multiple of MDIMCD*VWMD=32"},
      {"XgemmDirect", {16, 2, 2, 2, 2, 2, 3, 8, 0, 0}, "vector widths"},
      {"XgemmDirect", {32, 8, 8, 8, 8, 2, 4, 4, 2, 0}, "PADA/PADB"},
      {"XgemmDirect", {32, 64, 32, 64, 32, 2, 1, 1, 0, 0}, "thread counts"},
      {"Xgemm", {16, 2, 2, 2, 2, 2, 8, 8, 0, 0}, "kernel 'Xgemm' is not one"},
      {"XgemmDirect", {16, 2, 2, 2, 2, 2, 8, 8, 0, 0}, NULL},
  };
  static const char *const names[10] = {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                         "KWID", "VWMD", "VWND", "PADA", "PADB"};
  for (size_t c = 0; c < sizeof sets / sizeof sets[0]; c++) {
    snprintf(s->kernel, sizeof s->kernel, "%s", sets[c].kernel);
    s->n = 10;
    for (int i = 0; i < 10; i++) {
      snprintf(s->names[i], sizeof s->names[i], "%s", names[i]);
      s->values[i] = sets[c].v[i];
    }
    CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save hostile: %s", err);
    int rc = tuning_load(path, &back, err, sizeof err);
    if (sets[c].needle)
      CHECK(rc == -1 && strstr(err, path) && strstr(err, sets[c].needle), "set %zu: rc %d '%s' lacks '%s'", c, rc, err,
            sets[c].needle);
    else
      CHECK(rc == 0, "set %zu (a cltrain tune candidate) refused: %s", c, err);
    double t0 = now_seconds();
    open_tuned(&rt);
    CHECK(rt.tuned == (sets[c].needle == NULL), "set %zu: applied %d", c, rt.tuned);
    CHECK(now_seconds() - t0 < 60, "set %zu: opening took %.0f s", c, now_seconds() - t0);
    rt_close(&rt);
  }
  /* The command warns once, naming the file, and trains with CLBlast's defaults. */
  s->values[0] = 1073741824;
  snprintf(s->kernel, sizeof s->kernel, "XgemmDirect");
  CHECK(tuning_save(path, &t, err, sizeof err) == 0, "save hostile: %s", err);
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "'%s' train jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --no-progress --quiet --project-dir '%s/p' "
           ">/dev/null 2>'%s/err.txt'",
           CLTRAIN_BINARY, dir, dir);
  int st = system(cmd);
  snprintf(cmd, sizeof cmd, "%s/err.txt", dir);
  char *text = read_file(cmd, NULL);
  /* cltrain's own lines only: on a cold PoCL cache the kernel compiler adds its own
     ("N warnings generated."). */
  int own_lines = 0;
  const char *warning = NULL;
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "")
    if (strncmp(line, "cltrain:", 8) == 0) {
      own_lines++;
      warning = line;
    }
  CHECK(st == 0 && own_lines == 1 && strstr(warning, "ignoring tuning file") && strstr(warning, path),
        "train with a hostile tuning file: status %d, %d cltrain lines, stderr '%s'", st, own_lines,
        text ? text : "");
  free(text);
  unlink(cmd);
  snprintf(cmd, sizeof cmd, "rm -rf '%s/p'", dir);
  CHECK(system(cmd) == 0, "cleanup");

  /* Missing file: nothing applied, no error. */
  unlink(path);
  open_tuned(&rt);
  CHECK(!rt.tuned, "missing tuning applied");
  rt_close(&rt);

  free(good);
  free(bad);
  rmdir(dir);
  return test_summary("test_tuning");
}
