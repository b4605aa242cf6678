/* cltrain tune: measure CLBlast kernel parameters for the GEMM shapes of the models on
   this device and store the winner (see tuning.h). Every GEMM of a training step is timed
   as the net calls it: forward y = x Wt with the transposed weights (B x out x in),
   input gradient dX = dY W (B x in x out) and weight gradient dW = dY^T X (out x in x B).

   Search: each candidate's time over all shapes (best of 3 rounds per shape), then the
   best few candidates again, interleaved round by round so that a change in the machine's
   background load hits all of them alike; then the direct/indirect threshold from
   per-shape measurements of both paths. Then, with the parameters found, each Linear
   stage that has a fused form is timed on CLBlast and on the fused kernels, and the faster
   is stored per shape and batch size (study/tune_paths.h) for --gemm auto. */
#include <getopt.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cl/gemm.h"
#include "model/model.h"
#include "ops/ops.h"
#include "ops/ops_fused.h"
#include "cl/tuning.h"
#include "study/tune_paths.h"
#include "base/util.h"

#define MAX_SHAPES 512

typedef struct {
  cl_runtime *rt;
  gemm_shape shapes[MAX_SHAPES];
  int n_shapes;
  cl_mem a, b, c;
  int reps;
} tune_ctx;

/* XgemmDirect candidates: tile WGD, threads MDIMCD x NDIMCD, loader shapes MDIMAD/NDIMBD,
   unroll KWID, vector widths VWMD/VWND, local-memory padding PADA/PADB. All satisfy
   CLBlast's divisibility constraints (WGD a multiple of KWID, of MDIMCD*VWMD, NDIMCD*VWND,
   MDIMAD*VWMD, NDIMBD*VWND and of MDIMCD*NDIMCD/MDIMAD and /NDIMBD). The first ones suit
   CPU devices, which run a work-group as a loop over its items: one to four items per
   group, each computing an 8x8 block with float8 vectors (on PoCL with AVX-512 these ran
   the zoo's shapes 1.5-1.8x faster than the best of the older set). The rest are the
   conventional GPU-style sets with 16-256 items per group. */
static const char *const direct_names[] = {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                           "KWID", "VWMD", "VWND", "PADA", "PADB"};
static const size_t direct_candidates[][10] = {
    {16, 2, 2, 2, 2, 2, 8, 8, 0, 0},    {8, 1, 1, 1, 1, 2, 8, 8, 0, 0},
    {16, 2, 2, 2, 2, 4, 8, 8, 0, 0},    {8, 1, 1, 1, 1, 8, 8, 8, 0, 0},
    {16, 4, 4, 4, 4, 2, 4, 4, 0, 0},    {8, 2, 2, 2, 2, 2, 4, 4, 0, 0},
    {16, 4, 4, 4, 4, 1, 2, 2, 0, 0},    {16, 8, 8, 8, 8, 2, 1, 1, 0, 0},
    {32, 8, 8, 8, 8, 2, 4, 4, 1, 1},    {8, 8, 8, 8, 8, 1, 1, 1, 0, 0},
    {32, 8, 8, 8, 8, 2, 2, 2, 0, 0},    {16, 16, 16, 16, 16, 1, 1, 1, 0, 0},
};
#define N_DIRECT (sizeof direct_candidates / sizeof direct_candidates[0])

static void add_shape(tune_ctx *t, const gemm_shape *s) {
  for (int i = 0; i < t->n_shapes; i++) {
    const gemm_shape *o = &t->shapes[i];
    if (o->ta == s->ta && o->tb == s->tb && o->m == s->m && o->n == s->n && o->k == s->k) return;
  }
  if (t->n_shapes == MAX_SHAPES) return;
  t->shapes[t->n_shapes++] = *s;
}

static void run_shape(tune_ctx *t, const gemm_shape *s) { gemm_shaped(t->rt, s, t->a, 0, t->b, 0, t->c, 0); }

/* Best of 3 rounds of the mean time of one shape, in microseconds: the minimum is the
   estimate least disturbed by other work on the machine. The first call compiles (when
   the parameters are new) and is not timed. */
static double time_shape(tune_ctx *t, const gemm_shape *s) {
  run_shape(t, s);
  rt_finish(t->rt);
  double r[3];
  for (int round = 0; round < 3; round++) {
    double t0 = now_seconds();
    for (int i = 0; i < t->reps; i++) run_shape(t, s);
    rt_finish(t->rt);
    r[round] = (now_seconds() - t0) / t->reps * 1e6;
  }
  return fmin(r[0], fmin(r[1], r[2]));
}

