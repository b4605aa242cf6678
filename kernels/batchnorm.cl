/* BatchNorm1d over a rows x C block (PyTorch semantics), fused with the bias of a
   preceding Linear layer (so the Linear needs no bias kernel of its own) and with the
   following activation and dropout. Training kernels come in two forms with the same
   arguments, both reducing over the batch in a fixed order: one work-group per channel
   (GPUs), and *_items with one work-item per channel (CPUs, see common.cl).
   -D WG=local size (a power of two). */
#include "common.cl"

/* Batch mean and biased variance of channel c, running-stat update (momentum, unbiased
   variance), batch_stats[2c] = mean, [2c+1] = 1/sqrt(var + eps) for the backward, and
   z = epilogue(gamma * xhat + beta). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void bn_train_forward(const int rows, __global const float *x,
                      __global const float *params, const uint gamma_off, const uint beta_off,
                      const int has_bias, const uint bias_off, __global float *stats,
                      const uint rm_off, const uint rv_off, __global float *batch_stats,
                      const int C, const float momentum, const float eps, __global float *z,
                      __global float *saved, const int store_saved, EPILOGUE_PARAMS) {
  __local float scratch[WG];
  const uint c = get_group_id(0), lid = get_local_id(0);
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  float acc = 0.0f;
  for (uint i = lid; i < (uint)rows; i += WG) acc += x[i * (uint)C + c] + b;
  const float mean = wg_sum(acc, scratch) / (float)rows;
  acc = 0.0f;
  for (uint i = lid; i < (uint)rows; i += WG) {
    float d = x[i * (uint)C + c] + b - mean;
    acc += d * d;
  }
  const float sq = wg_sum(acc, scratch);
  const float var = sq / (float)rows;
  const float invstd = 1.0f / sqrt(var + eps);
  if (lid == 0) {
    /* PyTorch: unbiased variance for the running estimate; a batch of one has none,
       so the (zero) biased variance is used then. */
    const float unbiased = rows > 1 ? sq / (float)(rows - 1) : var;
    stats[rm_off + c] = momentum * mean + (1.0f - momentum) * stats[rm_off + c];
    stats[rv_off + c] = momentum * unbiased + (1.0f - momentum) * stats[rv_off + c];
    batch_stats[2 * c] = mean;
    batch_stats[2 * c + 1] = invstd;
  }
  const float gamma = params[gamma_off + c], beta = params[beta_off + c];
  for (uint i = lid; i < (uint)rows; i += WG) {
    const uint idx = i * (uint)C + c;
    float xhat = (x[idx] + b - mean) * invstd, s;
    z[idx] = epilogue_forward(xhat * gamma + beta, idx, &s, EPILOGUE_ARGS);
    if (store_saved) saved[idx] = s;
  }
}

/* Evaluation: running statistics, element-wise. Dropout is off in evaluation (the host
   passes has_drop = 0). */
__kernel void bn_eval_forward(const int rows, __global const float *x,
                              __global const float *params, const uint gamma_off,
                              const uint beta_off, const int has_bias, const uint bias_off,
                              __global const float *stats, const uint rm_off, const uint rv_off,
                              const int C, const float eps, __global float *z, EPILOGUE_PARAMS) {
  const uint idx = get_global_id(0);
  if (idx >= (uint)rows * (uint)C) return;
  const uint c = idx % (uint)C;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float invstd = 1.0f / sqrt(stats[rv_off + c] + eps);
  float xhat = (x[idx] + b - stats[rm_off + c]) * invstd, s;
  z[idx] = epilogue_forward(xhat * params[gamma_off + c] + params[beta_off + c], idx, &s,
                            EPILOGUE_ARGS);
}

/* Backward of channel c: g = epilogue_backward(dz) (kept in dz), dgamma = sum(g * xhat),
   dbeta = sum(g), dx = gamma * invstd * (g - dbeta/N - xhat * dgamma/N) (written when
   write_dx) and the preceding Linear's bias gradient sum(dx) (when has_bias). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void bn_train_backward(const int rows, __global const float *x,
                       __global const float *params, const uint gamma_off, const int has_bias,
                       const uint bias_off, __global const float *batch_stats, const int C,
                       __global float *dz, __global const float *saved, __global float *dx,
                       const int write_dx, __global float *grads, const uint dgamma_off,
                       const uint dbeta_off, const uint dbias_off, EPILOGUE_PARAMS) {
  __local float2 scratch2[WG];
  __local float scratch[WG];
  const uint c = get_group_id(0), lid = get_local_id(0);
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float mean = batch_stats[2 * c], invstd = batch_stats[2 * c + 1];
  float2 acc = (float2)(0.0f, 0.0f);
  for (uint i = lid; i < (uint)rows; i += WG) {
    const uint idx = i * (uint)C + c;
    float g = epilogue_backward(dz[idx], saved[idx], idx, EPILOGUE_ARGS);
    dz[idx] = g;
    float xhat = (x[idx] + b - mean) * invstd;
    acc += (float2)(g, g * xhat);
  }
  const float2 sums = wg_sum2(acc, scratch2); /* (dbeta, dgamma) */
  if (write_dx || has_bias) {
    const float n = (float)rows, k = params[gamma_off + c] * invstd;
    const float mean_g = sums.x / n, mean_gx = sums.y / n;
    float acc3 = 0.0f;
    for (uint i = lid; i < (uint)rows; i += WG) {
      const uint idx = i * (uint)C + c;
      float xhat = (x[idx] + b - mean) * invstd;
      float d = (dz[idx] - mean_g - xhat * mean_gx) * k;
      if (write_dx) dx[idx] = d;
      acc3 += d;
    }
    const float dbias = wg_sum(acc3, scratch);
    if (lid == 0 && has_bias) grads[dbias_off + c] = dbias;
  }
  if (lid == 0) {
    grads[dgamma_off + c] = sums.y;
    grads[dbeta_off + c] = sums.x;
  }
}

