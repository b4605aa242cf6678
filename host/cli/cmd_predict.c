/* cltrain predict CKPT DATA [--out preds.csv]: the five class probabilities and the
   predicted class of every row of DATA (and its true class when DATA has labels),
   through the evaluation path of `cltrain test` (eval-mode forward on the device). The
   rows are standardised with the statistics stored in the checkpoint. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cli/commands.h"
#include "data/data.h"
#include "train/scores.h"
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

typedef struct {
  const char *ckpt, *data, *out, *device, *kernels_dir;
  long batch;
  data_options opt;
} predict_args;

static void parse_args(int argc, char **argv, predict_args *a) {
  static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                       {"batch-size", required_argument, NULL, 'b'},
                                       {"device", required_argument, NULL, 'd'},
                                       {"kernels-dir", required_argument, NULL, 'k'},
                                       {"synth-size", required_argument, NULL, 's'},
                                       {"synth-seed", required_argument, NULL, 'S'},
                                       {"data", required_argument, NULL, 'D'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->batch = 1024;
  data_options_default(&a->opt);
  optind = 0;
  opterr = 0;
  int c, idx;
  while ((c = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
    switch (c) {
      case 'h': fputs(predict_help, stdout); exit(EXIT_OK);
      case 'o':
        if (!*optarg) die_usage("predict: --out needs a file name");
        a->out = optarg;
        break;
      case 'b': a->batch = parse_long_opt("--batch-size", optarg, 1, 1 << 20); break;
      case 'd': a->device = optarg; break;
      case 'k': a->kernels_dir = optarg; break;
      case 's': data_options_apply(&a->opt, "synth-size", optarg); break;
      case 'S': data_options_apply(&a->opt, "synth-seed", optarg); break;
      case 'D': data_options_apply(&a->opt, "data", optarg); break;
      case ':': die_usage("predict: option '%s' needs a value", argv[optind - 1]);
      default: die_usage("predict: unknown option '%s' (see 'cltrain predict --help')", argv[optind - 1]);
    }
  }
  if (argc - optind != 2) {
    if (argc - optind > 2) die_usage("predict: unexpected argument '%s'", argv[optind + 2]);
    die_usage("predict: needs CKPT and DATA (usage: cltrain predict CKPT DATA [--out FILE])");
  }
  a->ckpt = argv[optind];
  a->data = argv[optind + 1];
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

/* Probabilities of every row: upload, eval-mode forward in batches, softmax. */
static void run_net(const predict_args *a, const checkpoint *ck, const model_spec *m, const data_rows *rows,
                    float *probs, eval_result *r) {
  cl_runtime rt;
  rt_open(&rt, a->device, a->kernels_dir);
  int32_t *labels = xmalloc(rows->rows * sizeof(int32_t));
  for (size_t i = 0; i < rows->rows; i++) labels[i] = rows->has_labels ? rows->y[i] : 0; /* any valid class */
  device_split dev = {.rows = rows->rows};
  dev.x = rt_alloc(&rt, rows->rows * JSC_N_FEATURES * sizeof(float));
  dev.y = rt_alloc(&rt, rows->rows * sizeof(int32_t));
  rt_write(&rt, dev.x, 0, rows->rows * JSC_N_FEATURES * sizeof(float), rows->x);
  rt_write(&rt, dev.y, 0, rows->rows * sizeof(int32_t), labels);
  free(labels);
  int batch = (size_t)a->batch < rows->rows ? (int)a->batch : (int)rows->rows;
  net *n = net_create(&rt, m, batch, 0);
  float *optim = xcalloc(net_optim_count(n) + 1, sizeof(float));
  net_write_state(n, ck->params, ck->stats, optim);
  free(optim);
  evaluate_split_scores(n, &dev, batch, r, probs);
  softmax_rows(probs, rows->rows, JSC_N_CLASSES, probs);
  net_free(n);
  rt_release(&dev.x);
  rt_release(&dev.y);
  rt_close(&rt);
}

static int fail(const char *what, const error *e) {
  error out = {0};
  error_set(&out, e->code, "predict: %s%s", what, e->msg);
  return error_report(&out);
}

int cmd_predict(int argc, char **argv) {
  predict_args a;
  parse_args(argc, argv, &a);
  error err = {0};
  checkpoint ck;
  model_spec m;
  if (trained_model_open(a.ckpt, &ck, &m, &err)) return fail("", &err);
  if (m.output_width != JSC_N_CLASSES || m.input_width != JSC_N_FEATURES)
    die_usage("predict: %s: model '%s' is not a JSC model (%d inputs, %d outputs)", a.ckpt, m.name, m.input_width,
              m.output_width);
  char msg[512];
  device_list devices;
  device_list_get(&devices);
  int dev_index = device_select(&devices, a.device, msg, sizeof msg);
  device_list_free(&devices);
  if (dev_index < 0) die_usage("predict: %s", msg);
  FILE *out = stdout;
  if (a.out && !(out = fopen(a.out, "w"))) die_usage("predict: cannot write %s: %s", a.out, strerror(errno));

  data_rows rows;
  if (data_rows_load(a.data, &a.opt, &rows, &err)) return fail("", &err);
  if (ck.has_scaler) {
    data_rows_standardize(&rows, ck.mean, ck.std);
  } else {
    float mean[JSC_N_FEATURES], std[JSC_N_FEATURES];
    fit_standardization(rows.x, rows.rows, mean, std);
    data_rows_standardize(&rows, mean, std);
    warnf("predict: checkpoint %s stores no standardisation statistics (format version 1): standardising %s with "
          "its own mean and std",
          a.ckpt, a.data);
  }
  float *probs = xmalloc(rows.rows * JSC_N_CLASSES * sizeof(float));
  eval_result r;
  run_net(&a, &ck, &m, &rows, probs, &r);
  write_predictions(out, &rows, probs);
  if (out != stdout && fclose(out)) die_usage("predict: cannot write %s: %s", a.out, strerror(errno));
  if (out == stdout && fflush(stdout)) DIE("predict: cannot write the predictions: %s", strerror(errno));
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
