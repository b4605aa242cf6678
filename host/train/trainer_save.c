/* What a run writes of its state: checkpoints, summary.json and the result, used by the
   setup (trainer.c) and the epochs (trainer_loop.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "train/run_summary.h"
#include "train/trainer_internal.h"

void trainer_save_checkpoint(trainer *t, const char *name) {
  checkpoint c;
  memset(&c, 0, sizeof c);
  snprintf(c.model_name, sizeof c.model_name, "%s", t->model.name);
  c.model_text = t->model.text;
  c.config_text = train_config_to_text(t->cfg);
  snprintf(c.dataset_name, sizeof c.dataset_name, "%s", t->ds->name);
  snprintf(c.device_name, sizeof c.device_name, "%s", t->rt.info.name);
  c.progress = t->st;
  c.n_params = net_param_count(t->net);
  c.n_stats = net_stats_count(t->net);
  c.n_optim = net_optim_count(t->net);
  c.params = xmalloc((c.n_params + 1) * sizeof(float));
  c.stats = xmalloc((c.n_stats + 1) * sizeof(float));
  c.optim = xmalloc((c.n_optim + 1) * sizeof(float));
  net_read_state(t->net, c.params, c.stats, c.optim);
  char path[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, t->log.dir, name);
  if (checkpoint_write(path, &c, err, sizeof err)) DIE("%s", err);
  free(c.config_text);
  free(c.params);
  free(c.stats);
  free(c.optim);
}

void trainer_fill_result(const trainer *t, train_status status, train_result *out) {
  const train_progress *s = &t->st;
  out->status = status;
  snprintf(out->run_dir, sizeof out->run_dir, "%s", t->log.dir);
  snprintf(out->model, sizeof out->model, "%s", t->model.name);
  snprintf(out->dataset, sizeof out->dataset, "%s", t->ds->name);
  snprintf(out->device, sizeof out->device, "%s", t->rt.info.name);
  out->params = t->model.n_params;
  out->epochs_run = s->epoch;
  out->steps = s->step;
  out->final_train_loss = s->last_train_loss;
  out->final_train_acc = s->last_train_acc;
  out->final_val_loss = s->last_val_loss;
  out->final_val_acc = s->last_val_acc;
  out->best_val_acc = s->best_val_acc;
  out->best_epoch = s->best_epoch ? s->best_epoch - 1 : 0;
  out->train_seconds = s->train_seconds;
  out->epoch_seconds = t->session_epochs ? t->session_epoch_s / (double)t->session_epochs : NAN;
  out->samples_per_s = s->step_seconds > 0 ? (double)s->samples / s->step_seconds : NAN;
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

void trainer_write_summary(const trainer *t, const train_result *r, const char *status) {
  run_summary s;
  memset(&s, 0, sizeof s);
  snprintf(s.model, sizeof s.model, "%s", r->model);
  snprintf(s.dataset, sizeof s.dataset, "%s", r->dataset);
  snprintf(s.device, sizeof s.device, "%s", r->device);
  s.params = r->params;
  s.status = status;
  s.epochs_run = r->epochs_run;
  s.max_epochs = (uint64_t)t->cfg->max_epochs;
  s.steps = r->steps;
  s.batch_size = t->cfg->batch_size;
  s.learning_rate = t->cfg->learning_rate;
  s.optimizer = optim_kind_name(t->cfg->optimizer);
  s.seed = t->cfg->seed;
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
  char path[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, t->log.dir, "summary.json");
  if (run_summary_write(path, &s, err, sizeof err)) DIE("%s", err);
}
