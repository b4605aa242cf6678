/* cltrain bench: steady-state samples/s of a full training step per model and batch size
   (bench.h), and the wall time of one full-size jsc-synth epoch through the trainer. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "study/bench.h"
#include "cli/cli_args.h"
#include "cl/tuning.h"
#include "cli/commands.h"
#include "data/data.h"
#include "base/csvread.h"
#include "train/run_log.h"
#include "train/trainer.h"
#include "base/util.h"

static const char bench_help[] =
    "usage: cltrain bench [--models LIST] [--batch-sizes LIST] [--device SPEC] [--quick]\n"
    "                     [--reps N] [--no-epoch] [--epoch-model M] [--epoch-batch N]\n"
    "                     [--synth-size N] [--breakdown] [--gemm NAME] [--whole-net MODE]\n"
    "                     [--out DIR]\n"
    "\n"
    "Steady-state throughput of a full training step (batch gather, forward, loss,\n"
    "backward, Adam) for every model and batch size: warm-up steps (and every kernel\n"
    "compilation) excluded, several timed repetitions, median samples/s and the spread.\n"
    "Then the wall time of one epoch of full-size jsc-synth through the trainer\n"
    "(training steps, validation and checkpoints; the second of two epochs, so no\n"
    "compilation is included).\n"
    "\n"
    "  --models LIST       zoo names or model files (default jsc-tiny,jsc-toy,jsc-s,jsc-trt)\n"
    "  --batch-sizes LIST  default 32,256,1024\n"
    "  --device SPEC       index, P:D or name substring (default: CLTRAIN_DEVICE or 0)\n"
    "  --quick             reduced mode: 3 short repetitions, a 20000-jet epoch\n"
    "  --reps N            timed repetitions per row (default 7, quick 3)\n"
    "  --no-epoch          skip the epoch measurement\n"
    "  --epoch-model M     model of the epoch measurement (default jsc-tiny)\n"
    "  --epoch-batch N     its batch size (default 256)\n"
    "  --synth-size N      jets of jsc-synth for the epoch (default 830000, quick 20000)\n"
    "  --breakdown         also where a step's time goes: gather, forward, loss,\n"
    "                      backward, optimizer, and the CLBlast GEMMs the step makes,\n"
    "                      alone (none when every Linear stage is fused; breakdown.csv)\n"
    "  --gemm NAME         Linear layers on clblast, fused or auto (as cltrain train;\n"
    "                      default auto), the steps and the epoch alike\n"
    "  --whole-net MODE    training steps in the whole-network kernel: on, off or auto\n"
    "                      (as cltrain train; default auto); --breakdown always times\n"
    "                      the per-stage step, whose phases it separates\n"
    "  --out DIR           where bench.csv and epoch.csv go (default runs/bench_<time>)\n"
    "\n"
    "bench.csv: model,batch_size,samples_per_s,samples_per_s_min,samples_per_s_max,step_us,\n"
    "  reps,steps_per_rep,launches_per_step,gemm_calls_per_step,load_avg,device,tuned,gemm,\n"
    "  step_kernel (gemm: the path the Linear stages took, clblast, fused or mixed;\n"
    "  step_kernel: whole or stages)\n"
    "epoch.csv: model,dataset,train_rows,batch_size,epoch_s,first_epoch_s,samples_per_s,device\n"
    "Timings are only as good as the machine is quiet: load_avg is the 1-minute load\n"
    "average after each row.\n";

enum { OPT_MODELS = 1, OPT_BATCHES, OPT_DEVICE, OPT_QUICK, OPT_REPS, OPT_NO_EPOCH, OPT_EPOCH_MODEL,
       OPT_EPOCH_BATCH, OPT_SYNTH, OPT_OUT, OPT_BREAKDOWN, OPT_GEMM,
       OPT_WHOLE };

typedef struct {
  char models[32][LIST_ITEM_MAX];
  int n_models;
  long batches[32];
  int n_batches;
  const char *device, *epoch_model;
  long epoch_batch, synth_size, reps;
  bool quick, no_epoch, breakdown;
  net_gemm gemm;
  net_whole_mode whole;
  char out[RUN_PATH_MAX];
} bench_args;

typedef struct {
  bench_args *a;
  const char *models, *batches;
} bench_parse;

static int bench_option(void *ctx, int id, const char *arg, error *err) {
  bench_parse *p = ctx;
  bench_args *a = p->a;
  long v;
  switch (id) {
    case OPT_MODELS: p->models = arg; return 0;
    case OPT_BATCHES: p->batches = arg; return 0;
    case OPT_DEVICE: a->device = arg; return 0;
    case OPT_QUICK: a->quick = true; return 0;
    case OPT_NO_EPOCH: a->no_epoch = true; return 0;
    case OPT_BREAKDOWN: a->breakdown = true; return 0;
    case OPT_GEMM:
      if (net_gemm_parse(arg, &a->gemm)) return ERR_USAGE(err, "--gemm: '%s' is not one of auto, clblast, fused", arg);
      return 0;
    case OPT_WHOLE:
      if (net_whole_parse(arg, &a->whole)) return ERR_USAGE(err, "--whole-net: '%s' is not one of auto, on, off", arg);
      return 0;
    case OPT_EPOCH_MODEL: a->epoch_model = arg; return 0;
    case OPT_REPS:
      if (!parse_long(arg, 1, 1000, &v)) return ERR_USAGE(err, "--reps: '%s' is not an integer in [1, 1000]", arg);
      a->reps = v;
      return 0;
    case OPT_EPOCH_BATCH:
      if (!parse_long(arg, 2, 1 << 20, &v))
        return ERR_USAGE(err, "--epoch-batch: '%s' is not an integer in [2, %d]", arg, 1 << 20);
      a->epoch_batch = v;
      return 0;
    case OPT_SYNTH: { /* the data option, with its limits (data.h) */
      data_options opt;
      data_options_default(&opt);
      if (data_options_apply(&opt, "synth-size", arg, err) < 0) return -1;
      a->synth_size = (long)opt.synth_size;
      return 0;
    }
    case OPT_OUT:
      if (!arg[0] || strlen(arg) >= sizeof a->out - 64) return ERR_USAGE(err, "--out: empty or too long");
      snprintf(a->out, sizeof a->out, "%s", arg);
      return 0;
    default: return ERR_RUNTIME(err, "option id %d is not a bench option", id);
  }
}

