/* net.h: creation, state transfer and metrics. The step itself is in net_step.c. */
#include <string.h>

#include "net/net_internal.h"
#include "base/util.h"

/* Write the parameters and their transposed mirror. */
static void write_params(net *n, const float *params) {
  const size_t P = n->m.n_params;
  rt_write(n->rt, n->params, 0, P * sizeof(float), params);
  uint32_t *tmap = xmalloc((P ? P : 1) * sizeof *tmap);
  float *pt = xcalloc(P ? P : 1, sizeof *pt);
  ops_weight_mirror_map(&n->m, tmap);
  for (size_t i = 0; i < P; i++)
    if (tmap[i] != OPS_NO_MIRROR) pt[tmap[i]] = params[i];
  rt_write(n->rt, n->params_t, 0, P * sizeof(float), pt);
  free(pt);
  free(tmap);
}

net *net_create(cl_runtime *rt, const model_spec *m, int max_batch, uint64_t seed, net_gemm gemm,
                error *err) {
  if (max_batch < 1) {
    ERR_USAGE(err, "net_create: max_batch %d < 1", max_batch);
    return NULL;
  }
  if ((uint64_t)max_batch * (uint64_t)m->max_width > UINT32_MAX) {
    ERR_USAGE(err, "%s: batch %d x width %d exceeds the kernels' 32-bit element index", m->origin,
              max_batch, m->max_width);
    return NULL;
  }
  if (rt_status(rt, err) != 0) return NULL;
  net *n = xcalloc(1, sizeof *n);
  n->rt = rt;
  n->m = *m;
  n->m.text = NULL;
  n->max_batch = max_batch;
  n->seed = seed;
  n->gemm = gemm;
  ops_init(&n->k, rt);

  const size_t P = m->n_params, S = m->n_stats, C = (size_t)m->output_width;
  n->params = rt_alloc(rt, P * sizeof(float));
  n->grads = rt_alloc(rt, P * sizeof(float));
  n->stats = rt_alloc(rt, S * sizeof(float));
  n->params_t = rt_alloc(rt, P * sizeof(float));
  n->tmap = rt_alloc(rt, P * sizeof(uint32_t));
  n->x = rt_alloc(rt, (size_t)max_batch * (size_t)m->input_width * sizeof(float));
  n->labels = rt_alloc(rt, (size_t)max_batch * sizeof(int32_t));
  n->metrics = rt_alloc(rt, OPS_METRICS_WORDS * sizeof(uint32_t));
  n->confusion = rt_alloc(rt, C * C * sizeof(uint32_t));
  rt_zero(rt, n->grads, 0, P * sizeof(float));
  rt_zero(rt, n->metrics, 0, OPS_METRICS_WORDS * sizeof(uint32_t));
  rt_zero(rt, n->confusion, 0, C * C * sizeof(uint32_t));
  rt_zero(rt, n->labels, 0, (size_t)max_batch * sizeof(int32_t));

  float *params = xcalloc(P ? P : 1, sizeof(float)), *stats = xcalloc(S ? S : 1, sizeof(float));
  net_init_params(m, seed, params, stats);
  uint32_t *tmap = xmalloc((P ? P : 1) * sizeof *tmap);
  ops_weight_mirror_map(m, tmap);
  rt_write(rt, n->tmap, 0, P * sizeof(uint32_t), tmap);
  free(tmap);
  write_params(n, params);
  rt_write(rt, n->stats, 0, S * sizeof(float), stats);
  free(params);
  free(stats);
  n->batch_in_x = true; /* zero labels, until a batch is set */
  net_plan_stages(n);
  if (rt_status(rt, err) != 0) {
    net_free(n);
    return NULL;
  }
  return n;
}

int net_use_optimizer(net *n, optim_kind kind, error *err) {
  net_free_whole(n); /* built for the old optimizer and its state: net_use_whole again */
  ops_init_optimizer(&n->k, n->rt, kind);
  rt_release(&n->optim_state);
  n->optim_floats = (size_t)optim_state_per_param(kind) * n->m.n_params;
  n->optim_state = rt_alloc(n->rt, n->optim_floats * sizeof(float));
  rt_zero(n->rt, n->optim_state, 0, n->optim_floats * sizeof(float));
  return rt_status(n->rt, err);
}

