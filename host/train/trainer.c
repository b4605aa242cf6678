/* A run's setup: opening it (checkpoint, model, device: each once), the checks against
   the data set, a fresh or resumed start, and the end of the run (trainer.h). */
#include "train/trainer.h"
#include "train/trainer_internal.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/interrupt.h"
#include "base/rng.h"
#include "base/util.h"
#include "cl/launch_probe.h"
#include "cl/tuning.h"
#include "dist/dist.h"
#include "model/model_print.h"

/* ---- opening a run ---- */

static int read_checkpoint(const char *path, checkpoint *ck, error *err) {
  char msg[RUN_PATH_MAX + 256];
  if (checkpoint_read(path, ck, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  return 0;
}

/* The model: the checkpoint's own text when resuming, else the file or zoo name; checked
   against the checkpoint of --load. */
static int open_model(train_run *run, error *err) {
  char msg[2048];
  const train_config *cfg = &run->cfg;
  if (cfg->resume[0]) {
    char origin[TRAIN_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "model stored in %s", cfg->resume);
    if (model_parse(run->ckpt.model_text, origin, run->ckpt.model_name, &run->model, err)) return -1;
  } else if (model_load(cfg->model, &run->model, err)) {
    return -1;
  }
  run->have_model = true;
  const char *path = cfg->resume[0] ? cfg->resume : cfg->load;
  if (run->have_ckpt && checkpoint_check_model(&run->ckpt, &run->model, path, msg, sizeof msg))
    return ERR_USAGE(err, "%s", msg);
  return 0;
}

int train_open(train_run *run, const train_config *cli, checkpoint *ckpt, error *err) {
  memset(run, 0, sizeof *run);
  run->cfg = *cli;
  const char *path = cli->resume[0] ? cli->resume : cli->load[0] ? cli->load : NULL;
  if (ckpt) {
    run->ckpt = *ckpt;
    run->have_ckpt = true;
  } else if (path) {
    if (read_checkpoint(path, &run->ckpt, err)) return -1;
    run->have_ckpt = true;
  }
  /* In place of the command line's configuration: the stored one, with the command
     line's explicit options on top. */
  if (cli->resume[0] && train_resolve_resume(cli, &run->ckpt, &run->cfg, err)) goto fail;
  if (open_model(run, err)) goto fail;
  const train_config *cfg = &run->cfg;
  /* Before the data is read: an unusable --project-dir must not cost a data load. */
  char msg[RUN_PATH_MAX + 256];
  if (!cfg->resume[0] && project_dir_check(cfg->project_dir, msg, sizeof msg)) {
    ERR_USAGE(err, "--project-dir: %s", msg);
    goto fail;
  }
  /* The device is opened (its list read) once, before the data set is generated or read. */
  if (rt_open(&run->rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL, err))
    goto fail;
  run->rt_open = true;
  tuning_apply_stored(&run->rt);
  return 0;
fail:
  train_close(run);
  return -1;
}

void train_close(train_run *run) {
  if (run->rt_open) rt_close(&run->rt);
  if (run->have_model) model_free(&run->model);
  if (run->have_ckpt) checkpoint_free(&run->ckpt);
  memset(run, 0, sizeof *run);
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
  error ignored = {0};
  trainer_write_summary(s->t, s->out, train_status_name(TRAIN_INTERRUPTED), NULL, &ignored);
}

/* ---- checks against the data set ---- */

int train_check_data(const train_config *cfg, const dataset *ds, error *err) {
  if (ds->train.rows < 2) return ERR_USAGE(err, "the training split of %s has %zu rows", ds->name, ds->train.rows);
  if (ds->val.rows < 1) return ERR_USAGE(err, "the validation split of %s is empty (raise --val-fraction)", ds->name);
  if ((size_t)cfg->batch_size > ds->train.rows)
    return ERR_USAGE(err, "--batch-size %ld%s is larger than the training split of %s (%zu rows)", cfg->batch_size,
                     cfg->given[TOPT_BATCH_SIZE] ? "" : " (the default)", ds->name, ds->train.rows);
  return 0;
}

static int check_model_data(const trainer *t, error *err) {
  const model_spec *m = t->model;
  if (m->input_width != t->ds->n_features)
    return ERR_USAGE(err, "%s: the model's input width is %d but the dataset has %d features", m->origin,
                     m->input_width, t->ds->n_features);
  if (model_check_classes(m, t->ds->n_classes, err)) return -1;
  if (train_check_data(t->cfg, t->ds, err)) return -1;
  bool has_bn = false;
  for (int i = 0; i < m->n_layers; i++) has_bn |= m->layers[i].kind == LAYER_BATCHNORM;
  if (has_bn && t->cfg->batch_size < 2)
    return ERR_USAGE(err, "--batch-size 1 with batchnorm layers: batch statistics need at least 2 samples");
  return 0;
}

static int parse_signal_hook(trainer *t, error *err) {
  const char *hook = getenv("CLTRAIN_TEST_SIGNAL_AT_STEP");
  if (!hook || !*hook) return 0;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", hook);
  char *colon = strchr(buf, ':');
  t->signal_kind = SIGINT;
  long step;
  bool ok = true;
  if (colon) {
    *colon = '\0';
    if (strcmp(colon + 1, "TERM") == 0) t->signal_kind = SIGTERM;
    else if (strcmp(colon + 1, "KILL") == 0) t->signal_kind = SIGKILL; /* a crash: nothing saved */
    else ok = strcmp(colon + 1, "INT") == 0;
  }
  if (!ok || !parse_long(buf, 1, 1L << 62, &step))
    return ERR_USAGE(err, "CLTRAIN_TEST_SIGNAL_AT_STEP: '%s' is not N[:INT|:TERM|:KILL]", hook);
  t->signal_at_step = (uint64_t)step;
  return 0;
}

/* ---- the start of a run ---- */

static void setup_batches(trainer *t) {
  size_t n = t->ds->train.rows;
  t->batch = t->cfg->batch_size < (long)n ? (int)t->cfg->batch_size : (int)n;
  size_t full = n / (size_t)t->batch, rest = n % (size_t)t->batch;
  /* A last batch of one sample is dropped: batch-norm statistics need two. */
  t->steps_per_epoch = full + (rest >= 2 ? 1 : 0);
  t->epoch_samples = full * (size_t)t->batch + (rest >= 2 ? rest : 0);
  t->perm = xmalloc(n * sizeof(uint32_t));
  t->perm_buf = rt_alloc(t->rt, n * sizeof(uint32_t));
}

/* Largest batch the net must hold: training batches and evaluation batches. */
static int max_batch_of(const trainer *t) {
  size_t m = t->ds->train.rows;
  if (t->ds->val.rows > m) m = t->ds->val.rows;
  if (t->ds->test.rows > m) m = t->ds->test.rows;
  return (size_t)t->cfg->batch_size < m ? (int)t->cfg->batch_size : (int)m;
}

/* Build and run once every program the run will use, before any clock starts: the
   training step at the full and the last batch size, and evaluation at the batch sizes
   of the validation and test splits (net_warm_up restores the state; docs/ARCHITECTURE.md). */
static int warm_up(trainer *t, error *err) {
  optim_config opt;
  optim_config_default(&opt, t->cfg->optimizer, (float)t->cfg->learning_rate,
                       (float)train_config_weight_decay(t->cfg));
  const size_t rest = t->ds->train.rows % (size_t)t->batch;
  const int train_batches[2] = {t->batch, rest >= 2 ? (int)rest : 0};
  if (net_warm_up(t->net, t->dev.train.x, t->dev.train.y, t->dev.train.rows, train_batches, 2, NULL, 0, &opt, err))
    return -1;
  const device_split *splits[2] = {&t->dev.val, &t->dev.test};
  for (int i = 0; i < 2; i++) {
    const size_t rows = splits[i]->rows, eb = (size_t)t->eval_batch;
    const int eval_batches[2] = {(int)(rows < eb ? rows : eb), (int)(rows % eb)};
    if (net_warm_up(t->net, splits[i]->x, splits[i]->y, rows, NULL, 0, eval_batches, 2, &opt, err)) return -1;
  }
  return 0;
}

static int restore_weights(trainer *t, const checkpoint *c, bool with_optimizer, error *err) {
  float *optim = NULL;
  if (with_optimizer) {
    /* Older SGD checkpoints hold 2P floats (the momentum buffer, then unused space). */
    if (c->n_optim < net_optim_count(t->net) ||
        (c->n_optim > net_optim_count(t->net) && c->n_optim != 2 * net_param_count(t->net)))
      return ERR_USAGE(err, "checkpoint holds %zu optimizer values, the net needs %zu", c->n_optim,
                       net_optim_count(t->net));
    optim = c->optim;
  } else {
    optim = xcalloc(net_optim_count(t->net) + 1, sizeof(float));
  }
  int rc = net_write_state(t->net, c->params, c->stats, optim, err);
  if (!with_optimizer) free(optim);
  return rc;
}

/* A class with no row in a split makes that split's accuracy say nothing about the class
   (e.g. 8 rows, a validation split of one class): warn, also under --quiet. */
static void warn_absent_classes(const dataset *ds) {
  const data_split *s[3] = {&ds->train, &ds->val, &ds->test};
  static const char *const names[3] = {"training", "validation", "test"};
  for (int i = 0; i < 3; i++) {
    size_t count[JSC_N_CLASSES] = {0};
    for (size_t r = 0; r < s[i]->rows; r++)
      if (s[i]->y[r] >= 0 && s[i]->y[r] < JSC_N_CLASSES) count[s[i]->y[r]]++;
    char missing[64] = "";
    size_t used = 0;
    for (int k = 0; k < JSC_N_CLASSES && s[i]->rows; k++)
      if (!count[k]) used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", jsc_class_names[k]);
    if (missing[0])
      warnf("the %s split of %s (%zu rows) has no row of class %s", names[i], ds->name, s[i]->rows, missing);
  }
}

static void print_intro(trainer *t) {
  if (!t->writer) return;
  warn_absent_classes(t->ds);
  if (t->cfg->quiet) return;
  train_config_print_table(stdout, t->cfg, t->rt->info.name);
  printf("\n");
  model_print_header(stdout, t->model);
  model_print_layers(stdout, t->model);
  printf("\ndata %s: %zu train, %zu validation, %zu test rows; %llu steps of %d per epoch\n", t->ds->name,
         t->ds->train.rows, t->ds->val.rows, t->ds->test.rows, (unsigned long long)t->steps_per_epoch, t->batch);
  if (t->ranks > 1) {
    const size_t b = (size_t)t->batch, n = (size_t)t->ranks;
    printf("data-parallel over %d MPI ranks: each takes %zu%s rows of a batch; gradients and batch-norm statistics "
           "are summed over the ranks\n",
           t->ranks, b / n, b % n ? " or one more" : "");
  }
  printf("run directory %s%s\n\n", t->log.dir, t->cfg->resume[0] ? " (resumed)" : "");
  fflush(stdout);
}

/* --resume from anything but the newest checkpoint would cut the logs back: refuse. Only
   a --resume of best.ckpt (or a copy) reads last.ckpt to compare. */
static int check_newest(const char *resume, const checkpoint *ck, const char *dir, error *err) {
  char last[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  run_path(last, sizeof last, dir, "last.ckpt");
  const char *base = strrchr(resume, '/');
  if (strcmp(base ? base + 1 : resume, "last.ckpt") == 0) return 0;
  checkpoint newest;
  if (checkpoint_read(last, &newest, msg, sizeof msg)) return 0;
  uint64_t step = newest.progress.step;
  checkpoint_free(&newest);
  if (step > ck->progress.step)
    return ERR_USAGE(err,
                     "--resume: %s (step %llu) is newer than %s (step %llu); resuming from an older checkpoint "
                     "would drop logged rows (use --load for a new run from it)",
                     last, (unsigned long long)step, resume, (unsigned long long)ck->progress.step);
  return 0;
}

static int start_fresh(trainer *t, const checkpoint *loaded, error *err) {
  char msg[RUN_PATH_MAX + 256];
  if (loaded && restore_weights(t, loaded, false, err)) return -1;
  memset(&t->st, 0, sizeof t->st);
  t->st.best_val_acc = -1;
  t->st.best_val_loss = INFINITY;
  t->st.last_train_loss = t->st.last_train_acc = t->st.last_val_loss = t->st.last_val_acc = NAN;
  t->st.seed = t->cfg->seed;
  rng_seed(&t->st.shuffle_rng, t->cfg->seed, SHUFFLE_STREAM);
  /* The directory's stem: --name, else <model>_<dataset> with the data file's name
     without its folder and extension. */
  char data_name[128];
  run_short_name(t->cfg->dataset, false, data_name, sizeof data_name);
  if (t->writer && run_log_create(&t->log, t->cfg->project_dir, t->cfg->name[0] ? t->cfg->name : t->model->name,
                     t->cfg->name[0] ? NULL : data_name, msg, sizeof msg))
    return ERR_USAGE(err, "%s", msg);
  return 0;
}

static int start_resumed(trainer *t, const checkpoint *ck, error *err) {
  char dir[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  const char *resume = t->cfg->resume;
  path_dirname(dir, sizeof dir, resume);
  if (check_newest(resume, ck, dir, err)) return -1;
  if (strcmp(ck->dataset_name, t->ds->name) != 0)
    return ERR_USAGE(err, "--resume: %s was trained on '%s', not '%s'", resume, ck->dataset_name, t->ds->name);
  if (ck->progress.seed != t->cfg->seed || ck->progress.epoch_count > t->ds->train.rows)
    return ERR_USAGE(err, "--resume: %s does not match its stored configuration", resume);
  if (restore_weights(t, ck, true, err)) return -1;
  t->st = ck->progress;
  t->have_last = true;
  t->saved_step = t->st.step;
  if (!t->writer) {
    snprintf(t->log.dir, sizeof t->log.dir, "%s", dir);
    return 0;
  }
  if (run_log_resume(&t->log, dir, t->st.step, t->st.epoch, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  return 0;
}

/* The part of the start every rank does alone: data on the device, the net compiled and
   warmed up. */
static int start_local(trainer *t, error *err) {
  const train_config *cfg = t->cfg;
  if (parse_signal_hook(t, err) || check_model_data(t, err)) return -1;
  device_data_upload(t->rt, t->ds, &t->dev);
  setup_batches(t);
  t->eval_batch = max_batch_of(t);
  t->epoch_s_seen = xcalloc((size_t)cfg->max_epochs + 1, sizeof *t->epoch_s_seen);
  t->rate_seen = xcalloc((size_t)cfg->max_epochs + 1, sizeof *t->rate_seen);
  if (trainer_dp_check(t, err)) return -1;
  const bool say = !cfg->quiet && t->writer;
  if (say) {
    printf("compiling kernels for %s ...", t->rt->info.name);
    fflush(stdout);
  }
  double compile_start = now_seconds();
  t->net = net_create(t->rt, t->model, t->eval_batch, cfg->seed, cfg->gemm, err);
  /* data-parallel steps go stage by stage (the synchronised batch norm, net_shard.c) */
  if (!t->net || net_use_optimizer(t->net, cfg->optimizer, err) ||
      net_use_whole(t->net, t->ranks > 1 ? NET_WHOLE_OFF : cfg->whole_net, err) || warm_up(t, err))
    return -1;
  t->compile_seconds = now_seconds() - compile_start;
  /* Outside compile_s and every training clock (a few ms): what one launch costs on this
     device, the floor under a tiny model's step time (README "cltrain compare"). */
  return launch_probe_us(t->rt, &t->launch_us, err);
}

/* config.txt and the first summary (the writer's). */
static int write_start(trainer *t, train_result *out, error *err) {
  const train_config *cfg = t->cfg;
  char path[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, t->log.dir, "config.txt");
  if (train_config_write_table(path, cfg, t->rt->info.name, msg, sizeof msg)) return ERR_RUNTIME(err, "%s", msg);
  /* A resumed run said "finished" (or "interrupted") until now: a crash in this session
     must not leave that behind. */
  trainer_fill_result(t, TRAIN_FINISHED, out);
  return trainer_write_summary(t, out, "running", NULL, err);
}

/* Everything up to the first step; the run directory exists once it returns 0. In a
   data-parallel run the ranks agree after each part, so that a failure on one rank ends
   every rank with its message (rank 0 prints it) instead of leaving them waiting. */
static int start(trainer *t, train_run *run, train_result *out, error *err) {
  const train_config *cfg = t->cfg;
  const bool say = !cfg->quiet && t->writer; /* after "compiling kernels ..." */
  int rc = trainer_agree(t, start_local(t, err), err);
  double dp_start = now_seconds();
  if (rc == 0) rc = trainer_dp_start(t, err); /* the data-parallel step's warm-up */
  if (rc != 0) {
    if (say) printf("\n");
    return -1;
  }
  t->compile_seconds += now_seconds() - dp_start;
  if (say) printf(" %.1f s\n", t->compile_seconds);
  rc = cfg->resume[0] ? start_resumed(t, &run->ckpt, err) : start_fresh(t, run->have_ckpt ? &run->ckpt : NULL, err);
  if (trainer_agree(t, rc, err)) return -1;
  /* the run directory rank 0 made, on every rank (results, messages) */
  if (t->ranks > 1 && dist_bcast_string(t->log.dir, sizeof t->log.dir, err)) return -1;
  /* The weights are on the device: the checkpoint's arrays are not needed any more. */
  return trainer_agree(t, t->writer ? write_start(t, out, err) : 0, err);
}

static void print_outcome(const train_config *cfg, const train_result *out) {
  printf("%srun %s: %s after %llu epoch%s (%llu step%s)", cfg->quiet ? "" : "\n", out->run_dir,
         train_status_name(out->status), (unsigned long long)out->epochs_run, out->epochs_run == 1 ? "" : "s",
         (unsigned long long)out->steps, out->steps == 1 ? "" : "s");
  if (out->epochs_run > 0)
    printf(": val_acc %.4f, best %.4f (epoch %llu)", out->final_val_acc, out->best_val_acc,
           (unsigned long long)out->best_epoch);
  if (out->have_test) printf(", test_acc %.4f", out->test_acc);
  printf("; %.1f s training, %.0f samples/s\n", out->train_seconds, out->samples_per_s);
  fflush(stdout);
}

int train_execute(train_run *run, const dataset *ds, train_result *out, error *err) {
  double call_start = now_seconds();
  memset(out, 0, sizeof *out);
  trainer t;
  memset(&t, 0, sizeof t);
  t.cfg = &run->cfg;
  t.ds = ds;
  t.rt = &run->rt;
  t.model = &run->model;
  t.log.lock_fd = -1; /* no run directory yet: run_log_close must not close fd 0 */
  t.launch_us = t.launches_per_step = NAN; /* until measured */
  t.ranks = 1;
  t.writer = true;
  if (run->cfg.data_parallel > 1) {
    dist_info d;
    dist_get(&d);
    t.rank = d.rank;
    t.ranks = d.size;
    t.writer = d.rank == 0;
  }
  int rc = start(&t, run, out, err);
  if (rc == 0) {
    print_intro(&t);
    progress_init(&t.prog, stdout, t.cfg->quiet || !t.writer, t.cfg->no_progress);
    interrupt_install();
    /* The loop answers a signal at the next step; a step stuck in one long driver call
       (a compile the warm-up did not cover: CLBlast's first GEMM with new parameters
       takes half a minute cold) is ended by the watchdog. */
    stuck_run stuck = {&t, out};
    interrupt_watchdog dog;
    bool watched = interrupt_watchdog_start(&dog, STUCK_GRACE_S, mark_stuck_run, &stuck) == 0;
    rc = trainer_loop(&t, out, err);
    if (watched) interrupt_watchdog_stop(&dog);
    interrupt_uninstall();
  }
  out->wall_seconds = now_seconds() - call_start;
  if (rc >= 0) {
    if (t.writer) print_outcome(t.cfg, out);
  } else if (t.writer && t.log.metrics && t.log.epochs) {
    /* The run directory exists: it says what became of the run. */
    progress_clear(&t.prog);
    trainer_fill_result(&t, out->status, out);
    error ignored = {0};
    trainer_write_summary(&t, out, "failed", err->msg, &ignored);
  }
  run_log_close(&t.log);
  free(t.perm);
  free(t.epoch_s_seen);
  free(t.rate_seen);
  rt_release(&t.perm_buf);
  if (t.net) net_free(t.net);
  device_data_free(&t.dev);
  return rc;
}

int train_run_with_data(const train_config *cfg, const dataset *ds, train_result *out, error *err) {
  memset(out, 0, sizeof *out);
  train_run run;
  if (train_open(&run, cfg, NULL, err)) return -1;
  int rc = train_execute(&run, ds, out, err);
  train_close(&run);
  return rc;
}

/* Whether every rank of a data-parallel run succeeded (RC on this one): dist_agree, or RC
   for one process. */
static int agree_cfg(const train_config *cfg, int rc, error *err) {
  return cfg->data_parallel > 1 ? dist_agree(rc, err) : rc;
}

int train_run_all(const train_config *cfg_in, train_result *out, error *err) {
  memset(out, 0, sizeof *out);
  train_run run;
  int orc = train_open(&run, cfg_in, NULL, err);
  if (agree_cfg(cfg_in, orc, err)) {
    if (orc == 0) train_close(&run);
    return -1;
  }
  const train_config *cfg = &run.cfg;
  data_options opt;
  train_data_options(cfg, &opt);
  dataset ds;
  dist_info d;
  dist_get(&d);
  if (!cfg->quiet && (cfg->data_parallel < 2 || d.rank == 0)) {
    printf("loading %s ...\n", cfg->dataset);
    fflush(stdout);
  }
  char msg[2048];
  int rc = -1;
  int lrc = dataset_load(cfg->dataset, &opt, &ds, msg, sizeof msg);
  if (lrc) ERR_USAGE(err, "%s", msg);
  if (agree_cfg(cfg, lrc ? -1 : 0, err) == 0) rc = train_execute(&run, &ds, out, err);
  if (!lrc) dataset_free(&ds);
  train_close(&run);
  return rc;
}
