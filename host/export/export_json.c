/* JSON export: the architecture (layers with widths and their tensors' names) and every
   tensor (name, shape, row-major data), floats printed with 9 significant digits so they
   read back to the same float. One document, no library needed to write or read it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "export/export_internal.h"

static void json_names(FILE *f, const char *const *names, int n) {
  fputc('[', f);
  for (int i = 0; i < n; i++) {
    if (i) fputs(", ", f);
    json_write_string(f, names[i]);
  }
  fputc(']', f);
}

static void json_tensor(FILE *f, const tensor_ref *t, bool last) {
  fputs("    {\"name\": ", f);
  json_write_string(f, t->name);
  if (t->cols) fprintf(f, ", \"shape\": [%d, %d], \"data\": [", t->rows, t->cols);
  else fprintf(f, ", \"shape\": [%d], \"data\": [", t->rows);
  size_t n = (size_t)t->rows * (size_t)(t->cols ? t->cols : 1);
  for (size_t i = 0; i < n; i++) fprintf(f, "%s%.9g", i ? ", " : "", t->data[i]);
  fprintf(f, "]}%s\n", last ? "" : ",");
}

static void write_doc(FILE *f, const export_model *e) {
  const model_spec *m = e->m;
  fprintf(f, "{\n  \"format\": \"cltrain-model\",\n  \"format_version\": 1,\n  \"cltrain_version\": ");
  json_write_string(f, CLTRAIN_VERSION);
  fputs(",\n  \"model\": ", f);
  json_write_string(f, m->name);
  fputs(",\n  \"checkpoint\": ", f);
  json_write_string(f, e->source ? e->source : "");
  fprintf(f, ",\n  \"input\": {\"name\": \"features\", \"width\": %d, \"raw_inputs\": %s, \"feature_names\": ",
          m->input_width, e->raw_inputs ? "true" : "false");
  json_names(f, e->feature_names, m->input_width);
  fputs("},\n  \"standardization\": ", f);
  if (e->mean) {
    fputs("{\"formula\": \"(x - input_mean) / input_std\", \"applied_in_model\": ", f);
    fputs(e->raw_inputs ? "true" : "false", f);
    fputs(", \"tensors\": [\"input_mean\", \"input_std\"]}", f);
  } else {
    fputs("null", f);
  }
  fprintf(f, ",\n  \"output\": {\"names\": [\"logits\", \"probabilities\"], \"width\": %d, \"class_names\": ",
          m->output_width);
  json_names(f, e->class_names, m->output_width);
  fputs(", \"probabilities\": \"softmax(logits)\"},\n  \"layers\": [\n", f);
  for (int l = 0; l < m->n_layers; l++) {
    const layer_spec *s = &m->layers[l];
    fprintf(f, "    {\"index\": %d, \"kind\": \"%s\", \"in\": %d, \"out\": %d", l, layer_name(s), s->in, s->out);
    const bool act = s->kind == LAYER_ACTIVATION;
    if (act && s->act == ACT_LEAKY_RELU) fprintf(f, ", \"negative_slope\": %.9g", s->arg);
    if (act && s->act == ACT_GELU) fputs(", \"formula\": \"0.5 * x * (1 + erf(x / sqrt(2)))\"", f);
    if (s->kind == LAYER_DROPOUT) fprintf(f, ", \"p\": %.9g, \"inference\": \"identity\"", s->arg);
    if (s->kind == LAYER_BATCHNORM) fprintf(f, ", \"epsilon\": %.9g", EXPORT_BN_EPSILON);
    if (s->kind == LAYER_LINEAR) fputs(", \"formula\": \"x weight^T + bias\"", f);
    tensor_ref t[4];
    int n = export_layer_tensors(e, l, t);
    fputs(", \"tensors\": [", f);
    for (int i = 0; i < n; i++) {
      if (i) fputs(", ", f);
      json_write_string(f, t[i].name);
    }
    fprintf(f, "]}%s\n", l + 1 < m->n_layers ? "," : "");
  }
  fputs("  ],\n  \"tensors\": [\n", f);
  tensor_ref all[MODEL_MAX_LAYERS * 4 + 2];
  int n = 0;
  if (e->mean) {
    all[n++] = (tensor_ref){"input_mean", m->input_width, 0, e->mean};
    all[n++] = (tensor_ref){"input_std", m->input_width, 0, e->std};
  }
  for (int l = 0; l < m->n_layers; l++) n += export_layer_tensors(e, l, all + n);
  for (int i = 0; i < n; i++) json_tensor(f, &all[i], i + 1 == n);
  fputs("  ]\n}\n", f);
}

static void emit_doc(FILE *f, const void *e) { write_doc(f, e); }

int export_json(const export_model *e, const char *path, error *err) {
  return export_write_file(path, emit_doc, e, err);
}
