/* The epochs of a run: queued steps, metrics at log rows, validation, checkpoints, and the
   three ways out besides finishing: early stopping, interruption, divergence. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/interrupt.h"
#include "train/trainer_internal.h"
#include "base/util.h"

/* What run_epoch returns besides an exit code (>= 0) and -1 (failed, with err). */
enum { EPOCH_CONTINUE = -2, EPOCH_STOP_EARLY = -3 };

/* Add metrics M to the epoch's sums: 1, or 0 when the loss is NaN or infinite. */
static int add_metrics(trainer *t, const net_metrics *m) {
  t->st.epoch_loss_sum += m->loss_sum;
  t->st.epoch_correct += (uint64_t)m->correct;
  t->st.epoch_count += (uint64_t)m->count;
  return isfinite(m->loss_sum) && isfinite(m->last_loss) ? 1 : 0;
}

/* Read the metrics accumulated on the device since the last read (one blocking read) into
   the epoch's sums: 1, 0 when the loss is NaN or infinite, -1 with ERR when the device
   failed. */
static int take_metrics(trainer *t, net_metrics *m, error *err) {
  if (trainer_take_metrics(t, m, err) != 0) return -1;
  return add_metrics(t, m);
}

static int diverged(trainer *t, const char *what, double value, uint64_t epoch, train_result *out, error *err) {
  progress_clear(&t->prog);
  char last[RUN_PATH_MAX];
  run_path(last, sizeof last, t->log.dir, "last.ckpt");
  if (isnan(value)) value = fabs(value); /* the sign of a NaN depends on the kernel; print "nan" */
  /* Console messages count epochs from 1 (the CSV files from 0). */
  if (!t->writer) {
    /* rank 0 says it */
  } else if (t->have_last)
    fprintf(stderr,
            "cltrain: error: training diverged: %s is %g at step %llu (epoch %llu of %ld); stopped, keeping the "
            "last good checkpoint %s (after epoch %llu, step %llu)\n",
            what, value, (unsigned long long)t->st.step, (unsigned long long)epoch + 1, t->cfg->max_epochs, last,
            (unsigned long long)t->st.epoch, (unsigned long long)t->saved_step);
  else
    fprintf(stderr,
            "cltrain: error: training diverged: %s is %g at step %llu (epoch %llu of %ld); stopped before the "
            "first checkpoint (try a lower --learning-rate)\n",
            what, value, (unsigned long long)t->st.step, (unsigned long long)epoch + 1, t->cfg->max_epochs);
  trainer_fill_result(t, TRAIN_DIVERGED, out);
  if (trainer_agree(t, trainer_write_summary(t, out, train_status_name(TRAIN_DIVERGED), NULL, err), err)) return -1;
  return EXIT_RUNTIME;
}

static int interrupted(trainer *t, int sig, uint64_t epoch, uint64_t batches_done, double epoch_start,
                       double phase_start, train_result *out, error *err) {
  net_metrics m;
  int ok = take_metrics(t, &m, err);
  if (ok < 0) return -1;
  if (!ok) return diverged(t, "the training loss", m.last_loss, epoch, out, err);
  double now = now_seconds();
  t->st.epoch_batches = batches_done;
  t->st.epoch_seconds = now - epoch_start;
  t->st.step_seconds += now - phase_start;
  t->st.train_seconds = now - t->session_start;
  trainer_fill_result(t, TRAIN_INTERRUPTED, out);
  out->signal = sig;
  int rc = trainer_save_checkpoint(t, "last.ckpt", err);
  if (rc == 0) rc = trainer_write_summary(t, out, train_status_name(TRAIN_INTERRUPTED), NULL, err);
  if (trainer_agree(t, rc, err)) return -1;
  progress_clear(&t->prog);
  char launcher[48] = ""; /* a data-parallel run continues over as many ranks */
  if (t->ranks > 1) snprintf(launcher, sizeof launcher, "mpirun -n %d ", t->ranks);
  if (t->writer)
    fprintf(stderr,
            "cltrain: interrupted by %s at step %llu (epoch %llu, batch %llu of %llu); saved %s/last.ckpt\n"
            "cltrain: continue with: %scltrain train --resume %s/last.ckpt\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", (unsigned long long)t->st.step, (unsigned long long)epoch + 1,
            (unsigned long long)batches_done, (unsigned long long)t->steps_per_epoch, t->log.dir, launcher,
            t->log.dir);
  return interrupt_exit_code(sig);
}

