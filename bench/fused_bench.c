/* Micro-benchmark (not a test): the fused narrow Linear path (ops_fused.h) against the
   CLBlast path (ops_linear.c) per layer and stage, for jsc-tiny's and jsc-trt's Linear
   shapes (and the rest of the zoo's) at batch 32, 256, 1024, launches queued as in training (no host wait between
   them). Every round times every configuration once per path, the paths interleaved; the
   table gives the median over the rounds of the mean time per stage.

     fused_bench [--rounds N] [--reps N] [--tuned] [--form cpu|gpu] [--part]

   A Linear followed by a BatchNorm runs without bias and activation on both paths (the
   BatchNorm adds the bias); --part makes the fused forward also write the block sums such
   a BatchNorm could take its mean from. Every Linear computes its input gradient (in the
   zoo a BatchNorm with parameters comes first).    --tuned applies the XgemmDirect set that `cltrain tune` chose on the development machine
   (BENCHMARKS.md) instead of CLBlast's defaults. The 1-minute load average is printed
   before and after (the machine may be shared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cl/gemm.h"
#include "ops/ops_fused.h"

/* A benchmark program: any failure ends it, naming where. */
#define BENCH_DIE(...)                                          \
  do {                                                          \
    fprintf(stderr, "fused_bench: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                               \
    fputc('\n', stderr);                                        \
    exit(1);                                                    \
  } while (0)

typedef struct {
  const char *model;
  int in, out;
  bool bias_act; /* bias + ReLU after the GEMM (else a BatchNorm follows and takes the bias) */
} layer;

/* The zoo's Linear layers (models/\*.model), in order; a model's rows add up to its step. */
static const layer layers[] = {
    {"jsc-tiny", 16, 5, true},  {"jsc-toy", 16, 8, false},  {"jsc-toy", 8, 8, false},
    {"jsc-toy", 8, 5, false},   {"jsc-s", 16, 64, false},   {"jsc-s", 64, 32, true},
    {"jsc-s", 32, 32, true},    {"jsc-s", 32, 32, true},    {"jsc-s", 32, 5, false},
    {"jsc-trt", 16, 32, false}, {"jsc-trt", 32, 48, false}, {"jsc-trt", 48, 16, false},
    {"jsc-trt", 16, 5, false},
};
static const char *const models[] = {"jsc-tiny", "jsc-toy", "jsc-s", "jsc-trt"};
#define N_MODELS 4
#define N_LAYERS ((int)(sizeof layers / sizeof layers[0]))
static const int batches[] = {32, 256, 1024};
#define N_BATCH 3

typedef struct {
  cl_runtime *rt;
  const ops_kernels *k;
  const layer *l;
  int rows;
  cl_mem x, params, params_t, z, dz, dx, grads;
  op_epilogue e;
  fused_linear f;
  cl_mem part; /* block sums of the fused forward, or NULL */
} config;

static void clblast_fwd(config *c) {
  const size_t w = 0, b = (size_t)c->l->in * c->l->out;
  op_linear_forward_t(c->rt, c->rows, c->l->in, c->l->out, c->x, c->params_t, w, c->z);
  if (c->l->bias_act) op_bias_act_forward(c->rt, c->k, c->rows, c->l->out, c->z, c->params, b, c->z, NULL, &c->e);
}
static void clblast_bwd(config *c) {
  const size_t w = 0, b = (size_t)c->l->in * c->l->out;
  if (c->l->bias_act) op_bias_act_backward(c->rt, c->k, c->rows, c->l->out, c->dz, c->z, true, c->grads, b, &c->e, NULL);
  op_linear_backward(c->rt, c->rows, c->l->in, c->l->out, c->dz, c->x, c->params, w, c->grads, w, c->dx);
}
static void fused_fwd(config *c) {
  const size_t b = (size_t)c->l->in * c->l->out;
  op_fused_forward(c->rt, &c->f, c->rows, c->x, c->params, 0, c->l->bias_act, b, c->z, NULL, c->part, &c->e);
}
static void fused_bwd(config *c) {
  const size_t b = (size_t)c->l->in * c->l->out;
  op_fused_backward(c->rt, &c->f, c->rows, c->dz, c->z, c->x, c->params, 0, c->grads, 0, c->l->bias_act, b,
                    c->dx, &c->e, NULL);
}

/* Mean microseconds per call of FN over reps queued calls (one untimed call first). */
static double time_us(config *c, void (*fn)(config *), int reps) {
  fn(c);
  if (rt_finish(c->rt)) BENCH_DIE("%s", rt_error(c->rt)->msg);
  const double t0 = now_seconds();
  for (int i = 0; i < reps; i++) fn(c);
  if (rt_finish(c->rt)) BENCH_DIE("%s", rt_error(c->rt)->msg);
  return (now_seconds() - t0) / reps * 1e6;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double load_avg(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

static void fill(cl_runtime *rt, cl_mem m, size_t n, unsigned seed) {
  float *v = xmalloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)((i * 2654435761u + seed) % 2001) / 1000.0f - 1.0f;
  rt_write(rt, m, 0, n * sizeof *v, v);
  free(v);
}

int main(int argc, char **argv) {
  int rounds = 7, reps = 100;
  bool tuned = false, part = false;
  fused_form form = FUSED_FORM_AUTO;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--tuned")) tuned = true;
    else if (!strcmp(argv[i], "--part")) part = true;
    else if (!strcmp(argv[i], "--form") && i + 1 < argc) {
      const char *f = argv[++i];
      form = !strcmp(f, "gpu") ? FUSED_FORM_GPU : !strcmp(f, "cpu") ? FUSED_FORM_CPU : FUSED_FORM_AUTO;
    } else {
      fprintf(stderr, "usage: fused_bench [--rounds N] [--reps N] [--tuned] [--form cpu|gpu] [--part]\n");
      return 2;
    }
  }
  if (rounds < 1 || rounds > 99 || reps < 1) {
    fprintf(stderr, "fused_bench: --rounds must be 1..99 and --reps >= 1\n");
    return 2;
  }
  cl_runtime rt;
  error err = {0};
  if (rt_open(&rt, NULL, NULL, &err)) BENCH_DIE("%s", err.msg);
  if (tuned) {
    static const char *const names[] = {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                        "KWID", "VWMD", "VWND", "PADA", "PADB"};
    static const size_t values[] = {16, 2, 2, 2, 2, 2, 8, 8, 0, 0};
    const char *thr_name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    const size_t never_indirect = 1u << 20;
    if (gemm_override(&rt, "XgemmDirect", 10, names, values) || gemm_override(&rt, "GemmRoutine", 1, thr_name, &never_indirect))
      BENCH_DIE("CLBlast refused the tuned parameters");
  }
  ops_kernels k;
  ops_init(&k, &rt);
  config cfg[N_LAYERS][N_BATCH];
  for (int li = 0; li < N_LAYERS; li++)
    for (int bi = 0; bi < N_BATCH; bi++) {
      config *c = &cfg[li][bi];
      const layer *l = &layers[li];
      *c = (config){.rt = &rt, .k = &k, .l = l, .rows = batches[bi]};
      c->e = (op_epilogue){.act = l->bias_act ? ACT_RELU : ACT_NONE};
      const size_t nx = (size_t)c->rows * l->in, nh = (size_t)c->rows * l->out, np = (size_t)l->in * l->out + l->out;
      c->x = rt_alloc(&rt, nx * 4);
      c->dx = rt_alloc(&rt, nx * 4);
      c->z = rt_alloc(&rt, nh * 4);
      c->dz = rt_alloc(&rt, nh * 4);
      c->params = rt_alloc(&rt, np * 4);
      c->params_t = rt_alloc(&rt, np * 4);
      c->grads = rt_alloc(&rt, np * 4);
      fill(&rt, c->x, nx, 1);
      fill(&rt, c->dz, nh, 2);
      fill(&rt, c->params, np, 3);
      fill(&rt, c->params_t, np, 3);
      if (part && !l->bias_act) c->part = rt_alloc(&rt, ((size_t)c->rows + 31) / 32 * l->out * 4);
      if (fused_linear_init(&c->f, &rt, l->in, l->out, c->e.act, form, &err)) BENCH_DIE("%s", err.msg);
    }
  const double load0 = load_avg();
  double t[N_LAYERS][N_BATCH][4][99];
  for (int r = 0; r < rounds; r++)
    for (int li = 0; li < N_LAYERS; li++)
      for (int bi = 0; bi < N_BATCH; bi++) {
        config *c = &cfg[li][bi];
        const int n = reps * 256 / (c->rows < 256 ? 256 : c->rows) + 1;
        t[li][bi][0][r] = time_us(c, clblast_fwd, n);
        t[li][bi][1][r] = time_us(c, fused_fwd, n);
        t[li][bi][2][r] = time_us(c, clblast_bwd, n);
        t[li][bi][3][r] = time_us(c, fused_bwd, n);
      }
  const double load1 = load_avg();
  printf("device %s; CLBlast %s; fused form %s%s; %d rounds; load %.2f -> %.2f\n", rt.info.name,
         tuned ? "tuned set" : "defaults", cfg[0][0].f.form == FUSED_FORM_GPU ? "gpu" : "cpu",
         part ? " with block sums" : "", rounds, load0, load1);
  printf("%-9s %-8s %5s | %9s %9s %6s | %9s %9s %6s | %6s\n", "model", "layer", "batch", "clblast f", "fused f",
         "x", "clblast b", "fused b", "x", "step x");
  double tot[N_MODELS][N_BATCH][4] = {{{0}}};
  for (int li = 0; li < N_LAYERS; li++)
    for (int bi = 0; bi < N_BATCH; bi++) {
      double m[4];
      for (int p = 0; p < 4; p++) m[p] = median(t[li][bi][p], rounds);
      int model = 0;
      while (strcmp(models[model], layers[li].model) != 0) model++;
      for (int p = 0; p < 4; p++) tot[model][bi][p] += m[p];
      char name[16];
      snprintf(name, sizeof name, "%dx%d", layers[li].in, layers[li].out);
      printf("%-9s %-8s %5d | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f | %6.2f\n", layers[li].model, name, batches[bi], m[0],
             m[1], m[0] / m[1], m[2], m[3], m[2] / m[3], (m[0] + m[2]) / (m[1] + m[3]));
    }
  for (int model = 0; model < N_MODELS; model++)
    for (int bi = 0; bi < N_BATCH; bi++) {
      const double *m = tot[model][bi];
      printf("%-9s %-8s %5d | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f | %6.2f\n", models[model], "all",
             batches[bi], m[0], m[1], m[0] / m[1], m[2], m[3], m[2] / m[3], (m[0] + m[2]) / (m[1] + m[3]));
    }
  for (int li = 0; li < N_LAYERS; li++)
    for (int bi = 0; bi < N_BATCH; bi++) {
      config *c = &cfg[li][bi];
      fused_linear_free(&c->f);
      cl_mem *all[] = {&c->x, &c->dx, &c->z, &c->dz, &c->params, &c->params_t, &c->grads, &c->part};
      for (int i = 0; i < 8; i++) rt_release(all[i]);
    }
  ops_free(&k);
  rt_close(&rt);
  return 0;
}
