/* Linear layer on the device (GEMMs through gemm.h, bias + activation + dropout forward
   and the fused bias-gradient backward of kernels/linear.cl) against the double-precision
   reference on every test batch size and width (CPU and GPU-like local sizes), plus the
   reference backward against central finite differences. Tolerances: forward max relative error 1e-5, backward 1e-4,
   absolute floor 1 for GEMM outputs and gradients (sums of up to 1000 O(1) products, whose
   float rounding is relative to the summands, not to a possibly cancelled total) and
   1e-2 for dh (sigmoid and tanh derivatives come from the float output, as in PyTorch, so
   their absolute error is ~2e-7 however small the derivative); finite differences 1e-6
   relative, floor 1e-6. The bias backward with the loss fused in must match the loss kernel
   + bias backward bit for bit. */
#include "devutil.h"
#include "refops.h"

static const op_epilogue epis[] = {
    {ACT_NONE, 0, 0, 0, 0, NULL},  {ACT_RELU, 0, 0, 0, 0, NULL},        {ACT_RELU, 0, 0.5f, 4, 77, NULL},
    {ACT_TANH, 0, 0, 0, 0, NULL},  {ACT_SIGMOID, 0, 0.25f, 9, 5, NULL}, {ACT_LEAKY_RELU, -0.2f, 0, 0, 0, NULL},
    {ACT_GELU, 0, 0, 0, 0, NULL},  {ACT_GELU, 0, 0.3f, 7, 11, NULL},
};
#define N_EPIS ((int)(sizeof epis / sizeof epis[0]))

/* Loss sum(dz * epi(x W^T + b)) and its gradients by the reference and by differences. */
static void finite_differences(void) {
  enum { R = 3, I = 4, O = 5 };
  float x[R * I], W[O * I], b[O];
  double dz[R * O];
  ref_fill_away(x, R * I, 1, 1e-2);
  ref_fill(W, O * I, 2, -1, 1);
  ref_fill(b, O, 3, -1, 1);
  for (int i = 0; i < R * O; i++) dz[i] = 0.3 + 0.05 * i;
  for (int t = 0; t < N_EPIS; t++) {
    const op_epilogue *e = &epis[t];
    double h[R * O], dh[R * O], dW[O * I], db[O], dx[R * I];
    ref_linear(R, I, O, x, W, b, h);
    for (int i = 0; i < R * O; i++) dh[i] = ref_epi_back(e, 3, (size_t)i, h[i], dz[i]);
    ref_linear_back(R, I, O, x, W, dh, dW, db, dx);
    float *vars[3] = {x, W, b};
    double *grads[3] = {dx, dW, db};
    int counts[3] = {R * I, O * I, O};
    for (int v = 0; v < 3; v++) {
      double fd[R * I > O * I ? R * I : O * I];
      for (int j = 0; j < counts[v]; j++) {
        float keep = vars[v][j];
        double lp = 0, lm = 0, hh[R * O];
        const float step = 1e-4f;
        vars[v][j] = keep + step;
        ref_linear(R, I, O, x, W, b, hh);
        for (int i = 0; i < R * O; i++) lp += dz[i] * ref_epi(e, 3, (size_t)i, hh[i]);
        vars[v][j] = keep - step;
        ref_linear(R, I, O, x, W, b, hh);
        for (int i = 0; i < R * O; i++) lm += dz[i] * ref_epi(e, 3, (size_t)i, hh[i]);
        vars[v][j] = keep;
        fd[j] = (lp - lm) / (2.0 * ((double)(keep + step) - keep));
      }
      double err = ref_max_err_dd(grads[v], fd, (size_t)counts[v], 1e-6);
      CHECK(err < 1e-6, "FD epilogue %d variable %d: %g", t, v, err);
    }
  }
}

