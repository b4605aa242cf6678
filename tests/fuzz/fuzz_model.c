/* libFuzzer target: the model-file parser (model_parse) on arbitrary text, and the
   checkpoint's model comparison when it parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  char *text = malloc(n + 1);
  if (!text) return 0;
  memcpy(text, data, n);
  text[n] = '\0'; /* model_parse takes a C string; embedded NULs end it early */
  model_spec m;
  error err = {0};
  if (model_parse(text, "fuzz.model", "fuzz", &m, &err) == 0) {
    /* A parsed model must be self-consistent: layer widths chain, parameters add up. */
    size_t params = 0;
    int width = m.input_width;
    for (int i = 0; i < m.n_layers; i++) {
      if (m.layers[i].in != width || m.layers[i].param_offset != params) abort();
      width = m.layers[i].out;
      params += m.layers[i].n_params;
    }
    if (width != m.output_width || params != m.n_params) abort();
    /* Compare with itself through a checkpoint holding its text. */
    checkpoint c;
    memset(&c, 0, sizeof c);
    strcpy(c.model_name, "fuzz");
    c.model_text = text;
    c.n_params = m.n_params;
    c.n_stats = m.n_stats;
    char cerr[512];
    if (checkpoint_check_model(&c, &m, "fuzz.ckpt", cerr, sizeof cerr) != 0) abort();
    model_free(&m);
  } else if (err.msg[0] == '\0') {
    abort(); /* a refusal must say why */
  }
  free(text);
  return 0;
}