static void parse_args(int argc, char **argv, bench_args *a) {
  memset(a, 0, sizeof *a);
  a->epoch_model = "jsc-tiny";
  a->epoch_batch = 256;
  static const struct option opts[] = {
      {"models", required_argument, NULL, OPT_MODELS},    {"batch-sizes", required_argument, NULL, OPT_BATCHES},
      {"device", required_argument, NULL, OPT_DEVICE},    {"quick", no_argument, NULL, OPT_QUICK},
      {"reps", required_argument, NULL, OPT_REPS},        {"no-epoch", no_argument, NULL, OPT_NO_EPOCH},
      {"epoch-model", required_argument, NULL, OPT_EPOCH_MODEL},
      {"epoch-batch", required_argument, NULL, OPT_EPOCH_BATCH},
      {"synth-size", required_argument, NULL, OPT_SYNTH}, {"out", required_argument, NULL, OPT_OUT},
      {"breakdown", no_argument, NULL, OPT_BREAKDOWN},    {"gemm", required_argument, NULL, OPT_GEMM},
      {"whole-net", required_argument, NULL, OPT_WHOLE},
      {NULL, 0, NULL, 0}};
  bench_parse p = {a, "jsc-tiny,jsc-toy,jsc-s,jsc-trt", "32,256,1024"};
  const struct option *tables[] = {opts, NULL};
  const cli_command c = {.cmd = "bench", .tables = tables, .help = bench_help, .apply = bench_option, .ctx = &p};
  int first = cli_parse(argc, argv, &c);
  if (first < argc) cli_usage_exit("bench: unexpected argument '%s'", argv[first]);
  const char *models = p.models, *batches = p.batches;
  a->n_models = split_list(models, a->models, 32);
  if (a->n_models <= 0) cli_usage_exit("bench: --models '%s' is not a comma-separated list of models", models);
  char items[32][LIST_ITEM_MAX];
  a->n_batches = split_list(batches, items, 32);
  if (a->n_batches <= 0) cli_usage_exit("bench: --batch-sizes '%s' is not a comma-separated list", batches);
  for (int i = 0; i < a->n_batches; i++) a->batches[i] = cli_parse_long("--batch-sizes", items[i], 1, 1 << 20);
  if (!a->synth_size) a->synth_size = a->quick ? 20000 : 830000;
  if (!a->out[0]) {
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(a->out, sizeof a->out, "runs/bench_%s", stamp);
  }
}

static double load_avg(void) {
  double l = NAN;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = NAN;
    fclose(f);
  }
  return l;
}

static FILE *open_csv(const char *dir, const char *name, const char *header) {
  char path[RUN_PATH_MAX];
  run_path(path, sizeof path, dir, name);
  FILE *f = fopen(path, "w");
  if (!f) cli_usage_exit("bench: cannot write %s", path);
  fprintf(f, "%s\n", header);
  return f;
}

static void close_csv(FILE *f, const char *dir, const char *name) {
  if (fclose(f) != 0) CLI_FAIL("bench: writing %s/%s failed", dir, name);
}