static void device_case(cl_runtime *rt, const ops_kernels *k, int rows, int in, int out,
                        const op_epilogue *epi) {
  op_epilogue ed = *epi, *e = &ed;
  const uint64_t step = 3;
  const size_t off = 11; /* W and b live at an offset inside a flat buffer */
  const size_t nx = (size_t)rows * in, nh = (size_t)rows * out, nw = (size_t)out * in;
  float *x = xmalloc(nx * 4), *flat = xmalloc((off + nw + out) * 4), *dz = xmalloc(nh * 4);
  ref_fill(x, nx, nx + 1, -1, 1);
  ref_fill(flat, off + nw + (size_t)out, nw + 2, -1, 1);
  ref_fill(dz, nh, nh + 3, -1, 1);
  const float *W = flat + off, *b = flat + off + nw;
  double *h = xmalloc(nh * 8), *z = xmalloc(nh * 8), *dh = xmalloc(nh * 8);
  double *dW = xmalloc(nw * 8), *db = xmalloc((size_t)out * 8), *dx = xmalloc(nx * 8);
  ref_linear(rows, in, out, x, W, b, h);
  for (size_t i = 0; i < nh; i++) {
    z[i] = ref_epi(e, step, i, h[i]);
    dh[i] = ref_epi_back(e, step, i, h[i], dz[i]);
  }
  ref_linear_back(rows, in, out, x, W, dh, dW, db, dx);

  cl_mem dxin = dev_upload(rt, x, nx * 4), dflat = dev_upload(rt, flat, (off + nw + out) * 4);
  cl_mem dzb = dev_upload(rt, dz, nh * 4), zb = rt_alloc(rt, nh * 4), dxb = rt_alloc(rt, nx * 4);
  cl_mem grads = rt_alloc(rt, (off + nw + out) * 4);
  cl_mem saved = op_epilogue_needs_saved(e) ? rt_alloc(rt, nh * 4) : NULL;
  bool has_epi = e->act != ACT_NONE || e->drop_p > 0;
  if (e->drop_p > 0) e->mask = rt_alloc(rt, nh);
  op_dropout_mask(rt, k, e, (int)nh, step);
  /* the forward from the transposed weights must give the same h as from W */
  float *flat_t = xmalloc((off + nw) * 4);
  for (int o = 0; o < out; o++)
    for (int j = 0; j < in; j++) flat_t[off + (size_t)j * out + o] = W[(size_t)o * in + j];
  cl_mem dflat_t = dev_upload(rt, flat_t, (off + nw) * 4), hb_t = rt_alloc(rt, nh * 4);
  op_linear_forward_t(rt, rows, in, out, dxin, dflat_t, off, hb_t);
  float *hg_t = dev_download(rt, hb_t, nh);
  double *xw = xmalloc(nh * 8); /* x W^T without the bias */
  for (size_t i = 0; i < nh; i++) xw[i] = h[i] - (double)b[i % (size_t)out];
  double eh_t = ref_max_err(hg_t, xw, nh, 1.0);
  free(xw);
  CHECK(eh_t < 1e-5, "forward from W^T rows=%d in=%d out=%d: %g", rows, in, out, eh_t);
  rt_release(&dflat_t); rt_release(&hb_t);
  free(flat_t); free(hg_t);
  op_linear_forward(rt, rows, in, out, dxin, dflat, off, zb);
  op_bias_act_forward(rt, k, rows, out, zb, dflat, off + nw, zb, saved, e);
  op_bias_act_backward(rt, k, rows, out, dzb, saved ? saved : zb, has_epi, grads, off + nw, e, NULL);
  op_linear_backward(rt, rows, in, out, dzb, dxin, dflat, off, grads, off, dxb);
  float *zg = dev_download(rt, zb, nh), *gg = dev_download(rt, grads, off + nw + out);
  float *dxg = dev_download(rt, dxb, nx);
  double ez = ref_max_err(zg, z, nh, 1.0), ew = ref_max_err(gg + off, dW, nw, 1.0);
  double eb = ref_max_err(gg + off + nw, db, (size_t)out, 1.0), ex = ref_max_err(dxg, dx, nx, 1.0);
  CHECK(ez < 1e-5, "forward rows=%d in=%d out=%d act=%d p=%g: %g", rows, in, out, e->act, e->drop_p, ez);
  CHECK(ew < 1e-4 && eb < 1e-4 && ex < 1e-4, "backward rows=%d in=%d out=%d act=%d p=%g: dW %g db %g dx %g",
        rows, in, out, e->act, e->drop_p, ew, eb, ex);
  if (has_epi) { /* dh written over dz */
    float *dhg = dev_download(rt, dzb, nh);
    double edh = ref_max_err(dhg, dh, nh, 1e-2);
    CHECK(edh < 1e-4, "dh rows=%d out=%d act=%d: %g", rows, out, e->act, edh);
    free(dhg);
  }
  rt_release(&dxin); rt_release(&dflat); rt_release(&dzb); rt_release(&zb); rt_release(&dxb);
  rt_release(&grads); rt_release(&saved); rt_release(&e->mask);
  free(x); free(flat); free(dz); free(h); free(z); free(dh); free(dW); free(db); free(dx);
  free(zg); free(gg); free(dxg);
}

