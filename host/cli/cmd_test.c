/* cltrain test MODEL DATASET --load CKPT: loss, accuracy, per-class accuracy, the
   confusion matrix and the one-vs-rest ROC curves of a checkpoint on the test split (or
   --split val), the features standardised with the statistics stored in the checkpoint.
   Writes confusion.csv and roc.csv next to the checkpoint and, for the test split, the
   test results and AUCs into the run's summary.json when the checkpoint lives in a run
   directory. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "cli/cli_args.h"
#include "cl/tuning.h"
#include "cli/commands.h"
#include "train/evaluate.h"
#include "train/run_log.h"
#include "train/roc.h"
#include "train/run_summary.h"
#include "train/train_config.h"
#include "train/trainer.h"
#include "base/util.h"

static const char test_help[] =
    "usage: cltrain test MODEL DATASET --load CKPT [options]\n"
    "\n"
    "Evaluate checkpoint CKPT of MODEL on the test split of DATASET: loss, accuracy,\n"
    "per-class accuracy and the confusion matrix (classes g, q, W, Z, t). Writes\n"
    "confusion.csv (class,g,q,W,Z,t; one row per true class) and roc.csv (one-vs-rest ROC\n"
    "curve of each class, with its AUC) next to the checkpoint, and the test accuracy and\n"
    "AUCs into its run's summary.json. Data options not given are those the checkpoint\n"
    "was trained with, so the splits are the run's; the features are standardised with\n"
    "the training split's statistics stored in the checkpoint.\n"
    "\n"
    "options:\n"
    "  --load CKPT            the checkpoint (required)\n"
    "  --split NAME           test (default) or val\n"
    "  --batch-size N         rows per evaluation batch [the run's]\n"
    "  --device SPEC          index, P:D or name substring\n"
    "  --data PATH            the real JSC file for DATASET 'jsc'\n"
    "  --val-fraction F       as in training [the run's]\n"
    "  --synth-size N         as in training [the run's]\n"
    "  --split-seed N         as in training [the run's]\n"
    "  --synth-seed N         as in training [the run's]\n"
    "  --no-cache             do not use the pre-processed data cache\n"
    "  --kernels-dir DIR      load kernels/*.cl from DIR (development)\n"
    "  --quiet                print only the accuracy line\n"
    "  -h, --help             this text\n";

#define TID(opt) (TRAIN_OPT_ID_BASE + (opt))

typedef struct {
  train_config cfg;
  bool val_split;
} test_args;

static int test_option(void *ctx, int id, const char *arg, error *err) {
  test_args *a = ctx;
  if (id != 's') return train_config_getopt(&a->cfg, id, arg, err);
  if (strcmp(arg, "val") && strcmp(arg, "test")) return ERR_USAGE(err, "--split: '%s' is not test or val", arg);
  a->val_split = strcmp(arg, "val") == 0;
  return 0;
}

static void parse_args(int argc, char **argv, test_args *a) {
  static const struct option opts[] = {
      {"load", required_argument, NULL, TID(TOPT_LOAD)},
      {"batch-size", required_argument, NULL, TID(TOPT_BATCH_SIZE)},
      {"device", required_argument, NULL, TID(TOPT_DEVICE)},
      {"data", required_argument, NULL, TID(TOPT_DATA)},
      {"val-fraction", required_argument, NULL, TID(TOPT_VAL_FRACTION)},
      {"synth-size", required_argument, NULL, TID(TOPT_SYNTH_SIZE)},
      {"split-seed", required_argument, NULL, TID(TOPT_SPLIT_SEED)},
      {"synth-seed", required_argument, NULL, TID(TOPT_SYNTH_SEED)},
      {"no-cache", no_argument, NULL, TID(TOPT_NO_CACHE)},
      {"kernels-dir", required_argument, NULL, TID(TOPT_KERNELS_DIR)},
      {"quiet", no_argument, NULL, TID(TOPT_QUIET)},
      {"split", required_argument, NULL, 's'},
      {NULL, 0, NULL, 0}};
  train_config_default(&a->cfg);
  a->val_split = false;
  const struct option *tables[] = {opts, NULL};
  const cli_command c = {.cmd = "test", .tables = tables, .help = test_help, .apply = test_option, .ctx = a};
  int first = cli_parse(argc, argv, &c);
  if (argc - first != 2) {
    if (argc - first > 2) cli_usage_exit("test: unexpected argument '%s'", argv[first + 2]);
    cli_usage_exit("test: needs MODEL and DATASET (usage: cltrain test MODEL DATASET --load CKPT)");
  }
  char err[512];
  if (train_config_set_opt(&a->cfg, TOPT_MODEL, argv[first], err, sizeof err) ||
      train_config_set_opt(&a->cfg, TOPT_DATASET, argv[first + 1], err, sizeof err))
    cli_usage_exit("test: %s", err);
  if (!a->cfg.load[0]) cli_usage_exit("test: needs --load CKPT");
}

/* Options not given take the run's values when DATASET is the run's. */
static void inherit_run_options(train_config *cfg, const checkpoint *ck) {
  train_config run;
  train_config_default(&run);
  char err[512];
  if (train_config_from_text(&run, ck->config_text, err, sizeof err)) return;
  const train_option inherited[] = {TOPT_VAL_FRACTION, TOPT_SYNTH_SIZE, TOPT_SPLIT_SEED, TOPT_SYNTH_SEED,
                                    TOPT_DATA,         TOPT_BATCH_SIZE, TOPT_DEVICE};
  for (size_t i = 0; i < sizeof inherited / sizeof inherited[0]; i++) {
    train_option o = inherited[i];
    if (cfg->given[o] || !run.given[o]) continue;
    if (o != TOPT_BATCH_SIZE && o != TOPT_DEVICE && strcmp(run.dataset, cfg->dataset) != 0) continue;
    char v[TRAIN_PATH_MAX + 64];
    train_config_value_text(&run, o, v, sizeof v);
    if (v[0] && train_config_set_opt(cfg, o, v, err, sizeof err) == 0) cfg->given[o] = false;
  }
}

