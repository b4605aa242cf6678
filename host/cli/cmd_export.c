/* cltrain export CKPT --format onnx|json|c [--out FILE] [--raw-inputs]: the checkpoint's
   network for other tools (host/export/export.h; README "Using a trained model elsewhere"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "data/data.h"
#include "export/export.h"
#include "train/trained_model.h"

static const char export_help[] =
    "usage: cltrain export CKPT [--format onnx|json|c] [--out FILE] [--raw-inputs]\n"
    "\n"
    "Write the network of checkpoint CKPT for other tools, in inference form (BatchNorm\n"
    "with its running statistics, Dropout left out), with outputs 'logits' [N,5] and\n"
    "'probabilities' (their softmax; classes g, q, W, Z, t):\n"
    "  onnx  ONNX (opset 13, IR version 7), input 'features' [N,16]; class names, feature\n"
    "        names and the cltrain version in the metadata\n"
    "  json  the architecture and every tensor with its name, shape and values\n"
    "  c     FILE.c and FILE.h: weights as static const float arrays and\n"
    "        PREFIX_logits / PREFIX_predict in plain C99 (PREFIX: FILE's base name)\n"
    "The model takes standardised features ((x - mean) / std of the training split), as\n"
    "in training, unless --raw-inputs puts the standardisation into it.\n"
    "\n"
    "options:\n"
    "  --format F      onnx (default), json or c\n"
    "  --out FILE      output file [MODEL.onnx, MODEL.json or MODEL.c]\n"
    "  --raw-inputs    the model takes the 16 features in physical units\n"
    "  -h, --help      this text\n";

enum { OPT_FORMAT = 1000, OPT_OUT, OPT_RAW_INPUTS };

typedef struct {
  const char *ckpt, *out;
  export_format format;
  bool raw_inputs;
} export_args;

static int export_option(void *ctx, int id, const char *arg, error *err) {
  export_args *a = ctx;
  switch (id) {
    case OPT_FORMAT: return export_format_parse(arg, &a->format, err);
    case OPT_OUT:
      if (!*arg) return ERR_USAGE(err, "--out needs a file name");
      a->out = arg;
      return 0;
    case OPT_RAW_INPUTS: a->raw_inputs = true; return 0;
  }
  return ERR_RUNTIME(err, "option id %d is not an export option", id);
}

static void parse_args(int argc, char **argv, export_args *a) {
  static const struct option opts[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                       {"out", required_argument, NULL, OPT_OUT},
                                       {"raw-inputs", no_argument, NULL, OPT_RAW_INPUTS},
                                       {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->format = EXPORT_ONNX;
  const struct option *tables[] = {opts, NULL};
  const cli_command c = {.cmd = "export", .tables = tables, .help = export_help, .apply = export_option, .ctx = a};
  const int first = cli_parse(argc, argv, &c);
  if (argc - first != 1) {
    if (argc - first > 1) cli_usage_exit("export: unexpected argument '%s'", argv[first + 1]);
    cli_usage_exit("export: needs a checkpoint (usage: cltrain export CKPT --format onnx|json|c)");
  }
  a->ckpt = argv[first];
}

int cmd_export(int argc, char **argv) {
  export_args a;
  parse_args(argc, argv, &a);
  error err = {0};
  if (a.format == EXPORT_ONNX && !export_onnx_available()) {
    export_onnx(NULL, NULL, &err);
    return cli_report("export", &err);
  }
  checkpoint ck;
  model_spec m;
  if (trained_model_open(a.ckpt, &ck, &m, &err)) return cli_report("export", &err);
  if (m.input_width != JSC_N_FEATURES || m.output_width != JSC_N_CLASSES) {
    trained_model_close(&ck, &m);
    cli_usage_exit("export: %s: model '%s' maps %d inputs to %d outputs; JSC models map %d to %d", a.ckpt, m.name,
              m.input_width, m.output_width, JSC_N_FEATURES, JSC_N_CLASSES);
  }
  if (a.raw_inputs && !ck.has_scaler) {
    trained_model_close(&ck, &m);
    cli_usage_exit("export: --raw-inputs: checkpoint %s stores no standardisation statistics (written before format "
              "version 2); retrain, or export without --raw-inputs",
              a.ckpt);
  }
  if (!ck.has_scaler)
    warnf("export: checkpoint %s stores no standardisation statistics (format version 1): the model takes features "
          "standardised as in its training run",
          a.ckpt);
  char out[1024];
  if (a.out) snprintf(out, sizeof out, "%s", a.out);
  else snprintf(out, sizeof out, "%s.%s", m.name, export_format_ext(a.format));
  export_model e = {.m = &m,
                    .params = ck.params,
                    .stats = ck.stats,
                    .raw_inputs = a.raw_inputs,
                    .mean = ck.has_scaler ? ck.mean : NULL,
                    .std = ck.has_scaler ? ck.std : NULL,
                    .feature_names = jsc_feature_names,
                    .class_names = jsc_class_names,
                    .source = a.ckpt};
  int rc = a.format == EXPORT_ONNX ? export_onnx(&e, out, &err)
           : a.format == EXPORT_JSON ? export_json(&e, out, &err)
                                     : export_c(&e, out, &err);
  trained_model_close(&ck, &m);
  if (rc) return cli_report("export", &err);
  printf("wrote %s%s\n", out, a.format == EXPORT_C ? " and its header" : "");
  return EXIT_OK;
}
