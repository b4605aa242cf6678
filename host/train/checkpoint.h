/* Checkpoints (layout in docs/FORMATS.md): self-describing, integrity-checked, written atomically.

   File layout (little-endian):
     "CLTRCKPT"  8-byte magic
     u32 version (CHECKPOINT_VERSION), u32 record count, u64 body length
     body: records of (u32 tag, u64 length, bytes)
     u64 FNV-1a 64 checksum of everything before it
   Records hold the model name and text, the configuration (key=value lines), dataset and
   device names, the training progress, the shuffle RNG state, and the float arrays:
   parameters, BatchNorm running statistics, optimizer state, and (version 2) the input
   standardisation fitted on the training split. Unknown tags are skipped so later
   versions can add records; version 1 files (no standardisation) still load. */
#ifndef CLTRAIN_CHECKPOINT_H
#define CLTRAIN_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/data.h"
#include "model/model.h"
#include "base/rng.h"

#define CHECKPOINT_VERSION 2

/* Where a run stands. Everything the trainer needs to continue bit-exactly. */
typedef struct {
  uint64_t epoch;           /* epochs finished */
  uint64_t step;            /* optimizer steps done in the whole run */
  uint64_t epoch_batches;   /* batches done in the unfinished epoch (0 at an epoch end) */
  uint64_t samples;         /* training samples processed in the whole run */
  double epoch_loss_sum;    /* train loss sum / correct / count of the unfinished epoch */
  uint64_t epoch_correct, epoch_count;
  double epoch_seconds;     /* wall time already spent in the unfinished epoch */
  double train_seconds;     /* wall time of training and validation so far (all sessions) */
  double step_seconds;      /* the part of it spent in training steps */
  double best_val_acc;      /* -1 before the first validation */
  uint64_t best_epoch;      /* 1-based epoch of best_val_acc, 0 none */
  double best_val_loss;     /* early stopping: lowest validation loss so far */
  uint64_t stale_epochs;    /* epochs since best_val_loss improved */
  double last_train_loss, last_train_acc, last_val_loss, last_val_acc; /* last finished epoch */
  rng_state shuffle_rng;    /* state before drawing the permutation of epoch `epoch` */
  uint64_t seed;
} train_progress;

typedef struct {
  char model_name[128];
  char *model_text;
  char *config_text;        /* train_config_to_text() */
  char dataset_name[128];
  char device_name[256];
  train_progress progress;
  size_t n_params, n_stats, n_optim;
  float *params, *stats, *optim;
  /* Standardisation of the training split, x' = (x - mean) / std per feature; absent
     (has_scaler false) in version 1 checkpoints. */
  bool has_scaler;
  float mean[JSC_N_FEATURES], std[JSC_N_FEATURES];
} checkpoint;

/* Write atomically (PATH.tmp, fsync, rename, fsync of the directory). 0 or -1 with err. */
int checkpoint_write(const char *path, const checkpoint *c, char *err, size_t errlen);
/* Read and verify magic, version, length and checksum. 0 or -1 with one line in err
   naming PATH and the problem (missing, truncated, corrupted, not a checkpoint). */
int checkpoint_read(const char *path, checkpoint *c, char *err, size_t errlen);
void checkpoint_free(checkpoint *c);

/* 0 when the checkpoint's model has M's layers and widths; else -1 with a message naming
   both models. */
int checkpoint_check_model(const checkpoint *c, const model_spec *m, const char *path, char *err, size_t errlen);

#endif
