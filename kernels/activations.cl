/* Stand-alone activation and/or dropout (an "epilogue" with no layer in front of it to
   fuse into), element-wise over a rows x C block. */
#include "common.cl"

/* z = epilogue(x); saved gets what the backward needs when store_saved. */
__kernel void pointwise_forward(const int n, __global const float *x,
                                __global float *z, __global float *saved, const int store_saved,
                                EPILOGUE_PARAMS) {
  const uint idx = get_global_id(0);
  if (idx >= (uint)n) return;
  float s;
  z[idx] = epilogue_forward(x[idx], idx, &s, EPILOGUE_ARGS);
  if (store_saved) saved[idx] = s;
}

/* dx = epilogue_backward(dz). */
__kernel void pointwise_backward(const int n, __global const float *dz,
                                 __global const float *saved, __global float *dx,
                                 EPILOGUE_PARAMS) {
  const uint idx = get_global_id(0);
  if (idx >= (uint)n) return;
  dx[idx] = epilogue_backward(dz[idx], saved[idx], idx, EPILOGUE_ARGS);
}
