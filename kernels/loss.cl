/* Softmax cross-entropy (log-softmax + NLL, mean over the batch) forward and backward in
   one single-work-group launch, with the correct-prediction count and, in evaluation,
   the confusion matrix. Batch sums are fixed-order tree sums; the running totals live on
   the device (layout: OPS_METRIC_* in host/ops.h) so training never waits for the host.
   Labels are read through batch_row (common.cl), so a batch can stay in the data set.
   -D WG=local size (a power of two). */

#include "xent_vec.cl"

/* Work-group totals of the batch's loss and correct count, and the update of the running
   totals by item 0. */
inline void finish_batch(float loss, uint correct, __local float *scratch, __local uint *scratch_u,
                         __global uint *metrics) {
  const uint lid = get_local_id(0);
  const float batch_loss = wg_sum(loss, scratch);
  scratch_u[lid] = correct;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (lid < s) scratch_u[lid] += scratch_u[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) add_batch_metrics(batch_loss, scratch_u[0], metrics);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax_xent(const int rows, __global const float *logits, __global const int *labels,
                  __global const uint *perm, const uint start, const int use_perm, const int C, __global float *dlogits, const int grad_rows,
                  __global uint *metrics, __global uint *confusion, const int count_confusion) {
  __local float scratch[WG];
  __local uint scratch_u[WG];
  const uint lid = get_local_id(0);
  const float inv_n = 1.0f / (float)grad_rows;
  float loss = 0.0f;
  uint correct = 0;
  for (uint i = lid; i < (uint)rows; i += WG) {
    __global const float *z = logits + i * (uint)C;
    float mx = z[0];
    int arg = 0;
    for (int j = 1; j < C; j++)
      if (z[j] > mx) { mx = z[j]; arg = j; } /* first maximum, as argmax */
    float sum = 0.0f;
    for (int j = 0; j < C; j++) sum += exp(z[j] - mx);
    const int y = labels[batch_row(i, perm, start, use_perm)];
    const bool valid = y >= 0 && y < C;
    /* -log softmax(z)_y = log(sum exp(z - max)) - (z_y - max); a bad label poisons the loss */
    loss += valid ? log(sum) - (z[y] - mx) : NAN;
    correct += (valid && arg == y) ? 1u : 0u;
    if (grad_rows > 0) {
      const float inv_sum = 1.0f / sum;
      for (int j = 0; j < C; j++)
        dlogits[i * (uint)C + j] = (exp(z[j] - mx) * inv_sum - (j == y ? 1.0f : 0.0f)) * inv_n;
    }
    if (count_confusion && valid) atomic_inc(&confusion[y * C + arg]);
  }
  finish_batch(loss, correct, scratch, scratch_u, metrics);
}

/* The same for training (no confusion matrix) with C <= SMALL_C classes on a work-group
   (GPUs; CPUs run softmax_xent_vec below): the class loops run SMALL_C times (classes past
   C masked; loads clamped into the row), so they unroll into straight code, each exp is
   computed once, and the rows advance in steps of WG. */
#define SMALL_C LOSS_SMALL_C /* -D from the host: OPS_LOSS_SMALL_C */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax_xent_small(const int rows, __global const float *logits, __global const int *labels,
                        __global const uint *perm, const uint start, const int use_perm,
                        const int C, __global float *dlogits, const int grad_rows,
                        __global uint *metrics) {
  __local float scratch[WG];
  __local uint scratch_u[WG];
  const uint lid = get_local_id(0), n = (uint)rows, w = (uint)C;
  const float inv_n = 1.0f / (float)grad_rows;
  float loss = 0.0f;
  uint correct = 0;
  for (uint i0 = 0; i0 < n; i0 += WG) {
    const uint i = i0 + lid;
    const bool live = i < n;
    __global const float *z = logits + (live ? i : n - 1) * w;
    float v[SMALL_C], e[SMALL_C];
    for (uint j = 0; j < SMALL_C; j++) v[j] = j < w ? z[min(j, w - 1)] : -INFINITY;
    float mx = v[0];
    int arg = 0;
    for (int j = 1; j < SMALL_C; j++)
      if (v[j] > mx) { mx = v[j]; arg = j; } /* first maximum, as argmax */
    float sum = 0.0f;
    for (int j = 0; j < SMALL_C; j++) {
      e[j] = exp(v[j] - mx); /* 0 for the masked classes */
      sum += e[j];
    }
    const int y = live ? labels[batch_row(i, perm, start, use_perm)] : 0;
    const bool valid = y >= 0 && y < C;
    float zy = v[0];
    for (int j = 1; j < SMALL_C; j++) zy = j == y ? v[j] : zy;
    /* -log softmax(z)_y = log(sum exp(z - max)) - (z_y - max); a bad label poisons the loss */
    if (live) {
      loss += valid ? log(sum) - (zy - mx) : NAN;
      correct += (valid && arg == y) ? 1u : 0u;
    }
    if (grad_rows > 0) {
      const float inv_sum = 1.0f / sum;
      for (uint j = 0; j < SMALL_C; j++)
        if (live && j < w) dlogits[i * w + j] = (e[j] * inv_sum - (j == (uint)y ? 1.0f : 0.0f)) * inv_n;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  finish_batch(loss, correct, scratch, scratch_u, metrics);
}

/* Training with up to XENT_MAX_C classes on CPUs: one work-item (xent_vec.cl). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void softmax_xent_vec(const int rows, __global const float *logits, __global const int *labels,
                      __global const uint *perm, const uint start, const int use_perm, const int C,
                      __global float *dlogits, const int grad_rows, __global uint *metrics) {
  xent_rows_vec(rows, logits, labels, perm, start, use_perm, C, dlogits, grad_rows, metrics);
}
