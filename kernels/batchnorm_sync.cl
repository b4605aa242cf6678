/* Synchronised BatchNorm1d for data-parallel training (host/net/net_shard.c): every
   process holds some rows of the global batch; the batch statistics and the backward's two
   sums are summed over all processes between these kernels, so the result is one device's
   at the global batch up to the order of the float sums. One work-item per channel; rows
   in order in blocks of ROW_BLOCK (the row order of the vector form in batchnorm.cl). */
#include "common.cl"

#define X_ROWS_PARAMS __global const uint *x_perm, const uint x_start, const int x_use_perm
#define X_ROW(i) batch_row((i), x_perm, x_start, x_use_perm)

/* out[c] = sum over this process's rows of v = x + b, or with use_center of
   (v - center[c])^2: the partial sums of the global mean and variance. */
__kernel void bn_sync_sum(const int rows, __global const float *x, X_ROWS_PARAMS,
                          __global const float *params, const int has_bias, const uint bias_off,
                          const int C, __global const float *center, const int use_center,
                          __global float *out) {
  const uint c = get_global_id(0), w = (uint)C, n = (uint)rows;
  if (c >= w) return;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float m = use_center ? center[c] : 0.0f;
  float total = 0.0f;
  for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
    const uint end = min(i0 + ROW_BLOCK, n);
    float part = 0.0f;
    for (uint i = i0; i < end; i++) {
      const float v = x[X_ROW(i) * w + c] + b;
      if (use_center) {
        const float d = v - m;
        part += d * d;
      } else {
        part += v;
      }
    }
    total += part;
  }
  out[c] = total;
}

/* The forward with the global statistics gstats (C means, then C sums of squared
   deviations) over global_rows rows: running-stat update, batch_stats for the backward,
   z = epilogue(gamma * xhat + beta) of this process's rows (as bn_train_forward). */
__kernel void bn_sync_forward(const int rows, __global const float *x, X_ROWS_PARAMS,
                              __global const float *params, const uint gamma_off, const uint beta_off,
                              const int has_bias, const uint bias_off, __global float *stats,
                              const uint rm_off, const uint rv_off, __global float *batch_stats,
                              const int C, const float momentum, const float eps, const int global_rows,
                              __global const float *gstats, __global float *z, __global float *saved,
                              const int store_saved, EPILOGUE_PARAMS) {
  const uint c = get_global_id(0), w = (uint)C, n = (uint)rows;
  if (c >= w) return;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float mean = gstats[c], sq = gstats[w + c];
  const float invstd =
      bn_batch_stats(stats, rm_off, rv_off, batch_stats, w, c, mean, sq, global_rows, momentum, eps, true);
  const float gamma = params[gamma_off + c], beta = params[beta_off + c];
  for (uint i = 0; i < n; i++) {
    const uint idx = i * w + c;
    float s;
    z[idx] = epilogue_forward((x[X_ROW(i) * w + c] + b - mean) * invstd * gamma + beta, idx, &s, EPILOGUE_ARGS);
    if (store_saved) saved[idx] = s;
  }
}

/* Backward, first half: g = epilogue_backward(dz) kept in dz, and this process's sums
   out[c] = sum g, out[C + c] = sum g * xhat. */
__kernel void bn_sync_backward_sums(const int rows, __global const float *x, X_ROWS_PARAMS,
                                    __global const float *params, const int has_bias, const uint bias_off,
                                    __global const float *batch_stats, const int C, __global float *dz,
                                    __global const float *saved, __global float *out, EPILOGUE_PARAMS) {
  const uint c = get_global_id(0), w = (uint)C, n = (uint)rows;
  if (c >= w) return;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float mean = batch_stats[c], invstd = batch_stats[w + c];
  float sum_g = 0.0f, sum_gx = 0.0f;
  for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
    const uint end = min(i0 + ROW_BLOCK, n);
    float pg = 0.0f, pgx = 0.0f;
    for (uint i = i0; i < end; i++) {
      const uint idx = i * w + c;
      const float g = epilogue_backward(dz[idx], saved[idx], idx, EPILOGUE_ARGS);
      dz[idx] = g;
      pg += g;
      pgx += g * ((x[X_ROW(i) * w + c] + b - mean) * invstd);
    }
    sum_g += pg;
    sum_gx += pgx;
  }
  out[c] = sum_g;
  out[w + c] = sum_gx;
}

/* Backward, second half, with the global sums gsums (as out above, over global_rows rows):
   dx = gamma * invstd * (g - mean g - xhat * mean g xhat) (when write_dx), and into the
   gradient buffer this process's parts of dgamma, dbeta (lsums) and of the preceding
   Linear's bias gradient sum(dx) (when has_bias): the gradient all-reduce adds them up. */
__kernel void bn_sync_backward_dx(const int rows, __global const float *x, X_ROWS_PARAMS,
                                  __global const float *params, const uint gamma_off, const int has_bias,
                                  const uint bias_off, __global const float *batch_stats, const int C,
                                  const int global_rows, __global const float *gsums,
                                  __global const float *lsums, __global const float *dz, __global float *dx,
                                  const int write_dx, __global float *grads, const uint dgamma_off,
                                  const uint dbeta_off, const uint dbias_off) {
  const uint c = get_global_id(0), w = (uint)C, n = (uint)rows;
  if (c >= w) return;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float mean = batch_stats[c], invstd = batch_stats[w + c];
  if (write_dx || has_bias) {
    const float k = params[gamma_off + c] * invstd;
    const float mean_g = gsums[c] / (float)global_rows, mean_gx = gsums[w + c] / (float)global_rows;
    float dbias = 0.0f;
    for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
      const uint end = min(i0 + ROW_BLOCK, n);
      float part = 0.0f;
      for (uint i = i0; i < end; i++) {
        const uint idx = i * w + c;
        const float d = (dz[idx] - mean_g - (x[X_ROW(i) * w + c] + b - mean) * invstd * mean_gx) * k;
        if (write_dx) dx[idx] = d;
        part += d;
      }
      dbias += part;
    }
    if (has_bias) grads[dbias_off + c] = dbias;
  }
  grads[dgamma_off + c] = lsums[w + c];
  grads[dbeta_off + c] = lsums[c];
}
