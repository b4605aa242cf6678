/* Batch gather launcher over kernels/gather.cl. */
#include "ops/ops.h"
#include "base/util.h"

void op_gather(cl_runtime *rt, const ops_kernels *k, int rows, int W, cl_mem x_all, cl_mem y_all,
               cl_mem perm, size_t start, cl_mem x, cl_mem y) {
  if (start > UINT32_MAX) DIE("batch start %zu exceeds the gather kernel's 32-bit row index", start);
  cl_kernel kk = k->gather_rows;
  const cl_int r = rows, w = W, use_perm = perm != NULL;
  const cl_uint st = (cl_uint)start;
  KARG(kk, 0, r);
  KARG(kk, 1, st);
  KARG(kk, 2, x_all);
  KARG(kk, 3, y_all);
  KARG(kk, 4, perm);
  KARG(kk, 5, use_perm);
  KARG(kk, 6, w);
  KARG(kk, 7, x);
  KARG(kk, 8, y);
  rt_launch1d(rt, kk, (size_t)rows, k->ew_wg);
}