static double time_all(tune_ctx *t, double *per_shape) {
  double total = 0;
  for (int i = 0; i < t->n_shapes; i++) {
    double us = time_shape(t, &t->shapes[i]);
    if (per_shape) per_shape[i] = us;
    total += us;
  }
  return total;
}

/* How many of the best candidates are measured again, and in how many interleaved rounds. */
#define N_FINALISTS 3
#define FINAL_ROUNDS 3

static void print_set(long i, double us, double compile_s) {
  const size_t *c = direct_candidates[i];
  printf("  direct set %2ld (WGD=%zu MDIMCD=%zu NDIMCD=%zu MDIMAD=%zu NDIMBD=%zu KWID=%zu VWMD=%zu VWND=%zu "
         "PAD=%zu/%zu): %10.1f us  (compiled in %.1f s)\n",
         i, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], us, compile_s);
  fflush(stdout);
}

static void set_threshold(tune_ctx *t, size_t threshold) {
  const char *name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
  CLBLAST_CHECK(&t->rt->err, gemm_override(t->rt, "GemmRoutine", 1, name, &threshold));
}

typedef struct {
  const model_spec *models;
  int n_models;
  const size_t *batches;
  int n_batches;
  int reps;
} tune_paths_plan;

static bool has_choice(const gemm_choices *c, int in, int out, int batch) {
  for (int i = 0; i < c->n; i++)
    if (c->items[i].in == in && c->items[i].out == out && c->items[i].batch == batch) return true;
  return false;
}

/* How many interleaved rounds the two paths of a stage get. */
#define PATH_ROUNDS 3

/* Every Linear stage with a fused form, once per (in, out, batch): CLBlast against fused,
   the faster into out. The CLBlast path runs with the parameters rt has now. */
static void tune_gemm_paths(cl_runtime *rt, const tune_paths_plan *p, gemm_choices *out) {
  out->n = 0;
  printf("GEMM path per Linear stage (probe forward + backward, best of %d interleaved rounds):\n", PATH_ROUNDS);
  printf("  %-10s %6s %12s %10s  %s\n", "shape", "batch", "clblast us", "fused us", "faster");
  for (int mi = 0; mi < p->n_models; mi++)
    for (int bi = 0; bi < p->n_batches; bi++)
      for (int l = 0; l < p->models[mi].n_layers; l++) {
        const layer_spec *L = &p->models[mi].layers[l];
        const int batch = (int)p->batches[bi];
        if (L->kind != LAYER_LINEAR || !fused_linear_fits(L->in, L->out) || has_choice(out, L->in, L->out, batch))
          continue;
        if (out->n == GEMM_CHOICES_MAX)
          cli_usage_exit("tune: more than %d Linear shapes x batch sizes; tune fewer models or batch sizes",
                         GEMM_CHOICES_MAX);
        gemm_choice *c = &out->items[out->n];
        error e = {0};
        if (tune_path_measure(rt, &p->models[mi], l, batch, p->reps, PATH_ROUNDS, c, &e))
          exit(cli_report("tune", &e));
        out->n++;
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%d", c->in, c->out);
        printf("  %-10s %6d %12.1f %10.1f  %s\n", shape, batch, c->clblast_us, c->fused_us, gemm_path_name(c->path));
        fflush(stdout);
      }
}

/* cltrain tune --paths-only: the GEMM paths with the CLBlast parameters a run would use
   (the stored ones when they apply, else the defaults), stored with those parameters. */
static int tune_paths_only(cl_runtime *rt, const tune_paths_plan *p, bool dry_run) {
  char path[1200], err[1400];
  tuning_path(&rt->info, path, sizeof path);
  tuning tu = {0};
  if (tuning_apply_stored(rt) && tuning_load(path, &tu, err, sizeof err)) cli_usage_exit("tune: %s", err);
  snprintf(tu.device, sizeof tu.device, "%s", rt->info.name);
  snprintf(tu.platform, sizeof tu.platform, "%s", rt->info.platform_name);
  snprintf(tu.driver, sizeof tu.driver, "%s", rt->info.driver);
  printf("CLBlast parameters: %s\n", rt->tuned ? "stored (kept)" : "defaults");
  tune_gemm_paths(rt, p, &tu.choices);
  error e = {0};
  if (rt_status(rt, &e)) return error_report(&e);
  if (!dry_run) {
    if (tuning_save(path, &tu, err, sizeof err) != 0) cli_usage_exit("tune: %s", err);
    printf("stored %s\n", path);
  }
  return EXIT_OK;
}

