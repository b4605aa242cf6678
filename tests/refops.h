/* Plain-C double-precision references of every layer operation (PyTorch semantics),
   independent of the kernels: the op tests compare the device with these, and
   check these against central finite differences of their own forward. Header-only
   because every tests/test_*.c is its own executable. */
#ifndef CLTRAIN_REFOPS_H
#define CLTRAIN_REFOPS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "testutil.h"

/* Test shapes: batch sizes and widths. CLTRAIN_TEST_SMALL=1 picks a few that still reach
   every path of the kernels, for an interpreter (the oclgrind stage of scripts/test): one
   row; a row block of 32 and a partial one; more rows than a work-group of 64; one column;
   13 = the float8, float4 and scalar tails of a 16-column group; 17 = a full group and a
   second one. */
static const int ref_batches_full_[] = {1, 2, 31, 32, 33, 255, 256, 257, 1000};
static const int ref_widths_full_[] = {1, 5, 16, 48, 64};
static const int ref_batches_small_[] = {1, 33, 70};
static const int ref_widths_small_[] = {1, 13, 17};
static inline bool ref_small(void) {
  const char *s = getenv("CLTRAIN_TEST_SMALL");
  return s && *s && strcmp(s, "0") != 0;
}
/* A test's own row count FULL for its extra cases, at most 70 rows with CLTRAIN_TEST_SMALL
   (still more than a work-group of 64 and two row blocks of 32). */
static inline int ref_rows(int full) { return ref_small() && full > 70 ? 70 : full; }
#define REF_COUNT_(a) ((int)(sizeof a / sizeof a[0]))
#define ref_batches (ref_small() ? ref_batches_small_ : ref_batches_full_)
#define ref_widths (ref_small() ? ref_widths_small_ : ref_widths_full_)
#define REF_N_BATCHES (ref_small() ? REF_COUNT_(ref_batches_small_) : REF_COUNT_(ref_batches_full_))
#define REF_N_WIDTHS (ref_small() ? REF_COUNT_(ref_widths_small_) : REF_COUNT_(ref_widths_full_))

/* Deterministic test data in [lo, hi). */
static inline double ref_rand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*s >> 11) * 0x1.0p-53;
}
static inline void ref_fill(float *v, size_t n, uint64_t seed, double lo, double hi) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * ref_rand(&s));
}
/* Like ref_fill but every value at least `gap` away from 0 (finite differences never
   step across a ReLU kink). */
static inline void ref_fill_away(float *v, size_t n, uint64_t seed, double gap) {
  ref_fill(v, n, seed, -1.0, 1.0);
  for (size_t i = 0; i < n; i++)
    if (fabsf(v[i]) < gap) v[i] = v[i] < 0 ? (float)-gap : (float)gap;
}

/* max over i of |got - want| / max(|want|, floor). */
static inline double ref_max_err(const float *got, const double *want, size_t n, double floor_) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double s = fabs(want[i]) > floor_ ? fabs(want[i]) : floor_;
    double e = fabs((double)got[i] - want[i]) / s;
    if (!(e <= m)) m = e;
  }
  return m;
}
static inline double ref_max_err_dd(const double *got, const double *want, size_t n, double floor_) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double s = fabs(want[i]) > floor_ ? fabs(want[i]) : floor_;
    double e = fabs(got[i] - want[i]) / s;
    if (!(e <= m)) m = e;
  }
  return m;
}

/* ---- activation and dropout ("epilogue") ---- */
static inline double ref_act(act_kind a, double slope, double v) {
  switch (a) {
    case ACT_RELU: return v > 0 ? v : 0;
    case ACT_LEAKY_RELU: return v > 0 ? v : v * slope;
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case ACT_TANH: return tanh(v);
    case ACT_GELU: return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    default: return v;
  }
}
/* Derivative at the input v (not from the output, unlike the kernels). */
static inline double ref_act_deriv(act_kind a, double slope, double v) {
  switch (a) {
    case ACT_RELU: return v > 0 ? 1 : 0;
    case ACT_LEAKY_RELU: return v > 0 ? 1 : slope;
    case ACT_SIGMOID: { double s = 1.0 / (1.0 + exp(-v)); return s * (1 - s); }
    case ACT_TANH: { double t = tanh(v); return 1 - t * t; }
    case ACT_GELU: return 0.5 * (1.0 + erf(v / sqrt(2.0))) + v * exp(-0.5 * v * v) / sqrt(2.0 * 3.14159265358979323846);
    default: return 1;
  }
}
/* Multiplier of dropout for element idx: 0 or 1/(1-p) (1 without dropout). */
static inline double ref_drop(const op_epilogue *e, uint64_t step, size_t idx) {
  uint32_t thr = dropout_threshold(e->drop_p);
  if (!thr) return 1.0;
  return dropout_keep(e->seed, step, e->drop_layer, (uint32_t)idx, thr) ? (double)dropout_scale(e->drop_p) : 0.0;
}
static inline double ref_epi(const op_epilogue *e, uint64_t step, size_t idx, double v) {
  return ref_act(e->act, e->slope, v) * ref_drop(e, step, idx);
}
static inline double ref_epi_back(const op_epilogue *e, uint64_t step, size_t idx, double v, double g) {
  return g * ref_drop(e, step, idx) * ref_act_deriv(e->act, e->slope, v);
}

