/* BatchNorm1d over a rows x C block (PyTorch semantics), fused with the bias of a
   preceding Linear layer (so the Linear needs no bias kernel of its own) and with the
   following activation and dropout. Training kernels come in two forms with the same
   arguments, both reducing over the batch in a fixed order: one work-group per channel
   (GPUs), and *_vec with one work-item per group of 16 channels (CPUs, see colvec.cl).
   -D WG=local size (a power of two). */
#include "colvec.cl"
#include "xent_vec.cl"

/* The training kernels read row i of their input x through batch_row (common.cl): a
   training batch can be normalised straight out of the device-resident data set. */
#define X_ROWS_PARAMS __global const uint *x_perm, const uint x_start, const int x_use_perm
#define X_ROWS_ARGS x_perm, x_start, x_use_perm
#define X_ROW(i) batch_row((i), x_perm, x_start, x_use_perm)

/* Batch mean and biased variance of channel c, running-stat update (momentum, unbiased
   variance), batch_stats[c] = mean, [C + c] = 1/sqrt(var + eps) for the backward, and
   z = epilogue(gamma * xhat + beta). */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void bn_train_forward(const int rows, __global const float *x, X_ROWS_PARAMS,
                      __global const float *params, const uint gamma_off, const uint beta_off,
                      const int has_bias, const uint bias_off, __global float *stats,
                      const uint rm_off, const uint rv_off, __global float *batch_stats,
                      const int C, const float momentum, const float eps, __global float *z,
                      __global float *saved, const int store_saved, EPILOGUE_PARAMS) {
  __local float scratch[WG];
  const uint c = get_group_id(0), lid = get_local_id(0);
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  float acc = 0.0f;
  for (uint i = lid; i < (uint)rows; i += WG) acc += x[X_ROW(i) * (uint)C + c] + b;
  const float mean = wg_sum(acc, scratch) / (float)rows;
  acc = 0.0f;
  for (uint i = lid; i < (uint)rows; i += WG) {
    float d = x[X_ROW(i) * (uint)C + c] + b - mean;
    acc += d * d;
  }
  const float sq = wg_sum(acc, scratch);
  const float invstd = bn_batch_stats(stats, rm_off, rv_off, batch_stats, (uint)C, c, mean, sq, rows, momentum, eps,
                                      lid == 0);
  const float gamma = params[gamma_off + c], beta = params[beta_off + c];
  for (uint i = lid; i < (uint)rows; i += WG) {
    const uint idx = i * (uint)C + c;
    float xhat = (x[X_ROW(i) * (uint)C + c] + b - mean) * invstd, s;
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
void bn_train_backward(const int rows, __global const float *x, X_ROWS_PARAMS,
                       __global const float *params, const uint gamma_off, const int has_bias,
                       const uint bias_off, __global const float *batch_stats, const int C,
                       __global float *dz, __global const float *saved, __global float *dx,
                       const int write_dx, __global float *grads, const uint dgamma_off,
                       const uint dbeta_off, const uint dbias_off, EPILOGUE_PARAMS) {
  __local float2 scratch2[WG];
  __local float scratch[WG];
  const uint c = get_group_id(0), lid = get_local_id(0);
  const float b = has_bias ? params[bias_off + c] : 0.0f;
  const float mean = batch_stats[c], invstd = batch_stats[C + c];
  float2 acc = (float2)(0.0f, 0.0f);
  for (uint i = lid; i < (uint)rows; i += WG) {
    const uint idx = i * (uint)C + c;
    float g = epilogue_backward(dz[idx], saved[idx], idx, EPILOGUE_ARGS);
    dz[idx] = g;
    float xhat = (x[X_ROW(i) * (uint)C + c] + b - mean) * invstd;
    acc += (float2)(g, g * xhat);
  }
  const float2 sums = wg_sum2(acc, scratch2); /* (dbeta, dgamma) */
  if (write_dx || has_bias) {
    const float n = (float)rows, k = params[gamma_off + c] * invstd;
    const float mean_g = sums.x / n, mean_gx = sums.y / n;
    float acc3 = 0.0f;
    for (uint i = lid; i < (uint)rows; i += WG) {
      const uint idx = i * (uint)C + c;
      float xhat = (x[X_ROW(i) * (uint)C + c] + b - mean) * invstd;
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

/* The training kernels in vector form (CPUs, see colvec.cl): one work-item per group of
   16 channels, same arguments; the backward also takes the arguments of a loss it can run
   first (LOSS_PARAMS, xent_vec.cl). */
#define BN_FWD_PARAMS                                                                          \
  const int rows, __global const float *x, X_ROWS_PARAMS, __global const float *params,        \
      const uint gamma_off, const uint beta_off, const int has_bias, const uint bias_off, __global float *stats,     \
      const uint rm_off, const uint rv_off, __global float *batch_stats, const int C,          \
      const float momentum, const float eps, __global float *z, __global float *saved,         \
      const int store_saved, EPILOGUE_PARAMS
#define BN_FWD_ARGS                                                                         \
  rows, x, X_ROWS_ARGS, params, gamma_off, beta_off, has_bias, bias_off, stats, rm_off, rv_off, \
      batch_stats,                                                                          \
      C, momentum, eps, z, saved, store_saved, EPILOGUE_ARGS

#define BN_FWD_VEC(N)                                                                          \
  inline void bn_fwd_vec##N(BN_FWD_PARAMS, const uint c, const int A, const int D) {            \
    const uint w = (uint)C, n = (uint)rows;                                                     \
    const float##N b = has_bias ? vload##N(0, params + bias_off + c) : (float##N)(0.0f);       \
    float##N total = 0.0f;                                                                      \
    for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {                                               \
      const uint end = min(i0 + ROW_BLOCK, n);                                                  \
      float##N part = 0.0f;                                                                     \
      for (uint i = i0; i < end; i++) part += vload##N(0, x + X_ROW(i) * w + c) + b;           \
      total += part;                                                                            \
    }                                                                                           \
    const float##N mean = total / (float)rows;                                                  \
    float##N sq = 0.0f;                                                                         \
    for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {                                               \
      const uint end = min(i0 + ROW_BLOCK, n);                                                  \
      float##N part = 0.0f;                                                                     \
      for (uint i = i0; i < end; i++) {                                                         \
        const float##N d = vload##N(0, x + X_ROW(i) * w + c) + b - mean;                       \
        part += d * d;                                                                          \
      }                                                                                         \
      sq += part;                                                                               \
    }                                                                                           \
    const float##N var = sq / (float)rows;                                                      \
    const float##N invstd = 1.0f / sqrt(var + eps);                                             \
    const float##N unbiased = rows > 1 ? sq / (float)(rows - 1) : var;                          \
    vstore##N(momentum * mean + (1.0f - momentum) * vload##N(0, stats + rm_off + c), 0,          \
              stats + rm_off + c);                                                              \
    vstore##N(momentum * unbiased + (1.0f - momentum) * vload##N(0, stats + rv_off + c), 0,      \
              stats + rv_off + c);                                                              \
    vstore##N(mean, 0, batch_stats + c);                                                        \
    vstore##N(invstd, 0, batch_stats + w + c);                                                  \
    const float##N gamma = vload##N(0, params + gamma_off + c);                                 \
    const float##N beta = vload##N(0, params + beta_off + c);                                   \
    for (uint i = 0; i < n; i++) {                                                              \
      const uint idx = i * w + c;                                                               \
      float##N s;                                                                               \
      const float##N out = epi_forward##N(A, D, slope, drop_scale, drop_mask, idx,              \
          (vload##N(0, x + X_ROW(i) * w + c) + b - mean) * invstd * gamma + beta, &s);          \
      vstore##N(out, 0, z + idx);                                                               \
      if (store_saved) vstore##N(s, 0, saved + idx);                                            \
    }                                                                                           \
  }
VEC_WIDTHS(BN_FWD_VEC)

#define BN_FWD_KERNEL(SUFFIX, A, D) \
  VEC_GROUP_KERNEL(bn_train_forward_vec, SUFFIX, A, D, BN_FWD_PARAMS, BN_FWD_ARGS, bn_fwd_vec, NO_PROLOGUE)
EPILOGUE_VARIANTS(BN_FWD_KERNEL)

#define BN_BWD_PARAMS                                                                            \
  const int rows, __global const float *x, X_ROWS_PARAMS, __global const float *params,          \
      const uint gamma_off, const int has_bias, const uint bias_off,                             \
      __global const float *batch_stats, const int C, __global float *dz,                        \
      __global const float *saved, __global float *dx, const int write_dx,                       \
      __global float *grads, const uint dgamma_off, const uint dbeta_off, const uint dbias_off, \
      EPILOGUE_PARAMS
#define BN_BWD_ARGS                                                                         \
  rows, x, X_ROWS_ARGS, params, gamma_off, has_bias, bias_off, batch_stats, C, dz, saved, dx,    \
      write_dx, grads,                                                                      \
      dgamma_off, dbeta_off, dbias_off, EPILOGUE_ARGS

#define BN_BWD_VEC(N)                                                                           \
  inline void bn_bwd_vec##N(BN_BWD_PARAMS, const uint c, const int A, const int D) {             \
    const uint w = (uint)C, n = (uint)rows;                                                      \
    const float##N b = has_bias ? vload##N(0, params + bias_off + c) : (float##N)(0.0f);        \
    const float##N mean = vload##N(0, batch_stats + c), invstd = vload##N(0, batch_stats + w + c); \
    /* dz <- g = epilogue_backward(dz); sums of g and g * xhat */                                \
    float##N sum_g = 0.0f, sum_gx = 0.0f;                                                        \
    for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {                                                \
      const uint end = min(i0 + ROW_BLOCK, n);                                                   \
      float##N pg = 0.0f, pgx = 0.0f;                                                            \
      for (uint i = i0; i < end; i++) {                                                          \
        const uint idx = i * w + c;                                                              \
        const float##N g = epi_backward##N(A, D, slope, drop_scale, drop_mask, idx,              \
                                           vload##N(0, saved + idx), vload##N(0, dz + idx));     \
        vstore##N(g, 0, dz + idx);                                                               \
        pg += g;                                                                                 \
        pgx += g * ((vload##N(0, x + X_ROW(i) * w + c) + b - mean) * invstd);                    \
      }                                                                                          \
      sum_g += pg;                                                                               \
      sum_gx += pgx;                                                                             \
    }                                                                                            \
    if (write_dx || has_bias) {                                                                  \
      const float##N k = vload##N(0, params + gamma_off + c) * invstd;                           \
      const float##N mean_g = sum_g / (float)rows, mean_gx = sum_gx / (float)rows;               \
      float##N dbias = 0.0f;                                                                     \
      for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {                                              \
        const uint end = min(i0 + ROW_BLOCK, n);                                                 \
        float##N part = 0.0f;                                                                    \
        for (uint i = i0; i < end; i++) {                                                        \
          const uint idx = i * w + c;                                                            \
          const float##N d =                                                                     \
              (vload##N(0, dz + idx) - mean_g - (vload##N(0, x + X_ROW(i) * w + c) + b - mean) * invstd * mean_gx) * k; \
          if (write_dx) vstore##N(d, 0, dx + idx);                                               \
          part += d;                                                                             \
        }                                                                                        \
        dbias += part;                                                                           \
      }                                                                                          \
      if (has_bias) vstore##N(dbias, 0, grads + dbias_off + c);                                  \
    }                                                                                            \
    vstore##N(sum_gx, 0, grads + dgamma_off + c);                                                \
    vstore##N(sum_g, 0, grads + dbeta_off + c);                                                  \
  }
VEC_WIDTHS(BN_BWD_VEC)

#define BN_BWD_KERNEL(SUFFIX, A, D)                                                                \
  VEC_GROUP_KERNEL(bn_train_backward_vec, SUFFIX, A, D, BN_BWD_PARAMS LOSS_PARAMS_COMMA, BN_BWD_ARGS, \
                   bn_bwd_vec, FUSED_LOSS)
EPILOGUE_VARIANTS(BN_BWD_KERNEL)
