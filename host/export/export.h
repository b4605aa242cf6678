/* A trained model leaves cltrain (README "Using a trained model elsewhere"): the network
   of a checkpoint written as ONNX, as JSON (architecture and every tensor) or as C99
   source, for hls4ml, FINN, onnxruntime or an embedded/HLS flow.

   Every format holds the same inference graph: Dropout is left out (identity in
   evaluation), BatchNorm uses its running statistics, the output is the logits
   [N, classes] and their softmax. With raw_inputs the training split's standardisation
   (x - mean) / std comes first, so the model takes the 16 features in physical units;
   without it the model takes standardised features, as cltrain's own net does. Tensors
   are named after their layer: "l3_linear_weight" ([out, in], row-major),
   "l3_linear_bias", "l0_batchnorm_scale|bias|running_mean|running_var", and
   "input_mean", "input_std". */
#ifndef CLTRAIN_EXPORT_H
#define CLTRAIN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "model/model.h"

#define EXPORT_BN_EPSILON 1e-5f /* PyTorch's default, as the net's BatchNorm */
#define EXPORT_ONNX_OPSET 13
#define EXPORT_ONNX_IR_VERSION 7 /* the IR version that goes with opset 13 */

typedef struct {
  const model_spec *m;
  const float *params, *stats;  /* the checkpoint's flat buffers (model.h offsets) */
  bool raw_inputs;
  const float *mean, *std;      /* input standardisation (JSC_N_FEATURES each); NULL: unknown */
  const char *const *feature_names;  /* input_width names */
  const char *const *class_names;    /* output_width names */
  const char *source;           /* the checkpoint, for doc strings */
} export_model;

typedef enum { EXPORT_ONNX, EXPORT_JSON, EXPORT_C } export_format;

/* "onnx", "json", "c" -> the format; -1 with a usage error naming S otherwise. */
int export_format_parse(const char *s, export_format *out, error *err);
/* The file extension of FORMAT without the dot. */
const char *export_format_ext(export_format f);

/* Tensor names, shared by every format: "l%d_%s_%s" (layer, kind, what). */
void export_tensor_name(char *buf, size_t n, int layer, const model_spec *m, const char *what);

/* Write E to PATH. Failures to write PATH are usage errors (the path is the user's). */
int export_json(const export_model *e, const char *path, error *err);
/* PATH is the source file; its header is PATH with the extension replaced by ".h". The
   functions are named after the file: PREFIX_logits and PREFIX_predict. */
int export_c(const export_model *e, const char *path, error *err);
/* False when this build has no ONNX support (protobuf-c or the onnx schema was missing
   when it was configured); export_onnx then fails with a usage error saying so. */
bool export_onnx_available(void);
int export_onnx(const export_model *e, const char *path, error *err);

#endif
