/* Checkpoints: exact round trip of every field, atomic replacement, and refusal of
   truncated, corrupted, foreign and mismatched files with a message naming the problem. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "testutil.h"
#include "base/util.h"

static char dir[256];

static void write_bytes(const char *path, const unsigned char *p, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(p, 1, n, f);
  fclose(f);
}

static void expect_refused(const char *path, const char *needle) {
  checkpoint c;
  char err[1024] = "";
  int rc = checkpoint_read(path, &c, err, sizeof err);
  CHECK(rc == -1, "%s accepted (wanted '%s')", path, needle);
  CHECK(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
  CHECK(strstr(err, path) != NULL, "message '%s' does not name the file", err);
  if (rc == 0) checkpoint_free(&c);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/cltrain-test-ckpt-%d", (int)getpid());
  mkdir(dir, 0755);
  char err[1024];
  model_spec m;
  error me = {0};
  CHECK(model_load("jsc-toy", &m, &me) == 0, "%s", me.msg);

  checkpoint c;
  memset(&c, 0, sizeof c);
  snprintf(c.model_name, sizeof c.model_name, "%s", m.name);
  c.model_text = xstrdup(m.text);
  c.config_text = xstrdup("batch-size=256\ngiven=batch-size\n");
  snprintf(c.dataset_name, sizeof c.dataset_name, "jsc-synth");
  snprintf(c.device_name, sizeof c.device_name, "cpu-test");
  c.n_params = m.n_params;
  c.n_stats = m.n_stats;
  c.n_optim = 2 * m.n_params;
  c.params = xmalloc(c.n_params * sizeof(float));
  c.stats = xmalloc(c.n_stats * sizeof(float));
  c.optim = xmalloc(c.n_optim * sizeof(float));
  for (size_t i = 0; i < c.n_params; i++) c.params[i] = (float)i * 0.001f - 0.1f;
  for (size_t i = 0; i < c.n_stats; i++) c.stats[i] = 1.0f / (float)(i + 1);
  for (size_t i = 0; i < c.n_optim; i++) c.optim[i] = (float)i * 1e-7f;
  c.params[3] = -0.0f;
  c.params[4] = 1e-40f; /* subnormal survives bit-exactly */
  train_progress *t = &c.progress;
  t->epoch = 3;
  t->step = 12345;
  t->epoch_batches = 17;
  t->samples = 987654321;
  t->epoch_loss_sum = 1234.5678901234;
  t->epoch_correct = 999;
  t->epoch_count = 2176;
  t->epoch_seconds = 1.5;
  t->train_seconds = 42.25;
  t->step_seconds = 40.125;
  t->best_val_acc = 0.7123456789;
  t->best_epoch = 2;
  t->best_val_loss = 0.81;
  t->stale_epochs = 1;
  t->last_train_loss = 0.9;
  t->last_train_acc = 0.6;
  t->last_val_loss = 0.85;
  t->last_val_acc = 0.70;
  rng_seed(&t->shuffle_rng, 7, 3);
  t->seed = 7;

  char path[512], tmp[600];
  snprintf(path, sizeof path, "%s/last.ckpt", dir);
  CHECK(checkpoint_write(path, &c, err, sizeof err) == 0, "write: %s", err);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  CHECK(access(tmp, F_OK) != 0, "temporary file left behind");

  checkpoint r;
  CHECK(checkpoint_read(path, &r, err, sizeof err) == 0, "read: %s", err);
  CHECK(strcmp(r.model_name, "jsc-toy") == 0 && strcmp(r.model_text, m.text) == 0, "model");
  CHECK(strcmp(r.config_text, c.config_text) == 0, "config");
  CHECK(strcmp(r.dataset_name, "jsc-synth") == 0 && strcmp(r.device_name, "cpu-test") == 0, "names");
  CHECK(memcmp(&r.progress, &c.progress, sizeof c.progress) == 0, "progress differs");
  CHECK(r.n_params == c.n_params && r.n_stats == c.n_stats && r.n_optim == c.n_optim, "counts");
  CHECK(memcmp(r.params, c.params, c.n_params * 4) == 0, "params bits");
  CHECK(memcmp(r.stats, c.stats, c.n_stats * 4) == 0, "stats bits");
  CHECK(memcmp(r.optim, c.optim, c.n_optim * 4) == 0, "optim bits");
  CHECK(checkpoint_check_model(&r, &m, path, err, sizeof err) == 0, "same model: %s", err);

  /* Another model is refused, naming both. */
  model_spec tiny;
  error_clear(&me);
  CHECK(model_load("jsc-tiny", &tiny, &me) == 0, "%s", me.msg);
  CHECK(checkpoint_check_model(&r, &tiny, path, err, sizeof err) == -1, "other model accepted");
  CHECK(strstr(err, "'jsc-toy'") && strstr(err, "'jsc-tiny'") && strstr(err, path), "message: %s", err);
  model_free(&tiny);
  checkpoint_free(&r);

  /* Overwrite in place (atomic replace) and read back the new state. */
  t->step = 20000;
  CHECK(checkpoint_write(path, &c, err, sizeof err) == 0, "rewrite: %s", err);
  CHECK(checkpoint_read(path, &r, err, sizeof err) == 0 && r.progress.step == 20000, "rewrite read: %s", err);
  checkpoint_free(&r);

  size_t n;
  unsigned char *good = (unsigned char *)read_file(path, &n);
  CHECK(good && n > 100, "file size %zu", n);
  char bad[600];
  snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);

  /* Truncation at many lengths, every one refused. */
  const size_t cuts[] = {0, 4, 8, 12, 23, 24, 31, 32, 100, n / 2, n - 9, n - 8, n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    write_bytes(bad, good, cuts[i]);
    expect_refused(bad, cuts[i] < 8 ? "not a cltrain checkpoint" : "truncated");
  }
  /* One flipped bit anywhere after the length field: checksum mismatch. */
  const size_t flips[] = {20, 24, 30, 60, n / 3, n / 2, n - 20, n - 9, n - 8, n - 1};
  for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
    good[flips[i]] ^= 0x10;
    write_bytes(bad, good, n);
    good[flips[i]] ^= 0x10;
    expect_refused(bad, flips[i] < 24 ? "" : "corrupted (checksum mismatch)");
  }
  /* Flipped bits in the length field, magic and version. */
  good[16] ^= 1;
  write_bytes(bad, good, n);
  good[16] ^= 1;
  expect_refused(bad, "checkpoint");
  good[0] = 'X';
  write_bytes(bad, good, n);
  good[0] = 'C';
  expect_refused(bad, "not a cltrain checkpoint");
  good[8] = 99;
  write_bytes(bad, good, n);
  good[8] = CHECKPOINT_VERSION;
  expect_refused(bad, "version 99");
  /* Trailing garbage. */
  unsigned char *longer = xmalloc(n + 3);
  memcpy(longer, good, n);
  memset(longer + n, 0, 3);
  write_bytes(bad, longer, n + 3);
  expect_refused(bad, "3 bytes after its end");
  free(longer);
  char missing[600];
  snprintf(missing, sizeof missing, "%s/none.ckpt", dir);
  expect_refused(missing, "No such file");
  /* The good bytes still read (the loop restored every change). */
  write_bytes(bad, good, n);
  CHECK(checkpoint_read(bad, &r, err, sizeof err) == 0, "restored copy: %s", err);
  checkpoint_free(&r);

  free(good);
  checkpoint_free(&c);
  model_free(&m);
  unlink(path);
  unlink(bad);
  rmdir(dir);
  return test_summary("test_checkpoint");
}
