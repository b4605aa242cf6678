/* C export: a header and a source in plain C99 (libm only, no allocation, no OpenCL),
   the weights as static const float arrays and the forward pass as straight-line loops,
   one block per layer, for embedded targets and HLS tools. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "export/export_internal.h"

#define PREFIX_MAX 64

/* PREFIX from PATH's base name without extension, made a C identifier. */
static void c_prefix(const char *path, char out[PREFIX_MAX]) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strcspn(base, ".");
  size_t k = 0;
  if (n == 0 || isdigit((unsigned char)base[0])) out[k++] = 'm';
  for (size_t i = 0; i < n && k + 1 < PREFIX_MAX; i++)
    out[k++] = isalnum((unsigned char)base[i]) ? base[i] : '_';
  out[k] = '\0';
}

static void c_names(FILE *f, const char *prefix, const char *what, const char *const *names, int n) {
  fprintf(f, "const char *const %s_%s[%d] = {", prefix, what, n);
  for (int i = 0; i < n; i++) {
    fputs(i ? ", \"" : "\"", f);
    for (const char *s = names[i]; *s; s++) fputc(*s == '"' || *s == '\\' ? '_' : *s, f);
    fputc('"', f);
  }
  fputs("};\n", f);
}

static void c_array(FILE *f, const tensor_ref *t) {
  size_t n = (size_t)t->rows * (size_t)(t->cols ? t->cols : 1);
  if (t->cols) fprintf(f, "/* [%d][%d], row-major */\n", t->rows, t->cols);
  fprintf(f, "static const float %s[%zu] = {", t->name, n);
  for (size_t i = 0; i < n; i++) fprintf(f, "%s%s%.9gf", i ? "," : "", i % 6 ? " " : "\n    ", t->data[i]);
  fputs("};\n", f);
}

static void write_header(FILE *f, const export_model *e, const char *prefix) {
  const model_spec *m = e->m;
  char guard[PREFIX_MAX + 8];
  size_t k = 0;
  for (const char *s = prefix; *s; s++) guard[k++] = (char)toupper((unsigned char)*s);
  memcpy(guard + k, "_H", 3);
  fprintf(f,
          "/* Model %s exported by cltrain %s from %s. Plain C99; link with -lm.\n"
          "   Inputs: %d features in the order of %s_feature_names, %s.\n"
          "   Outputs: %d logits and their softmax, classes in the order of %s_class_names. */\n",
          m->name, CLTRAIN_VERSION, e->source ? e->source : "a checkpoint", m->input_width, prefix,
          e->raw_inputs ? "in physical units (the standardisation is inside)"
                        : "standardised as in training: (x - mean) / std of the training split",
          m->output_width, prefix);
  fprintf(f, "#ifndef %s\n#define %s\n\n", guard, guard);
  fprintf(f, "#define %s_N_FEATURES %d\n#define %s_N_CLASSES %d\n#define %s_RAW_INPUTS %d\n\n", prefix,
          m->input_width, prefix, m->output_width, prefix, e->raw_inputs ? 1 : 0);
  fprintf(f, "extern const char *const %s_feature_names[%d];\n", prefix, m->input_width);
  fprintf(f, "extern const char *const %s_class_names[%d];\n\n", prefix, m->output_width);
  fprintf(f, "void %s_logits(const float features[%d], float logits[%d]);\n", prefix, m->input_width,
          m->output_width);
  fprintf(f, "void %s_predict(const float features[%d], float probabilities[%d]);\n\n#endif\n", prefix,
          m->input_width, m->output_width);
}

/* An activation in place on x, in plain C99 float math. */
static void c_activation(FILE *f, const layer_spec *s) {
  fprintf(f, "  for (i = 0; i < %d; i++) ", s->out);
  switch (s->act) {
    case ACT_RELU: fputs("x[i] = x[i] > 0.0f ? x[i] : 0.0f;\n", f); break;
    case ACT_LEAKY_RELU: fprintf(f, "x[i] = x[i] > 0.0f ? x[i] : %.9gf * x[i];\n", s->arg); break;
    case ACT_SIGMOID: fputs("x[i] = 1.0f / (1.0f + expf(-x[i]));\n", f); break;
    case ACT_TANH: fputs("x[i] = tanhf(x[i]);\n", f); break;
    /* The exact GELU (PyTorch's approximate='none'), x Phi(x) through C99's erff. */
    case ACT_GELU: fputs("x[i] = 0.5f * x[i] * (1.0f + erff(x[i] / 1.41421356f));\n", f); break;
    case ACT_NONE:
    case ACT_COUNT: fputs("; /* identity */\n", f); break;
  }
}

