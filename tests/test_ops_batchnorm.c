/* BatchNorm1d on the device (kernels/batchnorm.cl: training forward with running-stat
   update, evaluation forward, backward with dx, dgamma, dbeta and the preceding Linear's
   bias gradient, each fused with an activation and dropout) against the double-precision
   reference on every test batch size and width, with the CPU and the GPU-like local size;
   the reference backward against central finite differences of the reference forward.
   Tolerances: forward max relative error 1e-5, backward 1e-4. Absolute floors (see
   device_case): 0.1 * max(1, |gamma| * cond) for outputs and 0.1 * |gamma| * invstd * cond
   for dx, where cond = max(1, max|x| * invstd) of the channel measures how much float
   batch norm magnifies the rounding of x - mean (in PyTorch as here); 1 for dgamma and
   dbeta (sums over up to 1000 rows); the bias gradient, 0 in exact arithmetic, must stay
   below 1e-4 * max(sum|dx|, dx's floor) of its channel; 0.1 for the evaluation output (running
   statistics of O(1)); 1e-6 for the running statistics and the saved mean and invstd.
   Finite differences: 1e-6 relative to the largest input gradient. */
#include "devutil.h"
#include "refops.h"

static const op_epilogue epis[] = {
    {ACT_NONE, 0, 0, 0, 0, NULL},    {ACT_RELU, 0, 0, 0, 0, NULL},       {ACT_RELU, 0, 0.5f, 6, 3, NULL},
    {ACT_TANH, 0, 0, 0, 0, NULL},    {ACT_SIGMOID, 0, 0.3f, 2, 8, NULL}, {ACT_LEAKY_RELU, 0.01f, 0, 0, 0, NULL},
    {ACT_NONE, 0, 0.5f, 1, 1, NULL}, {ACT_LEAKY_RELU, -0.5f, 0.2f, 3, 4, NULL},
};
#define N_EPIS ((int)(sizeof epis / sizeof epis[0]))

static double loss_of(int rows, int C, const double *x, const double *bias, const double *g,
                      const double *b, const op_epilogue *e, const double *dz) {
  double *z = malloc((size_t)rows * C * sizeof *z), l = 0;
  ref_bn_train(rows, C, x, bias, g, b, NULL, NULL, 0.1, 1e-5, e, 1, z, NULL);
  for (int i = 0; i < rows * C; i++) l += dz[i] * z[i];
  free(z);
  return l;
}

static void finite_differences(void) {
  const int shapes[][2] = {{1, 3}, {2, 2}, {5, 3}, {31, 2}};
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
    for (int t = 0; t < N_EPIS; t++) {
      const int R = shapes[sh][0], C = shapes[sh][1], n = R * C;
      const op_epilogue *e = &epis[t];
      float fx[93], fp[12];
      ref_fill(fx, (size_t)n, (uint64_t)(7 * n + t), -2, 2);
      ref_fill(fp, 12, (uint64_t)(3 + t), 0.5, 1.5);
      double x[93], bias[4], g[4], b[4], dz[93], dx[93], dg[4], db[4], dbias[4];
      for (int i = 0; i < n; i++) { x[i] = fx[i]; dz[i] = 0.2 + 0.07 * i; }
      for (int c = 0; c < C; c++) { g[c] = fp[c]; b[c] = fp[4 + c] - 1.0; bias[c] = fp[8 + c]; }
      ref_bn_train_back(R, C, x, bias, g, b, 1e-5, e, 1, dz, dx, dg, db, dbias);
      double *vars[4] = {x, g, b, bias}, *grads[4] = {dx, dg, db, dbias};
      int counts[4] = {n, C, C, C};
      /* normwise, relative to the largest gradient entry of the case: the bias gradient
         is exactly 0 (a shift cancels in the mean) and a batch of one or two has (near)
         zero dx, so their differences are rounding noise of the loss */
      double fd[4][93], scale = 1e-6;
      for (int v = 0; v < 4; v++)
        for (int j = 0; j < counts[v]; j++) {
          const double h = 1e-6, keep = vars[v][j];
          vars[v][j] = keep + h;
          double lp = loss_of(R, C, x, bias, g, b, e, dz);
          vars[v][j] = keep - h;
          double lm = loss_of(R, C, x, bias, g, b, e, dz);
          vars[v][j] = keep;
          fd[v][j] = (lp - lm) / (2 * h);
          scale = fmax(scale, fabs(fd[v][j]));
        }
      for (int v = 0; v < 4; v++) {
        double err = 0;
        for (int j = 0; j < counts[v]; j++) err = fmax(err, fabs(grads[v][j] - fd[v][j]) / scale);
        CHECK(err < 1e-6, "FD rows=%d C=%d epilogue %d variable %d: %g", R, C, t, v, err);
      }
    }
}

