/* Softmax cross-entropy launcher over kernels/loss.cl: in training with up to
   OPS_LOSS_SMALL_C classes one vectorised work-item on CPUs or the small work-group form,
   else the general single work-group. */
#include "ops/ops.h"

void ops_arg_rows(karg_cursor *a, const op_rows *r) {
  if (r && r->start > UINT32_MAX)
    ERR_RUNTIME(&a->rt->err, "batch start %zu exceeds the kernels' 32-bit row index", r->start);
  const cl_mem perm = r ? r->perm : NULL;
  karg_mem(a, perm);
  karg_uint(a, r ? (cl_uint)r->start : 0);
  karg_int(a, perm != NULL);
}

bool ops_can_fuse_loss(const ops_kernels *k, int C) {
  return k->col_vec && k->loss_vec && C >= 1 && C <= OPS_LOSS_SMALL_C && C <= OPS_VEC_GROUP;
}

void ops_arg_loss(karg_cursor *a, const op_loss *loss) {
  karg_mem(a, loss ? loss->logits : NULL);
  karg_mem(a, loss ? loss->labels : NULL);
  ops_arg_rows(a, loss ? loss->label_rows : NULL);
  karg_mem(a, loss ? loss->metrics : NULL);
  karg_int(a, loss != NULL);
}

void op_softmax_xent(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem logits,
                     cl_mem labels, const op_rows *label_rows, cl_mem dlogits, cl_mem metrics,
                     cl_mem confusion) {
  op_softmax_xent_over(rt, k, rows, rows, C, logits, labels, label_rows, dlogits, metrics, confusion);
}

void op_softmax_xent_over(cl_runtime *rt, const ops_kernels *k, int rows, int grad_rows, int C, cl_mem logits,
                          cl_mem labels, const op_rows *label_rows, cl_mem dlogits, cl_mem metrics,
                          cl_mem confusion) {
  if (dlogits && grad_rows < 1) {
    ERR_RUNTIME(&rt->err, "softmax cross-entropy: gradient over %d rows", grad_rows);
    return;
  }
  const bool small = C <= OPS_LOSS_SMALL_C && confusion == NULL;
  const bool vec = small && k->loss_vec;
  cl_kernel kk = vec ? k->softmax_xent_vec : small ? k->softmax_xent_small : k->softmax_xent;
  karg_cursor a = karg_begin(rt, kk);
  karg_int(&a, rows);
  karg_mem(&a, logits);
  karg_mem(&a, labels);
  ops_arg_rows(&a, label_rows);
  karg_int(&a, C);
  karg_mem(&a, dlogits);
  karg_int(&a, dlogits ? grad_rows : 0);
  karg_mem(&a, metrics);
  if (!small) {
    karg_mem(&a, confusion);
    karg_int(&a, confusion != NULL);
  }
  if (vec) rt_launch1d(rt, kk, 1, 1);
  else rt_launch1d(rt, kk, k->loss_wg, k->loss_wg);
}
