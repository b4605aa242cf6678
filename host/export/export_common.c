/* What every export format shares: format names, tensor names, writing a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/safe_file.h"
#include "export/export_internal.h"

int export_format_parse(const char *s, export_format *out, error *err) {
  if (strcmp(s, "onnx") == 0) *out = EXPORT_ONNX;
  else if (strcmp(s, "json") == 0) *out = EXPORT_JSON;
  else if (strcmp(s, "c") == 0) *out = EXPORT_C;
  else return ERR_USAGE(err, "--format '%s' is not onnx, json or c", s);
  return 0;
}

const char *export_format_ext(export_format f) {
  switch (f) {
    case EXPORT_ONNX: return "onnx";
    case EXPORT_JSON: return "json";
    case EXPORT_C: return "c";
  }
  return "";
}

void export_tensor_name(char *buf, size_t n, int layer, const model_spec *m, const char *what) {
  snprintf(buf, n, "l%d_%s_%s", layer, layer_name(&m->layers[layer]), what);
}

int export_layer_tensors(const export_model *e, int l, tensor_ref out[4]) {
  const layer_spec *s = &e->m->layers[l];
  const float *p = e->params + s->param_offset, *st = e->stats + s->stats_offset;
  int n = 0;
  if (s->kind == LAYER_LINEAR) {
    out[n++] = (tensor_ref){"", s->out, s->in, p};
    out[n++] = (tensor_ref){"", s->out, 0, p + (size_t)s->out * (size_t)s->in};
    export_tensor_name(out[0].name, sizeof out[0].name, l, e->m, "weight");
    export_tensor_name(out[1].name, sizeof out[1].name, l, e->m, "bias");
  } else if (s->kind == LAYER_BATCHNORM) {
    const char *what[4] = {"scale", "bias", "running_mean", "running_var"};
    const float *data[4] = {p, p + s->out, st, st + s->out};
    for (; n < 4; n++) {
      out[n] = (tensor_ref){"", s->out, 0, data[n]};
      export_tensor_name(out[n].name, sizeof out[n].name, l, e->m, what[n]);
    }
  }
  return n;
}


int export_write_file(const char *path, void (*emit)(FILE *f, const void *ctx), const void *ctx, error *err) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return ERR_USAGE(err, "output path too long: %s", path);
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) return ERR_USAGE(err, "cannot write %s: %s", path, strerror(errno));
  emit(f, ctx);
  if (ferror(f)) {
    int code = errno ? errno : EIO;
    fclose(f);
    unlink(tmp);
    return ERR_USAGE(err, "cannot write %s: %s", path, strerror(code));
  }
  if (safe_tmp_commit(f, tmp, path)) return ERR_USAGE(err, "cannot write %s: %s", path, strerror(errno));
  return 0;
}
