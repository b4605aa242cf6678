/* A data set's rows as they are (data.h: data_rows), for `cltrain predict`: a trained model
   is applied to every row of a file, standardised with the statistics stored in its
   checkpoint rather than refitted on this file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/util.h"
#include "data/data_sources.h"

/* Every row of T, in file order: a file's split column does not apply to predict or
   --split all, so it is dropped with the table. */
static void take_table(raw_table *t, bool has_labels, data_rows *out) {
  out->rows = t->rows;
  out->x = t->x;
  out->y = t->y;
  out->has_labels = has_labels;
  t->x = NULL;
  t->y = NULL;
  raw_table_free(t);
}

static int load_path(const char *path, data_rows *out, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) return seterr(err, errlen, "%s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) return seterr(err, errlen, "%s: is a directory, not a data file", path);
  if (st.st_size == 0) return seterr(err, errlen, "%s: empty file", path);
  int is_hdf5 = file_is_hdf5(path);
  if (is_hdf5 < 0) return seterr(err, errlen, "%s: %s", path, strerror(errno));
  raw_table t;
  bool has_labels = true;
  int rc = is_hdf5 ? hdf5_load(path, &t, err, errlen) : csv_load_rows(path, false, &t, &has_labels, err, errlen);
  if (rc) return -1;
  take_table(&t, has_labels, out);
  return 0;
}

static int load_spec(const char *spec, const data_options *opt, data_rows *out, char *err, size_t errlen) {
  if (strcmp(spec, "jsc-synth") == 0) {
    raw_table t;
    synth_generate(opt->synth_size, opt->synth_seed, &t);
    take_table(&t, true, out);
    return 0;
  }
  if (strcmp(spec, "jsc") == 0) {
    if (opt->data_path) return load_path(opt->data_path, out, err, errlen);
    char paths[DATA_JSC_MAX_PATHS][1024];
    int n = data_jsc_default_paths(paths, DATA_JSC_MAX_PATHS);
    for (int i = 0; i < n; i++)
      if (access(paths[i], R_OK) == 0) return load_path(paths[i], out, err, errlen);
    return seterr(err, errlen, "dataset 'jsc': no data file at %s or %s; give the file with --data PATH", paths[0],
                  paths[1]);
  }
  if (access(spec, F_OK) != 0 && errno == ENOENT)
    return seterr(err, errlen, "%s: no such dataset or file (datasets: jsc-synth, jsc, or a path to an HDF5 or CSV file)",
                  spec);
  return load_path(spec, out, err, errlen);
}

void data_rows_free(data_rows *r) {
  free(r->x);
  free(r->y);
  memset(r, 0, sizeof *r);
}

/* The first value standardisation pushed out of float range, as one line. */
static int overflow_error(const char *what, long bad, error *err) {
  const size_t row = (size_t)bad / JSC_N_FEATURES, col = (size_t)bad % JSC_N_FEATURES;
  return ERR_USAGE(err, "%s row %zu, column %s: the value leaves float range once standardised", what, row + 1,
                   jsc_feature_names[col]);
}

int data_rows_standardize(data_rows *r, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES],
                          error *err) {
  long bad = standardize_rows(r->x, r->rows, mean, std);
  return bad < 0 ? 0 : overflow_error("data", bad, err);
}

int data_rows_load(const char *spec, const data_options *opt, data_rows *out, error *err) {
  memset(out, 0, sizeof *out);
  char msg[sizeof err->msg];
  if (load_spec(spec, opt, out, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  return 0;
}

int dataset_use_scaler(dataset *d, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES], error *err) {
  if (memcmp(d->mean, mean, sizeof d->mean) == 0 && memcmp(d->std, std, sizeof d->std) == 0) return 0;
  data_split *s[3] = {&d->train, &d->val, &d->test};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < s[k]->rows; i++)
      for (int j = 0; j < JSC_N_FEATURES; j++) {
        float *v = &s[k]->x[i * JSC_N_FEATURES + j];
        *v = (float)((double)*v * d->std[j] + d->mean[j]); /* back to raw units */
      }
  static const char *const names[3] = {"training split", "validation split", "test split"};
  for (int k = 0; k < 3; k++) {
    long bad = standardize_rows(s[k]->x, s[k]->rows, mean, std);
    if (bad >= 0) return overflow_error(names[k], bad, err);
  }
  memcpy(d->mean, mean, sizeof d->mean);
  memcpy(d->std, std, sizeof d->std);
  return 1;
}
