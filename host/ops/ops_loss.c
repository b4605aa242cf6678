/* Softmax cross-entropy launcher over kernels/loss.cl: in training with up to
   OPS_LOSS_SMALL_C classes one vectorised work-item on CPUs or the small work-group form,
   else the general single work-group. */
#include "ops/ops.h"
#include "base/util.h"

void ops_set_rows(cl_kernel kernel, cl_uint first, const op_rows *r) {
  if (r && r->start > UINT32_MAX) DIE("batch start %zu exceeds the kernels' 32-bit row index", r->start);
  const cl_mem perm = r ? r->perm : NULL;
  const cl_uint start = r ? (cl_uint)r->start : 0;
  const cl_int use_perm = perm != NULL;
  KARG(kernel, first + 0, perm);
  KARG(kernel, first + 1, start);
  KARG(kernel, first + 2, use_perm);
}

bool ops_can_fuse_loss(const ops_kernels *k, int C) {
  return k->col_vec && k->loss_vec && C >= 1 && C <= OPS_LOSS_SMALL_C && C <= OPS_VEC_GROUP;
}

void ops_set_loss(cl_kernel kernel, cl_uint first, const op_loss *loss) {
  const cl_mem logits = loss ? loss->logits : NULL, labels = loss ? loss->labels : NULL;
  const cl_mem metrics = loss ? loss->metrics : NULL;
  const cl_int with_loss = loss != NULL;
  KARG(kernel, first + 0, logits);
  KARG(kernel, first + 1, labels);
  ops_set_rows(kernel, first + 2, loss ? loss->label_rows : NULL);
  KARG(kernel, first + 5, metrics);
  KARG(kernel, first + 6, with_loss);
}

void op_softmax_xent(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem logits,
                     cl_mem labels, const op_rows *label_rows, cl_mem dlogits, cl_mem metrics,
                     cl_mem confusion) {
  const bool small = C <= OPS_LOSS_SMALL_C && confusion == NULL;
  const bool vec = small && k->loss_vec;
  cl_kernel kk = vec ? k->softmax_xent_vec : small ? k->softmax_xent_small : k->softmax_xent;
  const cl_int r = rows, c = C, write_grad = dlogits != NULL, count = confusion != NULL;
  KARG(kk, 0, r);
  KARG(kk, 1, logits);
  KARG(kk, 2, labels);
  ops_set_rows(kk, 3, label_rows);
  KARG(kk, 6, c);
  KARG(kk, 7, dlogits);
  KARG(kk, 8, write_grad);
  KARG(kk, 9, metrics);
  if (!small) {
    KARG(kk, 10, confusion);
    KARG(kk, 11, count);
  }
  if (vec) rt_launch1d(rt, kk, 1, 1);
  else rt_launch1d(rt, kk, k->loss_wg, k->loss_wg);
}
