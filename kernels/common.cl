/* Helpers shared by the layer kernels (pulled in with an include of common.cl):
   activations, the "epilogue" (activation then dropout with a precomputed mask) that
   fused kernels apply to their output, and fixed-order work-group sums.
   Host mirror of the constants: host/ops.h. */
#ifndef COMMON_CL
#define COMMON_CL

#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID 3
#define ACT_TANH 4

/* Epilogue parameters, passed to every kernel that applies one. drop_mask (one byte per
   element, 1 = keep; written by kernels/dropout.cl) is read only when has_drop. */
#define EPILOGUE_PARAMS                                                              \
  const int act, const float slope, const int has_drop, const float drop_scale,      \
      __global const uchar *drop_mask
#define EPILOGUE_ARGS act, slope, has_drop, drop_scale, drop_mask

inline float act_forward(int act, float slope, float v) {
  switch (act) {
    case ACT_RELU: return v < 0.0f ? 0.0f : v; /* NaN passes through */
    case ACT_LEAKY_RELU: return v > 0.0f ? v : v * slope;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-v));
    case ACT_TANH: return tanh(v);
    default: return v;
  }
}

/* Gradient through the activation from the saved value s: the output for every kind
   except leaky_relu with a negative slope, where the forward saves the input instead
   (the sign of the output no longer tells the sign of the input). */
inline float act_backward(int act, float slope, float s, float g) {
  switch (act) {
    case ACT_RELU: return s > 0.0f ? g : 0.0f;
    case ACT_LEAKY_RELU: return s > 0.0f ? g : g * slope;
    case ACT_SIGMOID: return g * (1.0f - s) * s;
    case ACT_TANH: return g * (1.0f - s * s);
    default: return g;
  }
}

/* Whether the forward must keep the pre-activation input rather than the output. */
inline bool act_saves_input(int act, float slope) { return act == ACT_LEAKY_RELU && slope < 0.0f; }

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
   drop) for each, and the kernel names end in _<suffix> (host/ops_build.c builds the same
   names). A CPU compiles a kernel when it is first launched, so only the variants a model
   uses cost compile time. */
#define ROW_BLOCK 32
#define EPILOGUE_VARIANTS(MAKE)                                                              \
  MAKE(none0, ACT_NONE, 0) MAKE(none1, ACT_NONE, 1) MAKE(relu0, ACT_RELU, 0)              \
  MAKE(relu1, ACT_RELU, 1) MAKE(leaky0, ACT_LEAKY_RELU, 0) MAKE(leaky1, ACT_LEAKY_RELU, 1) \
  MAKE(sigmoid0, ACT_SIGMOID, 0) MAKE(sigmoid1, ACT_SIGMOID, 1) MAKE(tanh0, ACT_TANH, 0)   \
  MAKE(tanh1, ACT_TANH, 1)

/* Row i of a batch in its source buffers: perm[start + i], or start + i without perm (the
   batch is read in place from the device-resident data set, see host/net.c). */
inline uint batch_row(const uint i, __global const uint *perm, const uint start, const int use_perm) {
  return use_perm ? perm[start + i] : start + i;
}
#endif
