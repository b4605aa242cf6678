#include "train/trainer.h"
#include "train/trainer_internal.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "base/interrupt.h"
#include "model/model_print.h"
#include "train/progress.h"
#include "base/rng.h"
#include "train/run_summary.h"
#include "base/util.h"

/* ---- checkpoints and summary ---- */

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

/* ---- a signal during a long compile ---- */

/* Seconds a signal may wait for the loop before the watchdog ends the run: a step, or
   saving a checkpoint, takes far less. */
#define STUCK_GRACE_S 3.0

typedef struct {
  const trainer *t;
  const train_result *out;
} stuck_run;

/* Called by the watchdog thread while the main thread is inside the driver: the run's
   summary says interrupted (what was saved is the last checkpoint). */
static void mark_stuck_run(void *ctx) {
  const stuck_run *s = ctx;
  trainer_write_summary(s->t, s->out, train_status_name(TRAIN_INTERRUPTED));
}

/* ---- setup ---- */

static void parse_signal_hook(trainer *t) {
  const char *hook = getenv("CLTRAIN_TEST_SIGNAL_AT_STEP");
  if (!hook || !*hook) return;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", hook);
  char *colon = strchr(buf, ':');
  t->signal_kind = SIGINT;
  if (colon) {
    *colon = '\0';
    if (strcmp(colon + 1, "TERM") == 0) t->signal_kind = SIGTERM;
    else if (strcmp(colon + 1, "KILL") == 0) t->signal_kind = SIGKILL; /* a crash: nothing saved */
    else if (strcmp(colon + 1, "INT") != 0) die_usage("CLTRAIN_TEST_SIGNAL_AT_STEP: '%s' is not N[:INT|:TERM|:KILL]", hook);
  }
  long step;
  if (!parse_long(buf, 1, 1L << 62, &step)) die_usage("CLTRAIN_TEST_SIGNAL_AT_STEP: '%s' is not N[:INT|:TERM|:KILL]", hook);
  t->signal_at_step = (uint64_t)step;
}

int train_check_data(const train_config *cfg, const dataset *ds, char *err, size_t errlen) {
  if (ds->train.rows < 2) return seterr(err, errlen, "the training split of %s has %zu rows", ds->name, ds->train.rows);
  if (ds->val.rows < 1) return seterr(err, errlen, "the validation split of %s is empty (raise --val-fraction)", ds->name);
  if ((size_t)cfg->batch_size > ds->train.rows)
    return seterr(err, errlen, "--batch-size %ld%s is larger than the training split of %s (%zu rows)",
                  cfg->batch_size, cfg->given[TOPT_BATCH_SIZE] ? "" : " (the default)", ds->name, ds->train.rows);
  return 0;
}

/* Model from the file/zoo, or from a resumed checkpoint's own text. Checks widths. */
static void setup_model(trainer *t, const checkpoint *ck) {
  char err[2048];
  if (ck) {
    char origin[TRAIN_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "model stored in %s", t->cfg->resume);
    if (model_parse(ck->model_text, origin, ck->model_name, &t->model, err, sizeof err))
      die_usage("train: %s", err);
  } else if (model_load(t->cfg->model, &t->model, err, sizeof err)) {
    die_usage("train: %s", err);
  }
  if (t->model.input_width != t->ds->n_features)
    die_usage("train: %s: the model's input width is %d but the dataset has %d features", t->model.origin,
              t->model.input_width, t->ds->n_features);
  if (model_check_classes(&t->model, t->ds->n_classes, err, sizeof err)) die_usage("train: %s", err);
  bool has_bn = false;
  for (int i = 0; i < t->model.n_layers; i++) has_bn |= t->model.layers[i].kind == LAYER_BATCHNORM;
  if (train_check_data(t->cfg, t->ds, err, sizeof err)) die_usage("train: %s", err);
  if (has_bn && t->cfg->batch_size < 2)
    die_usage("train: --batch-size 1 with batchnorm layers: batch statistics need at least 2 samples");
}

static void setup_batches(trainer *t) {
  size_t n = t->ds->train.rows;
  t->batch = t->cfg->batch_size < (long)n ? (int)t->cfg->batch_size : (int)n;
  size_t full = n / (size_t)t->batch, rest = n % (size_t)t->batch;
  /* A last batch of one sample is dropped: batch-norm statistics need two. */
  t->steps_per_epoch = full + (rest >= 2 ? 1 : 0);
  t->epoch_samples = full * (size_t)t->batch + (rest >= 2 ? rest : 0);
  t->perm = xmalloc(n * sizeof(uint32_t));
  t->perm_buf = rt_alloc(&t->rt, n * sizeof(uint32_t));
}