/* cltrain tune --show: the device's stored file, or why there is none or it is refused. */
static int show_stored(const char *device) {
  cl_runtime rt;
  error e = {0};
  if (rt_open(&rt, device, NULL, &e)) return error_report(&e);
  char path[1200], err[1400];
  tuning_path(&rt.info, path, sizeof path);
  printf("device %s (%s, driver %s)\ntuning file %s\n", rt.info.name, rt.info.platform_name, rt.info.driver, path);
  tuning t;
  if (access(path, F_OK) != 0) {
    printf("no stored tuning: CLBlast defaults; --gemm auto takes fused for Linear layers up to %d wide\n",
           OPS_FUSED_MAX_WIDTH);
    rt_close(&rt);
    return EXIT_OK;
  }
  if (tuning_load(path, &t, err, sizeof err)) cli_usage_exit("tune: %s", err);
  const bool stale = strcmp(t.device, rt.info.name) || strcmp(t.platform, rt.info.platform_name) ||
                     strcmp(t.driver, rt.info.driver);
  rt_close(&rt);
  if (stale) printf("stale: tuned for '%s' driver '%s'; runs ignore it (re-run 'cltrain tune')\n", t.device, t.driver);
  printf("CLBlast: %s (%.1f us per shape mix, %.1f us with the defaults)\n",
         t.n_sets ? "tuned" : "defaults", t.tuned_us, t.default_us);
  for (int s = 0; s < t.n_sets; s++) {
    printf("  %s", t.sets[s].kernel);
    for (int i = 0; i < t.sets[s].n; i++) printf(" %s=%zu", t.sets[s].names[i], t.sets[s].values[i]);
    printf("\n");
  }
  printf("GEMM path per Linear shape (%d stored; others: fused up to %d wide):\n", t.choices.n, OPS_FUSED_MAX_WIDTH);
  for (int i = 0; i < t.choices.n; i++) {
    const gemm_choice *c = &t.choices.items[i];
    printf("  %dx%d batch %d: %s (clblast %.1f us, fused %.1f us)\n", c->in, c->out, c->batch,
           gemm_path_name(c->path), c->clblast_us, c->fused_us);
  }
  return EXIT_OK;
}

static void tune_usage(FILE *out) {
  fprintf(out,
          "usage: cltrain tune [--models LIST] [--batch-sizes LIST] [--device SPEC]\n"
          "                    [--candidates N] [--reps N] [--dry-run] [--verbose] [--paths-only]\n"
          "       cltrain tune --show [--device SPEC]\n"
          "\n"
          "Search CLBlast GEMM parameters (direct-kernel tiles and the direct/indirect\n"
          "threshold) for the GEMM shapes of the models' training steps on this device; then\n"
          "time every Linear stage up to 64 wide on CLBlast and on the fused kernels at each\n"
          "batch size, and store the parameters and the faster path per shape for the device\n"
          "(name + platform + driver). Later runs on the device apply them automatically\n"
          "(--gemm auto takes the stored path per shape). Compiling each candidate takes\n"
          "seconds to tens of seconds on a CPU device.\n"
          "\n"
          "  --models LIST       zoo names or model files (default jsc-tiny,jsc-toy,jsc-s,jsc-trt)\n"
          "  --batch-sizes LIST  default 32,256,1024\n"
          "  --device SPEC       index, P:D or name substring (default: CLTRAIN_DEVICE or 0)\n"
          "  --candidates N      try only the first N direct-kernel parameter sets (default all %zu)\n"
          "  --reps N            timed calls per shape and round (default 20)\n"
          "  --dry-run           measure and report, do not store\n"
          "  --verbose           per-shape times of the direct and indirect paths\n"
          "  --paths-only        keep the stored CLBlast parameters (or the defaults) and\n"
          "                      measure only the GEMM path per Linear stage (seconds)\n"
          "  --show              print the device's stored tuning and GEMM paths, measure\n"
          "                      nothing (a corrupt file is an error here, exit 2)\n"
          "\n"
          "The file lives in $CLTRAIN_TUNING_DIR, else ~/.cache/cltrain/tuning.\n",
          N_DIRECT);
}

typedef struct {
  const char *models, *batches, *device, *candidates, *reps;
  bool dry_run, verbose, show, paths_only;
} tune_args;