/* The training loss run inside the bias backward kernel (op_loss, CPU vector form)
   against the loss kernel followed by the plain bias backward: the same dh and bias
   gradient and metrics, bit for bit. */
static void fused_loss_case(cl_runtime *rt, const ops_kernels *k, int rows, int C, const op_epilogue *epi) {
  op_epilogue e = *epi;
  const size_t n = (size_t)rows * C;
  float *z = xmalloc(n * 4), *g[2];
  int32_t *y = xmalloc((size_t)rows * 4);
  ref_fill(z, n, n + 41, -2, 2);
  for (int i = 0; i < rows; i++) y[i] = (int32_t)((i * 3 + 2) % C);
  if (e.drop_p > 0) {
    e.mask = rt_alloc(rt, n);
    op_dropout_mask(rt, k, &e, (int)n, 6);
  }
  cl_mem bh = dev_upload(rt, z, n * 4), by = dev_upload(rt, y, (size_t)rows * 4), bflat = dev_upload(rt, z, (size_t)C * 4);
  const bool has_epi = e.act != ACT_NONE || e.drop_p > 0;
  for (int fused = 0; fused < 2; fused++) {
    cl_mem bz = rt_alloc(rt, n * 4), bdz = rt_alloc(rt, n * 4), grads = rt_alloc(rt, (size_t)C * 4);
    cl_mem bm = rt_alloc(rt, OPS_METRICS_WORDS * 4);
    cl_mem saved = op_epilogue_needs_saved(&e) ? rt_alloc(rt, n * 4) : NULL;
    rt_zero(rt, bm, 0, OPS_METRICS_WORDS * 4);
    rt_zero(rt, bdz, 0, n * 4);
    op_bias_act_forward(rt, k, rows, C, bh, bflat, 0, bz, saved, &e);
    const op_loss loss = {bz, by, NULL, bm};
    if (!fused) op_softmax_xent(rt, k, rows, C, bz, by, NULL, bdz, bm, NULL);
    op_bias_act_backward(rt, k, rows, C, bdz, saved ? saved : bz, has_epi, grads, 0, &e, fused ? &loss : NULL);
    g[fused] = xmalloc((n + (size_t)C + OPS_METRICS_WORDS) * 4);
    rt_read(rt, bdz, 0, n * 4, g[fused]);
    rt_read(rt, grads, 0, (size_t)C * 4, g[fused] + n);
    rt_read(rt, bm, 0, OPS_METRICS_WORDS * 4, g[fused] + n + C);
    rt_release(&bz); rt_release(&bdz); rt_release(&grads); rt_release(&bm); rt_release(&saved);
  }
  CHECK(memcmp(g[0], g[1], (n + (size_t)C + OPS_METRICS_WORDS) * 4) == 0,
        "rows=%d C=%d act=%d p=%g: loss fused into the bias backward differs from the loss kernel", rows, C,
        e.act, e.drop_p);
  rt_release(&bh); rt_release(&by); rt_release(&bflat); rt_release(&e.mask);
  free(z); free(y); free(g[0]); free(g[1]);
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
      for (int w = 0; w < REF_N_WIDTHS; w++) {
        /* each width as input and as output, against a rotating partner width */
        int other = ref_widths[(w + b + 1) % REF_N_WIDTHS];
        device_case(&rt, &k, ref_batches[b], ref_widths[w], other, &epis[t++ % N_EPIS]);
        device_case(&rt, &k, ref_batches[b], other, ref_widths[w], &epis[t++ % N_EPIS]);
      }
    /* outputs whose last column group of the CPU vector form runs as float8, float4 and
       single columns (8 + 4 + 1, 16 + 8 + 4 + 1), with every epilogue */
    for (int C = 1; C <= OPS_LOSS_SMALL_C && ops_can_fuse_loss(&k, C); C++)
      fused_loss_case(&rt, &k, C == 5 ? ref_rows(256) : 31 + C, C, &epis[C % N_EPIS]);
    const int odd_widths[] = {8, 13, 29};
    for (int w = 0; w < 3; w++)
      for (int i = 0; i < N_EPIS; i++) device_case(&rt, &k, i % 2 ? 33 : ref_rows(256), 16, odd_widths[w], &epis[i]);
    ops_free(&k);
  }
  rt_close(&rt);
  dev_check(&rt, "test_ops_linear");
  return test_summary("test_ops_linear");
}
