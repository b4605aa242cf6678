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
   Finite differences: 1e-6 relative to the largest input gradient. The training kernels
   reading their input through a row permutation must match the copied rows bit for bit,
   and the backward with the loss fused in must match the loss kernel + backward bit for bit.
   The synchronised batch norm of data-parallel training, its rows split into 1-3 shares,
   meets the same reference and tolerances (sync_case). */
#include "devutil.h"
#include "refops.h"

static const op_epilogue epis[] = {
    {ACT_NONE, 0, 0, 0, 0, NULL},    {ACT_RELU, 0, 0, 0, 0, NULL},       {ACT_RELU, 0, 0.5f, 6, 3, NULL},
    {ACT_TANH, 0, 0, 0, 0, NULL},    {ACT_SIGMOID, 0, 0.3f, 2, 8, NULL}, {ACT_LEAKY_RELU, 0.01f, 0, 0, 0, NULL},
    {ACT_NONE, 0, 0.5f, 1, 1, NULL}, {ACT_LEAKY_RELU, -0.5f, 0.2f, 3, 4, NULL},
    {ACT_GELU, 0, 0, 0, 0, NULL},    {ACT_GELU, 0, 0.25f, 5, 2, NULL},
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
  op_bn_train_forward(rt, k, &bn, rows, bx, NULL, bz, saved, e);
  op_bn_train_backward(rt, k, &bn, rows, bx, NULL, bdz, saved ? saved : bz, bdx, bgrads, gamma_off,
                       beta_off, bias_off, e, NULL);
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

/* The synchronised batch norm of data-parallel training (ops_bn_sync.c) over SHARES
   contiguous shares of the rows (as ranks hold them: the first rows % shares one row
   more), the partial sums added on the host in share order as dist_sum_floats adds them,
   against the same double-precision reference and with the same tolerances as
   device_case: every share's output, dx, running statistics and saved mean/invstd, and
   the shares' dgamma, dbeta and bias-gradient parts summed. Each share has its own
   statistics, mask (op_dropout_mask_at at its offset) and gradient buffers, as a rank. */
static void sync_case(cl_runtime *rt, const ops_kernels *k, int rows, int C, const op_epilogue *epi, bool has_bias,
                      int shares) {
  const uint64_t step = 9;
  const size_t n = (size_t)rows * C, off = 5, P = off + 3 * (size_t)C;
  float *x = xmalloc(n * 4), *dz = xmalloc(n * 4), *flat = xmalloc(P * 4), *st = xmalloc(4 * (size_t)C * 4);
  ref_fill(x, n, n + 17, -1, 1);
  for (size_t i = 0; i < n; i++) x[i] = 1.0f + 2.0f * x[i] + 0.03f * (float)(i % (size_t)C);
  ref_fill(dz, n, n + 18, -1, 1);
  ref_fill(flat, P, n + 19, 0.5, 1.5);
  ref_fill(st, 4 * (size_t)C, n + 20, 0.5, 1.5);
  const size_t bias_off = off, gamma_off = off + C, beta_off = off + 2 * (size_t)C;
  double *dxx = ref_dup(x, n), *ddz = ref_dup(dz, n), *bias = ref_dup(flat + bias_off, (size_t)C);
  double *gam = ref_dup(flat + gamma_off, (size_t)C), *bet = ref_dup(flat + beta_off, (size_t)C);
  double *rm = ref_dup(st + C, (size_t)C), *rv = ref_dup(st + 2 * (size_t)C, (size_t)C);
  double *z = xmalloc(n * 8), *dx = xmalloc(n * 8), *mean = xmalloc((size_t)C * 8), *invstd = xmalloc((size_t)C * 8),
         *dg = xmalloc((size_t)C * 8), *db = xmalloc((size_t)C * 8), *dbias = xmalloc((size_t)C * 8);
  ref_bn_saved sv = {mean, invstd};
  const double *bp = has_bias ? bias : NULL;
  ref_bn_train(rows, C, dxx, bp, gam, bet, rm, rv, 0.1, 1e-5, epi, step, z, &sv);
  ref_bn_train_back(rows, C, dxx, bp, gam, bet, 1e-5, epi, step, ddz, dx, dg, db, dbias);

  enum { MAX_SHARES = 3 };
  cl_mem bx = dev_upload(rt, x, n * 4), bflat = dev_upload(rt, flat, P * 4);
  cl_mem gstats = rt_alloc(rt, 2 * (size_t)C * 4), gsums = rt_alloc(rt, 2 * (size_t)C * 4);
  struct {
    size_t rows, start;
    op_bn bn;
    op_epilogue e;
    op_rows r;
    cl_mem z, saved, dz, dx, grads, loc;
  } sh[MAX_SHARES];
  float *nan = xmalloc(P * 4);
  memset(nan, 0xff, P * 4);
  for (int i = 0; i < shares; i++) {
    const size_t base = (size_t)rows / (size_t)shares, extra = (size_t)rows % (size_t)shares;
    sh[i].rows = base + ((size_t)i < extra ? 1 : 0);
    sh[i].start = (size_t)i * base + ((size_t)i < extra ? (size_t)i : extra);
    const size_t m = sh[i].rows * (size_t)C;
    sh[i].bn = (op_bn){C, bflat, gamma_off, beta_off, has_bias, bias_off, dev_upload(rt, st, 4 * (size_t)C * 4),
                       (size_t)C, 2 * (size_t)C, rt_alloc(rt, 2 * (size_t)C * 4), 0.1f, 1e-5f};
    sh[i].e = *epi;
    sh[i].e.mask = epi->drop_p > 0 ? rt_alloc(rt, m) : NULL;
    op_dropout_mask_at(rt, k, &sh[i].e, (int)m, sh[i].start * (size_t)C, step);
    sh[i].r = (op_rows){NULL, sh[i].start};
    sh[i].z = rt_alloc(rt, m * 4);
    sh[i].saved = op_epilogue_needs_saved(epi) ? rt_alloc(rt, m * 4) : NULL;
    sh[i].dz = dev_upload(rt, dz + sh[i].start * (size_t)C, m * 4);
    sh[i].dx = rt_alloc(rt, m * 4);
    sh[i].grads = dev_upload(rt, nan, P * 4);
    sh[i].loc = rt_alloc(rt, 2 * (size_t)C * 4);
  }
  /* partial sums of W floats of every share's loc, added in share order */
  float part[128], total[128];
#define SUM_SHARES(W)                                                      \
  do {                                                                     \
    for (int c = 0; c < (W); c++) total[c] = 0.0f;                         \
    for (int i = 0; i < shares; i++) {                                     \
      rt_read(rt, sh[i].loc, 0, (size_t)(W) * 4, part);                    \
      for (int c = 0; c < (W); c++) total[c] = i ? total[c] + part[c] : part[c]; \
    }                                                                      \
  } while (0)
  for (int i = 0; i < shares; i++) op_bn_sync_sum(rt, k, &sh[i].bn, (int)sh[i].rows, bx, &sh[i].r, NULL, sh[i].loc);
  SUM_SHARES(C);
  for (int c = 0; c < C; c++) total[c] /= (float)rows;
  rt_write(rt, gstats, 0, (size_t)C * 4, total);
  for (int i = 0; i < shares; i++) op_bn_sync_sum(rt, k, &sh[i].bn, (int)sh[i].rows, bx, &sh[i].r, gstats, sh[i].loc);
  SUM_SHARES(C);
  rt_write(rt, gstats, (size_t)C * 4, (size_t)C * 4, total);
  for (int i = 0; i < shares; i++)
    op_bn_sync_forward(rt, k, &sh[i].bn, (int)sh[i].rows, rows, bx, &sh[i].r, gstats, sh[i].z, sh[i].saved, &sh[i].e);
  for (int i = 0; i < shares; i++)
    op_bn_sync_backward_sums(rt, k, &sh[i].bn, (int)sh[i].rows, bx, &sh[i].r, sh[i].dz,
                             sh[i].saved ? sh[i].saved : sh[i].z, sh[i].loc, &sh[i].e);
  SUM_SHARES(2 * C);
  rt_write(rt, gsums, 0, 2 * (size_t)C * 4, total);
  for (int i = 0; i < shares; i++)
    op_bn_sync_backward_dx(rt, k, &sh[i].bn, (int)sh[i].rows, rows, bx, &sh[i].r, gsums, sh[i].loc, sh[i].dz, sh[i].dx,
                           sh[i].grads, gamma_off, beta_off, bias_off);
#undef SUM_SHARES
  float *zg = xmalloc(n * 4), *dxg = xmalloc(n * 4), *gg = xcalloc(P, 4);
  double erm = 0, erv = 0, emean = 0, einv = 0;
  for (int i = 0; i < shares; i++) {
    const size_t m = sh[i].rows * (size_t)C;
    rt_read(rt, sh[i].z, 0, m * 4, zg + sh[i].start * (size_t)C);
    rt_read(rt, sh[i].dx, 0, m * 4, dxg + sh[i].start * (size_t)C);
    float *g = dev_download(rt, sh[i].grads, P), *stg = dev_download(rt, sh[i].bn.stats, 4 * (size_t)C);
    float *bsg = dev_download(rt, sh[i].bn.batch_stats, 2 * (size_t)C);
    for (size_t j = 0; j < 3 * (size_t)C; j++) gg[off + j] += (j < (size_t)C && !has_bias) ? 0.0f : g[off + j];
    erm = fmax(erm, ref_max_err(stg + C, rm, (size_t)C, 1e-6));
    erv = fmax(erv, ref_max_err(stg + 2 * C, rv, (size_t)C, 1e-6));
    emean = fmax(emean, ref_max_err(bsg, mean, (size_t)C, 1e-6));
    einv = fmax(einv, ref_max_err(bsg + C, invstd, (size_t)C, 1e-6));
    for (int c = 0; c < C && !has_bias; c++) CHECK(isnan(g[bias_off + c]), "sync: bias gradient written without a bias");
    free(g);
    free(stg);
    free(bsg);
  }
  double zunit[64], dxunit[64];
  for (int c = 0; c < C; c++) {
    double mx = 0;
    for (int i = 0; i < rows; i++) mx = fmax(mx, fabs(dxx[(size_t)i * C + c] + (bp ? bp[c] : 0)));
    double cond = fmax(1.0, mx * invstd[c]);
    zunit[c] = fmax(1.0, fabs(gam[c]) * cond);
    dxunit[c] = fabs(gam[c]) * invstd[c] * cond;
  }
  double ez = chan_err(zg, z, rows, C, zunit), edx = chan_err(dxg, dx, rows, C, dxunit);
  double edg = ref_max_err(gg + gamma_off, dg, (size_t)C, 1.0), edb = ref_max_err(gg + beta_off, db, (size_t)C, 1.0);
  double edbias = 0;
  for (int c = 0; c < C && has_bias; c++) {
    double mag = 0;
    for (int i = 0; i < rows; i++) mag += fabs(dx[(size_t)i * C + c]);
    double e_c = fabs(gg[bias_off + c]) / fmax(mag, 0.1 * dxunit[c]);
    if (!(e_c <= edbias)) edbias = e_c;
  }
  const char *fmt = "sync over %d shares, rows=%d C=%d act=%d p=%g bias=%d: %s %g";
#define EXPECT(err, tol, what) \
  CHECK((err) < (tol), fmt, shares, rows, C, epi->act, epi->drop_p, has_bias, what, err)
  EXPECT(ez, 1e-5, "train forward");
  EXPECT(erm, 1e-5, "running mean");
  EXPECT(erv, 1e-5, "running var");
  EXPECT(emean, 1e-5, "batch mean");
  EXPECT(einv, 1e-5, "batch invstd");
  EXPECT(edx, 1e-4, "dx");
  EXPECT(edg, 1e-4, "dgamma");
  EXPECT(edb, 1e-4, "dbeta");
  EXPECT(edbias, 1e-4, "dbias / sum|dx|");
#undef EXPECT
  for (int i = 0; i < shares; i++) {
    cl_mem *b[] = {&sh[i].bn.stats, &sh[i].bn.batch_stats, &sh[i].e.mask, &sh[i].z, &sh[i].saved, &sh[i].dz, &sh[i].dx,
                   &sh[i].grads, &sh[i].loc};
    for (size_t j = 0; j < sizeof b / sizeof b[0]; j++) rt_release(b[j]);
  }
  rt_release(&bx);
  rt_release(&bflat);
  rt_release(&gstats);
  rt_release(&gsums);
  void *mem[] = {x, dz, flat, st, dxx, ddz, bias, gam, bet, rm, rv, z, dx, mean, invstd, dg, db, dbias, zg, dxg, gg, nan};
  for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++) free(mem[i]);
}

