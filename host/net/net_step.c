/* Forward, loss, backward and the optimizer step over the net's fused stages. Everything
   here only enqueues work on the in-order queue; the one host wait is the queue-depth
   bound of throttle(), which never drains the queue. */
#include "net/net_internal.h"
#include "base/util.h"

/* The input of stage S: the previous stage's output, or for the first stage the batch —
   in place (rows through *rows) when the stage reads it so (IN_PLACE) and it has not been
   copied anyway, else in n->x. Forward and backward of a step see the same choice. */
static cl_mem stage_input(net *n, const net_stage *s, int batch, bool in_place, const op_rows **rows) {
  *rows = NULL;
  if (s != &n->stages[0]) return s->in_buf;
  if (in_place && !n->batch_in_x) {
    *rows = &n->src_rows;
    return n->src_x;
  }
  net_batch_in_x(n, batch);
  return n->x;
}

static void stage_forward(net *n, net_stage *s, int batch, bool training, uint64_t step) {
  cl_runtime *rt = n->rt;
  /* In evaluation dropout is the identity and nothing is saved for a backward. */
  op_epilogue eval = s->epi;
  eval.mask = NULL;
  const op_epilogue *e = training ? &s->epi : &eval;
  cl_mem saved = training ? s->own_saved : NULL;
  const op_rows *rows;
  /* a BatchNorm in training normalises the batch straight out of the data set */
  cl_mem in = stage_input(n, s, batch, training && s->kind == STAGE_BATCHNORM, &rows);
  /* data-parallel: the masks of this process's rows of the global batch */
  if (training) op_dropout_mask_at(rt, &n->k, e, batch * s->out, n->sharded ? n->row_offset * (size_t)s->out : 0, step);
  switch (s->kind) {
    case STAGE_LINEAR:
      if (s->fused_on) {
        op_fused_forward(rt, &s->fused, batch, in, n->params, s->w_off, !s->bias_in_next, s->b_off, s->out_buf,
                         saved, NULL, e);
        break;
      }
      op_linear_forward_t(rt, batch, s->in, s->out, in, n->params_t, s->w_off, s->out_buf);
      if (!s->bias_in_next)
        op_bias_act_forward(rt, &n->k, batch, s->out, s->out_buf, n->params, s->b_off, s->out_buf,
                            saved, e);
      break;
    case STAGE_BATCHNORM:
      if (training && n->sharded) net_shard_bn_forward(n, s, batch, in, rows, saved, e);
      else if (training) op_bn_train_forward(rt, &n->k, &s->bn, batch, in, rows, s->out_buf, saved, e);
      else op_bn_eval_forward(rt, &n->k, &s->bn, batch, in, s->out_buf, e);
      break;
    case STAGE_POINTWISE:
      op_pointwise_forward(rt, &n->k, batch * s->out, in, s->out_buf, saved, e);
      break;
  }
}

/* Reads the dropout mask the forward of the same step wrote. loss: the training loss to run
   first inside the stage's kernel (the last stage, where stage_fuses_loss), or NULL. */
static void stage_backward(net *n, net_stage *s, int batch, const op_loss *loss) {
  cl_runtime *rt = n->rt;
  cl_mem dx = s->needs_dx ? s->din_buf : NULL;
  const op_rows *rows;
  cl_mem in = stage_input(n, s, batch, s->kind == STAGE_BATCHNORM, &rows);
  switch (s->kind) {
    case STAGE_LINEAR:
      if (s->fused_on) {
        op_fused_backward(rt, &s->fused, batch, s->dout_buf, s->saved_buf, in, n->params, s->w_off, n->grads,
                          s->w_off, !s->bias_in_next, s->b_off, dx, &s->epi, loss);
        break;
      }
      /* With bias_in_next, dout already is the gradient at h and the bias gradient was
         written by the BatchNorm backward. */
      if (!s->bias_in_next)
        op_bias_act_backward(rt, &n->k, batch, s->out, s->dout_buf, s->saved_buf, s->has_epi,
                             n->grads, s->b_off, &s->epi, loss);
      op_linear_backward(rt, batch, s->in, s->out, s->dout_buf, in, n->params, s->w_off,
                         n->grads, s->w_off, dx);
      break;
    case STAGE_BATCHNORM:
      if (n->sharded) {
        net_shard_bn_backward(n, s, batch, in, rows, dx);
        break;
      }
      op_bn_train_backward(rt, &n->k, &s->bn, batch, in, rows, s->dout_buf, s->saved_buf, dx,
                           n->grads, s->bn.gamma_off, s->bn.beta_off, s->bn.bias_off, &s->epi, loss);
      break;
    case STAGE_POINTWISE:
      if (dx) op_pointwise_backward(rt, &n->k, batch * s->out, s->dout_buf, s->saved_buf, dx, &s->epi);
      break;
  }
}

