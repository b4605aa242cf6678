/* cltrain test MODEL DATASET --load CKPT: loss, accuracy, per-class accuracy and the
   confusion matrix of a checkpoint on the test split (or --split val). Writes
   confusion.csv next to the checkpoint and, for the test split, the test results into the
   run's summary.json when the checkpoint lives in a run directory. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "cli/commands.h"
#include "train/evaluate.h"
#include "train/run_log.h"
#include "train/run_summary.h"
#include "train/train_config.h"
#include "train/trainer.h"
#include "base/safe_file.h"
#include "base/util.h"

static const char test_help[] =
    "usage: cltrain test MODEL DATASET --load CKPT [options]\n"
    "\n"
    "Evaluate checkpoint CKPT of MODEL on the test split of DATASET: loss, accuracy,\n"
    "per-class accuracy and the confusion matrix (classes g, q, W, Z, t). Writes\n"
    "confusion.csv (class,g,q,W,Z,t; one row per true class) next to the checkpoint and\n"
    "the test accuracy into its run's summary.json. Data options not given are those the\n"
    "checkpoint was trained with, so the splits are the run's.\n"
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
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  train_config_default(&a->cfg);
  a->val_split = false;
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    if (c == 'h') {
      fputs(test_help, stdout);
      exit(EXIT_OK);
    }
    if (c == ':') die_usage("test: option '%s' needs a value", argv[optind - 1]);
    if (c == '?') die_usage("test: unknown option '%s' (see 'cltrain test --help')", argv[optind - 1]);
    if (c == 's') {
      if (strcmp(optarg, "val") && strcmp(optarg, "test")) die_usage("test: --split: '%s' is not test or val", optarg);
      a->val_split = strcmp(optarg, "val") == 0;
      continue;
    }
    train_config_getopt(&a->cfg, c, optarg, "test");
  }
  if (argc - optind != 2) {
    if (argc - optind > 2) die_usage("test: unexpected argument '%s'", argv[optind + 2]);
    die_usage("test: needs MODEL and DATASET (usage: cltrain test MODEL DATASET --load CKPT)");
  }
  char err[512];
  if (train_config_set_opt(&a->cfg, TOPT_MODEL, argv[optind], err, sizeof err) ||
      train_config_set_opt(&a->cfg, TOPT_DATASET, argv[optind + 1], err, sizeof err))
    die_usage("test: %s", err);
  if (!a->cfg.load[0]) die_usage("test: needs --load CKPT");
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

static void write_confusion(const char *path, const eval_result *r) {
  char tmp[RUN_PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) DIE("cannot write %s: %s", tmp, strerror(errno));
  fprintf(f, "class");
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, ",%s", jsc_class_names[p]);
  fprintf(f, "\n");
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    fprintf(f, "%s", jsc_class_names[t]);
    for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, ",%ld", r->confusion[t * JSC_N_CLASSES + p]);
    fprintf(f, "\n");
  }
  if (fclose(f) || rename(tmp, path)) DIE("cannot write %s: %s", path, strerror(errno));
}

int cmd_test(int argc, char **argv) {
  test_args a;
  parse_args(argc, argv, &a);
  train_config *cfg = &a.cfg;
  char err[RUN_PATH_MAX + 256];
  checkpoint ck;
  if (checkpoint_read(cfg->load, &ck, err, sizeof err)) die_usage("test: %s", err);
  model_spec m;
  if (model_load(cfg->model, &m, err, sizeof err)) die_usage("test: %s", err);
  if (checkpoint_check_model(&ck, &m, cfg->load, err, sizeof err)) die_usage("test: %s", err);
  inherit_run_options(cfg, &ck);
  /* A bad device spec is bad input: say so before the data set is generated or read. */
  device_list devices;
  device_list_get(&devices);
  int dev_index = device_select(&devices, cfg->device[0] ? cfg->device : NULL, err, sizeof err);
  device_list_free(&devices);
  if (dev_index < 0) die_usage("test: %s", err);

  data_options opt;
  train_data_options(cfg, &opt);
  dataset ds;
  if (dataset_load(cfg->dataset, &opt, &ds, err, sizeof err)) die_usage("test: %s", err);
  if (model_check_classes(&m, ds.n_classes, err, sizeof err)) die_usage("test: %s", err);
  const data_split *split = a.val_split ? &ds.val : &ds.test;
  if (split->rows == 0) die_usage("test: the %s split of %s is empty", a.val_split ? "val" : "test", ds.name);

  cl_runtime rt;
  rt_open(&rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL);
  device_split dev;
  device_data all;
  device_data_upload(&rt, &ds, &all);
  dev = a.val_split ? all.val : all.test;
  int batch = (size_t)cfg->batch_size < split->rows ? (int)cfg->batch_size : (int)split->rows;
  net *n = net_create(&rt, &m, batch, 0);
  float *optim = xcalloc(net_optim_count(n) + 1, sizeof(float));
  net_write_state(n, ck.params, ck.stats, optim);
  free(optim);
  eval_result r;
  evaluate_split(n, &dev, batch, &r);

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
  write_confusion(path, &r);
  if (!cfg->quiet) printf("\nwrote %s\n", path);
  run_path(path, sizeof path, dir, "summary.json");
  if (!a.val_split && access(path, F_OK) == 0) {
    const char *base = strrchr(cfg->load, '/');
    if (run_summary_set_test(path, r.loss, r.acc, base ? base + 1 : cfg->load, err, sizeof err))
      warnf("%s", err);
    else if (!cfg->quiet)
      printf("updated %s (test_acc)\n", path);
  }
  net_free(n);
  device_data_free(&all);
  rt_close(&rt);
  dataset_free(&ds);
  model_free(&m);
  checkpoint_free(&ck);
  return EXIT_OK;
}
