/* The input standardisation in checkpoints (format version 2): written and read back
   bit-exactly; a version 1 file (no such record) still loads, without statistics; a file
   of a later version is refused. And the data side: rows standardised with given
   statistics as the training split is, and a data set moved onto another scaler. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "data/data_sources.h"
#include "testutil.h"
#include "train/checkpoint.h"

static checkpoint sample(const model_spec *m) {
  checkpoint c;
  memset(&c, 0, sizeof c);
  snprintf(c.model_name, sizeof c.model_name, "%s", m->name);
  c.model_text = m->text;
  c.config_text = "";
  c.n_params = m->n_params;
  c.n_stats = m->n_stats;
  c.params = xcalloc(c.n_params, sizeof(float));
  c.stats = xcalloc(c.n_stats, sizeof(float));
  c.optim = xcalloc(1, sizeof(float));
  return c;
}

/* Rewrite the version field of PATH and its checksum, as an older cltrain would have. */
static void set_version(const char *path, uint32_t version) {
  size_t n;
  unsigned char *p = (unsigned char *)read_file(path, &n);
  for (int i = 0; i < 4; i++) p[8 + i] = (unsigned char)(version >> (8 * i));
  uint64_t h = fnv1a64(p, n - 8, FNV1A64_INIT);
  for (int i = 0; i < 8; i++) p[n - 8 + i] = (unsigned char)(h >> (8 * i));
  FILE *f = fopen(path, "wb");
  fwrite(p, 1, n, f);
  fclose(f);
  free(p);
}

int main(void) {
  char dir[256], path[300], err[1024];
  snprintf(dir, sizeof dir, "/tmp/cltrain-test-ckscaler-%d", (int)getpid());
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  model_spec m;
  error merr = {0};
  CHECK(model_load("jsc-tiny", &m, &merr) == 0, "%s", merr.msg);

  checkpoint w = sample(&m);
  w.has_scaler = true;
  for (int j = 0; j < JSC_N_FEATURES; j++) {
    w.mean[j] = (float)j * 1.37f - 3.0f;
    w.std[j] = 0.01f + (float)j;
  }
  w.mean[5] = 1e-40f; /* subnormal: bit-exact */
  CHECK(checkpoint_write(path, &w, err, sizeof err) == 0, "%s", err);
  checkpoint r;
  CHECK(checkpoint_read(path, &r, err, sizeof err) == 0, "%s", err);
  CHECK(r.has_scaler && memcmp(r.mean, w.mean, sizeof w.mean) == 0 && memcmp(r.std, w.std, sizeof w.std) == 0,
        "statistics not read back exactly");
  checkpoint_free(&r);

  /* Version 1: no statistics record. */
  w.has_scaler = false;
  CHECK(checkpoint_write(path, &w, err, sizeof err) == 0, "%s", err);
  set_version(path, 1);
  CHECK(checkpoint_read(path, &r, err, sizeof err) == 0, "version 1 refused: %s", err);
  CHECK(!r.has_scaler && r.n_params == m.n_params, "version 1: has_scaler %d", r.has_scaler);
  checkpoint_free(&r);
  set_version(path, 3);
  CHECK(checkpoint_read(path, &r, err, sizeof err) == -1 && strstr(err, "version 3") && strstr(err, path),
        "version 3: '%s'", err);

  /* Standardisation as the training split gets it; a data set moved onto other statistics. */
  float x[2 * JSC_N_FEATURES], mean[JSC_N_FEATURES], sd[JSC_N_FEATURES];
  for (int j = 0; j < 2 * JSC_N_FEATURES; j++) x[j] = (float)(j % JSC_N_FEATURES % 7) * 2.5f + (j < JSC_N_FEATURES ? 0.0f : 1.0f);
  fit_standardization(x, 2, mean, sd);
  CHECK(mean[0] == 0.5f && sd[0] == 0.5f && sd[JSC_N_FEATURES - 1] == 0.5f, "fit: mean %g std %g", mean[0], sd[0]);
  data_rows rows = {.rows = 2, .x = x};
  data_rows_standardize(&rows, mean, sd);
  CHECK(x[0] == -1.0f && x[JSC_N_FEATURES] == 1.0f, "standardised %g %g", x[0], x[JSC_N_FEATURES]);

  data_options opt;
  data_options_default(&opt);
  opt.synth_size = 400;
  dataset ds;
  CHECK(dataset_load("jsc-synth", &opt, &ds, err, sizeof err) == 0, "%s", err);
  float raw = ds.test.x[3] * ds.std[3] + ds.mean[3];
  float own_mean[JSC_N_FEATURES], own_std[JSC_N_FEATURES];
  memcpy(own_mean, ds.mean, sizeof own_mean);
  memcpy(own_std, ds.std, sizeof own_std);
  CHECK(!dataset_use_scaler(&ds, own_mean, own_std), "its own statistics changed the data set");
  for (int j = 0; j < JSC_N_FEATURES; j++) {
    mean[j] = own_mean[j] + 1.0f;
    sd[j] = own_std[j] * 2.0f;
  }
  CHECK(dataset_use_scaler(&ds, mean, sd), "other statistics left the data set alone");
  double want = ((double)raw - mean[3]) / sd[3];
  CHECK(fabs(ds.test.x[3] - want) < 1e-5 * (1 + fabs(want)), "re-standardised %g, want %g", ds.test.x[3], want);
  dataset_free(&ds);

  free(w.params);
  free(w.stats);
  free(w.optim);
  model_free(&m);
  unlink(path);
  rmdir(dir);
  return test_summary("test_checkpoint_scaler");
}