/* ---- Linear: h = x W^T + b, x[rows][in], W[out][in] ---- */
static inline void ref_linear(int rows, int in, int out, const float *x, const float *W,
                              const float *b, double *h) {
  for (int i = 0; i < rows; i++)
    for (int o = 0; o < out; o++) {
      double acc = b ? b[o] : 0.0;
      for (int k = 0; k < in; k++) acc += (double)x[(size_t)i * in + k] * W[(size_t)o * in + k];
      h[(size_t)i * out + o] = acc;
    }
}
/* dW = dh^T x, db = column sums of dh, dx = dh W. */
static inline void ref_linear_back(int rows, int in, int out, const float *x, const float *W,
                                   const double *dh, double *dW, double *db, double *dx) {
  for (int o = 0; o < out; o++) {
    double s = 0;
    for (int i = 0; i < rows; i++) s += dh[(size_t)i * out + o];
    if (db) db[o] = s;
    for (int k = 0; k < in; k++) {
      double acc = 0;
      for (int i = 0; i < rows; i++) acc += dh[(size_t)i * out + o] * x[(size_t)i * in + k];
      if (dW) dW[(size_t)o * in + k] = acc;
    }
  }
  if (dx)
    for (int i = 0; i < rows; i++)
      for (int k = 0; k < in; k++) {
        double acc = 0;
        for (int o = 0; o < out; o++) acc += dh[(size_t)i * out + o] * W[(size_t)o * in + k];
        dx[(size_t)i * in + k] = acc;
      }
}

/* ---- BatchNorm1d, training mode, on v = x + bias (bias may be NULL) ---- */
typedef struct {
  double *mean, *invstd;  /* per channel */
} ref_bn_saved;

/* z = epi(gamma * (v - mean) / sqrt(var + eps) + beta); running stats updated in place
   (unbiased variance, the biased one for a batch of one as the kernels). */
static inline void ref_bn_train(int rows, int C, const double *x, const double *bias,
                                const double *gamma, const double *beta, double *rm, double *rv,
                                double momentum, double eps, const op_epilogue *e, uint64_t step,
                                double *z, ref_bn_saved *sv) {
  for (int c = 0; c < C; c++) {
    double b = bias ? bias[c] : 0, s = 0, q = 0;
    for (int i = 0; i < rows; i++) s += x[(size_t)i * C + c] + b;
    double mean = s / rows;
    for (int i = 0; i < rows; i++) {
      double d = x[(size_t)i * C + c] + b - mean;
      q += d * d;
    }
    double var = q / rows, invstd = 1.0 / sqrt(var + eps);
    if (rm) {
      double unbiased = rows > 1 ? q / (rows - 1) : var;
      rm[c] = momentum * mean + (1 - momentum) * rm[c];
      rv[c] = momentum * unbiased + (1 - momentum) * rv[c];
    }
    if (sv) { sv->mean[c] = mean; sv->invstd[c] = invstd; }
    for (int i = 0; i < rows; i++) {
      size_t idx = (size_t)i * C + c;
      double y = (x[idx] + b - mean) * invstd * gamma[c] + beta[c];
      z[idx] = e ? ref_epi(e, step, idx, y) : y;
    }
  }
}

/* Backward from dz (gradient at the epilogue output): dx, dgamma, dbeta, dbias (= column
   sums of dx). Recomputes the forward's batch statistics. */
