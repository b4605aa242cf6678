#include "model/model_print.h"

#include <stdlib.h>
#include <string.h>

void model_print_header(FILE *out, const model_spec *m) {
  fprintf(out, "model %s (%s): input %d, output %d, %d layers, %zu parameters, %zu BatchNorm running statistics\n",
          m->name, m->origin, m->input_width, m->output_width, m->n_layers, m->n_params, m->n_stats);
}

void model_print_layers(FILE *out, const model_spec *m) {
  fprintf(out, "%5s  %4s  %-16s  %-11s  %8s  %8s\n", "index", "line", "layer", "in->out", "params", "total");
  size_t total = 0;
  for (int i = 0; i < m->n_layers; i++) {
    const layer_spec *L = &m->layers[i];
    char layer[32], widths[32];
    const bool has_arg = L->kind == LAYER_DROPOUT || (L->kind == LAYER_ACTIVATION && act_info_of(L->act)->has_param);
    if (has_arg) {
      /* The shortest text that reads back to the same float: 0.99999988 is not "1". */
      char num[24] = "";
      for (int prec = 1; prec <= 9; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, (double)L->arg);
        if ((float)strtod(num, NULL) == L->arg) break;
      }
      snprintf(layer, sizeof layer, "%s %s", layer_name(L), num);
    }
    else
      snprintf(layer, sizeof layer, "%s", layer_name(L));
    snprintf(widths, sizeof widths, "%d->%d", L->in, L->out);
    total += L->n_params;
    fprintf(out, "%5d  %4d  %-16s  %-11s  %8zu  %8zu\n", i, L->line, layer, widths, L->n_params, total);
  }
  fprintf(out, "total: %zu parameters\n", total);
}

const char *model_description(const model_spec *m, char *buf, size_t len) {
  buf[0] = '\0';
  const char *hash = m->text ? strchr(m->text, '#') : NULL;
  if (!hash) return buf;
  hash++;
  while (*hash == ' ' || *hash == '\t') hash++;
  size_t n = strcspn(hash, "\r\n");
  if (n >= len) n = len - 1;
  memcpy(buf, hash, n);
  buf[n] = '\0';
  return buf;
}
