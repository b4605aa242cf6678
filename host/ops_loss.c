/* Softmax cross-entropy launcher over kernels/loss.cl (one work-group; in training with up to
   OPS_LOSS_SMALL_C classes its small form). */
#include "ops.h"
#include "util.h"

void op_softmax_xent(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem logits,
                     cl_mem labels, cl_mem dlogits, cl_mem metrics, cl_mem confusion) {
  const bool small = C <= OPS_LOSS_SMALL_C && confusion == NULL;
  cl_kernel kk = small ? k->softmax_xent_small : k->softmax_xent;
  const cl_int r = rows, c = C, write_grad = dlogits != NULL, count = confusion != NULL;
  KARG(kk, 0, r);
  KARG(kk, 1, logits);
  KARG(kk, 2, labels);
  KARG(kk, 3, c);
  KARG(kk, 4, dlogits);
  KARG(kk, 5, write_grad);
  KARG(kk, 6, metrics);
  if (!small) {
    KARG(kk, 7, confusion);
    KARG(kk, 8, count);
  }
  rt_launch1d(rt, kk, k->loss_wg, k->loss_wg);
}
