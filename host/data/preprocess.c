/* Pre-processing as MASE does it: drop exact duplicate rows, seeded 80/20 train/test
   split, standard scaling fitted on the training rows only. Unlike MASE a real
   validation part is held out of train. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_sources.h"
#include "base/rng.h"
#include "base/util.h"

enum { STREAM_SPLIT = 0x5b117 };

void raw_table_alloc(raw_table *t, size_t rows) {
  t->rows = rows;
  t->split = NULL;
  t->x = xmalloc(rows * JSC_N_FEATURES * sizeof(float));
  t->y = xmalloc(rows * sizeof(int32_t));
}

void raw_table_free(raw_table *t) {
  free(t->x);
  free(t->y);
  free(t->split);
  t->x = NULL;
  t->y = NULL;
  t->split = NULL;
  t->rows = 0;
}

/* Row identity for de-duplication: the feature bits (with -0 read as 0, as a value
   comparison would) and the label. */
static void row_key(const raw_table *t, size_t r, uint32_t key[JSC_N_FEATURES + 1]) {
  const float *x = t->x + r * JSC_N_FEATURES;
  for (int j = 0; j < JSC_N_FEATURES; j++) {
    float v = x[j] == 0.0f ? 0.0f : x[j];
    memcpy(&key[j], &v, sizeof v);
  }
  key[JSC_N_FEATURES] = (uint32_t)t->y[r];
}

static uint64_t key_hash(const uint32_t key[JSC_N_FEATURES + 1]) {
  uint64_t h = 0x243F6A8885A308D3ull;
  for (int j = 0; j <= JSC_N_FEATURES; j++) {
    h = (h ^ key[j]) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  return h;
}

/* As dedupe_rows; ORIGIN (when given, t->rows entries) receives for each kept row the
   index it had before, so a later message can name the row of the file. */
static size_t dedupe_rows_from(raw_table *t, uint32_t *origin) {
  size_t cap = 16;
  while (cap < 2 * t->rows) cap *= 2;
  /* Open addressing over row indices + 1 (0 = empty). */
  uint32_t *slots = xcalloc(cap, sizeof(uint32_t));
  size_t kept = 0;
  uint32_t key[JSC_N_FEATURES + 1], other[JSC_N_FEATURES + 1];
  for (size_t r = 0; r < t->rows; r++) {
    row_key(t, r, key);
    size_t h = (size_t)key_hash(key) & (cap - 1);
    bool dup = false;
    for (; slots[h]; h = (h + 1) & (cap - 1)) {
      row_key(t, slots[h] - 1, other);
      if (memcmp(key, other, sizeof key) == 0) {
        dup = true;
        break;
      }
    }
    if (dup) continue;
    if (kept != r) {
      memcpy(t->x + kept * JSC_N_FEATURES, t->x + r * JSC_N_FEATURES, JSC_N_FEATURES * sizeof(float));
      t->y[kept] = t->y[r];
      if (t->split) t->split[kept] = t->split[r];
    }
    slots[h] = (uint32_t)(kept + 1);
    if (origin) origin[kept] = (uint32_t)r;
    kept++;
  }
  free(slots);
  size_t dropped = t->rows - kept;
  t->rows = kept;
  return dropped;
}

size_t dedupe_rows(raw_table *t) { return dedupe_rows_from(t, NULL); }

void split_sizes(size_t n, const data_options *opt, size_t *train, size_t *val, size_t *test) {
  /* Rounded up as scikit-learn's train_test_split does for the test part. */
  size_t nt = (size_t)ceil(opt->test_fraction * (double)n);
  size_t nv = (size_t)ceil(opt->val_fraction * (double)(n - nt));
  *test = nt;
  *val = nv;
  *train = n - nt - nv;
}

static void take_rows(const raw_table *t, const uint32_t *idx, size_t n, data_split *s) {
  s->rows = n;
  s->x = xmalloc((n ? n : 1) * JSC_N_FEATURES * sizeof(float));
  s->y = xmalloc((n ? n : 1) * sizeof(int32_t));
  for (size_t i = 0; i < n; i++) {
    memcpy(s->x + i * JSC_N_FEATURES, t->x + (size_t)idx[i] * JSC_N_FEATURES, JSC_N_FEATURES * sizeof(float));
    s->y[i] = t->y[idx[i]];
  }
}

/* Population mean and standard deviation (as scikit-learn's StandardScaler); a constant
   column keeps scale 1. */
static void fit_scaler(const data_split *train, float mean[JSC_N_FEATURES], float std[JSC_N_FEATURES]) {
  fit_standardization(train->x, train->rows, mean, std);
}

void fit_standardization(const float *x, size_t rows, float mean[JSC_N_FEATURES], float std[JSC_N_FEATURES]) {
  double sum[JSC_N_FEATURES] = {0}, ss[JSC_N_FEATURES] = {0}, m[JSC_N_FEATURES];
  for (size_t i = 0; i < rows; i++)
    for (int j = 0; j < JSC_N_FEATURES; j++) sum[j] += x[i * JSC_N_FEATURES + j];
  for (int j = 0; j < JSC_N_FEATURES; j++) m[j] = sum[j] / (double)rows;
  /* Two passes: the centred sum of squares keeps precision for large means (mass). */
  for (size_t i = 0; i < rows; i++)
    for (int j = 0; j < JSC_N_FEATURES; j++) {
      double d = x[i * JSC_N_FEATURES + j] - m[j];
      ss[j] += d * d;
    }
  for (int j = 0; j < JSC_N_FEATURES; j++) {
    double sd = sqrt(ss[j] / (double)rows);
    mean[j] = (float)m[j];
    std[j] = sd > 0 ? (float)sd : 1.0f;
  }
}

/* Scale ROWS rows of X in place. A finite value far from the training mean (3.4e38
   against a spread of 1) leaves float range once divided by the spread: returns the index
   of the first value that is not finite after scaling (row * JSC_N_FEATURES + column), or
   -1. */
long standardize_rows(float *x, size_t rows, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES]) {
  double inv[JSC_N_FEATURES];
  long bad = -1;
  for (int j = 0; j < JSC_N_FEATURES; j++) inv[j] = 1.0 / std[j];
  for (size_t i = 0; i < rows; i++)
    for (int j = 0; j < JSC_N_FEATURES; j++) {
      float *v = &x[i * JSC_N_FEATURES + j];
      *v = (float)(((double)*v - mean[j]) * inv[j]);
      if (bad < 0 && !isfinite(*v)) bad = (long)(i * JSC_N_FEATURES + (size_t)j);
    }
  return bad;
}

