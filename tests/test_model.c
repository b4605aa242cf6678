/* Model-file parser: the zoo's exact parameter counts, and every malformed case rejected
   with FILE:LINE in the message. */
#include <string.h>

#include "model/model.h"
#include "testutil.h"

/* The error of one call: errors keep their first cause, so each call gets a clear one. */
static error *fresh(error *e) {
  error_clear(e);
  return e;
}

static void expect_error(const char *text, const char *needle) {
  model_spec m;
  error err = {0};
  int rc = model_parse(text, "bad.model", "bad", &m, fresh(&err));
  CHECK(rc == -1, "accepted: %s", text);
  CHECK(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
  if (rc == 0) model_free(&m);
}

int main(void) {
  const struct { const char *name; size_t params; int layers; } zoo[] = {
      {"jsc-tiny", 117, 4}, {"jsc-toy", 327, 11}, {"jsc-s", 5615, 14}, {"jsc-trt", 3231, 15}};
  error err = {0};
  for (int i = 0; i < 4; i++) {
    model_spec m;
    int rc = model_load(zoo[i].name, &m, fresh(&err));
    CHECK(rc == 0, "%s: %s", zoo[i].name, err.msg);
    if (rc) continue;
    CHECK(m.n_params == zoo[i].params, "%s: %zu params, want %zu", zoo[i].name, m.n_params, zoo[i].params);
    CHECK(m.n_layers == zoo[i].layers, "%s: %d layers", zoo[i].name, m.n_layers);
    CHECK(m.input_width == 16 && m.output_width == 5, "%s widths %d->%d", zoo[i].name, m.input_width, m.output_width);
    CHECK(model_check_classes(&m, 5, fresh(&err)) == 0, "%s classes", zoo[i].name);
    CHECK(model_check_classes(&m, 4, fresh(&err)) == -1 && strstr(err.msg, ".model:"), "class mismatch: %s", err.msg);
    model_free(&m);
  }

  model_spec m;
  const char *ok = "# comment\n\ninput 3   # three\nlinear 4\nleaky_relu 0.2\nbatchnorm\ndropout 0.25\ntanh\nsigmoid\nlinear 2\n";
  CHECK(model_parse(ok, "ok.model", "ok", &m, fresh(&err)) == 0, "ok: %s", err.msg);
  CHECK(m.n_params == 3 * 4 + 4 + 8 + 4 * 2 + 2, "ok params %zu", m.n_params);
  CHECK(m.layers[0].param_offset == 0 && m.layers[2].param_offset == 16, "offsets");
  CHECK(m.layers[1].kind == LAYER_ACTIVATION && m.layers[1].act == ACT_LEAKY_RELU && m.layers[1].arg == 0.2f, "slope");
  CHECK(m.layers[3].arg == 0.25f && m.layers[3].line == 7, "dropout p / line");
  CHECK(m.n_stats == 8 && m.layers[2].stats_offset == 0, "stats");
  CHECK(m.max_width == 4, "max width %d", m.max_width);
  model_free(&m);
  CHECK(model_parse("input 2\nleaky_relu\nlinear 1\n", "x", "x", &m, fresh(&err)) == 0 && m.layers[0].arg == 0.01f,
        "default slope");
  model_free(&m);

  expect_error("input 16\nconv 5\n", "bad.model:2: unknown layer 'conv'");
  expect_error("linear 5\n", "bad.model:1: the first layer line must be 'input N'");
  expect_error("# only a comment\n", "no 'input N' line");
  expect_error("input 16\nlinear five\n", "bad.model:2: 'linear' needs an output width");
  expect_error("input 16\nlinear 0\n", "bad.model:2:");
  expect_error("input x\n", "bad.model:1: 'input' needs a width");
  expect_error("input 16\ndropout 1.0\n", "bad.model:2: 'dropout' needs a probability");
  expect_error("input 16\ndropout -0.1\n", "bad.model:2:");
  expect_error("input 16\ndropout\n", "bad.model:2:");
  expect_error("input 16\nrelu 3\n", "bad.model:2: 'relu' takes no argument");
  expect_error("input 16\nlinear 5 6\n", "bad.model:2: too many words");
  expect_error("input 16\ninput 16\n", "bad.model:2: 'input' given twice");
  expect_error("input 16\n", "no layers");
  expect_error("input 16\nleaky_relu abc\n", "bad.model:2:");
  expect_error("input 16\ngelu 0.5\n", "bad.model:2: 'gelu' takes no argument");
  expect_error("input 16\nGELU\n", "bad.model:2: unknown layer 'GELU' (known: input, linear, batchnorm, relu, "
                                   "leaky_relu, sigmoid, tanh, gelu, dropout)");
  CHECK(model_parse("input 3\nlinear 4\ngelu\nlinear 2\n", "g", "g", &m, fresh(&err)) == 0 &&
            m.layers[1].kind == LAYER_ACTIVATION && m.layers[1].act == ACT_GELU && m.n_params == 26 &&
            strcmp(layer_name(&m.layers[1]), "gelu") == 0,
        "gelu layer: %s", err.msg);
  model_free(&m);

  CHECK(model_load("no-such-model", &m, fresh(&err)) == -1 && strstr(err.msg, "unknown model 'no-such-model'"),
        "unknown zoo name: %s", err.msg);
  CHECK(model_load("/nonexistent/dir/x.model", &m, fresh(&err)) == -1 && strstr(err.msg, "/nonexistent/dir/x.model"),
        "missing file: %s", err.msg);
  return test_summary("test_model");
}
