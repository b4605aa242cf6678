#include "model/model.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/embedded.h"
#include "base/safe_file.h"
#include "base/util.h"

const char *const model_zoo_names[] = {"jsc-tiny", "jsc-toy", "jsc-s", "jsc-trt", NULL};

const char *layer_name(const layer_spec *L) {
  switch (L->kind) {
    case LAYER_LINEAR: return "linear";
    case LAYER_BATCHNORM: return "batchnorm";
    case LAYER_ACTIVATION: return act_info_of(L->act) ? act_info_of(L->act)->name : "?";
    case LAYER_DROPOUT: return "dropout";
  }
  return "?";
}

/* Split a line into at most 3 whitespace-separated words; returns the count (4 = too many). */
static int split_words(char *line, char *words[3]) {
  int n = 0;
  for (char *p = strtok(line, " \t\r"); p; p = strtok(NULL, " \t\r")) {
    if (n == 3) return 4;
    words[n++] = p;
  }
  return n;
}

int model_parse(const char *text, const char *origin, const char *name, model_spec *m,
                error *err) {
  memset(m, 0, sizeof *m);
  snprintf(m->origin, sizeof m->origin, "%s", origin);
  snprintf(m->name, sizeof m->name, "%s", name);
  int width = 0, lineno = 0;
  bool have_input = false;
  const char *p = text;
  while (*p) {
    lineno++;
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char line[512];
    if (len >= sizeof line) return ERR_USAGE(err, "%s:%d: line too long", origin, lineno);
    memcpy(line, p, len);
    line[len] = '\0';
    p += len + (eol ? 1 : 0);
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *w[3];
    int nw = split_words(line, w);
    if (nw == 0) continue;
    if (nw > 2) return ERR_USAGE(err, "%s:%d: too many words after '%s'", origin, lineno, w[0]);
    const char *kw = w[0], *arg = nw == 2 ? w[1] : NULL;

    if (strcmp(kw, "input") == 0) {
      long v;
      if (have_input) return ERR_USAGE(err, "%s:%d: 'input' given twice", origin, lineno);
      if (!arg || !parse_long(arg, 1, MODEL_MAX_WIDTH, &v))
        return ERR_USAGE(err, "%s:%d: 'input' needs a width in [1, %d]%s%s%s", origin, lineno,
                      MODEL_MAX_WIDTH, arg ? ", got '" : "", arg ? arg : "", arg ? "'" : "");
      have_input = true;
      width = m->input_width = m->max_width = (int)v;
      continue;
    }
    if (!have_input)
      return ERR_USAGE(err, "%s:%d: the first layer line must be 'input N', got '%s'", origin, lineno, kw);
    if (m->n_layers == MODEL_MAX_LAYERS)
      return ERR_USAGE(err, "%s:%d: more than %d layers", origin, lineno, MODEL_MAX_LAYERS);
    layer_spec *L = &m->layers[m->n_layers];
    memset(L, 0, sizeof *L);
    L->line = lineno;
    L->in = L->out = width;
    bool takes_arg = false, needs_arg = false;
    if (strcmp(kw, "linear") == 0) {
      long v;
      L->kind = LAYER_LINEAR;
      if (!arg || !parse_long(arg, 1, MODEL_MAX_WIDTH, &v))
        return ERR_USAGE(err, "%s:%d: 'linear' needs an output width in [1, %d]%s%s%s", origin,
                      lineno, MODEL_MAX_WIDTH, arg ? ", got '" : "", arg ? arg : "", arg ? "'" : "");
      L->out = (int)v;
      L->n_params = (size_t)L->in * (size_t)L->out + (size_t)L->out;
      takes_arg = true;
    } else if (strcmp(kw, "batchnorm") == 0) {
      L->kind = LAYER_BATCHNORM;
      L->n_params = 2 * (size_t)width;
    } else if (act_find(kw) > 0) {
      const act_info *a = act_info_of((act_kind)act_find(kw));
      double v = a->default_param;
      L->kind = LAYER_ACTIVATION;
      L->act = (act_kind)act_find(kw);
      takes_arg = a->has_param;
      if (arg && takes_arg && !parse_double(arg, -1e6, 1e6, &v))
        return ERR_USAGE(err, "%s:%d: '%s' parameter '%s' is not a number", origin, lineno, kw, arg);
      L->arg = (float)v;
    } else if (strcmp(kw, "dropout") == 0) {
      double v;
      L->kind = LAYER_DROPOUT;
      takes_arg = needs_arg = true;
      if (!arg || !parse_double(arg, 0.0, 1.0, &v) || v >= 1.0)
        return ERR_USAGE(err, "%s:%d: 'dropout' needs a probability p in [0, 1)%s%s%s", origin,
                      lineno, arg ? ", got '" : "", arg ? arg : "", arg ? "'" : "");
      /* The kernels keep p in single precision: 0.99999999 would drop every unit. */
      if ((float)v >= 1.0f)
        return ERR_USAGE(err, "%s:%d: 'dropout' probability '%s' is 1 in single precision (the kernels' float)",
                         origin, lineno, arg);
      L->arg = (float)v;
    } else {
      char acts[256];
      act_keyword_list(acts, sizeof acts);
      return ERR_USAGE(err, "%s:%d: unknown layer '%s' (known: input, linear, batchnorm, %s, dropout)", origin,
                       lineno, kw, acts);
    }
    if (arg && !takes_arg)
      return ERR_USAGE(err, "%s:%d: '%s' takes no argument, got '%s'", origin, lineno, kw, arg);
    (void)needs_arg;
    L->param_offset = m->n_params;
    m->n_params += L->n_params;
    if (L->kind == LAYER_BATCHNORM) {
      L->stats_offset = m->n_stats;
      m->n_stats += 2 * (size_t)width;
    }
    width = L->out;
    if (width > m->max_width) m->max_width = width;
    m->n_layers++;
  }
  if (!have_input) return ERR_USAGE(err, "%s: no 'input N' line", origin);
  if (m->n_layers == 0) return ERR_USAGE(err, "%s:%d: the model has no layers after 'input'", origin, lineno);
  m->output_width = width;
  m->text = xstrdup(text);
  return 0;
}

