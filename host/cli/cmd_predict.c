/* cltrain predict CKPT DATA [--out preds.csv]: the five class probabilities and the
   predicted class of every row of DATA (and its true class when DATA has labels),
   through the evaluation path of `cltrain test` (eval-mode forward on the device). The
   rows are standardised with the statistics stored in the checkpoint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cl/tuning.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "data/data.h"
#include "train/evaluate.h"
#include "train/trained_model.h"

static const char predict_help[] =
    "usage: cltrain predict CKPT DATA [--out FILE] [options]\n"
    "\n"
    "Apply checkpoint CKPT to every row of DATA (a CSV or HDF5 file with the 16 JSC\n"
    "features by name, labels optional; or jsc-synth) in file order, standardised with\n"
    "the training split's statistics stored in CKPT. Writes CSV: row, p_g, p_q, p_W,\n"
    "p_Z, p_t (softmax probabilities), predicted, and true when DATA has labels.\n"
    "\n"
    "options:\n"
    "  --out FILE            write the CSV here (default: standard output)\n"
    "  --batch-size N        rows per evaluation batch (1024)\n"
    "  --device SPEC         index, P:D or name substring\n"
    "  --synth-size N        jets generated for jsc-synth (830000)\n"
    "  --synth-seed N        seed of the jsc-synth generator (0)\n"
    "  --data PATH           the real JSC file for DATA 'jsc'\n"
    "  --kernels-dir DIR     load kernels/*.cl from DIR (development)\n"
    "  -h, --help            this text\n";

enum { OPT_OUT = 1000, OPT_BATCH, OPT_DEVICE, OPT_KERNELS_DIR, OPT_SYNTH_SIZE, OPT_SYNTH_SEED, OPT_DATA };

static const struct option predict_options[] = {{"out", required_argument, NULL, OPT_OUT},
                                                {"batch-size", required_argument, NULL, OPT_BATCH},
                                                {"device", required_argument, NULL, OPT_DEVICE},
                                                {"kernels-dir", required_argument, NULL, OPT_KERNELS_DIR},
                                                {"synth-size", required_argument, NULL, OPT_SYNTH_SIZE},
                                                {"synth-seed", required_argument, NULL, OPT_SYNTH_SEED},
                                                {"data", required_argument, NULL, OPT_DATA},
                                                {NULL, 0, NULL, 0}};

#define PREDICT_BATCH_MAX (1L << 20)

typedef struct {
  const char *ckpt, *data, *out, *device, *kernels_dir;
  long batch;
  data_options opt;
} predict_args;

static int predict_option(void *ctx, int id, const char *arg, error *err) {
  predict_args *a = ctx;
  switch (id) {
    case OPT_OUT:
      if (!*arg) return ERR_USAGE(err, "--out needs a file name");
      a->out = arg;
      return 0;
    case OPT_BATCH:
      if (!parse_long(arg, 1, PREDICT_BATCH_MAX, &a->batch))
        return ERR_USAGE(err, "--batch-size: '%s' is not an integer in [1, %ld]", arg, PREDICT_BATCH_MAX);
      return 0;
    case OPT_DEVICE: a->device = arg; return 0;
    case OPT_KERNELS_DIR: a->kernels_dir = arg; return 0;
  }
  for (const struct option *o = predict_options; o->name; o++)
    if (o->val == id) return data_options_apply(&a->opt, o->name, arg, err) < 0 ? -1 : 0;
  return ERR_RUNTIME(err, "option id %d is not a predict option", id);
}

static void parse_args(int argc, char **argv, predict_args *a) {
  memset(a, 0, sizeof *a);
  a->batch = 1024;
  data_options_default(&a->opt);
  const struct option *tables[] = {predict_options, NULL};
  const cli_command c = {.cmd = "predict", .tables = tables, .help = predict_help, .apply = predict_option, .ctx = a};
  const int first = cli_parse(argc, argv, &c);
  if (argc - first != 2) {
    if (argc - first > 2) cli_usage_exit("predict: unexpected argument '%s'", argv[first + 2]);
    cli_usage_exit("predict: needs CKPT and DATA (usage: cltrain predict CKPT DATA [--out FILE])");
  }
  a->ckpt = argv[first];
  a->data = argv[first + 1];
}

static void write_predictions(FILE *f, const data_rows *rows, const float *probs) {
  fputs("row", f);
  for (int c = 0; c < JSC_N_CLASSES; c++) fprintf(f, ",p_%s", jsc_class_names[c]);
  fputs(rows->has_labels ? ",predicted,true\n" : ",predicted\n", f);
  for (size_t i = 0; i < rows->rows; i++) {
    const float *p = probs + i * JSC_N_CLASSES;
    int best = 0;
    fprintf(f, "%zu", i);
    for (int c = 0; c < JSC_N_CLASSES; c++) {
      fprintf(f, ",%.9g", p[c]);
      if (p[c] > p[best]) best = c;
    }
    fprintf(f, ",%s", jsc_class_names[best]);
    if (rows->has_labels) fprintf(f, ",%s", jsc_class_names[rows->y[i]]);
    fputc('\n', f);
  }
}

/* The rows standardised with the checkpoint's statistics (a version 1 checkpoint has
   none: the rows' own, with a warning). */