/* Largest batch the net must hold: training batches and evaluation batches. */
static int max_batch_of(const trainer *t) {
  size_t m = t->ds->train.rows;
  if (t->ds->val.rows > m) m = t->ds->val.rows;
  if (t->ds->test.rows > m) m = t->ds->test.rows;
  return (size_t)t->cfg->batch_size < m ? (int)t->cfg->batch_size : (int)m;
}

static void restore_weights(trainer *t, const checkpoint *c, bool with_optimizer) {
  float *optim = NULL;
  if (with_optimizer) {
    if (c->n_optim != net_optim_count(t->net))
      die_usage("train: checkpoint holds %zu optimizer values, the net needs %zu", c->n_optim, net_optim_count(t->net));
    optim = c->optim;
  } else {
    optim = xcalloc(net_optim_count(t->net) + 1, sizeof(float));
  }
  net_write_state(t->net, c->params, c->stats, optim);
  if (!with_optimizer) free(optim);
}

static void print_intro(trainer *t) {
  if (t->cfg->quiet) return;
  train_config_print_table(stdout, t->cfg, t->rt.info.name);
  printf("\n");
  model_print_header(stdout, &t->model);
  model_print_layers(stdout, &t->model);
  printf("\ndata %s: %zu train, %zu validation, %zu test rows; %llu steps of %d per epoch\n", t->ds->name,
         t->ds->train.rows, t->ds->val.rows, t->ds->test.rows, (unsigned long long)t->steps_per_epoch, t->batch);
  printf("run directory %s%s\n\n", t->log.dir, t->cfg->resume[0] ? " (resumed)" : "");
  fflush(stdout);
}

