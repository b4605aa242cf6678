/* Data-parallel training steps (net.h): each process holds rows OFFSET .. OFFSET+ROWS-1 of
   a global batch. What couples the processes is sums over the global batch, each one
   blocking read, one SUM through the reducer, one write back:
     - every batch norm in training: the sums of x (-> mean), then of (x - mean)^2 (-> the
       biased variance), as one device's two passes; backward the sums of g and g * xhat;
     - the gradient buffer, once per step, before the optimizer.
   The loss gradient is divided by the global rows and the dropout masks are drawn at the
   global element index (net_step.c), so the processes compute one device's step at the
   global batch, up to the order of the float sums. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "net/net_internal.h"

int net_use_reducer(net *n, const net_reducer *r, error *err) {
  if (!r || !r->sum) return ERR_RUNTIME(err, "net_use_reducer: no sum function");
  n->reducer = *r;
  size_t need = n->m.n_params;
  for (int i = 0; i < n->n_stages; i++) {
    net_stage *s = &n->stages[i];
    if (s->kind != STAGE_BATCHNORM) continue;
    const size_t bytes = 2 * (size_t)s->out * sizeof(float);
    if (!s->sync_local) s->sync_local = rt_alloc(n->rt, bytes);
    if (!s->sync_global) s->sync_global = rt_alloc(n->rt, bytes);
    if (2 * (size_t)s->out > need) need = 2 * (size_t)s->out;
  }
  free(n->sync_host);
  n->sync_host = xcalloc(need ? need : 1, sizeof(float));
  ops_init_bn_sync(&n->k, n->rt);
  return rt_status(n->rt, err);
}

/* Sum COUNT floats of device buffer BUF over the processes into n->sync_host, and into
   device buffer DST too unless it is NULL (DST may be BUF). The SUM
   runs even when the runtime has failed (on zeros then), so that the other processes are
   not left waiting in it; its own failure is recorded in the runtime. */
static void reduce(net *n, cl_mem buf, cl_mem dst, size_t count) {
  cl_runtime *rt = n->rt;
  float *h = n->sync_host;
  memset(h, 0, count * sizeof *h);
  rt_read(rt, buf, 0, count * sizeof *h, h);
  error e = {0};
  if (n->reducer.sum(n->reducer.ctx, h, count, &e) != 0 && !rt_failed(rt)) rt->err = e;
  if (dst) rt_write(rt, dst, 0, count * sizeof *h, h);
}

void net_shard_bn_forward(net *n, net_stage *s, int batch, cl_mem in, const op_rows *rows, cl_mem saved,
                          const op_epilogue *e) {
  cl_runtime *rt = n->rt;
  const op_bn *bn = &s->bn;
  const size_t C = (size_t)bn->C;
  float *h = n->sync_host;
  /* the global mean: the global sums / global rows */
  op_bn_sync_sum(rt, &n->k, bn, batch, in, rows, NULL, s->sync_local);
  reduce(n, s->sync_local, NULL, C);
  for (size_t c = 0; c < C; c++) h[c] /= (float)n->global_rows;
  rt_write(rt, s->sync_global, 0, C * sizeof *h, h);
  /* the global sums of squared deviations from it, next to it */
  op_bn_sync_sum(rt, &n->k, bn, batch, in, rows, s->sync_global, s->sync_local);
  reduce(n, s->sync_local, NULL, C);
  rt_write(rt, s->sync_global, C * sizeof *h, C * sizeof *h, h);
  op_bn_sync_forward(rt, &n->k, bn, batch, n->global_rows, in, rows, s->sync_global, s->out_buf, saved, e);
}

void net_shard_bn_backward(net *n, net_stage *s, int batch, cl_mem in, const op_rows *rows, cl_mem dx) {
  cl_runtime *rt = n->rt;
  const op_bn *bn = &s->bn;
  op_bn_sync_backward_sums(rt, &n->k, bn, batch, in, rows, s->dout_buf, s->saved_buf, s->sync_local, &s->epi);
  reduce(n, s->sync_local, s->sync_global, 2 * (size_t)bn->C);
  op_bn_sync_backward_dx(rt, &n->k, bn, batch, n->global_rows, in, rows, s->sync_global, s->sync_local,
                         s->dout_buf, dx, n->grads, bn->gamma_off, bn->beta_off, bn->bias_off);
}

void net_train_step_shard(net *n, int rows, int global_rows, size_t offset, const optim_config *opt,
                          uint64_t step) {
  if (!n->reducer.sum) {
    ERR_RUNTIME(&n->rt->err, "net_train_step_shard: no reducer (net_use_reducer)");
    return;
  }
  if (global_rows < rows || offset + (size_t)rows > (size_t)global_rows)
    ERR_RUNTIME(&n->rt->err, "net_train_step_shard: rows %zu..%zu outside the global batch of %d", offset,
                offset + (size_t)rows, global_rows);
  n->sharded = true;
  n->global_rows = global_rows;
  n->row_offset = offset;
  net_forward(n, rows, true, step);
  net_loss(n, rows);
  net_backward(n, rows, step);
  n->sharded = false;
  reduce(n, n->grads, n->grads, n->m.n_params);
  net_optimizer_step(n, opt, step);
}
