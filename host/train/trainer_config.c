/* The pieces of the trainer that only look at the configuration: data options, the
   learning-rate schedule, and the configuration of a resumed run. */
#include <math.h>
#include <string.h>

#include "train/checkpoint.h"
#include "train/trainer.h"
#include "base/util.h"

void train_data_options(const train_config *cfg, data_options *opt) {
  data_options_default(opt);
  opt->val_fraction = cfg->val_fraction;
  opt->synth_size = (size_t)cfg->synth_size;
  opt->data_path = cfg->data_path[0] ? cfg->data_path : NULL;
  opt->split_seed = cfg->split_seed;
  opt->synth_seed = cfg->synth_seed;
  opt->use_cache = !cfg->no_cache;
  opt->synth_given = cfg->given[TOPT_SYNTH_SIZE] || cfg->given[TOPT_SYNTH_SEED];
  opt->split_given = cfg->given[TOPT_VAL_FRACTION] || cfg->given[TOPT_SPLIT_SEED];
}

/* MASE: CosineAnnealingLR(T_max = max_epochs, eta_min = 1e-6), stepped once per epoch. */
double train_epoch_lr(const train_config *cfg, uint64_t epoch) {
  if (cfg->scheduler == SCHED_NONE) return cfg->learning_rate;
  const double eta_min = 1e-6, pi = 3.14159265358979323846;
  return eta_min + (cfg->learning_rate - eta_min) * (1.0 + cos(pi * (double)epoch / (double)cfg->max_epochs)) / 2.0;
}

/* Options of a run that --resume must not change: the data, and what the position in an
   unfinished epoch or the optimizer state depend on. */
static bool fixed_on_resume(int opt) {
  return opt == TOPT_DATASET || opt == TOPT_DATA || opt == TOPT_VAL_FRACTION || opt == TOPT_SYNTH_SIZE ||
         opt == TOPT_SPLIT_SEED || opt == TOPT_SYNTH_SEED ||
         opt == TOPT_BATCH_SIZE || opt == TOPT_SEED || opt == TOPT_OPTIMIZER;
}

/* Options that change the numbers of the continued run (allowed, with a warning). */
static bool changes_result(int opt) {
  return opt == TOPT_MAX_EPOCHS || opt == TOPT_LEARNING_RATE || opt == TOPT_WEIGHT_DECAY ||
         opt == TOPT_SCHEDULER || opt == TOPT_EARLY_STOPPING || opt == TOPT_GEMM || opt == TOPT_WHOLE_NET ||
         opt == TOPT_MONITOR;
}

int train_resolve_resume(const train_config *cli, const checkpoint *ck, train_config *eff, error *err) {
  char msg[2048];
  train_config_default(eff);
  if (train_config_from_text(eff, ck->config_text, msg, sizeof msg))
    return ERR_USAGE(err, "checkpoint %s: %s", cli->resume, msg);
  /* A run from before the whole-network kernel trained stage by stage: it continues so. */
  if (!strstr(ck->config_text, "\nwhole-net=")) eff->whole_net = NET_WHOLE_OFF;
  /* Data-parallel runs continue over as many ranks as they started with: the rows of each
     batch, and so the sums, are split by the rank count (README "Clusters"). */
  const int stored_ranks = eff->data_parallel > 1 ? eff->data_parallel : 1;
  const int ranks = cli->data_parallel > 1 ? cli->data_parallel : 1;
  if (stored_ranks > 1 && stored_ranks != ranks)
    return ERR_USAGE(err, "--resume: %s was trained data-parallel over %d ranks; this job has %d (resume it with mpirun -n %d)",
                     cli->resume, stored_ranks, ranks, stored_ranks);
  if (stored_ranks == 1 && ranks > 1)
    return ERR_USAGE(err, "--resume: %s was trained in one process; this job has %d ranks (resume it without mpirun)",
                     cli->resume, ranks);
  if (cli->given[TOPT_MODEL]) {
    model_spec m;
    if (model_load(cli->model, &m, err)) return -1;
    int bad = checkpoint_check_model(ck, &m, cli->resume, msg, sizeof msg);
    model_free(&m);
    if (bad) return ERR_USAGE(err, "%s", msg);
  }
  char mine[TRAIN_PATH_MAX + 64], stored[TRAIN_PATH_MAX + 64];
  for (int i = 0; i < TOPT_COUNT; i++) {
    if (i == TOPT_MODEL || i == TOPT_RESUME || !cli->given[i]) continue;
    train_config_value_text(cli, (train_option)i, mine, sizeof mine);
    train_config_value_text(eff, (train_option)i, stored, sizeof stored);
    if (strcmp(mine, stored) == 0) continue;
    if (fixed_on_resume(i) || i == TOPT_LOAD)
      return ERR_USAGE(err, "--resume: the run of %s has %s '%s'; it cannot continue with '%s'", cli->resume,
                       train_option_name((train_option)i), stored, mine);
    if (changes_result(i))
      warnf("--resume with a different --%s (%s, was %s): the run will differ from an uninterrupted one",
            train_option_name((train_option)i), mine, stored);
    if (train_config_set_opt(eff, (train_option)i, mine, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  }
  /* How to show progress is the current command's choice, not the stored run's. */
  eff->quiet = cli->quiet;
  eff->no_progress = cli->no_progress;
  eff->given[TOPT_QUIET] = cli->given[TOPT_QUIET];
  eff->given[TOPT_NO_PROGRESS] = cli->given[TOPT_NO_PROGRESS];
  eff->no_cache = cli->no_cache;
  eff->given[TOPT_NO_CACHE] = cli->given[TOPT_NO_CACHE];
  snprintf(eff->kernels_dir, sizeof eff->kernels_dir, "%s", cli->kernels_dir);
  snprintf(eff->resume, sizeof eff->resume, "%s", cli->resume);
  eff->given[TOPT_RESUME] = true;
  eff->load[0] = '\0';
  eff->given[TOPT_LOAD] = false;
  return 0;
}
