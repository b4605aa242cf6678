/* cltrain test [MODEL DATASET] --load CKPT [--split train|val|test|all]: loss, accuracy,
   per-class accuracy, the confusion matrix and the one-vs-rest ROC curves of a checkpoint,
   the features standardised with the statistics stored in the checkpoint. Results go
   beside the checkpoint keyed by what was evaluated; the run's summary.json changes only
   for the run's own test split. */
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
#include "train/test_record.h"
#include "train/trained_model.h"
#include "train/trainer.h"
#include "base/util.h"

static const char test_help[] =
    "usage: cltrain test [MODEL DATASET] --load CKPT [--split train|val|test|all] [options]\n"
    "\n"
    "Evaluate checkpoint CKPT: loss, accuracy, per-class accuracy, the confusion matrix\n"
    "(classes g, q, W, Z, t) and one-vs-rest ROC curves with their AUC. Without MODEL and\n"
    "DATASET, the checkpoint's own model and data set are used. Data options not given\n"
    "are the run's when DATASET is the run's, so the splits are the run's; the features\n"
    "are standardised with the training split's statistics stored in the checkpoint.\n"
    "\n"
    "Results go beside the checkpoint, keyed by what was evaluated (data set, split, rows):\n"
    "test-KEY.json, confusion-KEY.csv and roc-KEY.csv. Only the run's own test split also\n"
    "writes confusion.csv and roc.csv and updates the run's summary.json (test_acc, ...);\n"
    "its own validation split writes confusion_val.csv and roc_val.csv.\n"
    "\n"
    "options:\n"
    "  --load CKPT            the checkpoint (required)\n"
    "  --split NAME           test (default), val, train, or all: every row of DATASET\n"
    "                         (a file's rows as they are: no de-duplication, no split)\n"
    "  --batch-size N         rows per evaluation batch [the run's]\n"
    "  --device SPEC          index, P:D or name substring\n"
    "  --gemm NAME            Linear layers on clblast, fused or auto [the run's]\n"
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
  const char *split; /* train, val, test or all */
} test_args;

static int test_option(void *ctx, int id, const char *arg, error *err) {
  test_args *a = ctx;
  if (id != 's') return train_config_getopt(&a->cfg, id, arg, err);
  if (strcmp(arg, "val") && strcmp(arg, "test") && strcmp(arg, "train") && strcmp(arg, "all"))
    return ERR_USAGE(err, "--split: '%s' is not test, val, train or all", arg);
  a->split = arg;
  return 0;
}

