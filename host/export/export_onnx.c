/* ONNX export through protobuf-c, from the onnx.proto schema of the system's onnx package,
   compiled at build time (CMakeLists.txt). Opset EXPORT_ONNX_OPSET, IR version
   EXPORT_ONNX_IR_VERSION. The graph: [Sub, Div] (with raw inputs), then per layer Gemm
   (transB=1), BatchNormalization (inference form: running statistics, epsilon 1e-5), Relu,
   LeakyRelu, Sigmoid, Tanh, or GELU as Div/Erf/Add/Mul (opset 13 has no Gelu; its scalar
   constants are Constant nodes, so the initializers are exactly the checkpoint's tensors)
   (Dropout left out), and Softmax(axis 1) for the probabilities. Batch dimension symbolic
   ("N"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "export/export_internal.h"

#ifndef CLTRAIN_HAVE_ONNX

bool export_onnx_available(void) { return false; }

int export_onnx(const export_model *e, const char *path, error *err) {
  (void)e;
  (void)path;
  return ERR_USAGE(err,
                   "this cltrain was built without ONNX support (needs libprotobuf-c-dev, "
                   "protobuf-c-compiler and libonnx-dev when configuring; see scripts/bootstrap)");
}

#else

#include "onnx.pb-c.h"

/* Every allocation of one export, freed together. */
typedef struct {
  void **p;
  size_t n, cap;
} arena;

static void *arena_alloc(arena *a, size_t bytes) {
  if (a->n == a->cap) {
    a->cap = a->cap ? 2 * a->cap : 256;
    a->p = xrealloc(a->p, a->cap * sizeof *a->p);
  }
  return a->p[a->n++] = xcalloc(1, bytes ? bytes : 1);
}

static char *arena_str(arena *a, const char *s) {
  char *d = arena_alloc(a, strlen(s) + 1);
  memcpy(d, s, strlen(s) + 1);
  return d;
}

static void arena_free(arena *a) {
  for (size_t i = 0; i < a->n; i++) free(a->p[i]);
  free(a->p);
}

/* A graph under construction: nodes and initializers grow in fixed-capacity arrays. */
typedef struct {
  arena *a;
  Onnx__NodeProto **nodes;
  size_t n_nodes;
  Onnx__TensorProto **inits;
  size_t n_inits;
  char current[96];   /* name of the value the next node reads */
  int counter;
  bool gelu_constants; /* the Constant nodes GELU reads are in the graph */
} graph_builder;

/* Nodes: at most 5 per layer (GELU), 3 GELU constants, Sub, Div, Identity, Softmax.
   Initializers: at most 4 per layer (BatchNorm), input_mean, input_std. */
#define GRAPH_CAP (MODEL_MAX_LAYERS * 5 + 8)

