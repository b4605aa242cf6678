/* Pre-processing and caching: duplicates dropped (first occurrence kept), split sizes
   as scikit-learn rounds them, the splits partition the distinct rows, the split depends
   only on its seed, the training columns come out with mean 0 and std 1 and the other
   splits use the training scaler; the binary cache returns the same data set, survives
   corruption by rebuilding, and is keyed by the options. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_sources.h"
#include "testutil.h"
#include "base/util.h"

#define FIXTURE CLTRAIN_SOURCE_DIR "/tests/data/jsc_test100_standardized.csv"

static char tmpdir[256];

/* A table with known duplicates: rows r and r % 7 == 3 repeats of row r - 1 (same label). */
static raw_table make_table(size_t n, size_t *dups) {
  raw_table t;
  raw_table_alloc(&t, n);
  *dups = 0;
  for (size_t r = 0; r < n; r++) {
    if (r > 0 && r % 7 == 3) {
      memcpy(t.x + r * 16, t.x + (r - 1) * 16, 16 * sizeof(float));
      t.y[r] = t.y[r - 1];
      (*dups)++;
      continue;
    }
    for (int j = 0; j < 16; j++) t.x[r * 16 + j] = (float)(r * 0.37 + j * j) * (j % 3 ? 1.0f : -2.5f) + 10.0f * j;
    t.y[r] = (int32_t)(r % 5);
  }
  /* Same features, different label: not a duplicate. */
  if (n > 12) {
    memcpy(t.x + 12 * 16, t.x + 11 * 16, 16 * sizeof(float));
    t.y[12] = (t.y[11] + 1) % 5;
  }
  /* -0 and +0 are the same value. */
  if (n > 20) {
    memcpy(t.x + 20 * 16, t.x + 19 * 16, 16 * sizeof(float));
    t.x[19 * 16 + 5] = 0.0f;
    t.x[20 * 16 + 5] = -0.0f;
    t.y[20] = t.y[19];
    (*dups)++;
  }
  return t;
}

static void test_dedupe(void) {
  size_t dups;
  raw_table t = make_table(200, &dups);
  raw_table copy;
  raw_table_alloc(&copy, t.rows);
  memcpy(copy.x, t.x, t.rows * 16 * sizeof(float));
  memcpy(copy.y, t.y, t.rows * sizeof(int32_t));
  size_t dropped = dedupe_rows(&t);
  CHECK(dropped == dups, "dropped %zu, want %zu", dropped, dups);
  CHECK(t.rows == 200 - dups, "rows %zu", t.rows);
  /* Kept rows are the first occurrences, in order: rebuild by brute force. */
  size_t k = 0;
  int order_ok = 1;
  for (size_t r = 0; r < copy.rows; r++) {
    int seen = 0;
    for (size_t q = 0; q < r && !seen; q++) {
      int same = copy.y[q] == copy.y[r];
      for (int j = 0; j < 16 && same; j++) same = copy.x[q * 16 + j] == copy.x[r * 16 + j];
      seen = same;
    }
    if (seen) continue;
    if (k >= t.rows || memcmp(t.x + k * 16, copy.x + r * 16, 16 * sizeof(float)) != 0 || t.y[k] != copy.y[r])
      order_ok = 0;
    k++;
  }
  CHECK(order_ok && k == t.rows, "kept rows are not the first occurrences in order");
  raw_table_free(&t);
  raw_table_free(&copy);
}

