/* The activation table; each row's math is in kernels/act_math.cl under the same name. */
#include "model/activation.h"

#include <stdio.h>
#include <string.h>

static const act_info table[ACT_COUNT] = {
    [ACT_NONE] = {"none", ACT_SAVES_NOTHING, false, 0.0f, false},
    [ACT_RELU] = {"relu", ACT_SAVES_OUTPUT, false, 0.0f, true},
    [ACT_LEAKY_RELU] = {"leaky_relu", ACT_SAVES_INPUT_IF_NEG, true, 0.01f, false},
    [ACT_SIGMOID] = {"sigmoid", ACT_SAVES_OUTPUT, false, 0.0f, false},
    [ACT_TANH] = {"tanh", ACT_SAVES_OUTPUT, false, 0.0f, false},
    [ACT_GELU] = {"gelu", ACT_SAVES_INPUT, false, 0.0f, false},
};

const act_info *act_info_of(act_kind k) { return (int)k >= 0 && k < ACT_COUNT ? &table[k] : NULL; }

int act_find(const char *name) {
  for (int k = 1; k < ACT_COUNT; k++)
    if (strcmp(table[k].name, name) == 0) return k;
  return -1;
}

bool act_saves_input(act_kind k, float param) {
  const act_info *a = act_info_of(k);
  if (!a) return false;
  return a->saves == ACT_SAVES_INPUT || (a->saves == ACT_SAVES_INPUT_IF_NEG && param < 0.0f);
}

void act_keyword_list(char *out, size_t n) {
  size_t len = 0;
  out[0] = '\0';
  for (int k = 1; k < ACT_COUNT && len < n; k++)
    len += (size_t)snprintf(out + len, n - len, "%s%s", k > 1 ? ", " : "", table[k].name);
}
