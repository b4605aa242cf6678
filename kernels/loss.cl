/* Softmax cross-entropy (log-softmax + NLL, mean over the batch) forward and backward in
   one single-work-group launch, with the correct-prediction count and, in evaluation,
   the confusion matrix. Batch sums are fixed-order tree sums; the running totals live on
   the device (layout: OPS_METRIC_* in host/ops.h) so training never waits for the host.
   -D WG=local size (a power of two). */
#include "common.cl"

#define M_LOSS_SUM 0     /* float bits: running loss sum */
#define M_LOSS_COMP 1    /* float bits: its Neumaier compensation term */
#define M_LAST_LOSS 2    /* float bits: loss sum of the last batch */
#define M_LAST_CORRECT 3 /* correct predictions of the last batch */
#define M_CORRECT_LO 4   /* running correct count, 64 bits */
#define M_CORRECT_HI 5


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
  if (lid == 0) {
    const uint batch_correct = scratch_u[0];
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
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax_xent(const int rows, __global const float *logits, __global const int *labels,
                  const int C, __global float *dlogits, const int write_grad,
                  __global uint *metrics, __global uint *confusion, const int count_confusion) {
  __local float scratch[WG];
  __local uint scratch_u[WG];
  const uint lid = get_local_id(0);
  const float inv_n = 1.0f / (float)rows;
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
    const int y = labels[i];
    const bool valid = y >= 0 && y < C;
    /* -log softmax(z)_y = log(sum exp(z - max)) - (z_y - max); a bad label poisons the loss */
    loss += valid ? log(sum) - (z[y] - mx) : NAN;
    correct += (valid && arg == y) ? 1u : 0u;
    if (write_grad) {
      const float inv_sum = 1.0f / sum;
      for (int j = 0; j < C; j++)
        dlogits[i * (uint)C + j] = (exp(z[j] - mx) * inv_sum - (j == y ? 1.0f : 0.0f)) * inv_n;
    }
    if (count_confusion && valid) atomic_inc(&confusion[y * C + arg]);
  }
  finish_batch(loss, correct, scratch, scratch_u, metrics);
}

/* The same for training (no confusion matrix) with C <= SMALL_C classes, shaped for CPUs:
   the class loops run SMALL_C times
   (classes past C masked; loads clamped into the row), so they unroll into straight code,
   each exp is computed once, and the rows advance in steps of WG with a barrier per step,
   so the items of a step form the compiler's vectorised inner loop. */
#define SMALL_C 8
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax_xent_small(const int rows, __global const float *logits, __global const int *labels,
                        const int C, __global float *dlogits, const int write_grad,
                        __global uint *metrics) {
  __local float scratch[WG];
  __local uint scratch_u[WG];
  const uint lid = get_local_id(0), n = (uint)rows, w = (uint)C;
  const float inv_n = 1.0f / (float)rows;
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
    const int y = live ? labels[i] : 0;
    const bool valid = y >= 0 && y < C;
    float zy = v[0];
    for (int j = 1; j < SMALL_C; j++) zy = j == y ? v[j] : zy;
    /* -log softmax(z)_y = log(sum exp(z - max)) - (z_y - max); a bad label poisons the loss */
    if (live) {
      loss += valid ? log(sum) - (zy - mx) : NAN;
      correct += (valid && arg == y) ? 1u : 0u;
    }
    if (write_grad) {
      const float inv_sum = 1.0f / sum;
      for (uint j = 0; j < SMALL_C; j++)
        if (live && j < w) dlogits[i * w + j] = (e[j] * inv_sum - (j == (uint)y ? 1.0f : 0.0f)) * inv_n;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  finish_batch(loss, correct, scratch, scratch_u, metrics);
}
