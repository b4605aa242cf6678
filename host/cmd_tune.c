/* cltrain tune: measure CLBlast kernel parameters for the GEMM shapes of the models on
   this device and store the winner (see tuning.h). Every shape of a training step is
   timed: forward y = x W^T (B x out x in), input gradient dX = dY W (B x in x out) and
   weight gradient dW = dY^T X (out x in x B). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gemm.h"
#include "model.h"
#include "tuning.h"
#include "util.h"

typedef struct {
  size_t m, n, k;
  bool ta, tb;
} gemm_shape;

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
   CLBlast's divisibility constraints. */
static const char *const direct_names[] = {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                           "KWID", "VWMD", "VWND", "PADA", "PADB"};
static const size_t direct_candidates[][10] = {
    {8, 8, 8, 8, 8, 1, 1, 1, 0, 0},     {8, 4, 4, 4, 4, 1, 1, 1, 0, 0},
    {16, 4, 4, 4, 4, 1, 2, 2, 0, 0},    {16, 8, 8, 8, 8, 2, 1, 1, 0, 0},
    {32, 8, 8, 8, 8, 2, 2, 2, 0, 0},    {16, 4, 4, 4, 4, 2, 4, 4, 0, 0},
    {32, 8, 8, 8, 8, 2, 4, 4, 1, 1},    {16, 16, 16, 16, 16, 1, 1, 1, 0, 0},
};
#define N_DIRECT (sizeof direct_candidates / sizeof direct_candidates[0])

static void add_shape(tune_ctx *t, size_t m, size_t n, size_t k, bool ta, bool tb) {
  for (int i = 0; i < t->n_shapes; i++) {
    gemm_shape *s = &t->shapes[i];
    if (s->m == m && s->n == n && s->k == k && s->ta == ta && s->tb == tb) return;
  }
  if (t->n_shapes == MAX_SHAPES) return;
  t->shapes[t->n_shapes++] = (gemm_shape){m, n, k, ta, tb};
}

static void run_shape(tune_ctx *t, const gemm_shape *s) {
  size_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
  gemm(t->rt, s->ta, s->tb, s->m, s->n, s->k, 1.0f, t->a, 0, lda, t->b, 0, ldb, 0.0f, t->c, 0, s->n);
}

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

static void set_threshold(tune_ctx *t, size_t threshold) {
  const char *name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
  CLBLAST_CHECK(gemm_override(t->rt, "GemmRoutine", 1, name, &threshold));
}

static void tune_usage(FILE *out) {
  fprintf(out,
          "usage: cltrain tune [--models LIST] [--batch-sizes LIST] [--device SPEC]\n"
          "                    [--candidates N] [--reps N] [--dry-run]\n"
          "\n"
          "Search CLBlast GEMM parameters (direct-kernel tiles and the direct/indirect\n"
          "threshold) for the GEMM shapes of the models' training steps on this device, and\n"
          "store the fastest set per device (name + platform + driver). Later runs on the\n"
          "device apply it automatically. Compiling each candidate takes seconds to tens of\n"
          "seconds on a CPU device.\n"
          "\n"
          "  --models LIST       zoo names or model files (default jsc-tiny,jsc-toy,jsc-s,jsc-trt)\n"
          "  --batch-sizes LIST  default 32,256,1024\n"
          "  --device SPEC       index, P:D or name substring (default: CLTRAIN_DEVICE or 0)\n"
          "  --candidates N      try only the first N direct-kernel parameter sets (default all %zu)\n"
          "  --reps N            timed calls per shape and round (default 20)\n"
          "  --dry-run           measure and report, do not store\n"
          "\n"
          "The file lives in $CLTRAIN_TUNING_DIR, else ~/.cache/cltrain/tuning.\n",
          N_DIRECT);
}

