/* Human-readable model descriptions: the zoo list and the per-layer table shared by
   `cltrain models` and the model summary printed before training. */
#ifndef CLTRAIN_MODEL_PRINT_H
#define CLTRAIN_MODEL_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "model/model.h"

/* One line: name, origin, input -> output widths, parameter and statistic counts. */
void model_print_header(FILE *out, const model_spec *m);
/* index, line, layer, in->out, params, running total; then the total. */
void model_print_layers(FILE *out, const model_spec *m);
/* The first comment of the model text without '#', or "" (into buf). */
const char *model_description(const model_spec *m, char *buf, size_t len);

#endif
