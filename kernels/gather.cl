/* Copy the rows of one batch out of the device-resident data set: row i of the batch is
   row perm[start + i] of the set (row start + i when use_perm is 0). One work-item per row. */
#include "abi_quiet.cl"

__kernel void gather_rows(const int rows, const uint start, __global const float *x_all,
                          __global const int *y_all, __global const uint *perm,
                          const int use_perm, const int W, __global float *x, __global int *y) {
  const uint i = get_global_id(0);
  if (i >= (uint)rows) return;
  const ulong src = use_perm ? perm[start + i] : start + i;
  __global const float *from = x_all + src * (ulong)W;
  __global float *to = x + (ulong)i * (uint)W;
  if (W == 16) {
    vstore16(vload16(0, from), 0, to); /* the JSC rows: one 64-byte copy */
  } else {
    for (int j = 0; j < W; j++) to[j] = from[j];
  }
  y[i] = y_all[src];
}
