/* Copy the rows of one batch out of the device-resident data set: row i of the batch is
   row perm[start + i] of the set (row start + i when use_perm is 0). */
__kernel void gather_rows(const int rows, const uint start, __global const float *x_all,
                          __global const int *y_all, __global const uint *perm,
                          const int use_perm, const int W, __global float *x, __global int *y) {
  const uint idx = get_global_id(0);
  if (idx >= (uint)rows * (uint)W) return;
  const uint i = idx / (uint)W, j = idx % (uint)W;
  const ulong src = use_perm ? perm[start + i] : start + i;
  x[idx] = x_all[src * (ulong)W + j];
  if (j == 0) y[i] = y_all[src];
}