/* One training forward + backward with x read directly, or (src_rows) row i from
   src[perm[start + i]]; returns z, dx, grads, stats and batch_stats downloaded back to back. */
static float *bn_pass(cl_runtime *rt, const ops_kernels *k, int rows, int C, const op_epilogue *e,
                      cl_mem x, const op_rows *x_rows, const float *flat, const float *st, const float *dz) {
  const size_t n = (size_t)rows * C, np = 3 * (size_t)C;
  cl_mem bflat = dev_upload(rt, flat, np * 4), bst = dev_upload(rt, st, 2 * (size_t)C * 4);
  cl_mem bdz = dev_upload(rt, dz, n * 4), bz = rt_alloc(rt, n * 4), bdx = rt_alloc(rt, n * 4);
  cl_mem bgrads = rt_alloc(rt, np * 4), bstats = rt_alloc(rt, 2 * (size_t)C * 4);
  cl_mem saved = op_epilogue_needs_saved(e) ? rt_alloc(rt, n * 4) : NULL;
  rt_zero(rt, bgrads, 0, np * 4);
  op_bn bn = {C, bflat, (size_t)C, 2 * (size_t)C, true, 0, bst, 0, (size_t)C, bstats, 0.1f, 1e-5f};
  op_bn_train_forward(rt, k, &bn, rows, x, x_rows, bz, saved, e);
  op_bn_train_backward(rt, k, &bn, rows, x, x_rows, bdz, saved ? saved : bz, bdx, bgrads, (size_t)C,
                       2 * (size_t)C, 0, e, NULL);
  float *out = xmalloc((2 * n + np + 4 * (size_t)C) * 4);
  rt_read(rt, bz, 0, n * 4, out);
  rt_read(rt, bdx, 0, n * 4, out + n);
  rt_read(rt, bgrads, 0, np * 4, out + 2 * n);
  rt_read(rt, bst, 0, 2 * (size_t)C * 4, out + 2 * n + np);
  rt_read(rt, bstats, 0, 2 * (size_t)C * 4, out + 2 * n + np + 2 * C);
  cl_mem *bufs[] = {&bflat, &bst, &bdz, &bz, &bdx, &bgrads, &bstats, &saved};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rt_release(bufs[i]);
  return out;
}