static void breakdown(const bench_args *a, model_spec *models, cl_runtime *rt, const bench_options *o) {
  printf("\nwhere a step's time goes (us per step; phases from cumulative prefixes of the step)\n");
  printf("%-12s %6s %8s %8s %8s %9s %9s %8s %8s   %s\n", "model", "batch", "gather", "forward", "loss", "backward",
         "optimizer", "step", "gemm", "CLBlast GEMMs alone (calls)");
  FILE *csv = open_csv(a->out, "breakdown.csv",
                       "model,batch_size,gather_us,forward_us,loss_us,backward_us,optimizer_us,step_us,gemm,"
                       "clblast_us,clblast_calls");
  for (int mi = 0; mi < a->n_models; mi++)
    for (int bi = 0; bi < a->n_batches; bi++) {
      bench_breakdown b;
      error e = {0};
      if (bench_step_breakdown(rt, &models[mi], (int)a->batches[bi], o, &b, &e)) exit(cli_report("bench", &e));
      char clblast[32] = "none (all fused)";
      if (b.clblast_calls) snprintf(clblast, sizeof clblast, "%.1f (%d)", b.clblast_us, b.clblast_calls);
      printf("%-12s %6ld %8.1f %8.1f %8.1f %9.1f %9.1f %8.1f %8s   %s\n", models[mi].name, a->batches[bi],
             b.gather_us, b.forward_us, b.loss_us, b.backward_us, b.optimizer_us, b.step_us, b.gemm, clblast);
      fflush(stdout);
      csv_put_field(csv, models[mi].name);
      fprintf(csv, ",%ld,%.4g,%.4g,%.4g,%.4g,%.4g,%.4g,%s,%.4g,%d\n", a->batches[bi], b.gather_us, b.forward_us,
              b.loss_us, b.backward_us, b.optimizer_us, b.step_us, b.gemm, b.clblast_us, b.clblast_calls);
    }
  close_csv(csv, a->out, "breakdown.csv");
}

static void bench_steps(const bench_args *a, model_spec *models) {
  bench_options o;
  bench_options_default(&o, a->quick);
  if (a->reps) o.reps = (int)a->reps;
  o.gemm = a->gemm;
  o.whole = a->whole;
  cl_runtime rt;
  error e = {0};
  if (rt_open(&rt, a->device, NULL, &e)) exit(error_report(&e));
  tuning_apply_stored(&rt);
  printf("device %s (%s, driver %s), CLBlast parameters: %s, --gemm %s (%d stored GEMM path choices), "
         "--whole-net %s\n",
         rt.info.name, rt.info.platform_name, rt.info.driver, rt.tuned ? "tuned (cltrain tune)" : "defaults",
         net_gemm_name(a->gemm), rt.gemm_paths.n, net_whole_name(a->whole));
  printf("%-12s %6s %12s %12s %12s %9s %9s %6s %6s %8s %6s\n", "model", "batch", "samples/s", "min", "max",
         "step_us", "launches", "gemms", "load", "gemm", "step");
  FILE *csv = open_csv(a->out, "bench.csv",
                       "model,batch_size,samples_per_s,samples_per_s_min,samples_per_s_max,step_us,reps,"
                       "steps_per_rep,launches_per_step,gemm_calls_per_step,load_avg,device,tuned,gemm,step_kernel");
  for (int mi = 0; mi < a->n_models; mi++)
    for (int bi = 0; bi < a->n_batches; bi++) {
      bench_result r;
      if (bench_train_step(&rt, &models[mi], (int)a->batches[bi], &o, &r, &e)) exit(cli_report("bench", &e));
      double load = load_avg();
      const char *step_kernel = r.whole ? "whole" : "stages";
      printf("%-12s %6ld %12.0f %12.0f %12.0f %9.2f %9.2f %6.1f %6.2f %8s %6s\n", models[mi].name, a->batches[bi],
             r.samples_per_s, r.samples_per_s_min, r.samples_per_s_max, r.step_us, r.launches_per_step,
             r.gemm_calls_per_step, load, r.gemm, step_kernel);
      fflush(stdout);
      if (!isfinite(r.final_loss)) warnf("bench: %s at batch %ld: the loss is not finite", models[mi].name, a->batches[bi]);
      csv_put_field(csv, models[mi].name);
      fprintf(csv, ",%ld,%.6g,%.6g,%.6g,%.6g,%d,%d,%.3g,%.3g,%.3g,", a->batches[bi], r.samples_per_s,
              r.samples_per_s_min, r.samples_per_s_max, r.step_us, r.reps, r.steps_per_rep, r.launches_per_step,
              r.gemm_calls_per_step, load);
      csv_put_field(csv, rt.info.name);
      fprintf(csv, ",%d,%s,%s\n", rt.tuned ? 1 : 0, r.gemm, step_kernel);
    }
  close_csv(csv, a->out, "bench.csv");
  if (a->breakdown) breakdown(a, models, &rt, &o);
  rt_close(&rt);
}