static void test_split_and_scale(void) {
  data_options opt;
  data_options_default(&opt);
  size_t tr, va, te;
  split_sizes(100, &opt, &tr, &va, &te);
  CHECK(te == 20 && va == 8 && tr == 72, "100 rows -> %zu/%zu/%zu", tr, va, te);
  split_sizes(101, &opt, &tr, &va, &te);
  CHECK(te == 21 && va == 8 && tr == 72, "101 rows -> %zu/%zu/%zu", tr, va, te);
  opt.val_fraction = 0;
  split_sizes(830000, &opt, &tr, &va, &te);
  CHECK(te == 166000 && va == 0 && tr == 664000, "830000 rows, no val -> %zu/%zu/%zu", tr, va, te);
  data_options_default(&opt);

  size_t dups;
  raw_table t = make_table(500, &dups), keep;
  raw_table_alloc(&keep, t.rows);
  memcpy(keep.x, t.x, t.rows * 16 * sizeof(float));
  memcpy(keep.y, t.y, t.rows * sizeof(int32_t));
  dataset d;
  char err[256];
  CHECK(preprocess(&t, &opt, &d, err, sizeof err) == 0, "preprocess: %s", err);
  size_t distinct = 500 - dups;
  CHECK(d.train.rows + d.val.rows + d.test.rows == distinct, "rows in splits %zu",
        d.train.rows + d.val.rows + d.test.rows);
  if (d.train.rows + d.val.rows + d.test.rows != distinct) return;
  split_sizes(distinct, &opt, &tr, &va, &te);
  CHECK(d.raw_rows == 500 && d.duplicates_dropped == dups, "raw %zu dup %zu", d.raw_rows, d.duplicates_dropped);
  CHECK(d.train.rows == tr && d.val.rows == va && d.test.rows == te, "split %zu/%zu/%zu", d.train.rows,
        d.val.rows, d.test.rows);

  /* Training columns: mean 0, std 1 (population), to float precision. */
  double worst_mean = 0, worst_std = 0;
  for (int j = 0; j < 16; j++) {
    double s = 0, s2 = 0;
    for (size_t r = 0; r < d.train.rows; r++) s += d.train.x[r * 16 + j];
    double m = s / (double)d.train.rows;
    for (size_t r = 0; r < d.train.rows; r++) s2 += pow(d.train.x[r * 16 + j] - m, 2);
    double sd = sqrt(s2 / (double)d.train.rows);
    worst_mean = fmax(worst_mean, fabs(m));
    worst_std = fmax(worst_std, fabs(sd - 1));
  }
  CHECK(worst_mean < 1e-5, "train column mean off by %g (tolerance 1e-5)", worst_mean);
  CHECK(worst_std < 1e-5, "train column std off by %g (tolerance 1e-5)", worst_std);

  /* Undo the scaling: the three splits together are exactly the distinct rows. */
  float *all = malloc(distinct * 17 * sizeof(float)), *want = malloc(distinct * 17 * sizeof(float));
  size_t k = 0;
  const data_split *s[3] = {&d.train, &d.val, &d.test};
  for (int i = 0; i < 3; i++)
    for (size_t r = 0; r < s[i]->rows; r++, k++) {
      for (int j = 0; j < 16; j++) all[k * 17 + j] = (float)((double)s[i]->x[r * 16 + j] * d.std[j] + d.mean[j]);
      all[k * 17 + 16] = (float)s[i]->y[r];
    }
  dedupe_rows(&keep);
  for (size_t r = 0; r < keep.rows; r++) {
    memcpy(want + r * 17, keep.x + r * 16, 16 * sizeof(float));
    want[r * 17 + 16] = (float)keep.y[r];
  }
  /* Scaling round trips within float rounding: match each row to the nearest distinct row
     with the same label, then compare value by value (relative tolerance 1e-5). */
  double worst = 0;
  int label_mismatch = 0;
  for (size_t r = 0; r < distinct; r++) {
    /* find the row in want with the closest first feature and the same label */
    size_t best = 0;
    double bd = INFINITY;
    for (size_t q = 0; q < distinct; q++) {
      double dd = fabs(want[q * 17] - all[r * 17]) + fabs(want[q * 17 + 3] - all[r * 17 + 3]);
      if (dd < bd && want[q * 17 + 16] == all[r * 17 + 16]) {
        bd = dd;
        best = q;
      }
    }
    if (bd == INFINITY) label_mismatch++;
    for (int j = 0; j < 16; j++) worst = fmax(worst, rel_err(all[r * 17 + j], want[best * 17 + j], 1.0));
  }
  CHECK(label_mismatch == 0 && worst < 1e-5, "splits are not the distinct rows: worst rel err %g", worst);
  free(all);
  free(want);
  raw_table_free(&keep);

  /* Same seed, same split; another seed, another split. */
  dataset d2, d3;
  t = make_table(500, &dups);
  CHECK(preprocess(&t, &opt, &d2, err, sizeof err) == 0, "preprocess 2: %s", err);
  CHECK(memcmp(d.test.x, d2.test.x, d.test.rows * 16 * sizeof(float)) == 0 &&
            memcmp(d.train.y, d2.train.y, d.train.rows * sizeof(int32_t)) == 0,
        "same seed gave a different split");
  opt.split_seed = 7;
  t = make_table(500, &dups);
  CHECK(preprocess(&t, &opt, &d3, err, sizeof err) == 0, "preprocess 3: %s", err);
  CHECK(memcmp(d.test.x, d3.test.x, d.test.rows * 16 * sizeof(float)) != 0, "seed 7 gave the seed-42 split");
  dataset_free(&d);
  dataset_free(&d2);
  dataset_free(&d3);

  /* A constant column keeps scale 1 instead of dividing by zero. */
  raw_table c;
  raw_table_alloc(&c, 50);
  for (size_t r = 0; r < 50; r++) {
    for (int j = 0; j < 16; j++) c.x[r * 16 + j] = j == 4 ? 3.0f : (float)(r * (j + 1));
    c.y[r] = 0;
  }
  data_options_default(&opt);
  CHECK(preprocess(&c, &opt, &d, err, sizeof err) == 0, "constant column: %s", err);
  CHECK(d.std[4] == 1.0f && d.mean[4] == 3.0f && d.train.x[4] == 0.0f, "constant column scaled to 0");
  dataset_free(&d);

  raw_table one;
  raw_table_alloc(&one, 2);
  for (int j = 0; j < 32; j++) one.x[j] = 1.0f;
  one.y[0] = one.y[1] = 0;
  CHECK(preprocess(&one, &opt, &d, err, sizeof err) == -1 && strstr(err, "too few"), "1 distinct row: %s", err);
}