/* The training kernels reading their input in place through a permutation (a batch
   normalised straight out of the data set) give bit for bit what they give on the rows
   copied out. */
static void in_place_case(cl_runtime *rt, const ops_kernels *k, int rows, int C, const op_epilogue *epi) {
  op_epilogue e = *epi;
  const size_t n = (size_t)rows * C, start = 5, N = (size_t)rows + start + 4;
  float *src = xmalloc(N * C * 4), *x = xmalloc(n * 4), *dz = xmalloc(n * 4);
  float *flat = xmalloc(3 * (size_t)C * 4), *st = xmalloc(2 * (size_t)C * 4);
  uint32_t *perm = xmalloc(N * 4);
  ref_fill(src, N * C, N + 3, -2, 2);
  ref_fill(dz, n, n + 4, -1, 1);
  ref_fill(flat, 3 * (size_t)C, n + 5, 0.5, 1.5);
  ref_fill(st, 2 * (size_t)C, n + 6, 0.5, 1.5);
  for (size_t i = 0; i < N; i++) perm[i] = (uint32_t)((i * 7 + 3) % N); /* N is no multiple of 7 below */
  for (size_t i = 0; i < (size_t)rows; i++) memcpy(x + i * C, src + (size_t)perm[start + i] * C, (size_t)C * 4);
  if (e.drop_p > 0) {
    e.mask = rt_alloc(rt, n);
    op_dropout_mask(rt, k, &e, (int)n, 3);
  }
  cl_mem bsrc = dev_upload(rt, src, N * C * 4), bx = dev_upload(rt, x, n * 4), bp = dev_upload(rt, perm, N * 4);
  const op_rows rws = {bp, start};
  float *want = bn_pass(rt, k, rows, C, &e, bx, NULL, flat, st, dz);
  float *got = bn_pass(rt, k, rows, C, &e, bsrc, &rws, flat, st, dz);
  CHECK(memcmp(want, got, (2 * n + 7 * (size_t)C) * 4) == 0,
        "rows=%d C=%d act=%d p=%g: batch norm through a permutation differs from the copied rows", rows, C,
        e.act, e.drop_p);
  rt_release(&bsrc); rt_release(&bx); rt_release(&bp); rt_release(&e.mask);
  free(src); free(x); free(dz); free(flat); free(st); free(perm); free(want); free(got);
}