static void print_report(const eval_result *r, const char *split, const dataset *ds) {
  printf("%s split of %s: %ld rows\nloss %.6f  accuracy %.4f (%ld of %ld)\n\n", split, ds->name, r->count, r->loss,
         r->acc, r->correct, r->count);
  printf("%-6s %9s %9s %9s\n", "class", "rows", "correct", "accuracy");
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    long rows = 0;
    for (int p = 0; p < JSC_N_CLASSES; p++) rows += r->confusion[t * JSC_N_CLASSES + p];
    long ok = r->confusion[t * JSC_N_CLASSES + t];
    printf("%-6s %9ld %9ld %9.4f\n", jsc_class_names[t], rows, ok, rows ? (double)ok / (double)rows : 0.0);
  }
  printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%-10s", "true\\pred");
  for (int p = 0; p < JSC_N_CLASSES; p++) printf(" %8s", jsc_class_names[p]);
  printf("\n");
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    printf("%-10s", jsc_class_names[t]);
    for (int p = 0; p < JSC_N_CLASSES; p++) printf(" %8ld", r->confusion[t * JSC_N_CLASSES + p]);
    printf("\n");
  }
}

/* The AUC per class, and roc.csv (roc_val.csv for --split val) next to the checkpoint.
   The curves are an extra: a file that cannot be written (a full disk) is a warning, the
   evaluation still succeeds. */
static void write_roc(const char *dir, bool val_split, const roc_curve roc[JSC_N_CLASSES], bool quiet) {
  if (!quiet) {
    printf("AUC (one class against the rest):");
    for (int c = 0; c < JSC_N_CLASSES; c++) printf(" %s %.4f", jsc_class_names[c], roc[c].auc);
    printf("\n");
  }
  char path[RUN_PATH_MAX];
  run_path(path, sizeof path, dir, val_split ? "roc_val.csv" : "roc.csv");
  error err = {0};
  if (roc_write_csv(path, roc, &err)) warnf("test: ROC curves not written: %s", err.msg);
  else if (!quiet) printf("wrote %s\n", path);
}