/* The training kernels in items form: work-item c owns channel c. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void bn_train_forward_items(const int rows, __global const float *x,
                            __global const float *params, const uint gamma_off, const uint beta_off,
                            const int has_bias, const uint bias_off, __global float *stats,
                            const uint rm_off, const uint rv_off, __global float *batch_stats,
                            const int C, const float momentum, const float eps, __global float *z,
                            __global float *saved, const int store_saved, EPILOGUE_PARAMS) {
  /* Items past the last column repeat the last one without storing: every item runs the
     same loops, which lets the compiler vectorise across items inside them. */
  const uint w = (uint)C, n = (uint)rows, live = get_global_id(0) < w;
  const uint c = live ? get_global_id(0) : w - 1;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  float total = 0.0f;
  for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
    const uint end = min(i0 + ROW_BLOCK, n);
    float part = 0.0f;
    for (uint i = i0; i < end; i++) part += x[i * w + c] + b;
    total += part;
  }
  const float mean = total / (float)rows;
  float sq = 0.0f;
  for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
    const uint end = min(i0 + ROW_BLOCK, n);
    float part = 0.0f;
    for (uint i = i0; i < end; i++) {
      const float d = x[i * w + c] + b - mean;
      part += d * d;
    }
    sq += part;
  }
  const float var = sq / (float)rows;
  const float invstd = 1.0f / sqrt(var + eps);
  const float unbiased = rows > 1 ? sq / (float)(rows - 1) : var;
  if (live) {
    stats[rm_off + c] = momentum * mean + (1.0f - momentum) * stats[rm_off + c];
    stats[rv_off + c] = momentum * unbiased + (1.0f - momentum) * stats[rv_off + c];
    batch_stats[2 * c] = mean;
    batch_stats[2 * c + 1] = invstd;
  }
  const float gamma = params[gamma_off + c], beta = params[beta_off + c];
  for (uint i = 0; i < n; i++) {
    const uint idx = i * w + c;
    float s;
    const float out = epilogue_forward((x[idx] + b - mean) * invstd * gamma + beta, idx, &s, EPILOGUE_ARGS);
    if (live) z[idx] = out;
    if (live && store_saved) saved[idx] = s;
  }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void bn_train_backward_items(const int rows, __global const float *x,
                             __global const float *params, const uint gamma_off, const int has_bias,
                             const uint bias_off, __global const float *batch_stats, const int C,
                             __global float *dz, __global const float *saved, __global float *dx,
                             const int write_dx, __global float *grads, const uint dgamma_off,
                             const uint dbeta_off, const uint dbias_off, EPILOGUE_PARAMS) {
  /* Items past the last column repeat the last one without storing: every item runs the
     same loops, which lets the compiler vectorise across items inside them. */
  const uint w = (uint)C, n = (uint)rows, live = get_global_id(0) < w;
  const uint c = live ? get_global_id(0) : w - 1;
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float mean = batch_stats[2 * c], invstd = batch_stats[2 * c + 1];
  float sum_g = 0.0f, sum_gx = 0.0f;
  for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
    const uint end = min(i0 + ROW_BLOCK, n);
    float pg = 0.0f, pgx = 0.0f;
    for (uint i = i0; i < end; i++) {
      const uint idx = i * w + c;
      const float g = epilogue_backward(dz[idx], saved[idx], idx, EPILOGUE_ARGS);
      if (live) dz[idx] = g;
      pg += g;
      pgx += g * ((x[idx] + b - mean) * invstd);
    }
    sum_g += pg;
    sum_gx += pgx;
  }
  if (write_dx || has_bias) {
    const float k = params[gamma_off + c] * invstd;
    const float mean_g = sum_g / (float)rows, mean_gx = sum_gx / (float)rows;
    float dbias = 0.0f;
    for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {
      const uint end = min(i0 + ROW_BLOCK, n);
      float part = 0.0f;
      for (uint i = i0; i < end; i++) {
        const uint idx = i * w + c;
        const float d = (dz[idx] - mean_g - (x[idx] + b - mean) * invstd * mean_gx) * k;
        if (live && write_dx) dx[idx] = d;
        part += d;
      }
      dbias += part;
    }
    if (live && has_bias) grads[dbias_off + c] = dbias;
  }
  if (live) {
    grads[dgamma_off + c] = sum_gx;
    grads[dbeta_off + c] = sum_g;
  }
}
