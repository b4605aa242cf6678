/* Helpers shared by the layer kernels (pulled in with an include of common.cl):
   activations, the "epilogue" (activation then dropout with a precomputed mask) that
   fused kernels apply to their output, and fixed-order work-group sums.
   Host mirror of the constants: host/ops.h. */

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

/* Column kernels in "items" form (CPU devices): one work-item per channel, rows summed in
   order inside the item, in blocks of ROW_BLOCK so the rounding error grows with
   ROW_BLOCK + rows / ROW_BLOCK rather than with rows. A CPU runs a work-group as a loop
   over its items, vectorised across them: neighbouring channels are neighbouring lanes
   and every row is one contiguous load, with no barrier or local memory. */
#define ROW_BLOCK 32