/* The bookkeeping of a finished epoch: state, log row, checkpoints, summary. */
static int finish_epoch(trainer *t, uint64_t epoch, double lr, const rng_state *next_rng, double epoch_start,
                        double phase_end, const eval_result *val, train_result *out, error *err) {
  train_progress *s = &t->st;
  double end = now_seconds();
  epoch_row row = {
      .epoch = epoch,
      .step = s->step,
      .train_loss = s->epoch_count ? s->epoch_loss_sum / (double)s->epoch_count : NAN,
      .train_acc = s->epoch_count ? (double)s->epoch_correct / (double)s->epoch_count : NAN,
      .val_loss = val->loss,
      .val_acc = val->acc,
      .lr = lr,
      .epoch_s = end - epoch_start,
      .samples_per_s = (double)t->epoch_samples / (phase_end - epoch_start),
  };
  int rc = t->writer ? run_log_epoch(&t->log, &row, err) : 0;
  progress_epoch_end(&t->prog, &row);
  s->last_train_loss = row.train_loss;
  s->last_train_acc = row.train_acc;
  s->last_val_loss = val->loss;
  s->last_val_acc = val->acc;
  s->epoch = epoch + 1;
  s->epoch_batches = 0;
  s->epoch_loss_sum = 0;
  s->epoch_correct = s->epoch_count = 0;
  s->epoch_seconds = 0;
  s->shuffle_rng = *next_rng;
  s->train_seconds = end - t->session_start;
  /* best.ckpt and early stopping follow one value, --monitor (README "cltrain train"). */
  bool by_loss = strcmp(t->cfg->monitor, "val_loss") == 0;
  bool best = by_loss ? val->loss < s->best_val_loss : val->acc > s->best_val_acc;
  if (val->acc > s->best_val_acc) s->best_val_acc = val->acc;
  if (val->loss < s->best_val_loss) s->best_val_loss = val->loss;
  if (best) {
    s->best_epoch = epoch + 1;
    s->stale_epochs = 0;
  } else {
    s->stale_epochs++;
  }
  if (rc == 0) rc = trainer_save_checkpoint(t, "last.ckpt", err);
  t->have_last = true;
  t->saved_step = s->step;
  if (rc == 0 && best) rc = trainer_save_checkpoint(t, "best.ckpt", err);
  t->epoch_s_seen[t->session_epochs] = row.epoch_s;
  t->rate_seen[t->session_epochs] = row.samples_per_s;
  t->session_epoch_s += row.epoch_s;
  t->session_epochs++;
  trainer_fill_result(t, TRAIN_FINISHED, out);
  if (rc == 0) rc = trainer_write_summary(t, out, "running", NULL, err);
  /* data-parallel: what rank 0 wrote, every rank learns (rank 0 alone writes) */
  if (trainer_agree(t, rc, err)) return -1;
  if (t->cfg->early_stopping > 0 && s->stale_epochs >= (uint64_t)t->cfg->early_stopping &&
      s->epoch < (uint64_t)t->cfg->max_epochs)
    return EPOCH_STOP_EARLY;
  int sig = trainer_signal(t); /* arrived during validation: the checkpoint is already saved */
  if (sig) {
    trainer_fill_result(t, TRAIN_INTERRUPTED, out);
    out->signal = sig;
    if (trainer_agree(t, trainer_write_summary(t, out, train_status_name(TRAIN_INTERRUPTED), NULL, err), err))
      return -1;
    if (t->writer)
      fprintf(stderr, "cltrain: interrupted by %s after epoch %llu; saved %s/last.ckpt\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", (unsigned long long)epoch + 1, t->log.dir);
    return interrupt_exit_code(sig);
  }
  return EPOCH_CONTINUE;
}