void net_free(net *n) {
  if (!n) return;
  rt_finish(n->rt);
  if (n->marker) clReleaseEvent(n->marker); /* fails only for an invalid event */
  net_free_whole(n);
  net_free_stages(n);
  free(n->sync_host);
  cl_mem *bufs[] = {&n->params, &n->params_t, &n->tmap, &n->grads, &n->optim_state, &n->stats, &n->x,
                    &n->labels, &n->metrics, &n->metrics_copy, &n->confusion};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) rt_release(bufs[i]);
  ops_free(&n->k);
  free(n);
}

const error *net_error(const net *n) { return rt_error(n->rt); }

bool net_check_batch(const net *n, int batch, const char *what) {
  if (batch >= 1 && batch <= n->max_batch) return true;
  ERR_RUNTIME(&n->rt->err, "%s: batch %d outside [1, %d] of this net", what, batch, n->max_batch);
  return false;
}

void net_set_batch(net *n, cl_mem x_all, cl_mem y_all, cl_mem perm, size_t start, int batch) {
  if (!net_check_batch(n, batch, "net_set_batch")) return;
  if (start > UINT32_MAX) {
    ERR_RUNTIME(&n->rt->err, "batch start %zu exceeds the kernels' 32-bit row index", start);
    return;
  }
  n->src_x = x_all;
  n->src_y = y_all;
  n->src_rows.perm = perm;
  n->src_rows.start = start;
  n->batch_in_x = false;
}

void net_batch_in_x(net *n, int batch) {
  if (n->batch_in_x) return;
  op_gather(n->rt, &n->k, batch, n->m.input_width, n->src_x, n->src_y, n->src_rows.perm,
            n->src_rows.start, n->x, n->labels);
  n->batch_in_x = true;
}

void net_set_batch_host(net *n, const float *x, const int32_t *y, int batch) {
  if (!net_check_batch(n, batch, "net_set_batch_host")) return;
  rt_write(n->rt, n->x, 0, (size_t)batch * (size_t)n->m.input_width * sizeof(float), x);
  rt_write(n->rt, n->labels, 0, (size_t)batch * sizeof(int32_t), y);
  n->batch_in_x = true;
}

size_t net_param_count(const net *n) { return n->m.n_params; }
size_t net_stats_count(const net *n) { return n->m.n_stats; }
size_t net_optim_count(const net *n) { return n->optim_floats; }

int net_read_state(net *n, float *params, float *stats, float *optim, error *err) {
  if (params) rt_read(n->rt, n->params, 0, n->m.n_params * sizeof(float), params);
  if (stats) rt_read(n->rt, n->stats, 0, n->m.n_stats * sizeof(float), stats);
  if (optim) rt_read(n->rt, n->optim_state, 0, n->optim_floats * sizeof(float), optim);
  return rt_status(n->rt, err);
}

int net_write_state(net *n, const float *params, const float *stats, const float *optim, error *err) {
  if (params) write_params(n, params);
  if (stats) rt_write(n->rt, n->stats, 0, n->m.n_stats * sizeof(float), stats);
  if (optim) rt_write(n->rt, n->optim_state, 0, n->optim_floats * sizeof(float), optim);
  return rt_status(n->rt, err);
}

int net_read_grads(net *n, float *grads, error *err) {
  rt_read(n->rt, n->grads, 0, n->m.n_params * sizeof(float), grads);
  return rt_status(n->rt, err);
}

int net_read_output(net *n, float *logits, int batch, error *err) {
  if (net_check_batch(n, batch, "net_read_output"))
    rt_read(n->rt, n->logits, 0, (size_t)batch * (size_t)n->m.output_width * sizeof(float), logits);
  return rt_status(n->rt, err);
}

