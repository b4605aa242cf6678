/* Helpers shared by the layer kernels (pulled in with #include "common.cl"):
   activations, the Philox4x32-10 dropout mask, the "epilogue" (activation then dropout)
   that fused kernels apply to their output, and fixed-order work-group sums.
   Host mirror of the constants: host/ops.h. */

#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID 3
#define ACT_TANH 4

/* Epilogue parameters, passed to every kernel that applies one. drop_thr == 0 means no
   dropout; an element is kept when the top 24 bits of Philox word 0 are >= drop_thr. */
#define EPILOGUE_PARAMS                                                              \
  const int act, const float slope, const uint drop_thr, const float drop_scale,     \
      const uint drop_layer, const uint seed_lo, const uint seed_hi
#define EPILOGUE_ARGS act, slope, drop_thr, drop_scale, drop_layer, seed_lo, seed_hi

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

/* Philox4x32-10 (Salmon et al. 2011); bit-identical to philox4x32 in host/rng.c. */
inline uint4 philox4x32_10(uint4 c, uint2 k) {
  for (int round = 0; round < 10; round++) {
    uint lo0 = 0xD2511F53u * c.x, hi0 = mul_hi(0xD2511F53u, c.x);
    uint lo1 = 0xCD9E8D57u * c.z, hi1 = mul_hi(0xCD9E8D57u, c.z);
    c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

/* Dropout mask of element idx (row * width + column) of layer drop_layer at STEP:
   counter (idx, layer, step low, step high), key (seed low, seed high). */
inline bool dropout_keep(uint idx, uint drop_layer, ulong step, uint seed_lo, uint seed_hi,
                         uint drop_thr) {
  uint4 r = philox4x32_10((uint4)(idx, drop_layer, (uint)step, (uint)(step >> 32)),
                          (uint2)(seed_lo, seed_hi));
  return (r.x >> 8) >= drop_thr;
}

/* Output of the epilogue for pre-activation v at element idx; *saved gets what the
   backward needs for the activation (see act_backward). */
inline float epilogue_forward(float v, uint idx, ulong step, float *saved, EPILOGUE_PARAMS) {
  float a = act_forward(act, slope, v);
  *saved = act_saves_input(act, slope) ? v : a;
  if (drop_thr == 0u) return a;
  return dropout_keep(idx, drop_layer, step, seed_lo, seed_hi, drop_thr) ? a * drop_scale : 0.0f;
}

/* Gradient at the epilogue input from the gradient g at its output. */
inline float epilogue_backward(float g, float saved, uint idx, ulong step, EPILOGUE_PARAMS) {
  if (drop_thr != 0u)
    g = dropout_keep(idx, drop_layer, step, seed_lo, seed_hi, drop_thr) ? g * drop_scale : 0.0f;
  return act_backward(act, slope, saved, g);
}

/* Fixed-order tree sum over the work-group (local size a power of two, scratch holds
   one value per item). Every item returns the total; the order depends only on the
   local size, so results are bit-identical run to run. */
inline float wg_sum(float v, __local float *scratch) {
  const uint lid = get_local_id(0), n = get_local_size(0);
  scratch[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = n / 2; s > 0; s >>= 1) {
    if (lid < s) scratch[lid] += scratch[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  float total = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return total;
}

inline float2 wg_sum2(float2 v, __local float2 *scratch) {
  const uint lid = get_local_id(0), n = get_local_size(0);
  scratch[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = n / 2; s > 0; s >>= 1) {
    if (lid < s) scratch[lid] += scratch[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  float2 total = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return total;
}
