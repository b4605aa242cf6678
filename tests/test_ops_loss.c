/* Softmax cross-entropy (kernels/loss.cl) against the double-precision reference on every
   test batch size and class count (CPU and GPU-like local sizes): mean loss, dlogits,
   correct count, confusion matrix;
   numerical stability with logits of +-1e4; the reference gradient against central finite
   differences; the device-side running totals over an epoch-sized run (600k samples)
   against a double-precision sum, and the 64-bit correct counter's carry.
   Tolerances: loss max relative error 1e-5 (floor 1e-3), dlogits 1e-4 with floor 1e-2/rows
   (entries are O(1/rows); p - 1 near p = 1 cancels in float); counts exact; running loss
   sum 1e-6 relative (a plain float sum of 2000 equal batch sums is off by ~3e-6);
   finite differences 1e-6 relative, floor 1e-6. Labels read through a permutation must give
   bit-identical results. */
#include <string.h>

#include "devutil.h"
#include "refops.h"

static void finite_differences(void) {
  enum { R = 4, C = 5 };
  float fz[R * C];
  ref_fill(fz, R * C, 5, -3, 3);
  double z[R * C], dz[R * C], fd[R * C];
  int32_t y[R] = {0, 4, 2, 2};
  for (int i = 0; i < R * C; i++) z[i] = fz[i];
  ref_xent(R, C, z, y, dz, NULL, NULL);
  for (int i = 0; i < R * C; i++) {
    const double h = 1e-6, keep = z[i];
    z[i] = keep + h;
    double lp = ref_xent(R, C, z, y, NULL, NULL, NULL);
    z[i] = keep - h;
    double lm = ref_xent(R, C, z, y, NULL, NULL, NULL);
    z[i] = keep;
    fd[i] = (lp - lm) / (2 * h);
  }
  double err = ref_max_err_dd(dz, fd, R * C, 1e-6);
  CHECK(err < 1e-6, "FD of the reference loss: %g", err);
}

static void read_metrics(cl_runtime *rt, cl_mem m, uint32_t w[OPS_METRICS_WORDS]) {
  rt_read(rt, m, 0, OPS_METRICS_WORDS * 4, w);
}
static float word_float(uint32_t w) {
  float f;
  memcpy(&f, &w, sizeof f);
  return f;
}

/* Labels read in place through a permutation (op_rows, as a training batch that stays in
   the data set): the same gradient, metrics and confusion matrix, bit for bit, as the
   labels copied out (dz_want, w_want, conf_want from device_case). */