/* The metric words W of COUNT samples, the last batch LAST_BATCH rows, as net_metrics. */
static void metrics_from_words(const uint32_t *w, long count, int last_batch, net_metrics *out) {
  memset(out, 0, sizeof *out);
  float sum, comp, last;
  memcpy(&sum, &w[OPS_METRIC_LOSS_SUM], sizeof sum);
  memcpy(&comp, &w[OPS_METRIC_LOSS_COMP], sizeof comp);
  memcpy(&last, &w[OPS_METRIC_LAST_LOSS], sizeof last);
  out->loss_sum = (double)sum + (double)comp;
  out->correct = (long)(((uint64_t)w[OPS_METRIC_CORRECT_HI] << 32) | w[OPS_METRIC_CORRECT_LO]);
  out->count = count;
  out->last_loss = last_batch ? (double)last / last_batch : 0.0;
  out->last_acc = last_batch ? (double)w[OPS_METRIC_LAST_CORRECT] / last_batch : 0.0;
  out->last_loss_sum = (double)last;
  out->last_correct = (long)w[OPS_METRIC_LAST_CORRECT];
  out->last_count = last_batch;
}

_Static_assert(OPS_METRICS_WORDS == sizeof ((net_metrics_pending *)0)->words / sizeof(uint32_t),
               "net_metrics_pending holds the metric words");

int net_take_metrics(net *n, net_metrics *out, long *confusion, error *err) {
  memset(out, 0, sizeof *out);
  uint32_t w[OPS_METRICS_WORDS];
  if (rt_read(n->rt, n->metrics, 0, sizeof w, w) != 0) return rt_status(n->rt, err);
  metrics_from_words(w, n->count, n->last_batch, out);
  const size_t C = (size_t)n->m.output_width;
  if (confusion) {
    uint32_t *c = xmalloc(C * C * sizeof *c);
    if (rt_read(n->rt, n->confusion, 0, C * C * sizeof *c, c) == 0)
      for (size_t i = 0; i < C * C; i++) confusion[i] = (long)c[i];
    free(c);
  }
  rt_zero(n->rt, n->metrics, 0, sizeof w);
  rt_zero(n->rt, n->confusion, 0, C * C * sizeof(uint32_t));
  n->count = 0;
  n->last_batch = 0;
  return rt_status(n->rt, err);
}

void net_metrics_snapshot(net *n, net_metrics_pending *p) {
  cl_runtime *rt = n->rt;
  memset(p, 0, sizeof *p);
  p->active = true;
  p->count = n->count;
  p->last_batch = n->last_batch;
  n->count = 0;
  n->last_batch = 0;
  if (rt_failed(rt)) return;
  const size_t bytes = OPS_METRICS_WORDS * sizeof(uint32_t);
  if (!n->metrics_copy) n->metrics_copy = rt_alloc(rt, bytes);
  if (rt_failed(rt) ||
      CL_CHECK(&rt->err, clEnqueueCopyBuffer(rt->queue, n->metrics, n->metrics_copy, 0, 0, bytes, 0, NULL, NULL)))
    return;
  rt_zero(rt, n->metrics, 0, bytes);
  cl_event ev = NULL;
  if (!rt_failed(rt) &&
      CL_CHECK(&rt->err, clEnqueueReadBuffer(rt->queue, n->metrics_copy, CL_FALSE, 0, bytes, p->words, 0, NULL, &ev)) == 0)
    p->event = ev;
}

int net_metrics_wait(net *n, net_metrics_pending *p, net_metrics *out, error *err) {
  memset(out, 0, sizeof *out);
  if (!p->active) return ERR_RUNTIME(err, "net_metrics_wait: no snapshot was taken");
  p->active = false;
  cl_event ev = p->event;
  p->event = NULL;
  if (ev) {
    CL_CHECK(&n->rt->err, clWaitForEvents(1, &ev)); /* the copy's read, not the steps after it */
    clReleaseEvent(ev); /* fails only for an invalid event */
  }
  if (rt_status(n->rt, err) != 0) return -1;
  metrics_from_words(p->words, p->count, p->last_batch, out);
  return 0;
}