static inline void ref_bn_train_back(int rows, int C, const double *x, const double *bias,
                                     const double *gamma, const double *beta, double eps,
                                     const op_epilogue *e, uint64_t step, const double *dz,
                                     double *dx, double *dgamma, double *dbeta, double *dbias) {
  for (int c = 0; c < C; c++) {
    double b = bias ? bias[c] : 0, s = 0, q = 0;
    for (int i = 0; i < rows; i++) s += x[(size_t)i * C + c] + b;
    double mean = s / rows;
    for (int i = 0; i < rows; i++) {
      double d = x[(size_t)i * C + c] + b - mean;
      q += d * d;
    }
    double invstd = 1.0 / sqrt(q / rows + eps), sg = 0, sgx = 0;
    double *g = malloc((size_t)rows * sizeof *g), *xh = malloc((size_t)rows * sizeof *xh);
    for (int i = 0; i < rows; i++) {
      size_t idx = (size_t)i * C + c;
      xh[i] = (x[idx] + b - mean) * invstd;
      double y = xh[i] * gamma[c] + beta[c];
      g[i] = e ? ref_epi_back(e, step, idx, y, dz[idx]) : dz[idx];
      sg += g[i];
      sgx += g[i] * xh[i];
    }
    double sdx = 0;
    for (int i = 0; i < rows; i++) {
      double d = gamma[c] * invstd * (g[i] - sg / rows - xh[i] * sgx / rows);
      if (dx) dx[(size_t)i * C + c] = d;
      sdx += d;
    }
    dgamma[c] = sgx;
    dbeta[c] = sg;
    if (dbias) dbias[c] = sdx;
    free(g);
    free(xh);
  }
}

static inline void ref_bn_eval(int rows, int C, const double *x, const double *bias,
                               const double *gamma, const double *beta, const double *rm,
                               const double *rv, double eps, act_kind act, double slope, double *z) {
  for (int i = 0; i < rows; i++)
    for (int c = 0; c < C; c++) {
      size_t idx = (size_t)i * C + c;
      double v = x[idx] + (bias ? bias[c] : 0);
      z[idx] = ref_act(act, slope, (v - rm[c]) / sqrt(rv[c] + eps) * gamma[c] + beta[c]);
    }
}

/* ---- softmax cross-entropy, mean over the batch ---- */
static inline double ref_xent(int rows, int C, const double *z, const int32_t *y, double *dz,
                              long *correct, long *confusion) {
  double total = 0;
  for (int i = 0; i < rows; i++) {
    const double *r = z + (size_t)i * C;
    int arg = 0;
    for (int j = 1; j < C; j++)
      if (r[j] > r[arg]) arg = j;
    double s = 0;
    for (int j = 0; j < C; j++) s += exp(r[j] - r[arg]);
    total += log(s) - (r[y[i]] - r[arg]);
    if (correct && arg == y[i]) (*correct)++;
    if (confusion) confusion[y[i] * C + arg]++;
    if (dz)
      for (int j = 0; j < C; j++) dz[(size_t)i * C + j] = (exp(r[j] - r[arg]) / s - (j == y[i])) / rows;
  }
  return total / rows;
}

/* ---- optimizers, PyTorch's formulas in double ---- */
static inline void ref_optim(const optim_config *o, uint64_t step, size_t n, double *p,
                             const double *g_in, double *s1, double *s2) {
  for (size_t i = 0; i < n; i++) {
    double g = g_in[i], w = p[i], wd = o->weight_decay, lr = o->lr;
    if (o->kind == OPTIM_SGD) {
      if (wd != 0) g += wd * w;
      s1[i] = o->momentum * s1[i] + g;
      g = o->nesterov ? g + o->momentum * s1[i] : s1[i];
      p[i] = w - lr * g;
      continue;
    }
    if (o->kind == OPTIM_RMSPROP) { /* s1: square_avg */
      if (wd != 0) g += wd * w;
      s1[i] = o->alpha * s1[i] + (1 - (double)o->alpha) * g * g;
      p[i] = w - lr * g / (sqrt(s1[i]) + o->eps);
      continue;
    }
    if (o->kind == OPTIM_ADAMW) w *= 1 - lr * wd;
    else if (wd != 0) g += wd * w;
    s1[i] = o->beta1 * s1[i] + (1 - (double)o->beta1) * g;
    s2[i] = o->beta2 * s2[i] + (1 - (double)o->beta2) * g * g;
    double bc1 = 1 - pow(o->beta1, (double)step), bc2 = 1 - pow(o->beta2, (double)step);
    p[i] = w - lr / bc1 * s1[i] / (sqrt(s2[i]) / sqrt(bc2) + o->eps);
  }
}

/* float -> double copies */
static inline double *ref_dup(const float *v, size_t n) {
  double *d = calloc(n ? n : 1, sizeof *d);
  for (size_t i = 0; i < n; i++) d[i] = v[i];
  return d;
}

#endif
