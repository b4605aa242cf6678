/* The data set resident on the device, and evaluation of a split: loss, accuracy and the
   confusion matrix, read back with one blocking read after all batches are queued. */
#ifndef CLTRAIN_EVALUATE_H
#define CLTRAIN_EVALUATE_H

#include "base/error.h"
#include "cl/runtime.h"
#include "data/data.h"
#include "model/model.h"
#include "net/net.h"
#include "train/checkpoint.h"

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
  double loss_sum;                               /* loss = loss_sum / count */
  long count, correct;
  long confusion[JSC_N_CLASSES * JSC_N_CLASSES]; /* [true][predicted] */
} eval_result;

/* Forward in evaluation mode over the whole split in batches of at most BATCH rows (the
   net's max_batch). Resets the net's metric accumulators first. LOGITS (NULL: not
   wanted) receives every row's logits (s->rows x JSC_N_CLASSES), one blocking read per
   batch. 0, or -1 with ERR (the runtime's first failure). */
int evaluate_split(net *n, const device_split *s, int batch, eval_result *out, float *logits, error *err);
/* The same over rows FIRST .. FIRST + COUNT - 1 of the split only (COUNT 0: an empty
   result); LOGITS then holds COUNT rows. */
int evaluate_rows(net *n, const device_split *s, size_t first, size_t count, int batch, eval_result *out,
                  float *logits, error *err);

/* The weights of checkpoint CK (model M, whose text it holds) on SPLIT, in batches of at
   most BATCH rows, its Linear layers on GEMM, on the opened device RT: `cltrain test`,
   `cltrain predict` and lab1's confusion matrix and ROC curves. PROBS (NULL: not wanted)
   receives every row's softmax probabilities (split->rows x JSC_N_CLASSES). 0, or -1 with
   ERR (the checkpoint does not hold M's parameters: EXIT_USAGE). */
int evaluate_checkpoint(cl_runtime *rt, const checkpoint *ck, const model_spec *m, const data_split *split,
                        long batch, net_gemm gemm, eval_result *out, float *probs, error *err);

/* confusion.csv (class,g,q,W,Z,t; one row per true class, counts of predicted classes),
   written through PATH.tmp and a rename. 0 or -1 with ERR. */
int write_confusion(const char *path, const long counts[JSC_N_CLASSES * JSC_N_CLASSES], error *err);

#endif