/* Two epochs through the trainer; the second one's wall time is the steady-state epoch. */
static void bench_epoch(const bench_args *a) {
  train_config cfg;
  train_config_default(&cfg);
  char err[1024], num[64], project[RUN_PATH_MAX];
  run_path(project, sizeof project, a->out, "epoch_run");
  snprintf(num, sizeof num, "%ld", a->synth_size);
  struct { const char *name, *value; } set[] = {
      {"model", a->epoch_model}, {"dataset", "jsc-synth"}, {"max-epochs", "2"}, {"synth-size", num},
      {"project-dir", project},  {"device", a->device ? a->device : ""}, {"gemm", net_gemm_name(a->gemm)},
      {"whole-net", net_whole_name(a->whole)},
      {"batch-size", NULL}};
  char batch[32];
  snprintf(batch, sizeof batch, "%ld", a->epoch_batch);
  set[8].value = batch;
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
    if (set[i].value[0] && train_config_set(&cfg, set[i].name, set[i].value, err, sizeof err) != 0)
      cli_usage_exit("bench: %s", err);
  cfg.quiet = cfg.no_progress = true;
  printf("\nepoch: %s on jsc-synth (%ld jets), batch %ld, two epochs ...\n", a->epoch_model, a->synth_size,
         a->epoch_batch);
  fflush(stdout);
  data_options opt;
  train_data_options(&cfg, &opt);
  dataset ds;
  if (dataset_load(cfg.dataset, &opt, &ds, err, sizeof err) != 0) cli_usage_exit("bench: %s", err);
  train_result res;
  error e = {0};
  int rc = train_run_with_data(&cfg, &ds, &res, &e);
  if (rc < 0) exit(cli_report("bench", &e));
  if (rc != 0) CLI_FAIL("bench: the epoch run ended with code %d", rc);
  const size_t train_rows = ds.train.rows;
  dataset_free(&ds);

  char path[RUN_PATH_MAX];
  run_path(path, sizeof path, res.run_dir, "epochs.csv");
  csv_table t;
  double *secs = NULL;
  if (csv_read(path, &t, err, sizeof err) != 0 || csv_numbers(&t, "epoch_s", &secs, err, sizeof err) != 0)
    CLI_FAIL("bench: %s", err);
  if (t.nrows < 2) CLI_FAIL("bench: %s has %zu epochs, expected 2", path, t.nrows);
  double epoch_s = secs[1], first_s = secs[0];
  printf("epoch: %.3f s (first epoch %.3f s); %.0f training samples/s\n", epoch_s, first_s, res.samples_per_s);
  FILE *csv = open_csv(a->out, "epoch.csv", "model,dataset,train_rows,batch_size,epoch_s,first_epoch_s,samples_per_s,device");
  csv_put_field(csv, res.model);
  fprintf(csv, ",jsc-synth,%zu,%ld,%.6g,%.6g,%.6g,", train_rows, a->epoch_batch, epoch_s, first_s, res.samples_per_s);
  csv_put_field(csv, res.device);
  fputc('\n', csv);
  close_csv(csv, a->out, "epoch.csv");
  free(secs);
  csv_free(&t);
}

int cmd_bench(int argc, char **argv) {
  bench_args a;
  parse_args(argc, argv, &a);
  model_spec *models = xcalloc((size_t)a.n_models, sizeof *models);
  char err[2048];
  error e = {0};
  for (int i = 0; i < a.n_models; i++)
    if (model_load(a.models[i], &models[i], &e) != 0) cli_usage_exit("bench: %s", e.msg);
  if (!a.no_epoch) {
    model_spec m;
    if (model_load(a.epoch_model, &m, &e) != 0) cli_usage_exit("bench: --epoch-model: %s", e.msg);
    model_free(&m);
  }
  device_list devs;
  if (device_list_get(&devs, &e)) return error_report(&e);
  int dev = device_select(&devs, a.device, &e);
  device_list_free(&devs);
  if (dev < 0) cli_usage_exit("bench: %s", e.msg);
  if (make_dirs(a.out, err, sizeof err) != 0) cli_usage_exit("bench: %s", err);
  bench_steps(&a, models);
  if (!a.no_epoch) bench_epoch(&a);
  printf("\nwrote %s/bench.csv%s\n", a.out, a.no_epoch ? "" : " and epoch.csv");
  for (int i = 0; i < a.n_models; i++) model_free(&models[i]);
  free(models);
  return EXIT_OK;
}
