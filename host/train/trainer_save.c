/* What a run writes of its state: checkpoints, summary.json and the result, used by the
   setup (trainer.c) and the epochs (trainer_loop.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "model/model.h"
#include "train/run_summary.h"
#include "train/trainer_internal.h"

int trainer_save_checkpoint(trainer *t, const char *name, error *err) {
  if (!t->writer) return 0; /* data-parallel: rank 0 writes, every rank holds the same state */
  checkpoint c;
  memset(&c, 0, sizeof c);
  snprintf(c.model_name, sizeof c.model_name, "%s", t->model->name);
  c.model_text = t->model->text;
  c.config_text = train_config_to_text(t->cfg);
  snprintf(c.dataset_name, sizeof c.dataset_name, "%s", t->ds->name);
  snprintf(c.device_name, sizeof c.device_name, "%s", t->rt->info.name);
  c.progress = t->st;
  c.has_scaler = true; /* what every consumer of the model must apply to raw inputs */
  memcpy(c.mean, t->ds->mean, sizeof c.mean);
  memcpy(c.std, t->ds->std, sizeof c.std);
  c.n_params = net_param_count(t->net);
  c.n_stats = net_stats_count(t->net);
  c.n_optim = net_optim_count(t->net);
  c.params = xmalloc((c.n_params + 1) * sizeof(float));
  c.stats = xmalloc((c.n_stats + 1) * sizeof(float));
  c.optim = xmalloc((c.n_optim + 1) * sizeof(float));
  char path[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, t->log.dir, name);
  int rc = net_read_state(t->net, c.params, c.stats, c.optim, err);
  if (rc == 0 && checkpoint_write(path, &c, msg, sizeof msg)) rc = ERR_RUNTIME(err, "%s", msg);
  free(c.config_text);
  free(c.params);
  free(c.stats);
  free(c.optim);
  return rc;
}

void trainer_fill_result(const trainer *t, train_status status, train_result *out) {
  const train_progress *s = &t->st;
  out->status = status;
  snprintf(out->run_dir, sizeof out->run_dir, "%s", t->log.dir);
  snprintf(out->model, sizeof out->model, "%s", t->model->name);
  snprintf(out->dataset, sizeof out->dataset, "%s", t->ds->name);
  snprintf(out->device, sizeof out->device, "%s", t->rt->info.name);
  out->params = t->model->n_params;
  out->epochs_run = s->epoch;
  out->steps = s->step;
  out->final_train_loss = s->last_train_loss;
  out->final_train_acc = s->last_train_acc;
  out->final_val_loss = s->last_val_loss;
  out->final_val_acc = s->last_val_acc;
  out->best_val_acc = s->best_val_acc;
  out->best_epoch = s->best_epoch;
  out->train_seconds = s->train_seconds;
  out->epoch_seconds = t->session_epochs ? t->session_epoch_s / (double)t->session_epochs : NAN;
  out->samples_per_s = s->step_seconds > 0 ? (double)s->samples / s->step_seconds : NAN;
  out->median_epoch_s = median_of(t->epoch_s_seen, t->session_epochs);
  out->median_samples_per_s = median_of(t->rate_seen, t->session_epochs);
  out->compile_seconds = t->compile_seconds;
  out->launch_us = t->launch_us;
  out->launches_per_step = t->launches_per_step;
  out->whole_net = t->net && net_whole_on(t->net);
}

const char *train_status_name(train_status s) {
  switch (s) {
    case TRAIN_FINISHED: return "finished";
    case TRAIN_EARLY_STOPPED: return "early-stopped";
    case TRAIN_INTERRUPTED: return "interrupted";
    case TRAIN_DIVERGED: return "diverged";
  }
  return "running";
}

/* The summary fields every run has, whatever became of it. */
static void summary_config(run_summary *s, const train_config *cfg) {
  s->max_epochs = (uint64_t)cfg->max_epochs;
  s->batch_size = cfg->batch_size;
  s->learning_rate = cfg->learning_rate;
  s->optimizer = optim_kind_name(cfg->optimizer);
  s->seed = cfg->seed;
  s->best_val_acc = -1;
  s->final_train_loss = s->final_train_acc = s->final_val_loss = s->final_val_acc = NAN;
  s->train_seconds = s->samples_per_s = s->compile_seconds = s->launch_us = NAN;
}

int trainer_write_summary(const trainer *t, const train_result *r, const char *status, const char *message,
                          error *err) {
  if (!t->writer) return 0;
  run_summary s;
  memset(&s, 0, sizeof s);
  summary_config(&s, t->cfg);
  s.error = message;
  snprintf(s.model, sizeof s.model, "%s", r->model);
  snprintf(s.dataset, sizeof s.dataset, "%s", r->dataset);
  snprintf(s.device, sizeof s.device, "%s", r->device);
  s.params = r->params;
  s.status = status;
  s.epochs_run = r->epochs_run;
  s.steps = r->steps;
  s.best_val_acc = r->best_val_acc;
  s.best_epoch = r->best_epoch;
  bool any = r->epochs_run > 0;
  s.final_train_loss = any ? r->final_train_loss : NAN;
  s.final_train_acc = any ? r->final_train_acc : NAN;
  s.final_val_loss = any ? r->final_val_loss : NAN;
  s.final_val_acc = any ? r->final_val_acc : NAN;
  s.have_test = r->have_test;
  s.test_loss = r->test_loss;
  s.test_acc = r->test_acc;
  snprintf(s.test_checkpoint, sizeof s.test_checkpoint, "last.ckpt");
  s.train_seconds = r->train_seconds;
  s.samples_per_s = r->samples_per_s;
  s.compile_seconds = r->compile_seconds;
  s.launch_us = r->launch_us;
  s.step_kernel = t->net ? (r->whole_net ? "whole" : "stages") : NULL;
  char path[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, t->log.dir, "summary.json");
  if (run_summary_write(path, &s, msg, sizeof msg)) return ERR_RUNTIME(err, "%s", msg);
  return 0;
}

void run_short_name(const char *spec, bool is_model, char *buf, size_t n) {
  model_spec m;
  error ignored = {0};
  if (is_model && model_load(spec, &m, &ignored) == 0) {
    snprintf(buf, n, "%s", m.name);
    model_free(&m);
    return;
  }
  const char *base = strrchr(spec, '/');
  snprintf(buf, n, "%.100s", base ? base + 1 : spec);
  char *dot = strrchr(buf, '.');
  if (dot && dot != buf) *dot = '\0';
}

int train_record_failure(const train_config *cfg, const char *message, char *dir, size_t dir_len, error *err) {
  run_summary s;
  memset(&s, 0, sizeof s);
  summary_config(&s, cfg);
  run_short_name(cfg->model, true, s.model, sizeof s.model);
  run_short_name(cfg->dataset, false, s.dataset, sizeof s.dataset);
  snprintf(s.device, sizeof s.device, "%s", cfg->device);
  s.status = "failed";
  s.error = message;
  run_log log;
  char msg[RUN_PATH_MAX + 256], path[RUN_PATH_MAX];
  if (run_log_create(&log, cfg->project_dir, cfg->name[0] ? cfg->name : s.model, cfg->name[0] ? NULL : s.dataset, msg,
                     sizeof msg))
    return ERR_RUNTIME(err, "%s", msg);
  snprintf(dir, dir_len, "%s", log.dir);
  run_path(path, sizeof path, log.dir, "summary.json");
  int rc = run_summary_write(path, &s, msg, sizeof msg);
  run_log_close(&log);
  if (rc) return ERR_RUNTIME(err, "%s", msg);
  return 0;
}