/* The metrics row of step t->st.step: from the snapshot ROW (net_metrics_snapshot), or
   taken now when ROW is NULL; added to the epoch's sums, written to metrics.csv and shown.
   EPOCH_CONTINUE, an exit code (diverged), or -1 with err. */
static int metrics_row(trainer *t, net_metrics_pending *row, uint64_t epoch, double lr, train_result *out,
                       error *err) {
  net_metrics m;
  int ok;
  if (row) {
    if (net_metrics_wait(t->net, row, &m, err)) return -1;
    ok = add_metrics(t, &m);
  } else {
    ok = take_metrics(t, &m, err);
    if (ok < 0) return -1;
  }
  if (!ok) return diverged(t, "the training loss", m.last_loss, epoch, out, err);
  int rc = t->writer ? run_log_step(&t->log, t->st.step, epoch, m.last_loss, m.last_acc, lr,
                                    now_seconds() - t->session_start, err)
                     : 0;
  if (trainer_agree(t, rc, err)) return -1;
  progress_metrics(&t->prog, m.last_loss, m.last_acc);
  return EPOCH_CONTINUE;
}

/* How many steps from batch B of the epoch to enqueue at once: one at a time stage by stage
   (a signal is seen after every step), and with the whole-network kernel up to the next
   metrics row, the test hook's step or the epoch's end, at most WHOLE_STEPS_AT_ONCE. */
#define WHOLE_STEPS_AT_ONCE 256
static uint64_t steps_at_once(const trainer *t, uint64_t b) {
  if (t->ranks > 1 || !net_whole_on(t->net)) return 1;
  const uint64_t log = (uint64_t)t->cfg->log_every_n_steps, step = t->st.step;
  uint64_t count = t->steps_per_epoch - b;
  const uint64_t to_log = log - step % log;
  if (to_log < count) count = to_log;
  if (t->signal_at_step > step && t->signal_at_step - step < count) count = t->signal_at_step - step;
  return count < WHOLE_STEPS_AT_ONCE ? count : WHOLE_STEPS_AT_ONCE;
}

