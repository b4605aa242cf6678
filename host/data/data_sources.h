/* Internals of the dataset module shared by its files (data.c, preprocess.c, the loaders,
   the cache, the generator) and by the tests. Commands use data.h only. */
#ifndef CLTRAIN_DATA_SOURCES_H
#define CLTRAIN_DATA_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/data.h"

/* Rows as read from a source, before pre-processing: features in canonical order and
   raw physical units, labels in canonical class order. */
typedef struct {
  size_t rows;
  float *x;     /* rows x JSC_N_FEATURES */
  int32_t *y;
  int8_t *split; /* a predefined split per row (RAW_SPLIT_*), NULL: split by seed */
} raw_table;

/* Values of a CSV `split` column (data/README.md "Predefined splits"). */
enum { RAW_SPLIT_TRAIN, RAW_SPLIT_VAL, RAW_SPLIT_TEST };

void raw_table_alloc(raw_table *t, size_t rows);
void raw_table_free(raw_table *t);

/* Loaders: 0, or -1 with one line "PATH: ..." in err. */
int csv_load(const char *path, raw_table *out, char *err, size_t errlen);
/* The same with the label column optional unless NEED_LABELS; without one every label is
   -1 and *HAS_LABELS false. */
int csv_load_rows(const char *path, bool need_labels, raw_table *out, bool *has_labels, char *err, size_t errlen);
int hdf5_load(const char *path, raw_table *out, char *err, size_t errlen);
/* The same from an HDF5 file image in memory (the fuzz target); NAME names it in messages. */
int hdf5_load_image(const void *image, size_t n, const char *name, raw_table *out, char *err, size_t errlen);
/* True when the file starts with the HDF5 signature (at offset 0 or a user-block offset). */
int file_is_hdf5(const char *path);

/* jsc-synth: N jets, classes exactly balanced (jet i has class i % 5), deterministic in SEED. */
void synth_generate(size_t n, uint64_t seed, raw_table *out);

/* Pre-processing (preprocess.c). */
size_t dedupe_rows(raw_table *t);          /* keeps first occurrences; returns rows dropped */
/* Consumes T: de-duplicate, split, fit the scaler on train, scale every split. */
int preprocess(raw_table *t, const data_options *opt, dataset *out, char *err, size_t errlen);
/* x' = (x - mean) / std in place, computed as the training pre-processing does. */
long standardize_rows(float *x, size_t rows, const float mean[JSC_N_FEATURES], const float std[JSC_N_FEATURES]);
/* Split sizes for N rows: test = ceil(test_fraction N), val = ceil(val_fraction (N - test)). */
void split_sizes(size_t n, const data_options *opt, size_t *train, size_t *val, size_t *test);

/* Binary cache of a pre-processed file (data_cache.c). */
uint64_t file_content_hash(const char *path, char *err, size_t errlen, int *ok);
/* The cache file of a source with CONTENT_HASH under OPT in the user's cache directory
   (created). -1 when there is none (no $XDG_CACHE_HOME or $HOME, or it cannot be made). */
int data_cache_path(uint64_t content_hash, const data_options *opt, char *out, size_t outlen);
/* 0 when a valid cache for this content and these options was loaded into OUT. */
int data_cache_load(const char *cache_path, uint64_t content_hash, const data_options *opt, dataset *out);
/* 0 on success; -1 with err (the caller warns and goes on without a cache). */
int data_cache_store(const char *cache_path, uint64_t content_hash, const data_options *opt,
                     const dataset *d, char *err, size_t errlen);

#endif