static Onnx__TensorProto *float_tensor(arena *a, const char *name, const float *data, int rows, int cols) {
  Onnx__TensorProto *t = arena_alloc(a, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = arena_str(a, name);
  t->has_data_type = 1;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_dims = cols ? 2 : 1;
  t->dims = arena_alloc(a, 2 * sizeof(int64_t));
  t->dims[0] = rows;
  t->dims[1] = cols;
  size_t n = (size_t)rows * (size_t)(cols ? cols : 1);
  t->n_float_data = n;
  t->float_data = arena_alloc(a, n * sizeof(float));
  memcpy(t->float_data, data, n * sizeof(float));
  return t;
}

static void add_init(graph_builder *g, const tensor_ref *t) {
  g->inits[g->n_inits++] = float_tensor(g->a, t->name, t->data, t->rows, t->cols);
}

/* An attribute NAME of TYPE; the caller sets its value. */
static Onnx__AttributeProto *attr_new(arena *a, const char *name, Onnx__AttributeProto__AttributeType type) {
  Onnx__AttributeProto *at = arena_alloc(a, sizeof *at);
  onnx__attribute_proto__init(at);
  at->name = arena_str(a, name);
  at->has_type = 1;
  at->type = type;
  return at;
}

static Onnx__AttributeProto *attr_int(arena *a, const char *name, int64_t v) {
  Onnx__AttributeProto *at = attr_new(a, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  at->has_i = 1;
  at->i = v;
  return at;
}

static Onnx__AttributeProto *attr_float(arena *a, const char *name, float v) {
  Onnx__AttributeProto *at = attr_new(a, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  at->has_f = 1;
  at->f = v;
  return at;
}

/* Append node OP reading the current value and EXTRA inputs; its output becomes the current
   value, named OUT (NULL: a fresh name). Returns the node for attributes. */
static Onnx__NodeProto *add_node(graph_builder *g, const char *op, const char *const *extra, int n_extra,
                                 const char *out) {
  arena *a = g->a;
  Onnx__NodeProto *nd = arena_alloc(a, sizeof *nd);
  onnx__node_proto__init(nd);
  char name[64]; /* op name and counter: "%s_out" of it fits current[96] */
  snprintf(name, sizeof name, "%s_%d", op, g->counter++);
  nd->name = arena_str(a, name);
  nd->op_type = arena_str(a, op);
  nd->n_input = (size_t)n_extra + 1;
  nd->input = arena_alloc(a, nd->n_input * sizeof(char *));
  nd->input[0] = arena_str(a, g->current);
  for (int i = 0; i < n_extra; i++) nd->input[i + 1] = arena_str(a, extra[i]);
  if (out) snprintf(g->current, sizeof g->current, "%s", out);
  else snprintf(g->current, sizeof g->current, "%s_out", name);
  nd->n_output = 1;
  nd->output = arena_alloc(a, sizeof(char *));
  nd->output[0] = arena_str(a, g->current);
  g->nodes[g->n_nodes++] = nd;
  return nd;
}

static void set_attrs(arena *a, Onnx__NodeProto *nd, Onnx__AttributeProto *at) {
  nd->n_attribute = 1;
  nd->attribute = arena_alloc(a, sizeof *nd->attribute);
  nd->attribute[0] = at;
}

/* A Constant node whose output NAME is the float tensor [1] holding V; the current value
   is left as it was. */
static void add_constant(graph_builder *g, const char *name, float v) {
  arena *a = g->a;
  Onnx__NodeProto *nd = arena_alloc(a, sizeof *nd);
  onnx__node_proto__init(nd);
  char node_name[96];
  snprintf(node_name, sizeof node_name, "Constant_%d", g->counter++);
  nd->name = arena_str(a, node_name);
  nd->op_type = arena_str(a, "Constant");
  nd->n_output = 1;
  nd->output = arena_alloc(a, sizeof(char *));
  nd->output[0] = arena_str(a, name);
  Onnx__AttributeProto *at = arena_alloc(a, sizeof *at);
  onnx__attribute_proto__init(at);
  at->name = arena_str(a, "value");
  at->has_type = 1;
  at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  at->t = float_tensor(a, name, &v, 1, 0);
  set_attrs(a, nd, at);
  g->nodes[g->n_nodes++] = nd;
}

/* The exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (PyTorch's approximate='none', as the
   kernels compute it), from ops opset 13 has: Div, Erf, Add, Mul, Mul. */
static void add_gelu(graph_builder *g, const char *out) {
  if (!g->gelu_constants) {
    add_constant(g, "gelu_sqrt2", 1.41421356f);
    add_constant(g, "gelu_one", 1.0f);
    add_constant(g, "gelu_half", 0.5f);
    g->gelu_constants = true;
  }
  char x[96];
  snprintf(x, sizeof x, "%s", g->current);
  const char *sqrt2[1] = {"gelu_sqrt2"}, *one[1] = {"gelu_one"}, *half[1] = {"gelu_half"}, *input[1] = {x};
  add_node(g, "Div", sqrt2, 1, NULL);
  add_node(g, "Erf", NULL, 0, NULL);
  add_node(g, "Add", one, 1, NULL);
  add_node(g, "Mul", input, 1, NULL);
  add_node(g, "Mul", half, 1, out);
}

/* Activation S on the current value; its output named OUT (NULL: a fresh name). */
static void add_activation(graph_builder *g, const layer_spec *s, const char *out) {
  switch (s->act) {
    case ACT_RELU: add_node(g, "Relu", NULL, 0, out); break;
    case ACT_LEAKY_RELU: set_attrs(g->a, add_node(g, "LeakyRelu", NULL, 0, out), attr_float(g->a, "alpha", s->arg)); break;
    case ACT_SIGMOID: add_node(g, "Sigmoid", NULL, 0, out); break;
    case ACT_TANH: add_node(g, "Tanh", NULL, 0, out); break;
    case ACT_GELU: add_gelu(g, out); break;
    case ACT_NONE:
    case ACT_COUNT: add_node(g, "Identity", NULL, 0, out); break;
  }
}

/* The index of the last layer that emits a node (Dropout emits none), -1 if none. */
static int last_emitting_layer(const model_spec *m) {
  for (int l = m->n_layers - 1; l >= 0; l--)
    if (m->layers[l].kind != LAYER_DROPOUT) return l;
  return -1;
}

static void build_graph(graph_builder *g, const export_model *e) {
  const model_spec *m = e->m;
  arena *a = g->a;
  snprintf(g->current, sizeof g->current, "features");
  if (e->raw_inputs) {
    tensor_ref mean = {"input_mean", m->input_width, 0, e->mean}, sd = {"input_std", m->input_width, 0, e->std};
    add_init(g, &mean);
    add_init(g, &sd);
    const char *in_mean[1] = {"input_mean"}, *in_std[1] = {"input_std"};
    add_node(g, "Sub", in_mean, 1, "features_centred");
    add_node(g, "Div", in_std, 1, "features_standardized");
  }
  int last = last_emitting_layer(m);
  for (int l = 0; l < m->n_layers; l++) {
    const layer_spec *s = &m->layers[l];
    tensor_ref t[4];
    int nt = export_layer_tensors(e, l, t);
    for (int i = 0; i < nt; i++) add_init(g, &t[i]);
    const char *names[4] = {t[0].name, t[1].name, t[2].name, t[3].name};
    const char *out = l == last ? "logits" : NULL;
    switch (s->kind) {
      case LAYER_LINEAR: set_attrs(a, add_node(g, "Gemm", names, 2, out), attr_int(a, "transB", 1)); break;
      case LAYER_BATCHNORM:
        set_attrs(a, add_node(g, "BatchNormalization", names, 4, out), attr_float(a, "epsilon", EXPORT_BN_EPSILON));
        break;
      case LAYER_ACTIVATION: add_activation(g, s, out); break;
      case LAYER_DROPOUT: break; /* identity in inference */
    }
  }
  if (last < 0) add_node(g, "Identity", NULL, 0, "logits");
  set_attrs(a, add_node(g, "Softmax", NULL, 0, "probabilities"), attr_int(a, "axis", 1));
}

/* float tensor [N, WIDTH] */
static Onnx__ValueInfoProto *value_info(arena *a, const char *name, int width) {
  Onnx__TensorShapeProto__Dimension *d0 = arena_alloc(a, sizeof *d0), *d1 = arena_alloc(a, sizeof *d1);
  onnx__tensor_shape_proto__dimension__init(d0);
  onnx__tensor_shape_proto__dimension__init(d1);
  d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  d0->dim_param = arena_str(a, "N");
  d1->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d1->dim_value = width;
  Onnx__TensorShapeProto *shape = arena_alloc(a, sizeof *shape);
  onnx__tensor_shape_proto__init(shape);
  shape->n_dim = 2;
  shape->dim = arena_alloc(a, 2 * sizeof *shape->dim);
  shape->dim[0] = d0;
  shape->dim[1] = d1;
  Onnx__TypeProto__Tensor *tt = arena_alloc(a, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = shape;
  Onnx__TypeProto *type = arena_alloc(a, sizeof *type);
  onnx__type_proto__init(type);
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  Onnx__ValueInfoProto *v = arena_alloc(a, sizeof *v);
  onnx__value_info_proto__init(v);
  v->name = arena_str(a, name);
  v->type = type;
  return v;
}

static Onnx__StringStringEntryProto *meta(arena *a, const char *key, const char *value) {
  Onnx__StringStringEntryProto *p = arena_alloc(a, sizeof *p);
  onnx__string_string_entry_proto__init(p);
  p->key = arena_str(a, key);
  p->value = arena_str(a, value);
  return p;
}

static char *joined(arena *a, const char *const *names, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(names[i]) + 1;
  char *s = arena_alloc(a, len), *p = s;
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? "," : "", names[i]);
  return s;
}

static char *joined_floats(arena *a, const float *v, int n) {
  char *s = arena_alloc(a, (size_t)n * 20 + 1), *p = s;
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%.9g", i ? "," : "", v[i]);
  return s;
}

static Onnx__GraphProto *graph_proto(arena *a, const export_model *e) {
  const model_spec *m = e->m;
  graph_builder g = {.a = a};
  g.nodes = arena_alloc(a, GRAPH_CAP * sizeof *g.nodes);
  g.inits = arena_alloc(a, GRAPH_CAP * sizeof *g.inits);
  build_graph(&g, e);
  Onnx__GraphProto *graph = arena_alloc(a, sizeof *graph);
  onnx__graph_proto__init(graph);
  graph->name = arena_str(a, m->name);
  graph->n_node = g.n_nodes;
  graph->node = g.nodes;
  graph->n_initializer = g.n_inits;
  graph->initializer = g.inits;
  graph->n_input = 1;
  graph->input = arena_alloc(a, sizeof *graph->input);
  graph->input[0] = value_info(a, "features", m->input_width);
  graph->n_output = 2;
  graph->output = arena_alloc(a, 2 * sizeof *graph->output);
  graph->output[0] = value_info(a, "logits", m->output_width);
  graph->output[1] = value_info(a, "probabilities", m->output_width);
  return graph;
}

/* Metadata: what a user of the file needs to feed it and read its outputs. */
static void set_metadata(arena *a, Onnx__ModelProto *model, const export_model *e) {
  const model_spec *m = e->m;
  Onnx__StringStringEntryProto **props = arena_alloc(a, 8 * sizeof *props);
  size_t np = 0;
  props[np++] = meta(a, "class_names", joined(a, e->class_names, m->output_width));
  props[np++] = meta(a, "feature_names", joined(a, e->feature_names, m->input_width));
  props[np++] = meta(a, "cltrain_version", CLTRAIN_VERSION);
  props[np++] = meta(a, "model_name", m->name);
  props[np++] = meta(a, "raw_inputs", e->raw_inputs ? "true" : "false");
  if (e->mean) {
    props[np++] = meta(a, "standardization_mean", joined_floats(a, e->mean, m->input_width));
    props[np++] = meta(a, "standardization_std", joined_floats(a, e->std, m->input_width));
  }
  model->n_metadata_props = np;
  model->metadata_props = props;
  char doc[4400];
  snprintf(doc, sizeof doc, "JSC model %s from %s; input 'features' %s", m->name, e->source ? e->source : "?",
           e->raw_inputs ? "in physical units (standardisation in the graph)"
                         : "standardised: (x - standardization_mean) / standardization_std");
  model->doc_string = arena_str(a, doc);
}

typedef struct {
  const uint8_t *buf;
  size_t n;
} byte_span;

static void emit_bytes(FILE *f, const void *ctx) {
  const byte_span *b = ctx;
  fwrite(b->buf, 1, b->n, f); /* a short write sets the stream's error flag */
}

static int write_bytes(const char *path, const uint8_t *buf, size_t n, error *err) {
  const byte_span b = {buf, n};
  return export_write_file(path, emit_bytes, &b, err);
}

int export_onnx(const export_model *e, const char *path, error *err) {
  arena a = {0};
  Onnx__OperatorSetIdProto *opset = arena_alloc(&a, sizeof *opset);
  onnx__operator_set_id_proto__init(opset);
  opset->domain = arena_str(&a, "");
  opset->has_version = 1;
  opset->version = EXPORT_ONNX_OPSET;

  Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
  model.has_ir_version = 1;
  model.ir_version = EXPORT_ONNX_IR_VERSION;
  model.n_opset_import = 1;
  model.opset_import = arena_alloc(&a, sizeof *model.opset_import);
  model.opset_import[0] = opset;
  model.producer_name = arena_str(&a, "cltrain");
  model.producer_version = arena_str(&a, CLTRAIN_VERSION);
  model.has_model_version = 1;
  model.model_version = 1;
  model.graph = graph_proto(&a, e);
  set_metadata(&a, &model, e);

  size_t n = onnx__model_proto__get_packed_size(&model);
  uint8_t *buf = xmalloc(n ? n : 1);
  onnx__model_proto__pack(&model, buf);
  arena_free(&a);
  int rc = write_bytes(path, buf, n, err);
  free(buf);
  return rc;
}

bool export_onnx_available(void) { return true; }

#endif
