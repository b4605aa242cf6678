/* What `cltrain test` evaluated and found, kept beside the checkpoint as
   test-<key>.json: the key names the data set, the split and its rows, so testing on
   other data never replaces the results of another evaluation or the run's own
   (README "cltrain test"). */
#ifndef CLTRAIN_TEST_RECORD_H
#define CLTRAIN_TEST_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "data/data.h"
#include "train/evaluate.h"
#include "train/roc.h"

typedef struct {
  const char *checkpoint;   /* as given to --load */
  const char *model;
  const char *dataset;      /* DATASET as given (name or path) */
  const char *source;       /* where the rows came from (a file path, the generator) */
  const char *split;        /* train, val, test or all */
  const char *data_options; /* "val-fraction=0.1 synth-size=2000 ..." */
  bool own_test_split;      /* the training run's own test split: summary.json was updated */
  const eval_result *result;
  const roc_curve *roc;     /* JSC_N_CLASSES curves */
} test_record;

/* KEY "<dataset>_<split>_<rows>_<hash>": the data set's short name, the split, its rows,
   and 8 hex digits of DATASET_SPEC and OPTIONS_TEXT (two evaluations that differ in a seed do
   not share a key). */
void test_record_key(const char *dataset_short, const char *split, size_t rows, const char *dataset_spec,
                     const char *options_text, char *key, size_t n);

/* Write R as one-key-per-line JSON to PATH (through PATH.tmp and a rename). 0 or -1 with ERR. */
int test_record_write(const char *path, const test_record *r, error *err);

#endif
