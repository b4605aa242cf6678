/* Batch gather launcher over kernels/gather.cl. */
#include "ops/ops.h"

void op_gather(cl_runtime *rt, const ops_kernels *k, int rows, int W, cl_mem x_all, cl_mem y_all,
               cl_mem perm, size_t start, cl_mem x, cl_mem y) {
  if (start > UINT32_MAX) {
    ERR_RUNTIME(&rt->err, "batch start %zu exceeds the gather kernel's 32-bit row index", start);
    return;
  }
  karg_cursor a = karg_begin(rt, k->gather_rows);
  karg_int(&a, rows);
  karg_uint(&a, (cl_uint)start);
  karg_mem(&a, x_all);
  karg_mem(&a, y_all);
  karg_mem(&a, perm);
  karg_int(&a, perm != NULL);
  karg_int(&a, W);
  karg_mem(&a, x);
  karg_mem(&a, y);
  rt_launch1d(rt, k->gather_rows, (size_t)rows, k->ew_wg);
}