static void standardize(data_rows *rows, const checkpoint *ck, const predict_args *a) {
  if (ck->has_scaler) {
    data_rows_standardize(rows, ck->mean, ck->std);
    return;
  }
  float mean[JSC_N_FEATURES], std[JSC_N_FEATURES];
  fit_standardization(rows->x, rows->rows, mean, std);
  data_rows_standardize(rows, mean, std);
  warnf("predict: checkpoint %s stores no standardisation statistics (format version 1): standardising %s with "
        "its own mean and std",
        a->ckpt, a->data);
}

int cmd_predict(int argc, char **argv) {
  predict_args a;
  parse_args(argc, argv, &a);
  error err = {0};
  checkpoint ck;
  model_spec m;
  if (trained_model_open(a.ckpt, &ck, &m, &err)) return cli_report("predict", &err);
  if (m.output_width != JSC_N_CLASSES || m.input_width != JSC_N_FEATURES)
    cli_usage_exit("predict: %s: model '%s' is not a JSC model (%d inputs, %d outputs)", a.ckpt, m.name,
                   m.input_width, m.output_width);
  /* The device is opened (a bad spec is bad input) before the output file is made or the
     data read. Below, exit rather than return: what is still held stays reachable. */
  cl_runtime rt;
  if (rt_open(&rt, a.device, a.kernels_dir, &err)) exit(cli_report("predict", &err));
  tuning_apply_stored(&rt);
  FILE *out = stdout;
  if (a.out && !(out = fopen(a.out, "w"))) cli_usage_exit("predict: cannot write %s: %s", a.out, strerror(errno));

  data_rows rows;
  if (data_rows_load(a.data, &a.opt, &rows, &err)) exit(cli_report("predict", &err));
  if (rows.rows == 0) cli_usage_exit("predict: %s holds no rows", a.data);
  standardize(&rows, &ck, &a);
  /* The evaluation path of `cltrain test`; rows without labels count as class 0 there
     (the metrics are then not reported). */
  data_split split = {.rows = rows.rows, .x = rows.x, .y = xmalloc(rows.rows * sizeof(int32_t))};
  for (size_t i = 0; i < rows.rows; i++) split.y[i] = rows.has_labels ? rows.y[i] : 0;
  float *probs = xmalloc(rows.rows * JSC_N_CLASSES * sizeof(float));
  eval_result r;
  if (evaluate_checkpoint(&rt, &ck, &m, &split, a.batch, &r, probs, &err)) exit(cli_report("predict", &err));
  free(split.y);
  rt_close(&rt);
  write_predictions(out, &rows, probs);
  if (out != stdout && (ferror(out) | fclose(out)))
    cli_usage_exit("predict: cannot write %s: %s", a.out, strerror(errno));
  if (out == stdout && fflush(stdout)) CLI_FAIL("predict: cannot write the predictions: %s", strerror(errno));
  if (a.out) {
    printf("wrote %s: %zu rows", a.out, rows.rows);
    if (rows.has_labels) printf(", accuracy %.4f (%ld of %ld)", r.acc, r.correct, r.count);
    printf("\n");
  }
  free(probs);
  data_rows_free(&rows);
  trained_model_close(&ck, &m);
  return EXIT_OK;
}