static int run_epoch(trainer *t, uint64_t epoch, train_result *out, error *err) {
  const train_config *cfg = t->cfg;
  const size_t n = t->dev.train.rows;
  double lr = train_epoch_lr(cfg, epoch);
  optim_config opt;
  optim_config_default(&opt, cfg->optimizer, (float)lr, (float)train_config_weight_decay(cfg));
  /* This epoch's order; the generator state after it is the next epoch's start. */
  rng_state rng = t->st.shuffle_rng;
  rng_permutation(&rng, t->perm, (uint32_t)n);
  rt_write(t->rt, t->perm_buf, 0, n * sizeof(uint32_t), t->perm);

  double phase_start = now_seconds();
  double epoch_start = phase_start - t->st.epoch_seconds; /* a resumed epoch started earlier */
  progress_epoch_begin(&t->prog, epoch, (uint64_t)cfg->max_epochs, t->steps_per_epoch, t->st.epoch_batches);
  const unsigned long calls_before = t->rt->launches + t->rt->gemm_calls;
  const uint64_t first_batch = t->st.epoch_batches;
  /* One process writes a metrics row from a snapshot whose values it waits for only after
     enqueueing the next steps, so the device works on while the host writes (with the
     whole-network kernel a row's 50 steps can take under a millisecond); data-parallel
     ranks sum theirs at the row, as before. */
  net_metrics_pending row = {0};
  for (uint64_t b = t->st.epoch_batches; b < t->steps_per_epoch;) {
    const uint64_t count = steps_at_once(t, b);
    trainer_steps(t, (size_t)b * (size_t)t->batch, (int)count, &opt);
    if (row.active) {
      const int rc = metrics_row(t, &row, epoch, lr, out, err);
      if (rc != EPOCH_CONTINUE) return rc;
    }
    const size_t end = (size_t)(b + count) * (size_t)t->batch; /* only the epoch's last batch is short */
    t->st.samples += (end < n ? end : n) - (size_t)b * (size_t)t->batch;
    t->st.step += count;
    b += count;
    if (t->st.step % (uint64_t)cfg->log_every_n_steps == 0) {
      if (t->ranks < 2) {
        net_metrics_snapshot(t->net, &row);
      } else {
        const int rc = metrics_row(t, NULL, epoch, lr, out, err);
        if (rc != EPOCH_CONTINUE) return rc;
      }
    }
    progress_step(&t->prog, b);
    if (t->signal_at_step == t->st.step) raise(t->signal_kind);
    int sig = trainer_signal(t);
    if (sig && row.active) {
      const int rc = metrics_row(t, &row, epoch, lr, out, err);
      if (rc != EPOCH_CONTINUE) return rc;
    }
    if (sig) return interrupted(t, sig, epoch, b, epoch_start, phase_start, out, err);
  }
  if (row.active) {
    const int rc = metrics_row(t, &row, epoch, lr, out, err);
    if (rc != EPOCH_CONTINUE) return rc;
  }
  net_metrics m;
  int ok = take_metrics(t, &m, err);
  if (ok < 0) return -1;
  if (!ok) return diverged(t, "the training loss", m.last_loss, epoch, out, err);
  double phase_end = now_seconds();
  t->st.step_seconds += phase_end - phase_start;
  if (t->steps_per_epoch > first_batch) /* kernels and GEMMs enqueued per training step */
    t->launches_per_step = (double)(t->rt->launches + t->rt->gemm_calls - calls_before) /
                           (double)(t->steps_per_epoch - first_batch);
  eval_result val;
  if (trainer_evaluate(t, &t->dev.val, &val, err)) return -1;
  if (!isfinite(val.loss)) return diverged(t, "the validation loss", val.loss, epoch, out, err);
  return finish_epoch(t, epoch, lr, &rng, epoch_start, phase_end, &val, out, err);
}

int trainer_loop(trainer *t, train_result *out, error *err) {
  const train_config *cfg = t->cfg;
  train_status status = TRAIN_FINISHED;
  t->session_start = now_seconds() - t->st.train_seconds;
  if (t->st.epoch >= (uint64_t)cfg->max_epochs && !cfg->quiet && t->writer)
    printf("the run already finished its %ld epochs (raise --max-epochs to continue it)\n", cfg->max_epochs);
  for (uint64_t epoch = t->st.epoch; epoch < (uint64_t)cfg->max_epochs; epoch++) {
    if (cfg->early_stopping > 0 && t->st.stale_epochs >= (uint64_t)cfg->early_stopping) {
      status = TRAIN_EARLY_STOPPED;
      break;
    }
    int rc = run_epoch(t, epoch, out, err);
    if (rc == EPOCH_STOP_EARLY) {
      status = TRAIN_EARLY_STOPPED;
      if (!cfg->quiet && t->writer)
        printf("early stopping: %s did not improve for %ld epoch%s\n", cfg->monitor, cfg->early_stopping,
               cfg->early_stopping == 1 ? "" : "s");
      break;
    }
    if (rc != EPOCH_CONTINUE) return rc;
  }
  trainer_fill_result(t, status, out);
  eval_result test;
  if (trainer_evaluate(t, &t->dev.test, &test, err)) return -1;
  out->have_test = true;
  out->test_loss = test.loss;
  out->test_acc = test.acc;
  if (trainer_agree(t, trainer_write_summary(t, out, train_status_name(status), NULL, err), err)) return -1;
  return EXIT_OK;
}