void net_forward(net *n, int batch, bool training, uint64_t step) {
  if (!net_check_batch(n, batch, "net_forward")) return;
  for (int i = 0; i < n->n_stages; i++) stage_forward(n, &n->stages[i], batch, training, step);
}

/* Whether the last stage S runs the training loss inside its backward kernel: a Linear's
   bias backward or a BatchNorm backward in the form that can (ops_can_fuse_loss), or a
   fused Linear's weight-gradient kernel (fused_linear_can_fuse_loss). */
static bool stage_fuses_loss(const net *n, const net_stage *s) {
  if (n->sharded) return false; /* the synchronised batch norm has no loss form */
  if (s->kind == STAGE_LINEAR && s->fused_on) return !s->bias_in_next && fused_linear_can_fuse_loss(&s->fused);
  const bool kernel = (s->kind == STAGE_LINEAR && !s->bias_in_next) || s->kind == STAGE_BATCHNORM;
  return kernel && ops_can_fuse_loss(&n->k, s->out);
}

/* The labels of the current batch: in place when the batch was not copied. */
static cl_mem batch_labels(const net *n, const op_rows **rows) {
  *rows = n->batch_in_x ? NULL : &n->src_rows;
  return n->batch_in_x ? n->labels : n->src_y;
}

void net_loss(net *n, int batch) {
  if (!net_check_batch(n, batch, "net_loss")) return;
  if (n->n_stages == 0) net_batch_in_x(n, batch); /* the logits are the input */
  const op_rows *rows;
  cl_mem labels = batch_labels(n, &rows);
  /* data-parallel: the mean over the global batch */
  op_softmax_xent_over(n->rt, &n->k, batch, n->sharded ? n->global_rows : batch, n->m.output_width, n->logits,
                       labels, rows, n->dlogits, n->metrics, NULL);
  n->count += batch;
  n->last_batch = batch;
}

void net_backward(net *n, int batch, uint64_t step) {
  if (!net_check_batch(n, batch, "net_backward")) return;
  (void)step; /* the masks of this step are already on the device */
  for (int i = n->n_stages - 1; i >= 0; i--) stage_backward(n, &n->stages[i], batch, NULL);
}

/* net_loss + net_backward, with the loss inside the last stage's backward kernel where it
   can run there (one launch less; the same kernels' code, so the same numbers). */
static void loss_and_backward(net *n, int batch) {
  net_stage *last = n->n_stages ? &n->stages[n->n_stages - 1] : NULL;
  if (!last || !stage_fuses_loss(n, last)) {
    net_loss(n, batch);
    net_backward(n, batch, 0);
    return;
  }
  op_loss loss = {.logits = n->logits, .metrics = n->metrics};
  loss.labels = batch_labels(n, &loss.label_rows);
  stage_backward(n, last, batch, &loss);
  for (int i = n->n_stages - 2; i >= 0; i--) stage_backward(n, &n->stages[i], batch, NULL);
  n->count += batch;
  n->last_batch = batch;
}

void net_optimizer_step(net *n, const optim_config *opt, uint64_t step) {
  op_optimizer_step(n->rt, &n->k, n->m.n_params, n->params, n->grads, n->optim_state, opt, step,
                    n->params_t, n->tmap);
}

/* Bound the queue (see NET_QUEUE_STEPS): wait for the previous marker, leave a new one. */
void net_throttle(net *n) {
  if (++n->since_marker < NET_QUEUE_STEPS) return;
  n->since_marker = 0;
  cl_runtime *rt = n->rt;
  if (n->marker) {
    CL_CHECK(&rt->err, clWaitForEvents(1, &n->marker));
    clReleaseEvent(n->marker); /* fails only for an invalid event */
    n->marker = NULL;
  }
  if (!rt_failed(rt)) CL_CHECK(&rt->err, clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, &n->marker));
}

void net_train_step(net *n, int batch, const optim_config *opt, uint64_t step) {
  net_forward(n, batch, true, step);
  loss_and_backward(n, batch);
  net_optimizer_step(n, opt, step);
  net_throttle(n);
}

void net_eval_batch(net *n, int batch) {
  net_forward(n, batch, false, 0);
  net_batch_in_x(n, batch); /* done by the forward unless the net has no stages */
  op_softmax_xent(n->rt, &n->k, batch, n->m.output_width, n->logits, n->labels, NULL, NULL, n->metrics,
                  n->confusion);
  n->count += batch;
  n->last_batch = batch;
  net_throttle(n);
}
