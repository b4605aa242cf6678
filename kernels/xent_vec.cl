/* Softmax cross-entropy in training for up to XENT_MAX_C classes in ONE work-item,
   vectorised over rows (CPU devices): 16 rows at a time, one row per float16 lane, every
   class loop unrolled to XENT_MAX_C (classes past C masked), each exp computed once. The
   batch totals are the lanes summed in order, so the result is fixed for a given input.
   Included by loss.cl (the stand-alone kernel) and by the kernels that fuse the loss into
   the last stage's backward. Also the running-metrics update shared by every loss kernel
   (layout: the word indices M_* arrive as -D from OPS_METRIC_* in host/ops/ops.h). */
#ifndef XENT_VEC_CL
#define XENT_VEC_CL
#include "common.cl"

/* Add one batch's loss sum and correct count to the running totals (one work-item). */
inline void add_batch_metrics(float batch_loss, const uint batch_correct, __global uint *metrics) {
  /* a poisoned batch gives the one canonical NaN, whichever operation made it (x86 makes
     NaNs with the sign bit set, which the host would print as -nan) */
  if (isnan(batch_loss)) batch_loss = NAN;
  /* Neumaier-compensated running sum: an epoch of ~10^4 batch sums keeps full float
     precision (the host adds sum and compensation in double). */
  const float s = as_float(metrics[M_LOSS_SUM]);
  float comp = as_float(metrics[M_LOSS_COMP]);
  const float t = s + batch_loss;
  if (fabs(s) >= fabs(batch_loss)) comp += (s - t) + batch_loss;
  else comp += (batch_loss - t) + s;
  metrics[M_LOSS_SUM] = as_uint(t);
  metrics[M_LOSS_COMP] = as_uint(comp);
  metrics[M_LAST_LOSS] = as_uint(batch_loss);
  metrics[M_LAST_CORRECT] = batch_correct;
  ulong total = ((ulong)metrics[M_CORRECT_HI] << 32) | (ulong)metrics[M_CORRECT_LO];
  total += batch_correct;
  metrics[M_CORRECT_LO] = (uint)total;
  metrics[M_CORRECT_HI] = (uint)(total >> 32);
}

#define XENT_MAX_C LOSS_SMALL_C /* -D from the host: OPS_LOSS_SMALL_C */

/* Loss and correct count of the rows x C logits added to metrics; dlogits (when
   grad_rows > 0) = (softmax - onehot) / grad_rows: the batch's rows, or in data-parallel
   training the global batch's. The label of row i is labels[batch_row(i, perm, start,
   use_perm)]. */
inline void xent_rows_vec(const int rows, __global const float *logits, __global const int *labels,
                          __global const uint *perm, const uint start, const int use_perm,
                          const int C, __global float *dlogits, const int grad_rows,
                          __global uint *metrics) {
  const uint n = (uint)rows, w = (uint)C;
  const float inv_n = 1.0f / (float)grad_rows;
  const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  float16 loss = 0.0f;
  int16 correct = 0;
  for (uint i0 = 0; i0 < n; i0 += 16) {
    /* rows past the end repeat the last row and are masked out */
    float zt[XENT_MAX_C][16];
    int yt[16];
    for (uint l = 0; l < 16; l++) {
      const uint i = min(i0 + l, n - 1);
      for (uint j = 0; j < XENT_MAX_C; j++) zt[j][l] = j < w ? logits[i * w + min(j, w - 1)] : -INFINITY;
      yt[l] = labels[batch_row(i, perm, start, use_perm)];
    }
    const int16 y = vload16(0, yt);
    float16 v[XENT_MAX_C];
    for (uint j = 0; j < XENT_MAX_C; j++) v[j] = vload16(0, zt[j]);
    float16 mx = v[0];
    int16 arg = 0;
    for (int j = 1; j < XENT_MAX_C; j++) { /* first maximum, as argmax */
      const int16 gt = v[j] > mx;
      mx = gt ? v[j] : mx;
      arg = gt ? (int16)(j) : arg;
    }
    float16 e[XENT_MAX_C], sum = 0.0f;
    for (int j = 0; j < XENT_MAX_C; j++) {
      e[j] = exp(v[j] - mx); /* 0 for the masked classes */
      sum += e[j];
    }
    const int16 valid = (y >= 0) & (y < C);
    float16 zy = v[0];
    for (int j = 1; j < XENT_MAX_C; j++) zy = y == j ? v[j] : zy;
    const int16 live = (int16)((int)i0) + lane < (int16)((int)n);
    /* -log softmax(z)_y = log(sum exp(z - max)) - (z_y - max); a bad label poisons the loss */
    const float16 row_loss = valid ? log(sum) - (zy - mx) : (float16)(NAN);
    loss += live ? row_loss : (float16)(0.0f);
    correct -= live & valid & (arg == y); /* true is -1 per lane */
    if (grad_rows > 0) {
      const float16 inv_sum = 1.0f / sum;
      float gt[XENT_MAX_C][16];
      for (int j = 0; j < XENT_MAX_C; j++)
        vstore16((e[j] * inv_sum - (y == j ? (float16)(1.0f) : (float16)(0.0f))) * inv_n, 0, gt[j]);
      const uint m = min(16u, n - i0);
      for (uint l = 0; l < m; l++)
        for (uint j = 0; j < w; j++) dlogits[(i0 + l) * w + j] = gt[j][l];
    }
  }
  float lt[16];
  int ct[16];
  vstore16(loss, 0, lt);
  vstore16(correct, 0, ct);
  float batch_loss = 0.0f;
  uint batch_correct = 0;
  for (int l = 0; l < 16; l++) {
    batch_loss += lt[l];
    batch_correct += (uint)ct[l];
  }
  add_batch_metrics(batch_loss, batch_correct, metrics);
}

/* The loss fused into the start of a last-stage backward kernel (vector form): appended
   to its parameters; when with_loss, its single work-item first computes the loss of the
   stage's output (logits) and writes the gradient into the kernel's dz, which the rest of
   the kernel then reads as usual. The host fuses only when C <= XENT_MAX_C, so the
   kernel has one work-item. */
#define LOSS_PARAMS_COMMA                                                                     \
  , __global const float *logits, __global const int *labels, __global const uint *l_perm,     \
      const uint l_start, const int l_use_perm, __global uint *metrics, const int with_loss
#define FUSED_LOSS \
  if (with_loss) xent_rows_vec(rows, logits, labels, l_perm, l_start, l_use_perm, C, dz, rows, metrics)
#endif
