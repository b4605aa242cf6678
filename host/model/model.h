/* Model files: plain text, one layer per line, '#' comments (README.md, "Model files").
   A parsed model knows every layer's widths and where its parameters live in the one
   flat parameter buffer, and where its BatchNorm running statistics live. */
#ifndef CLTRAIN_MODEL_H
#define CLTRAIN_MODEL_H

#include <stddef.h>

#include "base/error.h"
#include "model/activation.h"

typedef enum {
  LAYER_LINEAR,
  LAYER_BATCHNORM,
  LAYER_ACTIVATION,     /* which one: act (model/activation.h) */
  LAYER_DROPOUT,
} layer_kind;

typedef struct {
  layer_kind kind;
  act_kind act;         /* LAYER_ACTIVATION; ACT_NONE otherwise */
  int in, out;          /* widths; equal except for linear */
  float arg;            /* the activation's parameter (leaky_relu slope), dropout p; 0 otherwise */
  int line;             /* line in the model file */
  size_t param_offset;  /* floats into the flat parameter buffer */
  size_t n_params;      /* linear: out*in weights (row-major [out][in]) then out biases;
                           batchnorm: gamma[C] then beta[C]; others 0 */
  size_t stats_offset;  /* batchnorm: floats into the running-stats buffer: mean[C], var[C] */
} layer_spec;

#define MODEL_MAX_LAYERS 64
#define MODEL_MAX_WIDTH 65536

typedef struct {
  char name[128];       /* zoo name or file base name */
  char origin[1024];    /* path or "zoo:NAME" for messages */
  int input_width;
  int output_width;
  int n_layers;
  layer_spec layers[MODEL_MAX_LAYERS];
  size_t n_params;      /* trainable floats */
  size_t n_stats;       /* BatchNorm running-stat floats */
  int max_width;        /* widest activation, input included */
  char *text;           /* the source text, owned (stored in checkpoints) */
} model_spec;

/* Parse TEXT; ORIGIN names the file in messages ("FILE:LINE: ..."). 0, or -1 with a usage
   error in err. */
int model_parse(const char *text, const char *origin, const char *name, model_spec *m, error *err);
/* NAME_OR_PATH: a zoo name ("jsc-tiny") or a path to a model file. */
int model_load(const char *name_or_path, model_spec *m, error *err);
/* Check that the output width equals the dataset's class count. */
int model_check_classes(const model_spec *m, int n_classes, error *err);
void model_free(model_spec *m);

/* The layer's keyword ("linear", "relu", ...). */
const char *layer_name(const layer_spec *L);

/* Zoo names in display order, NULL-terminated. */
extern const char *const model_zoo_names[];

#endif
