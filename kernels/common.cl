/* Helpers shared by the layer kernels (pulled in with an include of common.cl):
   activations, the "epilogue" (activation then dropout with a precomputed mask) that
   fused kernels apply to their output, and fixed-order work-group sums.
   The constants shared with the host (activation ids, VEC_GROUP, ...) come from it as -D
   options (host/ops/ops_build.c); none is written here. */
#ifndef COMMON_CL
#define COMMON_CL
#include "abi_quiet.cl"
#include "act_math.cl"

/* Epilogue parameters, passed to every kernel that applies one. drop_mask (one byte per
   element, 1 = keep; written by kernels/dropout.cl) is read only when has_drop. */
#define EPILOGUE_PARAMS                                                              \
  const int act, const float slope, const int has_drop, const float drop_scale,      \
      __global const uchar *drop_mask
#define EPILOGUE_ARGS act, slope, has_drop, drop_scale, drop_mask

inline float act_forward(const int act, const float slope, const float v) {
  ACT_LIST(ACT_FWD_CASE, _)
  return v;
}

/* A batch norm's training-batch statistics of channel c, from the batch mean and the sum
   SQ of squared deviations over ROWS rows: the running mean and variance moved by MOMENTUM
   (PyTorch: the unbiased variance; a batch of one has none, so the biased (zero) one),
   and the batch's mean and 1/sqrt(var + eps) saved for the backward. Returns invstd. */
inline float bn_batch_stats(__global float *stats, const uint rm_off, const uint rv_off,
                            __global float *batch_stats, const uint C, const uint c, const float mean,
                            const float sq, const int rows, const float momentum, const float eps,
                            const bool write) {
  const float var = sq / (float)rows;
  const float invstd = 1.0f / sqrt(var + eps);
  if (write) {
    const float unbiased = rows > 1 ? sq / (float)(rows - 1) : var;
    stats[rm_off + c] = momentum * mean + (1.0f - momentum) * stats[rm_off + c];
    stats[rv_off + c] = momentum * unbiased + (1.0f - momentum) * stats[rv_off + c];
    batch_stats[c] = mean;
    batch_stats[C + c] = invstd;
  }
  return invstd;
}

/* Gradient through the activation from the saved value s (act_math.cl). */
inline float act_backward(const int act, const float slope, const float s, const float g) {
  ACT_LIST(ACT_BWD_CASE, _)
  return g;
}

/* Output of the epilogue for pre-activation v at element idx; *saved gets what the
   backward needs for the activation (see act_backward). */
inline float epilogue_forward(float v, uint idx, float *saved, EPILOGUE_PARAMS) {
  float a = act_forward(act, slope, v);
  *saved = act_saves_input(act, slope) ? v : a;
  if (!has_drop) return a;
  return drop_mask[idx] ? a * drop_scale : 0.0f;
}

/* Gradient at the epilogue input from the gradient g at its output. */
inline float epilogue_backward(float g, float saved, uint idx, EPILOGUE_PARAMS) {
  if (has_drop) g = drop_mask[idx] ? g * drop_scale : 0.0f;
  return act_backward(act, slope, saved, g);
}

/* Fixed-order tree sum over the work-group (local size a power of two, scratch holds
   one value per item). Every item returns the total; the order depends only on the
   local size, so results are bit-identical run to run. */
#define DEFINE_WG_SUM(NAME, T)                                \
  inline T NAME(T v, __local T *scratch) {                    \
    const uint lid = get_local_id(0), n = get_local_size(0);  \
    scratch[lid] = v;                                         \
    barrier(CLK_LOCAL_MEM_FENCE);                             \
    for (uint s = n / 2; s > 0; s >>= 1) {                    \
      if (lid < s) scratch[lid] += scratch[lid + s];          \
      barrier(CLK_LOCAL_MEM_FENCE);                           \
    }                                                         \
    T total = scratch[0];                                     \
    barrier(CLK_LOCAL_MEM_FENCE);                             \
    return total;                                             \
  }
DEFINE_WG_SUM(wg_sum, float)
DEFINE_WG_SUM(wg_sum2, float2)

/* Column kernels in vector form (CPU devices, colvec.cl) sum the rows in order inside a
   lane, in blocks of ROW_BLOCK so the rounding error grows with ROW_BLOCK + rows /
   ROW_BLOCK rather than with rows. Their row loops must not branch on the epilogue's kind,
   so every such kernel exists once per activation and dropout flag, its body an inline
   function called with constants: EPILOGUE_VARIANTS(MAKE) instantiates MAKE(suffix, act,
   drop) for each activation of ACT_LIST and each dropout flag, and the kernel names end in
   _<activation name><0|1> (host/ops/ops_build.c builds the same names). A CPU compiles a
   kernel when it is first launched, so only the variants a model uses cost compile time. */
/* ROW_BLOCK comes from the host as -D (OPS_ROW_BLOCK). */
#define EPILOGUE_PAIR(MAKE, NAME, ID, SAVES, GATES) MAKE(NAME##0, ID, 0) MAKE(NAME##1, ID, 1)
#define EPILOGUE_VARIANTS(MAKE) ACT_LIST(EPILOGUE_PAIR, MAKE)

/* Row i of a batch in its source buffers: perm[start + i], or start + i without perm (the
   batch is read in place from the device-resident data set, see host/net.c). */
inline uint batch_row(const uint i, __global const uint *perm, const uint start, const int use_perm) {
  return use_perm ? perm[start + i] : start + i;
}
#endif