static long apply_scaler(data_split *s, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES]) {
  return standardize_rows(s->x, s->rows, mean, std);
}

/* Fit the scaler on the training split and scale every split, checking that nothing
   leaves float range. ROWS[k][i] is the file row (0-based, before de-duplication) of row
   i of split k (train, val, test), for the message. 0, or -1 with err (the data set is
   freed). */
static int scale_splits(dataset *out, uint32_t *const rows[3], char *err, size_t errlen) {
  fit_scaler(&out->train, out->mean, out->std);
  int rc = 0;
  for (int j = 0; j < JSC_N_FEATURES && rc == 0; j++)
    if (!isfinite(out->mean[j]) || !isfinite(out->std[j]))
      rc = seterr(err, errlen, "column '%s': its training mean or spread is beyond float range (values near +-3.4e38)",
                  jsc_feature_names[j]);
  data_split *splits[3] = {&out->train, &out->val, &out->test};
  for (int k = 0; k < 3 && rc == 0; k++) {
    long bad = apply_scaler(splits[k], out->mean, out->std);
    if (bad >= 0) {
      size_t row = (size_t)bad / JSC_N_FEATURES, col = (size_t)bad % JSC_N_FEATURES;
      rc = seterr(err, errlen,
                  "row %u, column '%s': the value is beyond float range once standardised (mean %g, spread %g of "
                  "the training rows)",
                  rows[k][row] + 1, jsc_feature_names[col], (double)out->mean[col], (double)out->std[col]);
    }
  }
  if (rc) dataset_free(out);
  return rc;
}