static int same_dataset(const dataset *a, const dataset *b) {
  const data_split *sa[3] = {&a->train, &a->val, &a->test}, *sb[3] = {&b->train, &b->val, &b->test};
  for (int i = 0; i < 3; i++) {
    if (sa[i]->rows != sb[i]->rows) return 0;
    if (memcmp(sa[i]->x, sb[i]->x, sa[i]->rows * 16 * sizeof(float)) != 0) return 0;
    if (memcmp(sa[i]->y, sb[i]->y, sa[i]->rows * sizeof(int32_t)) != 0) return 0;
  }
  return memcmp(a->mean, b->mean, sizeof a->mean) == 0 && memcmp(a->std, b->std, sizeof a->std) == 0 &&
         a->raw_rows == b->raw_rows && a->duplicates_dropped == b->duplicates_dropped;
}

static void copy_file(const char *from, const char *to) {
  size_t n;
  char *text = read_file(from, &n);
  FILE *f = fopen(to, "wb");
  if (text && f) fwrite(text, 1, n, f);
  if (f) fclose(f);
  free(text);
}

static int exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static void test_cache(void) {
  char src[512], cache[1200], err[512];
  snprintf(src, sizeof src, "%s/jsc.csv", tmpdir);
  copy_file(FIXTURE, src);
  data_options opt;
  data_options_default(&opt);
  opt.use_cache = false;
  dataset fresh, cached, again;
  /* The cache lives in $XDG_CACHE_HOME/cltrain/data, keyed by content: here a fresh one. */
  char xdg[600], want_prefix[700];
  snprintf(xdg, sizeof xdg, "%s/xdg-cache", tmpdir);
  setenv("XDG_CACHE_HOME", xdg, 1);
  snprintf(want_prefix, sizeof want_prefix, "%s/cltrain/data/", xdg);
  CHECK(dataset_load(src, &opt, &fresh, err, sizeof err) == 0, "no-cache load: %s", err);
  int ok;
  uint64_t h = file_content_hash(src, err, sizeof err, &ok);
  CHECK(ok, "hash: %s", err);
  CHECK(data_cache_path(h, &opt, cache, sizeof cache) == 0, "no cache path");
  CHECK(strncmp(cache, want_prefix, strlen(want_prefix)) == 0, "cache %s not under %s", cache, want_prefix);
  CHECK(!exists(cache), "--no-cache wrote %s", cache);

  opt.use_cache = true;
  CHECK(dataset_load(src, &opt, &cached, err, sizeof err) == 0, "first cached load: %s", err);
  CHECK(exists(cache), "no cache written at %s", cache);
  CHECK(same_dataset(&fresh, &cached), "first load through the cache differs");
  /* Nothing was written next to the source. */
  DIR *dir = opendir(tmpdir);
  CHECK(dir != NULL, "cannot list %s", tmpdir);
  for (struct dirent *e; dir && (e = readdir(dir));)
    CHECK(!strstr(e->d_name, ".cache"), "a cache file %s next to the source", e->d_name);
  if (dir) closedir(dir);
  CHECK(data_cache_load(cache, h, &opt, &again) == 0, "cache not valid after writing");
  CHECK(same_dataset(&fresh, &again), "cache content differs");
  CHECK(strcmp(cached.name, "jsc.csv") == 0, "name '%s'", cached.name);
  dataset_free(&again);
  dataset_free(&cached);

  /* Corrupt one payload byte: the cache is refused, the load rebuilds it. */
  size_t n;
  char *bytes = read_file(cache, &n);
  bytes[n - 10] ^= 0x40;
  FILE *f = fopen(cache, "wb");
  fwrite(bytes, 1, n, f);
  fclose(f);
  CHECK(data_cache_load(cache, h, &opt, &again) == -1, "corrupted cache accepted");
  CHECK(dataset_load(src, &opt, &cached, err, sizeof err) == 0, "load with corrupt cache: %s", err);
  CHECK(same_dataset(&fresh, &cached), "load with a corrupt cache differs");
  CHECK(data_cache_load(cache, h, &opt, &again) == 0, "cache not rebuilt");
  dataset_free(&again);
  dataset_free(&cached);
  /* Truncated cache. */
  f = fopen(cache, "wb");
  fwrite(bytes, 1, n / 2, f);
  fclose(f);
  free(bytes);
  CHECK(data_cache_load(cache, h, &opt, &again) == -1, "truncated cache accepted");
  CHECK(dataset_load(src, &opt, &cached, err, sizeof err) == 0 && same_dataset(&fresh, &cached),
        "load with a truncated cache");
  dataset_free(&cached);

  /* Other options, other cache file; changed content, the old cache is not used. */
  char cache2[1200];
  opt.val_fraction = 0.25;
  data_cache_path(h, &opt, cache2, sizeof cache2);
  CHECK(strcmp(cache, cache2) != 0, "options do not change the cache name");
  CHECK(dataset_load(src, &opt, &cached, err, sizeof err) == 0 && cached.val.rows == 20, "val 0.25: %zu rows",
        cached.val.rows);
  dataset_free(&cached);
  opt.val_fraction = 0.1;
  f = fopen(src, "a");
  fputs("0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,t\n", f);
  fclose(f);
  CHECK(dataset_load(src, &opt, &cached, err, sizeof err) == 0 && cached.raw_rows == 101,
        "changed source served from the old cache (%zu rows)", cached.raw_rows);
  dataset_free(&cached);
  dataset_free(&fresh);
}