static int tune_option(void *ctx, int id, const char *arg, error *err) {
  tune_args *a = ctx;
  switch (id) {
    case 'm': a->models = arg; return 0;
    case 'b': a->batches = arg; return 0;
    case 'd': a->device = arg; return 0;
    case 'c': a->candidates = arg; return 0;
    case 'r': a->reps = arg; return 0;
    case 'n': a->dry_run = true; return 0;
    case 'v': a->verbose = true; return 0;
    case 's': a->show = true; return 0;
    case 'p': a->paths_only = true; return 0;
    default: return ERR_RUNTIME(err, "option id %d is not a tune option", id);
  }
}

int cmd_tune(int argc, char **argv) {
  const char *models = "jsc-tiny,jsc-toy,jsc-s,jsc-trt", *batches = "32,256,1024", *device = NULL;
  long candidates = (long)N_DIRECT, reps = 20;
  bool dry_run = false, verbose = false;
  static const struct option opts[] = {
      {"models", required_argument, NULL, 'm'},     {"batch-sizes", required_argument, NULL, 'b'},
      {"device", required_argument, NULL, 'd'},     {"candidates", required_argument, NULL, 'c'},
      {"reps", required_argument, NULL, 'r'},       {"dry-run", no_argument, NULL, 'n'},
      {"verbose", no_argument, NULL, 'v'},          {"show", no_argument, NULL, 's'},
      {"paths-only", no_argument, NULL, 'p'},       {NULL, 0, NULL, 0}};
  tune_args a = {models, batches, device, NULL, NULL, dry_run, verbose, false, false};
  const struct option *tables[] = {opts, NULL};
  const cli_command cmd = {.cmd = "tune", .tables = tables, .help_fn = tune_usage, .apply = tune_option, .ctx = &a};
  const int first = cli_parse(argc, argv, &cmd);
  if (first < argc) cli_usage_exit("tune: unexpected argument '%s'", argv[first]);
  models = a.models, batches = a.batches, device = a.device, dry_run = a.dry_run, verbose = a.verbose;
  if (a.candidates) candidates = cli_parse_long("--candidates", a.candidates, 1, (long)N_DIRECT);
  if (a.reps) reps = cli_parse_long("--reps", a.reps, 1, 100000);
  if (a.show) return show_stored(device);

  tune_ctx t = {.reps = (int)reps};
  size_t max_elems = 1;
  char err[1024], names[32][LIST_ITEM_MAX], sizes[32][LIST_ITEM_MAX];
  int n_models = split_list(models, names, 32), n_sizes = split_list(batches, sizes, 32);
  if (n_models <= 0) cli_usage_exit("tune: --models '%s' is not a comma-separated list of models", models);
  if (n_sizes <= 0) cli_usage_exit("tune: --batch-sizes '%s' is not a comma-separated list", batches);
  model_spec *specs = xcalloc((size_t)n_models, sizeof *specs);
  size_t batch_list[32];
  for (int bi = 0; bi < n_sizes; bi++) batch_list[bi] = (size_t)cli_parse_long("--batch-sizes", sizes[bi], 1, 1 << 20);
  for (int mi = 0; mi < n_models; mi++) {
    error me = {0};
    if (model_load(names[mi], &specs[mi], &me) != 0) cli_usage_exit("tune: %s", me.msg);
    const model_spec *m = &specs[mi];
    for (int bi = 0; bi < n_sizes; bi++) {
      size_t batch = batch_list[bi];
      for (int l = 0; l < m->n_layers; l++) {
        gemm_shape s[LINEAR_GEMM_COUNT];
        const int n = linear_step_gemms(m, l, batch, s);
        for (int j = 0; j < n; j++) add_shape(&t, &s[j]);
        if (n == 0) continue;
        const size_t in = (size_t)m->layers[l].in, out = (size_t)m->layers[l].out;
        size_t e = batch * (in > out ? in : out);
        if (e > max_elems) max_elems = e;
        if (in * out > max_elems) max_elems = in * out;
      }
    }
  }
  if (t.n_shapes == 0) cli_usage_exit("tune: the models have no linear layers, nothing to tune");

  /* Start from CLBlast's own defaults: no tuning_apply_stored here. */
  cl_runtime rt;
  error e = {0};
  if (rt_open(&rt, device, NULL, &e)) exit(error_report(&e)); /* exit: what is held stays reachable */
  const tune_paths_plan plan = {specs, n_models, batch_list, n_sizes, (int)reps};
  if (a.paths_only) {
    const int rc = tune_paths_only(&rt, &plan, dry_run);
    rt_close(&rt);
    for (int mi = 0; mi < n_models; mi++) model_free(&specs[mi]);
    free(specs);
    return rc;
  }
  t.rt = &rt;
  t.a = rt_alloc(&rt, max_elems * 4);
  t.b = rt_alloc(&rt, max_elems * 4);
  t.c = rt_alloc(&rt, max_elems * 4);
  rt_zero(&rt, t.a, 0, max_elems * 4);
  rt_zero(&rt, t.b, 0, max_elems * 4);
  printf("tuning %d GEMM shapes on %s (driver %s)\n", t.n_shapes, rt.info.name, rt.info.driver);

  double *per_direct = xcalloc((size_t)t.n_shapes, sizeof(double));
  double *per_indirect = xcalloc((size_t)t.n_shapes, sizeof(double));
  double base = time_all(&t, NULL);
  printf("  CLBlast defaults: %10.1f us per shape mix\n", base);

  /* Direct-kernel parameters, with the direct path forced for every shape. */
  const size_t never_indirect = TUNING_NEVER_INDIRECT;
  set_threshold(&t, never_indirect);
  double *cand_us = xcalloc((size_t)candidates, sizeof(double));
  for (long i = 0; i < candidates; i++) {
    cand_us[i] = INFINITY;
    double t0 = now_seconds();
    int st = gemm_override(&rt, "XgemmDirect", 10, direct_names, direct_candidates[i]);
    if (st != 0) {
      printf("  direct set %2ld: refused by CLBlast (%s)\n", i, clblast_status_name(st));
      continue;
    }
    run_shape(&t, &t.shapes[0]); /* compiles the candidate (not timed) */
    rt_finish(&rt);
    double compile_s = now_seconds() - t0;
    cand_us[i] = time_all(&t, NULL);
    print_set(i, cand_us[i], compile_s);
  }
  /* The best few again, interleaved: per shape the best of the rounds. */
  long finalists[N_FINALISTS];
  int n_final = 0;
  for (long i = 0; i < candidates; i++) {
    if (!isfinite(cand_us[i])) continue;
    int pos = n_final < N_FINALISTS ? n_final++ : N_FINALISTS;
    while (pos > 0 && cand_us[i] < cand_us[finalists[pos - 1]]) {
      if (pos < N_FINALISTS) finalists[pos] = finalists[pos - 1];
      pos--;
    }
    if (pos < N_FINALISTS) finalists[pos] = i;
  }
  if (n_final == 0) cli_usage_exit("tune: CLBlast refused every candidate parameter set");
  double *final_shape = xcalloc((size_t)n_final * (size_t)t.n_shapes, sizeof(double));
  double *per_round = xcalloc((size_t)t.n_shapes, sizeof(double));
  for (int f = 0; f < n_final * t.n_shapes; f++) final_shape[f] = INFINITY;
  for (int round = 0; round < FINAL_ROUNDS && n_final > 1; round++)
    for (int f = 0; f < n_final; f++) {
      CLBLAST_CHECK(&rt.err, gemm_override(&rt, "XgemmDirect", 10, direct_names, direct_candidates[finalists[f]]));
      time_all(&t, per_round);
      for (int i = 0; i < t.n_shapes; i++)
        final_shape[f * t.n_shapes + i] = fmin(final_shape[f * t.n_shapes + i], per_round[i]);
    }
  int best_f = 0;
  double best_us = INFINITY;
  for (int f = 0; f < n_final; f++) {
    double total = 0;
    for (int i = 0; i < t.n_shapes; i++) total += final_shape[f * t.n_shapes + i];
    if (n_final == 1) total = cand_us[finalists[0]];
    else printf("  finalist set %2ld: %10.1f us (best of %d interleaved rounds per shape)\n", finalists[f], total,
                FINAL_ROUNDS);
    if (total < best_us) best_us = total, best_f = f;
  }
  const int best = (int)finalists[best_f];
  CLBLAST_CHECK(&rt.err, gemm_override(&rt, "XgemmDirect", 10, direct_names, direct_candidates[best]));
  time_all(&t, per_direct);
  for (int i = 0; i < t.n_shapes && n_final > 1; i++)
    per_direct[i] = fmin(per_direct[i], final_shape[best_f * t.n_shapes + i]);
  free(final_shape);
  free(per_round);
  free(cand_us);

  /* Direct vs indirect per shape; CLBlast takes the direct path when m*n*k < T^3, so pick
     the threshold T that gives the lowest total under that rule. */
  set_threshold(&t, 1);
  time_all(&t, per_indirect);
  size_t best_threshold = never_indirect;
  double best_total = 0;
  for (int cand = -1; cand < t.n_shapes; cand++) {
    size_t thr = never_indirect;
    if (cand >= 0) {
      double mnk = (double)t.shapes[cand].m * (double)t.shapes[cand].n * (double)t.shapes[cand].k;
      thr = (size_t)floor(cbrt(mnk)); /* the largest T with T^3 <= m*n*k: this shape and */
      while ((double)(thr + 1) * (thr + 1) * (thr + 1) <= mnk) thr++; /* larger go indirect */
    }
    double total = 0;
    for (int i = 0; i < t.n_shapes; i++) {
      double mnk = (double)t.shapes[i].m * (double)t.shapes[i].n * (double)t.shapes[i].k;
      total += mnk < (double)thr * thr * thr ? per_direct[i] : per_indirect[i];
    }
    if (cand < 0 || total < best_total) best_total = total, best_threshold = thr;
  }
  /* best_total uses the best time of every round per shape, so it is below best_us */
  if (best_threshold == never_indirect)
    printf("  best direct set %d: %.1f us; indirect never faster: all direct, %.1f us (best of all rounds)\n",
           best, best_us, best_total);
  else
    printf("  best direct set %d: %.1f us; indirect from m*n*k >= %zu^3: %.1f us (best of all rounds)\n",
           best, best_us, best_threshold, best_total);
  if (verbose) {
    printf("  %-22s %10s %10s  path\n", "shape (m x n x k)", "direct us", "indirect");
    for (int i = 0; i < t.n_shapes; i++) {
      const gemm_shape *sh = &t.shapes[i];
      double mnk = (double)sh->m * (double)sh->n * (double)sh->k;
      char name[64];
      snprintf(name, sizeof name, "%zux%zux%zu %c%c", sh->m, sh->n, sh->k, sh->ta ? 'T' : 'N', sh->tb ? 'T' : 'N');
      printf("  %-22s %10.1f %10.1f  %s\n", name, per_direct[i], per_indirect[i],
             mnk < (double)best_threshold * best_threshold * best_threshold ? "direct" : "indirect");
    }
  }

  tuning tu = {0};
  snprintf(tu.device, sizeof tu.device, "%s", rt.info.name);
  snprintf(tu.platform, sizeof tu.platform, "%s", rt.info.platform_name);
  snprintf(tu.driver, sizeof tu.driver, "%s", rt.info.driver);
  tu.default_us = base;
  tu.tuned_us = best_total;
  if (best_total < base * 0.97) {
    tuning_set *d = &tu.sets[tu.n_sets++];
    snprintf(d->kernel, sizeof d->kernel, "XgemmDirect");
    d->n = 10;
    for (int i = 0; i < 10; i++) {
      snprintf(d->names[i], sizeof d->names[i], "%s", direct_names[i]);
      d->values[i] = direct_candidates[best][i];
    }
    tuning_set *g = &tu.sets[tu.n_sets++];
    snprintf(g->kernel, sizeof g->kernel, "GemmRoutine");
    g->n = 1;
    snprintf(g->names[0], sizeof g->names[0], "XGEMM_MIN_INDIRECT_SIZE");
    g->values[0] = best_threshold;
    printf("tuned: %.1f us vs %.1f us with CLBlast defaults (%.2fx)\n", best_total, base, base / best_total);
  } else {
    printf("tuned: no set beats the CLBlast defaults by 3%%; storing 'defaults'\n");
    tu.tuned_us = base;
  }
  tune_gemm_paths(&rt, &plan, &tu.choices);
  if (rt_status(&rt, &e)) return error_report(&e);
  if (!dry_run) {
    char path[1200];
    tuning_path(&rt.info, path, sizeof path);
    if (tuning_save(path, &tu, err, sizeof err) != 0) cli_usage_exit("tune: %s", err);
    printf("stored %s\n", path);
  }
  free(per_direct);
  free(per_indirect);
  rt_release(&t.a);
  rt_release(&t.b);
  rt_release(&t.c);
  rt_close(&rt);
  for (int mi = 0; mi < n_models; mi++) model_free(&specs[mi]);
  free(specs);
  return EXIT_OK;
}