/* --resume from anything but the newest checkpoint would cut the logs back: refuse. */
static void check_newest(const char *resume, const checkpoint *ck, const char *dir) {
  char last[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  run_path(last, sizeof last, dir, "last.ckpt");
  const char *base = strrchr(resume, '/');
  if (strcmp(base ? base + 1 : resume, "last.ckpt") == 0) return;
  checkpoint newest;
  if (checkpoint_read(last, &newest, err, sizeof err)) return;
  uint64_t step = newest.progress.step;
  checkpoint_free(&newest);
  if (step > ck->progress.step)
    die_usage("train: --resume: %s (step %llu) is newer than %s (step %llu); resuming from an older checkpoint "
              "would drop logged rows (use --load for a new run from it)",
              last, (unsigned long long)step, resume, (unsigned long long)ck->progress.step);
}

static void start_fresh(trainer *t, const checkpoint *loaded) {
  char err[RUN_PATH_MAX + 256];
  if (loaded) restore_weights(t, loaded, false);
  memset(&t->st, 0, sizeof t->st);
  t->st.best_val_acc = -1;
  t->st.best_val_loss = INFINITY;
  t->st.last_train_loss = t->st.last_train_acc = t->st.last_val_loss = t->st.last_val_acc = NAN;
  t->st.seed = t->cfg->seed;
  rng_seed(&t->st.shuffle_rng, t->cfg->seed, SHUFFLE_STREAM);
  if (run_log_create(&t->log, t->cfg->project_dir, t->model.name, t->ds->name, err, sizeof err))
    die_usage("train: %s", err);
}

static void start_resumed(trainer *t, const checkpoint *ck) {
  char dir[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
  path_dirname(dir, sizeof dir, t->cfg->resume);
  check_newest(t->cfg->resume, ck, dir);
  if (strcmp(ck->dataset_name, t->ds->name) != 0)
    die_usage("train: --resume: %s was trained on '%s', not '%s'", t->cfg->resume, ck->dataset_name, t->ds->name);
  if (ck->progress.seed != t->cfg->seed || ck->progress.epoch_count > t->ds->train.rows)
    die_usage("train: --resume: %s does not match its stored configuration", t->cfg->resume);
  restore_weights(t, ck, true);
  t->st = ck->progress;
  t->have_last = true;
  t->saved_step = t->st.step;
  if (run_log_resume(&t->log, dir, t->st.step, t->st.epoch, err, sizeof err)) die_usage("train: %s", err);
}

int train_run_with_data(const train_config *cfg, const dataset *ds, train_result *out) {
  double call_start = now_seconds();
  memset(out, 0, sizeof *out);
  trainer t;
  memset(&t, 0, sizeof t);
  t.cfg = cfg;
  t.ds = ds;
  parse_signal_hook(&t);
  char err[RUN_PATH_MAX + 256];
  const char *ck_path = cfg->resume[0] ? cfg->resume : cfg->load[0] ? cfg->load : NULL;
  checkpoint ck;
  if (ck_path && checkpoint_read(ck_path, &ck, err, sizeof err)) die_usage("train: %s", err);
  setup_model(&t, cfg->resume[0] ? &ck : NULL);
  if (ck_path && checkpoint_check_model(&ck, &t.model, ck_path, err, sizeof err)) die_usage("train: %s", err);

  rt_open(&t.rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL);
  device_data_upload(&t.rt, ds, &t.dev);
  setup_batches(&t);
  t.eval_batch = max_batch_of(&t);
  t.net = net_create(&t.rt, &t.model, t.eval_batch, cfg->seed);
  if (cfg->resume[0]) start_resumed(&t, &ck);
  else start_fresh(&t, ck_path ? &ck : NULL);
  if (ck_path) checkpoint_free(&ck);
  char path[RUN_PATH_MAX];
  run_path(path, sizeof path, t.log.dir, "config.txt");
  if (train_config_write_table(path, cfg, t.rt.info.name, err, sizeof err)) DIE("%s", err);
  /* A resumed run said "finished" (or "interrupted") until now: a crash in this session
     must not leave that behind. */
  trainer_fill_result(&t, TRAIN_FINISHED, out);
  trainer_write_summary(&t, out, "running");

  print_intro(&t);
  progress_init(&t.prog, stdout, cfg->quiet, cfg->no_progress);
  interrupt_install();
  /* The loop answers a signal at the next step; a step stuck in a compile (CLBlast's
     first GEMM with new parameters takes half a minute cold) is ended by the watchdog. */
  stuck_run stuck = {&t, out};
  interrupt_watchdog dog;
  bool watched = interrupt_watchdog_start(&dog, STUCK_GRACE_S, mark_stuck_run, &stuck) == 0;
  int rc = trainer_loop(&t, out);
  if (watched) interrupt_watchdog_stop(&dog);
  interrupt_uninstall();
  out->wall_seconds = now_seconds() - call_start;
  printf("%srun %s: %s after %llu epochs (%llu steps)", cfg->quiet ? "" : "\n", out->run_dir,
         train_status_name(out->status), (unsigned long long)out->epochs_run, (unsigned long long)out->steps);
  if (out->epochs_run > 0)
    printf(": val_acc %.4f, best %.4f (epoch %llu)", out->final_val_acc, out->best_val_acc,
           (unsigned long long)out->best_epoch + 1);
  if (out->have_test) printf(", test_acc %.4f", out->test_acc);
  printf("; %.1f s training, %.0f samples/s\n", out->train_seconds, out->samples_per_s);
  fflush(stdout);
  run_log_close(&t.log);
  free(t.perm);
  rt_release(&t.perm_buf);
  net_free(t.net);
  device_data_free(&t.dev);
  model_free(&t.model);
  rt_close(&t.rt);
  return rc;
}

int train_run(const train_config *cfg_in, train_result *out) {
  train_config resumed;
  const train_config *cfg = cfg_in;
  if (cfg_in->resume[0]) {
    train_resolve_resume(cfg_in, &resumed);
    cfg = &resumed;
  }
  char err[2048];
  /* Fail fast on a bad device, model or checkpoint, before the data set is generated or read. */
  device_list devices;
  device_list_get(&devices);
  int dev = device_select(&devices, cfg->device[0] ? cfg->device : NULL, err, sizeof err);
  device_list_free(&devices);
  if (dev < 0) die_usage("train: %s", err);
  if (!cfg->resume[0]) {
    model_spec m;
    if (model_load(cfg->model, &m, err, sizeof err)) die_usage("train: %s", err);
    if (cfg->load[0]) {
      checkpoint ck;
      if (checkpoint_read(cfg->load, &ck, err, sizeof err)) die_usage("train: %s", err);
      if (checkpoint_check_model(&ck, &m, cfg->load, err, sizeof err)) die_usage("train: %s", err);
      checkpoint_free(&ck);
    }
    model_free(&m);
    /* Before the data is read: an unusable --project-dir must not cost a data load. */
    if (project_dir_check(cfg->project_dir, err, sizeof err)) die_usage("train: --project-dir: %s", err);
  }
  data_options opt;
  train_data_options(cfg, &opt);
  dataset ds;
  if (!cfg->quiet) {
    printf("loading %s ...\n", cfg->dataset);
    fflush(stdout);
  }
  if (dataset_load(cfg->dataset, &opt, &ds, err, sizeof err)) die_usage("train: %s", err);
  int rc = train_run_with_data(cfg, &ds, out);
  dataset_free(&ds);
  return rc;
}