/* The forward of layer L from x to y (pointwise layers work in place on x). */
static void c_layer(FILE *f, const export_model *e, int l) {
  const layer_spec *s = &e->m->layers[l];
  tensor_ref t[4];
  export_layer_tensors(e, l, t);
  fprintf(f, "  /* layer %d: %s (model line %d) */\n", l, layer_name(s), s->line);
  switch (s->kind) {
    case LAYER_LINEAR:
      fprintf(f,
              "  for (o = 0; o < %d; o++) {\n    float acc = %s[o];\n"
              "    for (i = 0; i < %d; i++) acc += %s[o * %d + i] * x[i];\n    y[o] = acc;\n  }\n"
              "  t = x; x = y; y = t;\n",
              s->out, t[1].name, s->in, t[0].name, s->in);
      break;
    case LAYER_BATCHNORM:
      fprintf(f, "  for (i = 0; i < %d; i++)\n    x[i] = (x[i] - %s[i]) / sqrtf(%s[i] + %.9gf) * %s[i] + %s[i];\n",
              s->out, t[2].name, t[3].name, EXPORT_BN_EPSILON, t[0].name, t[1].name);
      break;
    case LAYER_ACTIVATION: c_activation(f, s); break;
    case LAYER_DROPOUT: fputs("  /* identity in inference */\n", f); break;
  }
}

static void write_source(FILE *f, const export_model *e, const char *prefix, const char *header) {
  const model_spec *m = e->m;
  fprintf(f, "/* Model %s exported by cltrain %s: see %s. */\n#include \"%s\"\n\n#include <math.h>\n\n", m->name,
          CLTRAIN_VERSION, header, header);
  c_names(f, prefix, "feature_names", e->feature_names, m->input_width);
  c_names(f, prefix, "class_names", e->class_names, m->output_width);
  fputc('\n', f);
  if (e->raw_inputs) {
    tensor_ref mean = {"input_mean", m->input_width, 0, e->mean}, sd = {"input_std", m->input_width, 0, e->std};
    c_array(f, &mean);
    c_array(f, &sd);
  }
  for (int l = 0; l < m->n_layers; l++) {
    tensor_ref t[4];
    int n = export_layer_tensors(e, l, t);
    for (int i = 0; i < n; i++) c_array(f, &t[i]);
  }
  fprintf(f, "\nvoid %s_logits(const float features[%d], float logits[%d]) {\n", prefix, m->input_width,
          m->output_width);
  fprintf(f, "  float a[%d], b[%d];\n  float *x = a, *y = b, *t;\n  int i, o;\n", m->max_width, m->max_width);
  if (e->raw_inputs)
    fprintf(f, "  for (i = 0; i < %d; i++) x[i] = (features[i] - input_mean[i]) / input_std[i];\n", m->input_width);
  else
    fprintf(f, "  for (i = 0; i < %d; i++) x[i] = features[i];\n", m->input_width);
  for (int l = 0; l < m->n_layers; l++) c_layer(f, e, l);
  fprintf(f, "  for (i = 0; i < %d; i++) logits[i] = x[i];\n  (void)o;\n  (void)t;\n  (void)y;\n}\n\n",
          m->output_width);
  fprintf(f,
          "void %s_predict(const float features[%d], float probabilities[%d]) {\n"
          "  float z[%d], max, sum = 0.0f;\n  int i;\n  %s_logits(features, z);\n  max = z[0];\n"
          "  for (i = 1; i < %d; i++) max = z[i] > max ? z[i] : max;\n"
          "  for (i = 0; i < %d; i++) sum += probabilities[i] = expf(z[i] - max);\n"
          "  for (i = 0; i < %d; i++) probabilities[i] /= sum;\n}\n",
          prefix, m->input_width, m->output_width, m->output_width, prefix, m->output_width, m->output_width,
          m->output_width);
}

typedef struct {
  const export_model *e;
  const char *prefix, *header;
} c_files;

static void emit_header(FILE *f, const void *ctx) {
  const c_files *c = ctx;
  write_header(f, c->e, c->prefix);
}

static void emit_source(FILE *f, const void *ctx) {
  const c_files *c = ctx;
  write_source(f, c->e, c->prefix, c->header);
}

int export_c(const export_model *e, const char *path, error *err) {
  char prefix[PREFIX_MAX], header_path[4200];
  c_prefix(path, prefix);
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
  if (stem + 3 > sizeof header_path) return ERR_USAGE(err, "output path too long: %s", path);
  snprintf(header_path, sizeof header_path, "%.*s.h", (int)stem, path);
  if (strcmp(header_path, path) == 0) return ERR_USAGE(err, "--out %s: the C source needs a .c name", path);
  const char *header = strrchr(header_path, '/');
  header = header ? header + 1 : header_path;
  const c_files c = {e, prefix, header};
  if (export_write_file(header_path, emit_header, &c, err)) return -1;
  return export_write_file(path, emit_source, &c, err);
}
