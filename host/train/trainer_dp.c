/* Data-parallel training over MPI ranks (README "Clusters"): `mpirun -n N cltrain train`
   gives every rank the whole data set on its device and a contiguous share of the rows of
   every global batch (trainer_dp_share). The net's sharded step (net.h) synchronises batch
   norm and sums the gradients in rank order, so every rank holds the same parameters after
   every step and the run is one device's at the global batch up to float summation order.
   Metrics and evaluations are split the same way and summed. One process is the case
   ranks == 1, on the unchanged single-process path. */
#include <stdlib.h>
#include <string.h>

#include "base/interrupt.h"
#include "base/util.h"
#include "dist/dist.h"
#include "train/trainer_internal.h"

void trainer_dp_share(size_t total, int rank, int ranks, size_t *rows, size_t *offset) {
  const size_t n = (size_t)ranks, r = (size_t)rank, base = total / n, extra = total % n;
  *rows = base + (r < extra ? 1 : 0);
  *offset = r * base + (r < extra ? r : extra);
}

int trainer_agree(const trainer *t, int rc, error *err) {
  if (t->ranks < 2) return rc;
  return dist_agree(rc, err);
}

int trainer_dp_check(const trainer *t, error *err) {
  if (t->ranks < 2) return 0;
  const size_t rest = t->dev.train.rows % (size_t)t->batch;
  if ((size_t)t->batch < (size_t)t->ranks)
    return ERR_USAGE(err, "--batch-size %d over %d ranks: every rank needs at least one row of each batch", t->batch,
                     t->ranks);
  if (rest >= 2 && rest < (size_t)t->ranks)
    return ERR_USAGE(err,
                     "--batch-size %d over %d ranks: the last batch of each epoch has %zu rows, fewer than the ranks "
                     "(choose a batch size that leaves 0, 1 or at least %d rows)",
                     t->batch, t->ranks, rest, t->ranks);
  return 0;
}

static int sum_floats(void *ctx, float *buf, size_t n, error *err) {
  (void)ctx;
  return dist_sum_floats(buf, n, err);
}

/* The batch sizes this rank evaluates split S in: its share, in batches of eval_batch. */
static void eval_sizes(const trainer *t, const device_split *s, int sizes[2]) {
  size_t rows, offset;
  trainer_dp_share(s->rows, t->rank, t->ranks, &rows, &offset);
  const size_t eb = (size_t)t->eval_batch;
  sizes[0] = (int)(rows < eb ? rows : eb);
  sizes[1] = (int)(rows % eb);
}

int trainer_dp_start(trainer *t, error *err) {
  if (t->ranks < 2) return 0;
  const net_reducer r = {sum_floats, NULL};
  int rc = net_use_reducer(t->net, &r, err);
  /* Local first: the evaluation batch sizes of this rank's shares (no collective). */
  const device_split *splits[2] = {&t->dev.val, &t->dev.test};
  optim_config opt;
  optim_config_default(&opt, t->cfg->optimizer, (float)t->cfg->learning_rate,
                       (float)train_config_weight_decay(t->cfg));
  for (int i = 0; i < 2 && rc == 0; i++) {
    int sizes[2];
    eval_sizes(t, splits[i], sizes);
    rc = net_warm_up(t->net, splits[i]->x, splits[i]->y, splits[i]->rows, NULL, 0, sizes, 2, &opt, err);
  }
  if (trainer_agree(t, rc, err)) return -1;
  /* The sharded step at the full and the last batch (collective: every rank runs both),
     then the state back exactly as net_warm_up does. */
  const size_t P = net_param_count(t->net), S = net_stats_count(t->net), O = net_optim_count(t->net);
  float *params = xmalloc((P ? P : 1) * sizeof *params), *stats = xmalloc((S ? S : 1) * sizeof *stats);
  float *optim = xmalloc((O ? O : 1) * sizeof *optim);
  rc = net_read_state(t->net, params, S ? stats : NULL, O ? optim : NULL, err);
  const size_t rest = t->dev.train.rows % (size_t)t->batch;
  const int globals[2] = {t->batch, rest >= 2 ? (int)rest : 0};
  for (int i = 0; i < 2; i++) {
    if (globals[i] < 1 || (i == 1 && globals[1] == globals[0])) continue;
    size_t rows, offset;
    trainer_dp_share((size_t)globals[i], t->rank, t->ranks, &rows, &offset);
    net_set_batch(t->net, t->dev.train.x, t->dev.train.y, NULL, offset, (int)rows);
    net_train_step_shard(t->net, (int)rows, globals[i], offset, &opt, 1);
  }
  net_metrics m;
  if (rc == 0) rc = net_take_metrics(t->net, &m, NULL, err);
  if (rc == 0) rc = net_write_state(t->net, params, S ? stats : NULL, O ? optim : NULL, err);
  free(params);
  free(stats);
  free(optim);
  return trainer_agree(t, rc, err);
}