/* The training loss run inside the backward kernel (op_loss, CPU vector form) against the
   loss kernel followed by the plain backward: the same dz, dx, gradients and metrics, bit
   for bit, labels read directly or through a permutation. */
static void fused_loss_case(cl_runtime *rt, const ops_kernels *k, int rows, int C, const op_epilogue *epi,
                            bool label_perm) {
  op_epilogue e = *epi;
  const size_t n = (size_t)rows * C, np = 3 * (size_t)C;
  float *x = xmalloc(n * 4), *flat = xmalloc(np * 4), *st = xmalloc(2 * (size_t)C * 4);
  int32_t *y = xmalloc((size_t)rows * 4);
  uint32_t *perm = xmalloc((size_t)rows * 4);
  ref_fill(x, n, n + 31, -2, 2);
  ref_fill(flat, np, n + 32, 0.5, 1.5);
  ref_fill(st, 2 * (size_t)C, n + 33, 0.5, 1.5);
  for (int i = 0; i < rows; i++) {
    y[i] = (int32_t)((i * 5 + 1) % C);
    perm[i] = (uint32_t)(rows - 1 - i);
  }
  if (e.drop_p > 0) {
    e.mask = rt_alloc(rt, n);
    op_dropout_mask(rt, k, &e, (int)n, 4);
  }
  cl_mem bx = dev_upload(rt, x, n * 4), by = dev_upload(rt, y, (size_t)rows * 4), bp = dev_upload(rt, perm, (size_t)rows * 4);
  const op_rows lr = {bp, 0};
  float *res[2];
  for (int fused = 0; fused < 2; fused++) {
    cl_mem bflat = dev_upload(rt, flat, np * 4), bst = dev_upload(rt, st, 2 * (size_t)C * 4);
    cl_mem bz = rt_alloc(rt, n * 4), bdz = rt_alloc(rt, n * 4), bdx = rt_alloc(rt, n * 4);
    cl_mem bgrads = rt_alloc(rt, np * 4), bstats = rt_alloc(rt, 2 * (size_t)C * 4);
    cl_mem bm = rt_alloc(rt, OPS_METRICS_WORDS * 4);
    cl_mem saved = op_epilogue_needs_saved(&e) ? rt_alloc(rt, n * 4) : NULL;
    rt_zero(rt, bgrads, 0, np * 4);
    rt_zero(rt, bm, 0, OPS_METRICS_WORDS * 4);
    rt_zero(rt, bdz, 0, n * 4);
    op_bn bn = {C, bflat, (size_t)C, 2 * (size_t)C, true, 0, bst, 0, (size_t)C, bstats, 0.1f, 1e-5f};
    op_bn_train_forward(rt, k, &bn, rows, bx, NULL, bz, saved, &e);
    const op_loss loss = {bz, by, label_perm ? &lr : NULL, bm};
    if (!fused) op_softmax_xent(rt, k, rows, C, bz, by, label_perm ? &lr : NULL, bdz, bm, NULL);
    op_bn_train_backward(rt, k, &bn, rows, bx, NULL, bdz, saved ? saved : bz, bdx, bgrads, (size_t)C,
                         2 * (size_t)C, 0, &e, fused ? &loss : NULL);
    res[fused] = xmalloc((2 * n + np + OPS_METRICS_WORDS) * 4);
    rt_read(rt, bdz, 0, n * 4, res[fused]);
    rt_read(rt, bdx, 0, n * 4, res[fused] + n);
    rt_read(rt, bgrads, 0, np * 4, res[fused] + 2 * n);
    rt_read(rt, bm, 0, OPS_METRICS_WORDS * 4, res[fused] + 2 * n + np);
    cl_mem *bufs[] = {&bflat, &bst, &bz, &bdz, &bdx, &bgrads, &bstats, &bm, &saved};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rt_release(bufs[i]);
  }
  CHECK(memcmp(res[0], res[1], (2 * n + np + OPS_METRICS_WORDS) * 4) == 0,
        "rows=%d C=%d act=%d p=%g perm=%d: loss fused into the backward differs from the loss kernel", rows, C,
        e.act, e.drop_p, label_perm);
  rt_release(&bx); rt_release(&by); rt_release(&bp); rt_release(&e.mask);
  free(x); free(flat); free(st); free(y); free(perm); free(res[0]); free(res[1]);
}