int cmd_tune(int argc, char **argv) {
  const char *models = "jsc-tiny,jsc-toy,jsc-s,jsc-trt", *batches = "32,256,1024", *device = NULL;
  long candidates = (long)N_DIRECT, reps = 20;
  bool dry_run = false;
  static const struct option opts[] = {
      {"models", required_argument, NULL, 'm'},     {"batch-sizes", required_argument, NULL, 'b'},
      {"device", required_argument, NULL, 'd'},     {"candidates", required_argument, NULL, 'c'},
      {"reps", required_argument, NULL, 'r'},       {"dry-run", no_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'm': models = optarg; break;
      case 'b': batches = optarg; break;
      case 'd': device = optarg; break;
      case 'c': candidates = parse_long_opt("--candidates", optarg, 1, (long)N_DIRECT); break;
      case 'r': reps = parse_long_opt("--reps", optarg, 1, 100000); break;
      case 'n': dry_run = true; break;
      case 'h': tune_usage(stdout); return EXIT_OK;
      case ':': die_usage("tune: option '%s' needs a value", argv[optind - 1]);
      default: die_usage("tune: unknown option '%s' (see 'cltrain tune --help')", argv[optind - 1]);
    }
  }
  if (optind < argc) die_usage("tune: unexpected argument '%s'", argv[optind]);

  tune_ctx t = {.reps = (int)reps};
  size_t max_elems = 1;
  char err[1024], names[32][LIST_ITEM_MAX], sizes[32][LIST_ITEM_MAX];
  int n_models = split_list(models, names, 32), n_sizes = split_list(batches, sizes, 32);
  if (n_models <= 0) die_usage("tune: --models '%s' is not a comma-separated list of models", models);
  if (n_sizes <= 0) die_usage("tune: --batch-sizes '%s' is not a comma-separated list", batches);
  for (int mi = 0; mi < n_models; mi++) {
    model_spec m;
    if (model_load(names[mi], &m, err, sizeof err) != 0) die_usage("tune: %s", err);
    for (int bi = 0; bi < n_sizes; bi++) {
      size_t batch = (size_t)parse_long_opt("--batch-sizes", sizes[bi], 1, 1 << 20);
      for (int l = 0; l < m.n_layers; l++) {
        const layer_spec *L = &m.layers[l];
        if (L->kind != LAYER_LINEAR) continue;
        size_t in = (size_t)L->in, out = (size_t)L->out;
        add_shape(&t, batch, out, in, false, true);  /* forward */
        add_shape(&t, batch, in, out, false, false); /* input gradient */
        add_shape(&t, out, in, batch, true, false);  /* weight gradient */
        size_t e = batch * (in > out ? in : out);
        if (e > max_elems) max_elems = e;
        if (in * out > max_elems) max_elems = in * out;
      }
    }
    model_free(&m);
  }
  if (t.n_shapes == 0) die_usage("tune: the models have no linear layers, nothing to tune");

  cl_runtime rt;
  rt_open(&rt, device, NULL);
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
  const size_t never_indirect = 1u << 20;
  set_threshold(&t, never_indirect);
  int best = -1;
  double best_us = 0, *per_candidate = xcalloc((size_t)t.n_shapes, sizeof(double));
  for (long i = 0; i < candidates; i++) {
    int st = gemm_override(&rt, "XgemmDirect", 10, direct_names, direct_candidates[i]);
    if (st != 0) {
      printf("  direct set %ld: refused by CLBlast (%s)\n", i, clblast_status_name(st));
      continue;
    }
    double us = time_all(&t, per_candidate);
    printf("  direct set %ld (WGD=%zu MDIMCD=%zu NDIMCD=%zu VWMD=%zu): %10.1f us\n", i,
           direct_candidates[i][0], direct_candidates[i][1], direct_candidates[i][2],
           direct_candidates[i][6], us);
    if (best < 0 || us < best_us) {
      best = (int)i;
      best_us = us;
      memcpy(per_direct, per_candidate, (size_t)t.n_shapes * sizeof(double));
    }
  }
  free(per_candidate);
  if (best < 0) die_usage("tune: CLBlast refused every candidate parameter set");
  CLBLAST_CHECK(gemm_override(&rt, "XgemmDirect", 10, direct_names, direct_candidates[best]));

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
      thr = (size_t)ceil(cbrt(mnk)); /* this shape and larger go indirect */
    }
    double total = 0;
    for (int i = 0; i < t.n_shapes; i++) {
      double mnk = (double)t.shapes[i].m * (double)t.shapes[i].n * (double)t.shapes[i].k;
      total += mnk < (double)thr * thr * thr ? per_direct[i] : per_indirect[i];
    }
    if (cand < 0 || total < best_total) best_total = total, best_threshold = thr;
  }
  printf("  best direct set %d: %.1f us; with direct/indirect threshold %zu: %.1f us\n", best,
         best_us, best_threshold, best_total);

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
  if (!dry_run) {
    char path[1200];
    tuning_path(&rt.info, path, sizeof path);
    if (tuning_save(path, &tu, err, sizeof err) != 0) die_usage("tune: %s", err);
    printf("stored %s\n", path);
  }
  free(per_direct);
  free(per_indirect);
  rt_release(&t.a);
  rt_release(&t.b);
  rt_release(&t.c);
  rt_close(&rt);
  return EXIT_OK;
}