static void labels_through_rows(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem bz,
                                const int32_t *y, const float *dz_want, const uint32_t *w_want,
                                const uint32_t *conf_want) {
  const size_t start = 7, N = (size_t)rows + start + 3, n = (size_t)rows * C;
  uint32_t *perm = xmalloc(N * 4);
  int32_t *src = xcalloc(N, 4);
  uint64_t s = N * 11 + 5;
  for (size_t i = 0; i < N; i++) perm[i] = (uint32_t)i;
  for (size_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
    size_t j = (size_t)(ref_rand(&s) * (double)(i + 1));
    uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  for (size_t i = 0; i < (size_t)rows; i++) src[perm[start + i]] = y[i];
  cl_mem bp = dev_upload(rt, perm, N * 4), bsrc = dev_upload(rt, src, N * 4), bdz = rt_alloc(rt, n * 4);
  cl_mem bm = rt_alloc(rt, OPS_METRICS_WORDS * 4), bc = rt_alloc(rt, (size_t)C * C * 4);
  rt_zero(rt, bm, 0, OPS_METRICS_WORDS * 4);
  rt_zero(rt, bc, 0, (size_t)C * C * 4);
  const op_rows lr = {bp, start};
  op_softmax_xent(rt, k, rows, C, bz, bsrc, &lr, bdz, bm, NULL);
  op_softmax_xent(rt, k, rows, C, bz, bsrc, &lr, NULL, bm, bc);
  uint32_t w[OPS_METRICS_WORDS], *cg = xmalloc((size_t)C * C * 4);
  read_metrics(rt, bm, w);
  float *dzg = dev_download(rt, bdz, n);
  rt_read(rt, bc, 0, (size_t)C * C * 4, cg);
  CHECK(memcmp(dzg, dz_want, n * 4) == 0 && memcmp(w, w_want, sizeof w) == 0 &&
            memcmp(cg, conf_want, (size_t)C * C * 4) == 0,
        "rows=%d C=%d: labels through a permutation differ from the copied labels", rows, C);
  rt_release(&bp); rt_release(&bsrc); rt_release(&bdz); rt_release(&bm); rt_release(&bc);
  free(perm); free(src); free(dzg); free(cg);
}

static void device_case(cl_runtime *rt, const ops_kernels *k, int rows, int C, double scale) {
  const size_t n = (size_t)rows * C;
  float *z = xmalloc(n * 4);
  int32_t *y = xmalloc((size_t)rows * 4);
  ref_fill(z, n, n + (uint64_t)scale, -scale, scale);
  uint64_t s = n * 3 + 1;
  for (int i = 0; i < rows; i++) y[i] = (int32_t)(ref_rand(&s) * C);
  double *zd = ref_dup(z, n), *dz = xmalloc(n * 8);
  long correct = 0, *conf = xcalloc((size_t)C * C, sizeof *conf);
  double loss = ref_xent(rows, C, zd, y, dz, &correct, conf);

  cl_mem bz = dev_upload(rt, z, n * 4), by = dev_upload(rt, y, (size_t)rows * 4), bdz = rt_alloc(rt, n * 4);
  cl_mem bm = rt_alloc(rt, OPS_METRICS_WORDS * 4), bc = rt_alloc(rt, (size_t)C * C * 4);
  rt_zero(rt, bm, 0, OPS_METRICS_WORDS * 4);
  rt_zero(rt, bc, 0, (size_t)C * C * 4);
  op_softmax_xent(rt, k, rows, C, bz, by, NULL, bdz, bm, NULL);   /* training: gradient, no confusion */
  op_softmax_xent(rt, k, rows, C, bz, by, NULL, NULL, bm, bc);    /* evaluation: confusion, no gradient */
  uint32_t w[OPS_METRICS_WORDS];
  read_metrics(rt, bm, w);
  float *dzg = dev_download(rt, bdz, n);
  uint32_t *cg = xmalloc((size_t)C * C * 4);
  rt_read(rt, bc, 0, (size_t)C * C * 4, cg);
  double got_loss = word_float(w[OPS_METRIC_LAST_LOSS]) / rows;
  double got_total = ((double)word_float(w[OPS_METRIC_LOSS_SUM]) + word_float(w[OPS_METRIC_LOSS_COMP])) / rows;
  CHECK(rel_err(got_loss, loss, 1e-3) < 1e-5, "rows=%d C=%d scale=%g: loss %.9g want %.9g", rows, C, scale, got_loss, loss);
  CHECK(rel_err(got_total, 2 * loss, 1e-3) < 1e-5, "rows=%d C=%d: running sum %.9g want %.9g", rows, C, got_total, 2 * loss);
  double e = ref_max_err(dzg, dz, n, 1e-2 / rows);
  CHECK(e < 1e-4, "rows=%d C=%d scale=%g: dlogits max rel err %g", rows, C, scale, e);
  CHECK(w[OPS_METRIC_LAST_CORRECT] == (uint32_t)correct, "rows=%d C=%d: correct %u want %ld", rows, C,
        w[OPS_METRIC_LAST_CORRECT], correct);
  CHECK(w[OPS_METRIC_CORRECT_LO] == 2 * (uint32_t)correct && w[OPS_METRIC_CORRECT_HI] == 0,
        "rows=%d C=%d: running correct %u", rows, C, w[OPS_METRIC_CORRECT_LO]);
  int conf_ok = 1;
  for (int i = 0; i < C * C; i++) conf_ok &= cg[i] == (uint32_t)conf[i];
  CHECK(conf_ok, "rows=%d C=%d: confusion matrix differs", rows, C);
  labels_through_rows(rt, k, rows, C, bz, y, dzg, w, cg);
  cl_mem *bufs[] = {&bz, &by, &bdz, &bm, &bc};
  for (size_t i = 0; i < 5; i++) rt_release(bufs[i]);
  free(z); free(y); free(zd); free(dz); free(conf); free(dzg); free(cg);
}

/* An epoch's worth of batches: the compensated device sum against a double sum. */
static void epoch_totals(cl_runtime *rt, const ops_kernels *k) {
  enum { R = 300, C = 5, BATCHES = 2000 };
  float z[R * C];
  int32_t y[R];
  ref_fill(z, R * C, 99, -4, 4);
  for (int i = 0; i < R; i++) y[i] = i % C;
  cl_mem bz = dev_upload(rt, z, sizeof z), by = dev_upload(rt, y, sizeof y), bdz = rt_alloc(rt, sizeof z);
  cl_mem bm = rt_alloc(rt, OPS_METRICS_WORDS * 4);
  rt_zero(rt, bm, 0, OPS_METRICS_WORDS * 4);
  /* an interpreter (CLTRAIN_TEST_SMALL) runs 20 batches: the same path, less drift tested */
  const int batches = ref_small() ? 20 : BATCHES;
  for (int b = 0; b < batches; b++) op_softmax_xent(rt, k, R, C, bz, by, NULL, bdz, bm, NULL);
  uint32_t w[OPS_METRICS_WORDS];
  read_metrics(rt, bm, w);
  double batch = word_float(w[OPS_METRIC_LAST_LOSS]); /* identical every batch */
  double want = batch * batches;
  double got = (double)word_float(w[OPS_METRIC_LOSS_SUM]) + word_float(w[OPS_METRIC_LOSS_COMP]);
  CHECK(rel_err(got, want, 1e-30) < 1e-6, "running loss over %d samples: %.10g want %.10g", R * batches, got, want);
  uint64_t correct = ((uint64_t)w[OPS_METRIC_CORRECT_HI] << 32) | w[OPS_METRIC_CORRECT_LO];
  CHECK(correct == (uint64_t)w[OPS_METRIC_LAST_CORRECT] * (uint64_t)batches, "running correct %llu", (unsigned long long)correct);

  /* carry into the high word of the correct counter */
  uint32_t init[OPS_METRICS_WORDS] = {0};
  init[OPS_METRIC_CORRECT_LO] = 0xFFFFFFF0u;
  init[OPS_METRIC_CORRECT_HI] = 7;
  rt_write(rt, bm, 0, sizeof init, init);
  op_softmax_xent(rt, k, R, C, bz, by, NULL, bdz, bm, NULL);
  read_metrics(rt, bm, w);
  uint64_t c2 = ((uint64_t)w[OPS_METRIC_CORRECT_HI] << 32) | w[OPS_METRIC_CORRECT_LO];
  CHECK(c2 == (7ull << 32) + 0xFFFFFFF0ull + w[OPS_METRIC_LAST_CORRECT] && w[OPS_METRIC_LAST_CORRECT] > 16,
        "64-bit carry: %llx", (unsigned long long)c2);

  /* a label out of range poisons the loss instead of reading out of bounds */
  y[3] = C;
  rt_write(rt, by, 0, sizeof y, y);
  op_softmax_xent(rt, k, R, C, bz, by, NULL, bdz, bm, NULL);
  read_metrics(rt, bm, w);
  CHECK(isnan(word_float(w[OPS_METRIC_LAST_LOSS])), "bad label gives loss %g", word_float(w[OPS_METRIC_LAST_LOSS]));
  rt_release(&bz); rt_release(&by); rt_release(&bdz); rt_release(&bm);
}

int main(void) {
  finite_differences();
  cl_runtime rt;
  dev_open(&rt);
  /* the device's default local sizes, then GPU-like wide ones (64 / 256) */
  for (int config = 0; config < 2; config++) {
    ops_kernels k;
    ops_init_local(&k, &rt, config ? 64 : 0, config ? 256 : 0);
    for (int b = 0; b < REF_N_BATCHES; b++)
      for (int w = 0; w < REF_N_WIDTHS; w++) {
        device_case(&rt, &k, ref_batches[b], ref_widths[w], 4.0);
        if (b % 3 == 0) device_case(&rt, &k, ref_batches[b], ref_widths[w], 1e4); /* stability */
      }
    for (int b = 0; b < REF_N_BATCHES; b++) device_case(&rt, &k, ref_batches[b], OPS_LOSS_SMALL_C, 4.0);
    epoch_totals(&rt, &k);
    ops_free(&k);
  }
  rt_close(&rt);
  dev_check(&rt, "test_ops_loss");
  return test_summary("test_ops_loss");
}