/* Error with a per-channel floor: unit[c] * 0.1. */
static double chan_err(const float *got, const double *want, int rows, int C, const double *unit) {
  double m = 0;
  for (int i = 0; i < rows; i++)
    for (int c = 0; c < C; c++) {
      size_t idx = (size_t)i * C + c;
      double fl = 0.1 * unit[c], s = fabs(want[idx]) > fl ? fabs(want[idx]) : fl;
      double e = fabs(got[idx] - want[idx]) / s;
      if (!(e <= m)) m = e;
    }
  return m;
}

static void device_case(cl_runtime *rt, const ops_kernels *k, int rows, int C, const op_epilogue *epi,
                        bool has_bias) {
  op_epilogue ed = *epi, *e = &ed;
  const uint64_t step = 9;
  const size_t n = (size_t)rows * C, off = 5; /* params: [pad 5][bias C][gamma C][beta C] */
  float *x = xmalloc(n * 4), *dz = xmalloc(n * 4), *flat = xmalloc((off + 3 * (size_t)C) * 4);
  float *st = xmalloc(4 * (size_t)C * 4); /* stats: [pad C][mean C][var C][pad C] */
  ref_fill(x, n, n + 17, -1, 1);
  for (size_t i = 0; i < n; i++) x[i] = 1.0f + 2.0f * x[i] + 0.03f * (float)(i % (size_t)C);
  ref_fill(dz, n, n + 18, -1, 1);
  ref_fill(flat, off + 3 * (size_t)C, n + 19, 0.5, 1.5);
  ref_fill(st, 4 * (size_t)C, n + 20, 0.5, 1.5);
  const size_t bias_off = off, gamma_off = off + C, beta_off = off + 2 * (size_t)C;
  double *dxx = ref_dup(x, n), *ddz = ref_dup(dz, n), *bias = ref_dup(flat + bias_off, (size_t)C);
  double *gam = ref_dup(flat + gamma_off, (size_t)C), *bet = ref_dup(flat + beta_off, (size_t)C);
  double *rm = ref_dup(st + C, (size_t)C), *rv = ref_dup(st + 2 * (size_t)C, (size_t)C);
  double *rm0 = ref_dup(st + C, (size_t)C), *rv0 = ref_dup(st + 2 * (size_t)C, (size_t)C);
  double *z = xmalloc(n * 8), *ze = xmalloc(n * 8), *dx = xmalloc(n * 8), *mean = xmalloc((size_t)C * 8),
         *invstd = xmalloc((size_t)C * 8), *dg = xmalloc((size_t)C * 8), *db = xmalloc((size_t)C * 8),
         *dbias = xmalloc((size_t)C * 8);
  ref_bn_saved sv = {mean, invstd};
  const double *bp = has_bias ? bias : NULL;
  ref_bn_train(rows, C, dxx, bp, gam, bet, rm, rv, 0.1, 1e-5, e, step, z, &sv);
  ref_bn_train_back(rows, C, dxx, bp, gam, bet, 1e-5, e, step, ddz, dx, dg, db, dbias);
  ref_bn_eval(rows, C, dxx, bp, gam, bet, rm0, rv0, 1e-5, e->act, e->slope, ze);

  cl_mem bx = dev_upload(rt, x, n * 4), bdz = dev_upload(rt, dz, n * 4);
  cl_mem bflat = dev_upload(rt, flat, (off + 3 * (size_t)C) * 4), bst = dev_upload(rt, st, 4 * (size_t)C * 4);
  cl_mem bz = rt_alloc(rt, n * 4), bze = rt_alloc(rt, n * 4), bdx = rt_alloc(rt, n * 4);
  cl_mem bgrads = rt_alloc(rt, (off + 3 * (size_t)C) * 4), bstats = rt_alloc(rt, 2 * (size_t)C * 4);
  cl_mem saved = op_epilogue_needs_saved(e) ? rt_alloc(rt, n * 4) : NULL;
  { /* NaN everywhere: a slot the kernel should write but does not stays NaN */
    float *nan = xmalloc((off + 3 * (size_t)C) * 4);
    memset(nan, 0xff, (off + 3 * (size_t)C) * 4);
    rt_write(rt, bgrads, 0, (off + 3 * (size_t)C) * 4, nan);
    free(nan);
  }
  op_bn bn = {C, bflat, gamma_off, beta_off, has_bias, bias_off, bst, (size_t)C, 2 * (size_t)C, bstats, 0.1f, 1e-5f};
  op_bn_eval_forward(rt, k, &bn, rows, bx, bze, e); /* before the running stats move */
  if (e->drop_p > 0) e->mask = rt_alloc(rt, n);
  op_dropout_mask(rt, k, e, (int)n, step);
  op_bn_train_forward(rt, k, &bn, rows, bx, bz, saved, e);
  op_bn_train_backward(rt, k, &bn, rows, bx, bdz, saved ? saved : bz, bdx, bgrads, gamma_off,
                       beta_off, bias_off, e);
  float *zg = dev_download(rt, bz, n), *zeg = dev_download(rt, bze, n), *dxg = dev_download(rt, bdx, n);
  float *gg = dev_download(rt, bgrads, off + 3 * (size_t)C), *stg = dev_download(rt, bst, 4 * (size_t)C);
  float *bsg = dev_download(rt, bstats, 2 * (size_t)C);
  double ms[2][64];
  float msg[2][64];
  for (int c = 0; c < C; c++) {
    ms[0][c] = mean[c]; ms[1][c] = invstd[c];
    msg[0][c] = bsg[c]; msg[1][c] = bsg[C + c];
  }
  /* Float rounding of x - mean is relative to |x|, and xhat magnifies it by invstd:
     cond = max(1, max|x + b| * invstd) per channel (1 for centred data, large for nearly
     constant channels such as two close rows). Floors: 0.1 * |gamma| * cond for the
     output, 0.1 * |gamma| * invstd * cond for dx (dx = gamma * invstd * (...)). */
  double zunit[64], dxunit[64];
  for (int c = 0; c < C; c++) {
    double mx = 0;
    for (int i = 0; i < rows; i++) mx = fmax(mx, fabs(dxx[(size_t)i * C + c] + (bp ? bp[c] : 0)));
    double cond = fmax(1.0, mx * invstd[c]);
    zunit[c] = fmax(1.0, fabs(gam[c]) * cond);
    dxunit[c] = fabs(gam[c]) * invstd[c] * cond;
  }
  double ez = chan_err(zg, z, rows, C, zunit), eze = ref_max_err(zeg, ze, n, 0.1);
  double erm = ref_max_err(stg + C, rm, (size_t)C, 1e-6), erv = ref_max_err(stg + 2 * C, rv, (size_t)C, 1e-6);
  double emean = ref_max_err(msg[0], ms[0], (size_t)C, 1e-6), einv = ref_max_err(msg[1], ms[1], (size_t)C, 1e-6);
  double edx = chan_err(dxg, dx, rows, C, dxunit), edg = ref_max_err(gg + gamma_off, dg, (size_t)C, 1.0);
  double edb = ref_max_err(gg + beta_off, db, (size_t)C, 1.0);
  /* The bias gradient is exactly 0 in exact arithmetic (a shift cancels in the batch mean,
     the finite differences confirm it): check it is zero up to the rounding of its sum. */
  double edbias = 0;
  for (int c = 0; c < C && has_bias; c++) {
    double mag = 0;
    for (int i = 0; i < rows; i++) mag += fabs(dx[(size_t)i * C + c]);
    double e_c = fabs(gg[bias_off + c]) / fmax(mag, 0.1 * dxunit[c]); /* dx's floor, as above */
    if (!(e_c <= edbias)) edbias = e_c;
  }
  const char *fmt = "rows=%d C=%d act=%d p=%g bias=%d: %s %g";
#define EXPECT(err, tol, what) CHECK((err) < (tol), fmt, rows, C, e->act, e->drop_p, has_bias, what, err)
  EXPECT(ez, 1e-5, "train forward");
  EXPECT(eze, 1e-5, "eval forward");
  EXPECT(erm, 1e-5, "running mean");
  EXPECT(erv, 1e-5, "running var");
  EXPECT(emean, 1e-5, "batch mean");
  EXPECT(einv, 1e-5, "batch invstd");
  EXPECT(edx, 1e-4, "dx");
  EXPECT(edg, 1e-4, "dgamma");
  EXPECT(edb, 1e-4, "dbeta");
  EXPECT(edbias, 1e-4, "dbias / sum|dx|");
#undef EXPECT
  /* nothing outside the layer's slots is written */
  for (int c = 0; c < C && !has_bias; c++)
    CHECK(isnan(gg[bias_off + c]), "bias gradient written without a bias at %d", c);
  for (int c = 0; c < C; c++)
    CHECK(stg[c] == st[c] && stg[3 * C + c] == st[3 * C + c], "stats padding changed at %d", c);
  cl_mem *bufs[] = {&bx, &bdz, &bflat, &bst, &bz, &bze, &bdx, &bgrads, &bstats, &saved, &e->mask};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rt_release(bufs[i]);
  void *mem[] = {x, dz, flat, st, dxx, ddz, bias, gam, bet, rm, rv, rm0, rv0, z, ze, dx, mean, invstd,
                 dg, db, dbias, zg, zeg, dxg, gg, stg, bsg};
  for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++) free(mem[i]);
}