int cmd_test(int argc, char **argv) {
  test_args a;
  parse_args(argc, argv, &a);
  train_config *cfg = &a.cfg;
  char err[RUN_PATH_MAX + 256];
  checkpoint ck;
  if (checkpoint_read(cfg->load, &ck, err, sizeof err)) cli_usage_exit("test: %s", err);
  model_spec m;
  error e = {0};
  if (model_load(cfg->model, &m, &e)) cli_usage_exit("test: %s", e.msg);
  if (checkpoint_check_model(&ck, &m, cfg->load, err, sizeof err)) cli_usage_exit("test: %s", err);
  inherit_run_options(cfg, &ck);
  /* The device is opened (a bad spec is bad input) before the data set is generated or read. */
  cl_runtime rt;
  if (rt_open(&rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL, &e))
    exit(cli_report("test", &e)); /* exit, not return: what is still held stays reachable */
  tuning_apply_stored(&rt);

  data_options opt;
  train_data_options(cfg, &opt);
  dataset ds;
  if (dataset_load(cfg->dataset, &opt, &ds, err, sizeof err)) cli_usage_exit("test: %s", err);
  if (model_check_classes(&m, ds.n_classes, &e)) cli_usage_exit("test: %s", e.msg);
  if (!ck.has_scaler)
    warnf("test: checkpoint %s stores no standardisation statistics (format version 1): using those fitted on the "
          "training split of %s",
          cfg->load, ds.name);
  else if (dataset_use_scaler(&ds, ck.mean, ck.std) && !cfg->quiet)
    printf("standardised %s with the statistics stored in the checkpoint\n", ds.name);
  const data_split *split = a.val_split ? &ds.val : &ds.test;
  if (split->rows == 0) cli_usage_exit("test: the %s split of %s is empty", a.val_split ? "val" : "test", ds.name);
  eval_result r;
  float *probs = xmalloc(split->rows * JSC_N_CLASSES * sizeof(float));
  if (evaluate_checkpoint(&rt, &ck, &m, split, cfg->batch_size, &r, probs, &e)) exit(cli_report("test", &e));
  roc_curve roc[JSC_N_CLASSES];
  roc_compute_all(probs, split->y, split->rows, roc);
  free(probs);

  if (!cfg->quiet) {
    printf("checkpoint %s: model %s, epoch %llu, step %llu, trained on %s\n", cfg->load, ck.model_name,
           (unsigned long long)ck.progress.epoch, (unsigned long long)ck.progress.step, ck.dataset_name);
    print_report(&r, a.val_split ? "val" : "test", &ds);
  } else {
    printf("%s_acc %.6f %s_loss %.6f\n", a.val_split ? "val" : "test", r.acc, a.val_split ? "val" : "test", r.loss);
  }
  char dir[RUN_PATH_MAX], path[RUN_PATH_MAX];
  path_dirname(dir, sizeof dir, cfg->load);
  run_path(path, sizeof path, dir, a.val_split ? "confusion_val.csv" : "confusion.csv");
  if (write_confusion(path, r.confusion, &e)) exit(cli_report("test", &e));
  if (!cfg->quiet) printf("\nwrote %s\n", path);
  write_roc(dir, a.val_split, roc, cfg->quiet);
  run_path(path, sizeof path, dir, "summary.json");
  if (!a.val_split && access(path, F_OK) == 0) {
    const char *base = strrchr(cfg->load, '/');
    if (run_summary_set_test(path, r.loss, r.acc, base ? base + 1 : cfg->load, err, sizeof err))
      warnf("%s", err);
    else if (!cfg->quiet)
      printf("updated %s (test_acc)\n", path);
    error aerr = {0};
    if (roc_summary_set_auc(path, roc, &aerr)) warnf("%s", aerr.msg);
  }
  roc_free_all(roc);
  rt_close(&rt);
  dataset_free(&ds);
  model_free(&m);
  checkpoint_free(&ck);
  return EXIT_OK;
}