/* The file says which row belongs where: its rows in file order, no shuffle. ORIGIN[r]
   is the file row of de-duplicated row r. */
static int predefined_split(raw_table *t, const uint32_t *origin, dataset *out, char *err, size_t errlen) {
  uint32_t *idx[3];
  data_split *s[3] = {&out->train, &out->val, &out->test};
  for (int k = RAW_SPLIT_TRAIN; k <= RAW_SPLIT_TEST; k++) {
    idx[k] = xmalloc((t->rows ? t->rows : 1) * sizeof(uint32_t));
    size_t n = 0;
    for (size_t r = 0; r < t->rows; r++)
      if (t->split[r] == k) idx[k][n++] = (uint32_t)r;
    take_rows(t, idx[k], n, s[k]);
    for (size_t i = 0; i < n; i++) idx[k][i] = origin[idx[k][i]];
  }
  raw_table_free(t);
  int rc = 0;
  if (out->train.rows < 2 || out->test.rows < 1) {
    size_t a = out->train.rows, b = out->test.rows;
    dataset_free(out);
    rc = seterr(err, errlen, "the split column gives %zu train and %zu test rows: need 2 and 1 at least", a, b);
  } else {
    rc = scale_splits(out, idx, err, errlen);
  }
  for (int k = 0; k < 3; k++) free(idx[k]);
  return rc;
}

int preprocess(raw_table *t, const data_options *opt, dataset *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->n_features = JSC_N_FEATURES;
  out->n_classes = JSC_N_CLASSES;
  out->raw_rows = t->rows;
  if (t->rows > UINT32_MAX - 1) {
    raw_table_free(t);
    return seterr(err, errlen, "too many rows (%zu)", out->raw_rows);
  }
  uint32_t *origin = xmalloc((t->rows ? t->rows : 1) * sizeof(uint32_t));
  out->duplicates_dropped = dedupe_rows_from(t, origin);
  if (t->split) {
    if (opt->split_given) warnf("the file's split column decides the splits: --val-fraction and --split-seed are ignored");
    int rc = predefined_split(t, origin, out, err, errlen);
    free(origin);
    return rc;
  }
  size_t ntrain, nval, ntest;
  split_sizes(t->rows, opt, &ntrain, &nval, &ntest);
  if (ntrain < 2 || ntest < 1) {
    size_t n = t->rows;
    raw_table_free(t);
    free(origin);
    return seterr(err, errlen, "only %zu distinct rows: too few to split into train and test", n);
  }
  uint32_t *perm = xmalloc(t->rows * sizeof(uint32_t));
  rng_state r;
  rng_seed(&r, opt->split_seed, STREAM_SPLIT);
  rng_permutation(&r, perm, (uint32_t)t->rows);
  take_rows(t, perm, ntest, &out->test);
  take_rows(t, perm + ntest, nval, &out->val);
  take_rows(t, perm + ntest + nval, ntrain, &out->train);
  raw_table_free(t);
  /* The file row of every split row: permutation order is test, val, train. */
  for (size_t i = 0; i < ntest + nval + ntrain; i++) perm[i] = origin[perm[i]];
  uint32_t *rows[3] = {perm + ntest + nval, perm + ntest, perm};
  int rc = scale_splits(out, rows, err, errlen);
  free(perm);
  free(origin);
  return rc;
}

const data_split *dataset_split(const dataset *d, const char *which) {
  if (strcmp(which, "train") == 0) return &d->train;
  if (strcmp(which, "val") == 0) return &d->val;
  if (strcmp(which, "test") == 0) return &d->test;
  return NULL;
}

void dataset_free(dataset *d) {
  data_split *s[3] = {&d->train, &d->val, &d->test};
  for (int i = 0; i < 3; i++) {
    free(s[i]->x);
    free(s[i]->y);
    s[i]->x = NULL;
    s[i]->y = NULL;
    s[i]->rows = 0;
  }
}