static bool is_zoo_name(const char *s) {
  for (int i = 0; model_zoo_names[i]; i++)
    if (strcmp(model_zoo_names[i], s) == 0) return true;
  return false;
}

int model_load(const char *name_or_path, model_spec *m, error *err) {
  if (is_zoo_name(name_or_path)) {
    char key[256], origin[256];
    snprintf(key, sizeof key, "models/%s.model", name_or_path);
    snprintf(origin, sizeof origin, "%s.model", name_or_path);
    const embedded_file *f = embedded_find(key);
    if (!f) return ERR_USAGE(err, "zoo model '%s' is not embedded in this build", name_or_path);
    return model_parse(f->data, origin, name_or_path, m, err);
  }
  size_t len;
  char *text = safe_read_file(name_or_path, SAFE_CAP_TEXT, &len);
  if (!text) {
    if (errno == ENOENT && !strchr(name_or_path, '/') && !strchr(name_or_path, '.'))
      return ERR_USAGE(err, "unknown model '%s' (zoo: jsc-tiny, jsc-toy, jsc-s, jsc-trt; or a model file path)",
                    name_or_path);
    char why[96];
    return ERR_USAGE(err, "model file '%s'%s", name_or_path, safe_read_why(errno, SAFE_CAP_TEXT, why, sizeof why));
  }
  if (strlen(text) != len) {
    free(text);
    return ERR_USAGE(err, "model file '%s' is not a text file (contains NUL bytes)", name_or_path);
  }
  /* Name: base name without extension. */
  const char *base = strrchr(name_or_path, '/');
  base = base ? base + 1 : name_or_path;
  char name[128];
  snprintf(name, sizeof name, "%s", base);
  char *dot = strrchr(name, '.');
  if (dot && dot != name) *dot = '\0';
  int rc = model_parse(text, name_or_path, name, m, err);
  free(text);
  return rc;
}

int model_check_classes(const model_spec *m, int n_classes, error *err) {
  if (m->output_width == n_classes) return 0;
  int line = m->n_layers ? m->layers[m->n_layers - 1].line : 0;
  return ERR_USAGE(err, "%s:%d: the model's output width is %d but the dataset has %d classes",
                m->origin, line, m->output_width, n_classes);
}

void model_free(model_spec *m) {
  free(m->text);
  m->text = NULL;
}