/* One global batch from row START of the permutation: this rank's share of its rows. */
static void shard_step(trainer *t, size_t start, const optim_config *opt, uint64_t step) {
  const size_t n = t->dev.train.rows;
  const int rows = n - start < (size_t)t->batch ? (int)(n - start) : t->batch;
  size_t mine, offset;
  trainer_dp_share((size_t)rows, t->rank, t->ranks, &mine, &offset);
  net_set_batch(t->net, t->dev.train.x, t->dev.train.y, t->perm_buf, start + offset, (int)mine);
  net_train_step_shard(t->net, (int)mine, rows, offset, opt, step);
}

void trainer_steps(trainer *t, size_t start, int count, const optim_config *opt) {
  if (t->ranks < 2) {
    net_train_steps(t->net, t->dev.train.x, t->dev.train.y, t->perm_buf, start, t->batch, t->dev.train.rows, count,
                    opt, t->st.step + 1);
    return;
  }
  for (int k = 0; k < count; k++) shard_step(t, start + (size_t)k * (size_t)t->batch, opt, t->st.step + 1 + (uint64_t)k);
}

/* Values summed over the ranks, with a failure flag last. */
enum { SUM_LOSS, SUM_CORRECT, SUM_COUNT, SUM_LAST_LOSS, SUM_LAST_CORRECT, SUM_LAST_COUNT, SUM_FAILED, SUM_N };

int trainer_take_metrics(trainer *t, net_metrics *m, error *err) {
  int rc = net_take_metrics(t->net, m, NULL, err);
  if (t->ranks < 2) return rc;
  double v[SUM_N] = {m->loss_sum,      (double)m->correct,      (double)m->count, m->last_loss_sum,
                     (double)m->last_correct, (double)m->last_count, rc != 0 ? 1.0 : 0.0};
  error e = {0};
  if (dist_sum_doubles(v, SUM_N, &e) != 0 && rc == 0) {
    *err = e;
    rc = -1;
  }
  if (v[SUM_FAILED] > 0 || rc != 0) {
    dist_agree(rc, err); /* every rank: the first failing rank's message */
    return -1;
  }
  memset(m, 0, sizeof *m);
  m->loss_sum = v[SUM_LOSS];
  m->correct = (long)v[SUM_CORRECT];
  m->count = (long)v[SUM_COUNT];
  m->last_loss_sum = v[SUM_LAST_LOSS];
  m->last_correct = (long)v[SUM_LAST_CORRECT];
  m->last_count = (long)v[SUM_LAST_COUNT];
  m->last_loss = m->last_count ? m->last_loss_sum / (double)m->last_count : 0.0;
  m->last_acc = m->last_count ? (double)m->last_correct / (double)m->last_count : 0.0;
  return 0;
}

int trainer_evaluate(trainer *t, const device_split *s, eval_result *out, error *err) {
  if (t->ranks < 2) return evaluate_split(t->net, s, t->eval_batch, out, NULL, err);
  size_t rows, offset;
  trainer_dp_share(s->rows, t->rank, t->ranks, &rows, &offset);
  int rc = evaluate_rows(t->net, s, offset, rows, t->eval_batch, out, NULL, err);
  enum { N_CONF = JSC_N_CLASSES * JSC_N_CLASSES, N = N_CONF + 4 };
  double v[N];
  for (int i = 0; i < N_CONF; i++) v[i] = (double)out->confusion[i];
  v[N_CONF] = out->loss_sum;
  v[N_CONF + 1] = (double)out->correct;
  v[N_CONF + 2] = (double)out->count;
  v[N_CONF + 3] = rc != 0 ? 1.0 : 0.0;
  error e = {0};
  if (dist_sum_doubles(v, N, &e) != 0 && rc == 0) {
    *err = e;
    rc = -1;
  }
  /* every rank took part in the sum, so every rank sees a failure */
  if (v[N_CONF + 3] > 0 || rc != 0) {
    dist_agree(rc, err);
    return -1;
  }
  for (int i = 0; i < N_CONF; i++) out->confusion[i] = (long)v[i];
  out->loss_sum = v[N_CONF];
  out->correct = (long)v[N_CONF + 1];
  out->count = (long)v[N_CONF + 2];
  out->loss = out->count ? out->loss_sum / (double)out->count : 0.0;
  out->acc = out->count ? (double)out->correct / (double)out->count : 0.0;
  return 0;
}

int trainer_signal(const trainer *t) {
  int sig = interrupt_pending();
  return t->ranks < 2 ? sig : dist_max_int(sig);
}
