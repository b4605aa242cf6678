/* Datasets: one interface for every source (the built-in jsc-synth generator, the real
   JSC file as HDF5 or CSV). A loaded dataset is pre-processed as MASE does (duplicate
   rows dropped, seeded 80/20 train/test split, standard scaling fitted on train only)
   plus a real validation part held out of train, and is ready to upload to a device. */
#ifndef CLTRAIN_DATA_H
#define CLTRAIN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#include "data/jsc_names.h"

typedef struct {
  size_t rows;
  float *x;     /* rows x JSC_N_FEATURES, row-major, already scaled */
  int32_t *y;   /* rows labels in [0, JSC_N_CLASSES) */
} data_split;

typedef struct {
  char name[128];      /* "jsc-synth", "jsc", or the file's base name */
  char source[1024];   /* path, or a description of the generator and its options */
  int n_features;      /* JSC_N_FEATURES */
  int n_classes;       /* JSC_N_CLASSES */
  data_split train, val, test;
  float mean[JSC_N_FEATURES], std[JSC_N_FEATURES]; /* scaler fitted on train */
  size_t raw_rows;           /* rows read before de-duplication */
  size_t duplicates_dropped;
} dataset;

typedef struct {
  uint64_t split_seed;   /* train/test and train/val split (default 42, as the hls4ml split) */
  uint64_t synth_seed;   /* jsc-synth generator seed (default 0) */
  double test_fraction;  /* default 0.2 */
  double val_fraction;   /* default 0.1 of train */
  size_t synth_size;     /* jsc-synth jets before the split (default 830000) */
  const char *data_path; /* --data: the real file for DATASET "jsc" (NULL: default place) */
  bool use_cache;        /* pre-processed binary cache in the user's cache directory (default true) */
  bool synth_given;      /* --synth-size or --synth-seed given: refused for any DATASET but jsc-synth */
  bool split_given;      /* --val-fraction or --split-seed given: warned about for a file with a split column */
} data_options;

void data_options_default(data_options *opt);

/* SPEC: "jsc-synth", "jsc" (the real file: opt->data_path or the default download place),
   or a path to a .h5/.hdf5 or .csv file. Returns 0, or -1 with one line in err naming the
   problem (missing file, bad cell with row and column, unknown label, ...). */
int dataset_load(const char *spec, const data_options *opt, dataset *out, char *err, size_t errlen);
void dataset_free(dataset *d);

/* Added by the data module for commands that load a dataset (train, test, data, ...). */

/* Where DATASET "jsc" is looked for when no --data is given, in order: with
   CLTRAIN_DATA_DIR set, $CLTRAIN_DATA_DIR/jsc.h5 and .../jsc.csv, otherwise the same
   names under ${XDG_CACHE_HOME:-$HOME/.cache}/cltrain/. The first is where
   'cltrain data download jsc' writes. Returns how many were written (at most max). */
#define DATA_JSC_MAX_PATHS 2
int data_jsc_default_paths(char paths[][1024], int max);

/* Limits of the data options, the one place both `cltrain data` and the training
   options take them from. Seeds stop at 2^53 - 1 so that they survive a JSON number
   (summary.json); jsc-synth needs some jets in each split. */
#define DATA_VAL_FRACTION_MAX 0.9
#define DATA_SYNTH_SIZE_MIN 50
#define DATA_SYNTH_SIZE_MAX 100000000L
#define DATA_SEED_MAX 9007199254740991L

/* The dataset options as getopt_long long names ("val-fraction", "synth-size",
   "split-seed", "synth-seed", "data", "no-cache"): sets the option from VALUE (NULL for
   flags) and returns 1, returns 0 when NAME is not a dataset option, or -1 with ERR
   (EXIT_USAGE naming the option) on a bad value. */
int data_options_apply(data_options *opt, const char *name, const char *value, error *err);
/* --help lines for those options, two-space indented, ending in a newline. */
extern const char data_options_help[];

/* A data set's rows as they are, for applying a trained model (data_rows.c): every row of
   the source in its order (no de-duplication, no split), features in raw units, labels
   when the source has them (else every label is -1). DATASET as for dataset_load; for
   jsc-synth the generator's rows. 0, or -1 with err (EXIT_USAGE: bad file or spec). */
typedef struct {
  size_t rows;
  float *x;          /* rows x JSC_N_FEATURES */
  int32_t *y;        /* rows labels, -1 without */
  bool has_labels;
} data_rows;

int data_rows_load(const char *spec, const data_options *opt, data_rows *out, error *err);
void data_rows_free(data_rows *r);
/* Population mean and std per feature of ROWS rows (a constant column gets std 1), as
   fitted on the training split. */
void fit_standardization(const float *x, size_t rows, float mean[JSC_N_FEATURES], float std[JSC_N_FEATURES]);
/* x' = (x - mean) / std in place, exactly as the training split was standardised. 0, or
   -1 with ERR (EXIT_USAGE) naming the first row and column whose value leaves float range
   once standardised. */
int data_rows_standardize(data_rows *r, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES],
                          error *err);

/* Re-standardise every split of D with a trained model's statistics (MEAN, STD) instead
   of D's own: raw values are recovered from D's scaler first. Returns false (and changes
   nothing) when they are the same, as for the run's own data set and options. 1 when
   re-standardised, 0 when nothing changed, -1 with ERR (EXIT_USAGE) when a value leaves
   float range (row and column named). */
int dataset_use_scaler(dataset *d, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES], error *err);

/* "train", "val", "test" -> the split, NULL for anything else. */
const data_split *dataset_split(const dataset *d, const char *which);

#endif
