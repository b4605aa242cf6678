/* The data set resident on the device, and evaluation of a split: loss, accuracy and the
   confusion matrix, read back with one blocking read after all batches are queued. */
#ifndef CLTRAIN_EVALUATE_H
#define CLTRAIN_EVALUATE_H

#include "data/data.h"
#include "net/net.h"
#include "cl/runtime.h"

typedef struct {
  cl_mem x, y;   /* rows x n_features floats, rows int32 labels */
  size_t rows;
} device_split;

typedef struct {
  device_split train, val, test;
} device_data;

/* Upload every split once (each at least one element, so empty splits stay valid). */
void device_data_upload(cl_runtime *rt, const dataset *ds, device_data *out);
void device_data_free(device_data *d);

typedef struct {
  double loss, acc;
  long count, correct;
  long confusion[JSC_N_CLASSES * JSC_N_CLASSES]; /* [true][predicted] */
} eval_result;

/* Forward in evaluation mode over the whole split in batches of at most BATCH rows (the
   net's max_batch). Resets the net's metric accumulators first. */
void evaluate_split(net *n, const device_split *s, int batch, eval_result *out);

#endif