int main(void) {
  finite_differences();
  cl_runtime rt;
  dev_open(&rt);
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
      for (int i = 0; i < N_EPIS; i++) device_case(&rt, &k, i % 2 ? 33 : ref_rows(256), odd_widths[w], &epis[i], i % 3 != 0);
    for (int C = 1; C <= OPS_LOSS_SMALL_C && ops_can_fuse_loss(&k, C); C++)
      fused_loss_case(&rt, &k, C == 5 ? ref_rows(256) : 33 + C, C, &epis[C % N_EPIS], C % 2 == 0);
    const int in_place_shapes[][2] = {{1, 5}, {34, 16}, {256, 16}, {256, 13}, {100, 48}};
    for (int sh = 0; sh < 5; sh++)
      for (int i = 0; i < N_EPIS; i += 2)
        in_place_case(&rt, &k, ref_rows(in_place_shapes[sh][0]), in_place_shapes[sh][1], &epis[(i + sh) % N_EPIS]);
    if (config == 0) { /* the synchronised kernels have one form */
      ops_init_bn_sync(&k, &rt);
      const int sync_shapes[][2] = {{2, 5}, {7, 3}, {100, 48}, {257, 13}, {1000, 16}};
      for (int sh = 0; sh < 5; sh++)
        for (int shares = 1; shares <= 3; shares++)
          for (int i = 0; i < N_EPIS; i += 3)
            if (ref_rows(sync_shapes[sh][0]) >= shares)
              sync_case(&rt, &k, ref_rows(sync_shapes[sh][0]), sync_shapes[sh][1], &epis[(i + sh + shares) % N_EPIS],
                        (i + shares) % 2 == 0, shares);
    }
    ops_free(&k);
  }
  rt_close(&rt);
  dev_check(&rt, "test_ops_batchnorm");
  return test_summary("test_ops_batchnorm");
}
