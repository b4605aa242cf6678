/* Shared by the export formats (host/export/ only). */
#ifndef CLTRAIN_EXPORT_INTERNAL_H
#define CLTRAIN_EXPORT_INTERNAL_H

#include <stdio.h>

#include "export/export.h"

/* Write PATH with EMIT(f, CTX) through PATH.tmp (created exclusively, never through a
   planted link), fsync and a rename, so a failed export leaves no half file. 0, or -1
   with ERR naming PATH. */
int export_write_file(const char *path, void (*emit)(FILE *f, const void *ctx), const void *ctx, error *err);

/* One named tensor of the checkpoint: a matrix [rows, cols] or, with cols 0, a vector. */
typedef struct {
  char name[96];
  int rows, cols;
  const float *data;
} tensor_ref;

/* The tensors of layer L (at most 4): linear weight, bias; batchnorm scale, bias,
   running_mean, running_var; none for the others. Returns how many. */
int export_layer_tensors(const export_model *e, int l, tensor_ref out[4]);

#endif