int main(void) {
  finite_differences();
  cl_runtime rt;
  rt_open(&rt, NULL, NULL);
  /* the device's default local size, then a GPU-like wide one (64) */
  for (int config = 0; config < 2; config++) {
    ops_kernels k;
    ops_init_local(&k, &rt, config ? 64 : 0, 0);
    int t = 0;
    for (int b = 0; b < REF_N_BATCHES; b++)
      for (int w = 0; w < REF_N_WIDTHS; w++, t++) {
        device_case(&rt, &k, ref_batches[b], ref_widths[w], &epis[t % N_EPIS], t % 2 == 0);
        device_case(&rt, &k, ref_batches[b], ref_widths[w], &epis[(t + 3) % N_EPIS], t % 2 == 1);
      }
    /* widths whose last channel group of the CPU vector form runs as float8, float4 and
       single channels (8 + 4 + 1, 16 + 8 + 4 + 1), with every epilogue */
    const int odd_widths[] = {8, 13, 29};
    for (int w = 0; w < 3; w++)
      for (int i = 0; i < N_EPIS; i++) device_case(&rt, &k, i % 2 ? 33 : 256, odd_widths[w], &epis[i], i % 3 != 0);
    ops_free(&k);
  }
  rt_close(&rt);
  return test_summary("test_ops_batchnorm");
}