static void test_dataset_specs(void) {
  data_options opt;
  data_options_default(&opt);
  dataset d;
  char err[1024];
  char dir[600];
  snprintf(dir, sizeof dir, "%s/datadir", tmpdir);
  mkdir(dir, 0755);
  setenv("CLTRAIN_DATA_DIR", dir, 1);
  char paths[2][1024];
  CHECK(data_jsc_default_paths(paths, 2) == 2, "two default paths");
  CHECK(dataset_load("jsc", &opt, &d, err, sizeof err) == -1, "jsc without a file loaded");
  CHECK(strstr(err, paths[0]) && strstr(err, paths[1]) && strstr(err, "cltrain data download jsc") &&
            strstr(err, "--data"),
        "jsc message: %s", err);
  /* A CSV at the second default place is found. */
  copy_file(FIXTURE, paths[1]);
  opt.use_cache = false;
  CHECK(dataset_load("jsc", &opt, &d, err, sizeof err) == 0 && d.raw_rows == 100 && strcmp(d.source, paths[1]) == 0,
        "jsc from %s: %s", paths[1], err);
  dataset_free(&d);
  CHECK(dataset_load("jsc-nothing", &opt, &d, err, sizeof err) == -1 && strstr(err, "no such dataset or file"),
        "unknown spec: %s", err);
  opt.data_path = FIXTURE;
  opt.use_cache = false;
  CHECK(dataset_load("jsc", &opt, &d, err, sizeof err) == 0 && d.raw_rows == 100 && strcmp(d.name, "jsc") == 0,
        "jsc --data: %s", err);
  dataset_free(&d);
  CHECK(dataset_load("jsc-synth", &opt, &d, err, sizeof err) == -1 && strstr(err, "--data"), "synth + --data");
  opt.data_path = NULL;
  opt.synth_size = 1000;
  CHECK(dataset_load("jsc-synth", &opt, &d, err, sizeof err) == 0 && d.train.rows + d.val.rows + d.test.rows == 1000,
        "small synth: %s", err);
  CHECK(dataset_split(&d, "val") == &d.val && dataset_split(&d, "dev") == NULL, "dataset_split");
  dataset_free(&d);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/cltrain_test_prep_XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_dedupe();
  test_split_and_scale();
  test_cache();
  test_dataset_specs();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_summary("test_data_preprocess");
}
