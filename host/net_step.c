/* Forward, loss, backward and the optimizer step over the net's fused stages. Everything
   here only enqueues work on the in-order queue; the one host wait is the queue-depth
   bound of throttle(), which never drains the queue. */
#include "net_internal.h"
#include "util.h"

static void stage_forward(net *n, net_stage *s, int batch, bool training, uint64_t step) {
  cl_runtime *rt = n->rt;
  /* In evaluation dropout is the identity and nothing is saved for a backward. */
  op_epilogue eval = s->epi;
  eval.mask = NULL;
  const op_epilogue *e = training ? &s->epi : &eval;
  cl_mem saved = training ? s->own_saved : NULL;
  if (training) op_dropout_mask(rt, &n->k, e, batch * s->out, step);
  switch (s->kind) {
    case STAGE_LINEAR:
      op_linear_forward_t(rt, batch, s->in, s->out, s->in_buf, n->params_t, s->w_off, s->out_buf);
      if (!s->bias_in_next)
        op_bias_act_forward(rt, &n->k, batch, s->out, s->out_buf, n->params, s->b_off, s->out_buf,
                            saved, e);
      break;
    case STAGE_BATCHNORM:
      if (training) op_bn_train_forward(rt, &n->k, &s->bn, batch, s->in_buf, s->out_buf, saved, e);
      else op_bn_eval_forward(rt, &n->k, &s->bn, batch, s->in_buf, s->out_buf, e);
      break;
    case STAGE_POINTWISE:
      op_pointwise_forward(rt, &n->k, batch * s->out, s->in_buf, s->out_buf, saved, e);
      break;
  }
}

/* Reads the dropout mask the forward of the same step wrote. */
static void stage_backward(net *n, net_stage *s, int batch) {
  cl_runtime *rt = n->rt;
  cl_mem dx = s->needs_dx ? s->din_buf : NULL;
  switch (s->kind) {
    case STAGE_LINEAR:
      /* With bias_in_next, dout already is the gradient at h and the bias gradient was
         written by the BatchNorm backward. */
      if (!s->bias_in_next)
        op_bias_act_backward(rt, &n->k, batch, s->out, s->dout_buf, s->saved_buf, s->has_epi,
                             n->grads, s->b_off, &s->epi);
      op_linear_backward(rt, batch, s->in, s->out, s->dout_buf, s->in_buf, n->params, s->w_off,
                         n->grads, s->w_off, dx);
      break;
    case STAGE_BATCHNORM:
      op_bn_train_backward(rt, &n->k, &s->bn, batch, s->in_buf, s->dout_buf, s->saved_buf, dx,
                           n->grads, s->bn.gamma_off, s->bn.beta_off, s->bn.bias_off, &s->epi);
      break;
    case STAGE_POINTWISE:
      if (dx) op_pointwise_backward(rt, &n->k, batch * s->out, s->dout_buf, s->saved_buf, dx, &s->epi);
      break;
  }
}

void net_forward(net *n, int batch, bool training, uint64_t step) {
  net_check_batch(n, batch, "net_forward");
  for (int i = 0; i < n->n_stages; i++) stage_forward(n, &n->stages[i], batch, training, step);
}

void net_loss(net *n, int batch) {
  net_check_batch(n, batch, "net_loss");
  op_softmax_xent(n->rt, &n->k, batch, n->m.output_width, n->logits, n->labels, NULL, n->dlogits,
                  n->metrics, NULL);
  n->count += batch;
  n->last_batch = batch;
}

void net_backward(net *n, int batch, uint64_t step) {
  net_check_batch(n, batch, "net_backward");
  (void)step; /* the masks of this step are already on the device */
  for (int i = n->n_stages - 1; i >= 0; i--) stage_backward(n, &n->stages[i], batch);
}

void net_optimizer_step(net *n, const optim_config *opt, uint64_t step) {
  op_optimizer_step(n->rt, &n->k, n->m.n_params, n->params, n->grads, n->optim_state, opt, step,
                    n->params_t, n->tmap);
}

/* Bound the queue (see NET_QUEUE_STEPS): wait for the previous marker, leave a new one. */
static void throttle(net *n) {
  if (++n->since_marker < NET_QUEUE_STEPS) return;
  n->since_marker = 0;
  if (n->marker) {
    CL_CHECK(clWaitForEvents(1, &n->marker));
    CL_CHECK(clReleaseEvent(n->marker));
    n->marker = NULL;
  }
  CL_CHECK(clEnqueueMarkerWithWaitList(n->rt->queue, 0, NULL, &n->marker));
}

void net_train_step(net *n, int batch, const optim_config *opt, uint64_t step) {
  net_forward(n, batch, true, step);
  net_loss(n, batch);
  net_backward(n, batch, step);
  net_optimizer_step(n, opt, step);
  throttle(n);
}

void net_eval_batch(net *n, int batch) {
  net_forward(n, batch, false, 0);
  op_softmax_xent(n->rt, &n->k, batch, n->m.output_width, n->logits, n->labels, NULL, NULL, n->metrics,
                  n->confusion);
  n->count += batch;
  n->last_batch = batch;
  throttle(n);
}
