/* Linear layer pieces around the GEMMs (host/ops_linear.c): the bias add fused with the
   following activation and dropout, and its backward fused with the bias gradient.
   -D WG=local size of the column kernels (a power of two). */
#include "colvec.cl"

/* z = epilogue(h + bias) over a rows x C block; h and z may be the same buffer. */
__kernel void bias_act_forward(const int rows, __global const float *h,
                               __global const float *params, const uint bias_off, const int C,
                               __global float *z, __global float *saved, const int store_saved,
                               EPILOGUE_PARAMS) {
  const uint idx = get_global_id(0);
  if (idx >= (uint)rows * (uint)C) return;
  const uint c = idx % (uint)C;
  float s;
  float out = epilogue_forward(h[idx] + params[bias_off + c], idx, &s, EPILOGUE_ARGS);
  z[idx] = out;
  if (store_saved) saved[idx] = s;
}

/* One work-group per column c: dh = epilogue_backward(dz) (written over dz when
   write_dh) and grads[db_off + c] = sum over rows of dh, in a fixed order. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void bias_act_backward(const int rows, __global float *dz,
                       __global const float *saved, const int C, const int write_dh,
                       __global float *grads, const uint db_off, EPILOGUE_PARAMS) {
  __local float scratch[WG];
  const uint c = get_group_id(0), lid = get_local_id(0);
  float acc = 0.0f;
  for (uint i = lid; i < (uint)rows; i += WG) {
    const uint idx = i * (uint)C + c;
    float g = epilogue_backward(dz[idx], saved[idx], idx, EPILOGUE_ARGS);
    if (write_dh) dz[idx] = g;
    acc += g;
  }
  float total = wg_sum(acc, scratch);
  if (lid == 0) grads[db_off + c] = total;
}

/* bias_act_backward in vector form (CPUs): one work-item per group of 16 columns (see
   colvec.cl). */
#define BIAS_BWD_PARAMS                                                                  \
  const int rows, __global float *dz, __global const float *saved, const int C,          \
      const int write_dh, __global float *grads, const uint db_off, EPILOGUE_PARAMS
#define BIAS_BWD_ARGS rows, dz, saved, C, write_dh, grads, db_off, EPILOGUE_ARGS

#define BIAS_BWD_VEC(N)                                                                        \
  inline void bias_bwd_vec##N(BIAS_BWD_PARAMS, const uint c, const int A, const int D) {        \
    const uint w = (uint)C, n = (uint)rows;                                                     \
    float##N total = 0.0f;                                                                      \
    for (uint i0 = 0; i0 < n; i0 += ROW_BLOCK) {                                               \
      const uint end = min(i0 + ROW_BLOCK, n);                                                  \
      float##N part = 0.0f;                                                                     \
      for (uint i = i0; i < end; i++) {                                                         \
        const uint idx = i * w + c;                                                             \
        const float##N g = epi_backward##N(A, D, slope, drop_scale, drop_mask, idx,             \
                                           vload##N(0, saved + idx), vload##N(0, dz + idx));    \
        if (write_dh) vstore##N(g, 0, dz + idx);                                                \
        part += g;                                                                              \
      }                                                                                         \
      total += part;                                                                            \
    }                                                                                           \
    vstore##N(total, 0, grads + db_off + c);                                                    \
  }
VEC_WIDTHS(BIAS_BWD_VEC)

#define BIAS_BWD_KERNEL(SUFFIX, A, D) \
  VEC_GROUP_KERNEL(bias_act_backward_vec, SUFFIX, A, D, BIAS_BWD_PARAMS, BIAS_BWD_ARGS, bias_bwd_vec)
EPILOGUE_VARIANTS(BIAS_BWD_KERNEL)