static void parse_args(int argc, char **argv, test_args *a) {
  static const struct option opts[] = {
      {"load", required_argument, NULL, TID(TOPT_LOAD)},
      {"batch-size", required_argument, NULL, TID(TOPT_BATCH_SIZE)},
      {"device", required_argument, NULL, TID(TOPT_DEVICE)},
      {"gemm", required_argument, NULL, TID(TOPT_GEMM)},
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
  a->split = "test";
  const struct option *tables[] = {opts, NULL};
  const cli_command c = {.cmd = "test", .tables = tables, .help = test_help, .apply = test_option, .ctx = a};
  int first = cli_parse(argc, argv, &c);
  if (argc - first > 2) cli_usage_exit("test: unexpected argument '%s'", argv[first + 2]);
  if (argc - first == 1)
    cli_usage_exit("test: give MODEL and DATASET, or neither (the checkpoint's own): got only '%s'", argv[first]);
  char err[512];
  if (argc - first == 2 && (train_config_set_opt(&a->cfg, TOPT_MODEL, argv[first], err, sizeof err) ||
                            train_config_set_opt(&a->cfg, TOPT_DATASET, argv[first + 1], err, sizeof err)))
    cli_usage_exit("test: %s", err);
  if (!a->cfg.load[0]) cli_usage_exit("test: needs --load CKPT");
}

/* The options that decide which rows a data set has. */
static const train_option data_opts[] = {TOPT_DATASET, TOPT_DATA, TOPT_VAL_FRACTION, TOPT_SYNTH_SIZE,
                                         TOPT_SPLIT_SEED, TOPT_SYNTH_SEED};
#define N_DATA_OPTS (sizeof data_opts / sizeof data_opts[0])

/* Options not given take the run's values when DATASET is the run's. */
static void inherit_run_options(train_config *cfg, const train_config *run) {
  char err[512];
  const train_option inherited[] = {TOPT_VAL_FRACTION, TOPT_SYNTH_SIZE, TOPT_SPLIT_SEED, TOPT_SYNTH_SEED,
                                    TOPT_DATA,         TOPT_BATCH_SIZE, TOPT_DEVICE,     TOPT_GEMM};
  for (size_t i = 0; i < sizeof inherited / sizeof inherited[0]; i++) {
    train_option o = inherited[i];
    if (cfg->given[o] || !run->given[o]) continue;
    if (o != TOPT_BATCH_SIZE && o != TOPT_DEVICE && o != TOPT_GEMM && strcmp(run->dataset, cfg->dataset) != 0) continue;
    char v[TRAIN_PATH_MAX + 64];
    train_config_value_text(run, o, v, sizeof v);
    if (v[0] && train_config_set_opt(cfg, o, v, err, sizeof err) == 0) cfg->given[o] = false;
  }
}

/* Do CFG and the run's RUN describe the same rows (data set and every data option)? */
static bool same_data(const train_config *cfg, const train_config *run) {
  char a[TRAIN_PATH_MAX + 64], b[TRAIN_PATH_MAX + 64];
  for (size_t i = 0; i < N_DATA_OPTS; i++) {
    train_config_value_text(cfg, data_opts[i], a, sizeof a);
    train_config_value_text(run, data_opts[i], b, sizeof b);
    if (strcmp(a, b) != 0) return false;
  }
  return true;
}

/* "data=... val-fraction=0.1 ..." of CFG: part of the results' key and record. */
static void data_options_text(const train_config *cfg, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  bool synth = strcmp(cfg->dataset, "jsc-synth") == 0, jsc = strcmp(cfg->dataset, "jsc") == 0;
  for (size_t i = 1; i < N_DATA_OPTS && used < n; i++) {
    train_option o = data_opts[i];
    if ((o == TOPT_DATA && !jsc) || ((o == TOPT_SYNTH_SIZE || o == TOPT_SYNTH_SEED) && !synth)) continue;
    char v[TRAIN_PATH_MAX + 64];
    train_config_value_text(cfg, data_opts[i], v, sizeof v);
    int w = snprintf(buf + used, n - used, "%s%s=%s", used ? " " : "", train_option_name(data_opts[i]), v);
    used += w > 0 ? (size_t)w : 0;
  }
}

static void print_report(const eval_result *r, const char *split, const char *data_name) {
  printf("%s split of %s: %ld rows\nloss %.6f  accuracy %.4f (%ld of %ld)\n\n", split, data_name, r->count, r->loss,
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

/* The rows evaluated: one split of the data set (standardised with the checkpoint's
   statistics), or with --split all every row of DATASET as it is. */
typedef struct {
  dataset ds;
  data_rows all;
  bool is_all;
  data_split rows;
  char name[128], source[1024];
} test_data;

static void test_data_free(test_data *d) {
  if (d->is_all) data_rows_free(&d->all);
  else dataset_free(&d->ds);
}

static void load_test_data(const train_config *cfg, const char *split, const checkpoint *ck, test_data *d) {
  memset(d, 0, sizeof *d);
  data_options opt;
  train_data_options(cfg, &opt);
  error e = {0};
  char err[RUN_PATH_MAX + 256];
  d->is_all = strcmp(split, "all") == 0;
  if (d->is_all) {
    if (data_rows_load(cfg->dataset, &opt, &d->all, &e)) cli_usage_exit("test: %s", e.msg);
    if (!d->all.has_labels)
      cli_usage_exit("test: %s has no label column to test against (cltrain predict applies a model to it)",
                     cfg->dataset);
    if (ck->has_scaler) {
      if (data_rows_standardize(&d->all, ck->mean, ck->std, &e)) exit(cli_report("test", &e));
    } else {
      float mean[JSC_N_FEATURES], std[JSC_N_FEATURES];
      fit_standardization(d->all.x, d->all.rows, mean, std);
      if (data_rows_standardize(&d->all, mean, std, &e)) exit(cli_report("test", &e));
      warnf("test: checkpoint %s stores no standardisation statistics (format version 1): using those of %s",
            cfg->load, cfg->dataset);
    }
    d->rows = (data_split){.rows = d->all.rows, .x = d->all.x, .y = d->all.y};
    run_short_name(cfg->dataset, false, d->name, sizeof d->name);
    snprintf(d->source, sizeof d->source, "%.1000s (every row)", cfg->dataset);
    return;
  }
  if (dataset_load(cfg->dataset, &opt, &d->ds, err, sizeof err)) cli_usage_exit("test: %s", err);
  if (!ck->has_scaler)
    warnf("test: checkpoint %s stores no standardisation statistics (format version 1): using those fitted on the "
          "training split of %s",
          cfg->load, d->ds.name);
  else {
    int changed = dataset_use_scaler(&d->ds, ck->mean, ck->std, &e);
    if (changed < 0) exit(cli_report("test", &e));
    if (changed && !cfg->quiet) printf("standardised %s with the statistics stored in the checkpoint\n", d->ds.name);
  }
  d->rows = *dataset_split(&d->ds, split);
  run_short_name(cfg->dataset, false, d->name, sizeof d->name);
  snprintf(d->source, sizeof d->source, "%s", d->ds.source);
}

/* NAME-KEY.csv (or NAME.csv for KEY NULL) of the confusion matrix and the ROC curves. */
static void write_tables(const char *dir, const char *confusion_name, const char *roc_name, const eval_result *r,
                         const roc_curve roc[JSC_N_CLASSES], bool quiet) {
  char path[RUN_PATH_MAX];
  error e = {0};
  run_path(path, sizeof path, dir, confusion_name);
  if (write_confusion(path, r->confusion, &e)) exit(cli_report("test", &e));
  if (!quiet) printf("wrote %s\n", path);
  /* The curves are an extra: a file that cannot be written (a full disk) is a warning. */
  run_path(path, sizeof path, dir, roc_name);
  if (roc_write_csv(path, roc, &e)) warnf("test: ROC curves not written: %s", e.msg);
  else if (!quiet) printf("wrote %s\n", path);
}

/* Results keyed by what was evaluated; the run's own file names and summary.json only for
   its own splits (OWN_DATA: the run's data set and data options). */
static void write_results(const train_config *cfg, const char *split, const test_data *d, const char *model,
                          const eval_result *r, const roc_curve roc[JSC_N_CLASSES], bool own_data, bool own_test) {
  char dir[RUN_PATH_MAX], path[RUN_PATH_MAX], opts[2 * TRAIN_PATH_MAX], key[512], name[700], name2[700];
  char err[RUN_PATH_MAX + 256];
  error e = {0};
  path_dirname(dir, sizeof dir, cfg->load);
  data_options_text(cfg, opts, sizeof opts);
  test_record_key(d->name, split, d->rows.rows, cfg->dataset, opts, key, sizeof key);
  snprintf(name, sizeof name, "confusion-%s.csv", key);
  snprintf(name2, sizeof name2, "roc-%s.csv", key);
  write_tables(dir, name, name2, r, roc, cfg->quiet);
  snprintf(name, sizeof name, "test-%s.json", key);
  run_path(path, sizeof path, dir, name);
  test_record rec = {.checkpoint = cfg->load, .model = model, .dataset = cfg->dataset, .source = d->source,
                     .split = split, .data_options = opts, .own_test_split = own_test, .result = r, .roc = roc};
  if (test_record_write(path, &rec, &e)) exit(cli_report("test", &e));
  if (!cfg->quiet) printf("wrote %s\n", path);
  if (own_data && strcmp(split, "val") == 0) write_tables(dir, "confusion_val.csv", "roc_val.csv", r, roc, cfg->quiet);
  run_path(path, sizeof path, dir, "summary.json");
  if (own_test) {
    write_tables(dir, "confusion.csv", "roc.csv", r, roc, cfg->quiet);
    if (access(path, F_OK) == 0) {
      const char *base = strrchr(cfg->load, '/');
      if (run_summary_set_test(path, r->loss, r->acc, base ? base + 1 : cfg->load, err, sizeof err))
        warnf("%s", err);
      else if (!cfg->quiet)
        printf("updated %s (test_acc: the run's own test split)\n", path);
      error aerr = {0};
      if (roc_summary_set_auc(path, roc, &aerr)) warnf("%s", aerr.msg);
    }
  } else if (!cfg->quiet && access(path, F_OK) == 0) {
    printf("%s left as it is (not the run's own test split)\n", path);
  }
}

int cmd_test(int argc, char **argv) {
  test_args a;
  parse_args(argc, argv, &a);
  train_config *cfg = &a.cfg;
  char err[RUN_PATH_MAX + 256];
  checkpoint ck;
  model_spec m;
  error e = {0};
  if (trained_model_open(cfg->load, &ck, &m, &e)) cli_usage_exit("test: %s", e.msg);
  if (cfg->model[0]) { /* MODEL given: it must be the checkpoint's */
    model_spec given;
    if (model_load(cfg->model, &given, &e)) cli_usage_exit("test: %s", e.msg);
    if (checkpoint_check_model(&ck, &given, cfg->load, err, sizeof err)) cli_usage_exit("test: %s", err);
    model_free(&given);
  }
  train_config run;
  train_config_default(&run);
  if (train_config_from_text(&run, ck.config_text, err, sizeof err)) cli_usage_exit("test: %s: %s", cfg->load, err);
  if (!cfg->dataset[0]) {
    if (!run.dataset[0]) cli_usage_exit("test: checkpoint %s names no data set: give MODEL and DATASET", cfg->load);
    if (train_config_set_opt(cfg, TOPT_DATASET, run.dataset, err, sizeof err)) cli_usage_exit("test: %s", err);
  }
  inherit_run_options(cfg, &run);
  bool own_data = same_data(cfg, &run);
  bool own_test = own_data && strcmp(a.split, "test") == 0;
  /* The device is opened (a bad spec is bad input) before the data set is generated or read. */
  cl_runtime rt;
  if (rt_open(&rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL, &e))
    exit(cli_report("test", &e)); /* exit, not return: what is still held stays reachable */
  tuning_apply_stored(&rt);

  test_data d;
  load_test_data(cfg, a.split, &ck, &d);
  if (model_check_classes(&m, JSC_N_CLASSES, &e)) cli_usage_exit("test: %s", e.msg);
  if (d.rows.rows == 0) cli_usage_exit("test: the %s split of %s is empty", a.split, d.name);
  if (!own_data && strcmp(run.dataset, cfg->dataset) == 0 && !d.is_all)
    warnf("test: the %s split of %s with these data options is not the run's: its rows may include rows the "
          "model was trained on",
          a.split, cfg->dataset);
  else if (!own_data && !d.is_all && !cfg->quiet)
    printf("note: %s is not the run's data set; this evaluates its %s split (%zu rows); --split all evaluates "
           "every row\n",
           cfg->dataset, a.split, d.rows.rows);
  eval_result r;
  float *probs = xmalloc(d.rows.rows * JSC_N_CLASSES * sizeof(float));
  if (evaluate_checkpoint(&rt, &ck, &m, &d.rows, cfg->batch_size, cfg->gemm, &r, probs, &e)) exit(cli_report("test", &e));
  roc_curve roc[JSC_N_CLASSES];
  roc_compute_all(probs, d.rows.y, d.rows.rows, roc);
  free(probs);

  if (!cfg->quiet) {
    printf("checkpoint %s: model %s, epoch %llu, step %llu, trained on %s\n", cfg->load, ck.model_name,
           (unsigned long long)ck.progress.epoch, (unsigned long long)ck.progress.step, ck.dataset_name);
    print_report(&r, a.split, d.name);
    printf("AUC (one class against the rest):");
    for (int c = 0; c < JSC_N_CLASSES; c++) printf(" %s %.4f", jsc_class_names[c], roc[c].auc);
    printf("\n\n");
  } else {
    printf("%s_acc %.6f %s_loss %.6f\n", a.split, r.acc, a.split, r.loss);
  }
  write_results(cfg, a.split, &d, m.name, &r, roc, own_data, own_test);
  roc_free_all(roc);
  rt_close(&rt);
  test_data_free(&d);
  trained_model_close(&ck, &m);
  return EXIT_OK;
}
