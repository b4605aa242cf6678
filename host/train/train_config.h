/* Training configuration: every option of `cltrain train` (README.md "cltrain train") with MASE's
   defaults, strict parsing with getopt_long, the effective-configuration table (name,
   default, override, effective) and a key=value text form stored in checkpoints.
   Every command that takes training options appends train_config_long_options() to its
   own and hands their ids to train_config_getopt(); sweeps vary values with
   train_config_set(). */
#ifndef CLTRAIN_TRAIN_CONFIG_H
#define CLTRAIN_TRAIN_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "net/net.h"
#include "net/net_gemm.h"
#include "ops/optimizer.h"

typedef enum { SCHED_COSINE, SCHED_NONE } sched_kind;

/* Options in table order; also the rows of config.txt. */
typedef enum {
  TOPT_MODEL,             /* positional */
  TOPT_DATASET,           /* positional */
  TOPT_MAX_EPOCHS,
  TOPT_BATCH_SIZE,
  TOPT_LEARNING_RATE,
  TOPT_OPTIMIZER,
  TOPT_WEIGHT_DECAY,
  TOPT_SCHEDULER,
  TOPT_SEED,
  TOPT_EARLY_STOPPING,
  TOPT_MONITOR,
  TOPT_LOG_EVERY,
  TOPT_DEVICE,
  TOPT_GEMM,
  TOPT_WHOLE_NET,
  TOPT_DATA,
  TOPT_VAL_FRACTION,
  TOPT_SYNTH_SIZE,
  TOPT_SPLIT_SEED,
  TOPT_SYNTH_SEED,
  TOPT_NO_CACHE,
  TOPT_PROJECT_DIR,
  TOPT_NAME,
  TOPT_LOAD,
  TOPT_RESUME,
  TOPT_NO_PROGRESS,
  TOPT_QUIET,
  TOPT_KERNELS_DIR,
  TOPT_COUNT
} train_option;

/* getopt_long ids of the training options are TRAIN_OPT_ID_BASE + train_option. */
#define TRAIN_OPT_ID_BASE 1000

#define TRAIN_PATH_MAX 1024

typedef struct {
  char model[TRAIN_PATH_MAX];     /* zoo name or model file path */
  char dataset[TRAIN_PATH_MAX];   /* jsc-synth, jsc, or a .h5/.csv path */
  long max_epochs;
  long batch_size;
  double learning_rate;
  optim_kind optimizer;
  double weight_decay;            /* as given; train_config_weight_decay() is the effective one */
  sched_kind scheduler;
  uint64_t seed;
  long early_stopping;            /* patience in epochs on the monitored value; 0 = off */
  char monitor[16];               /* val_acc or val_loss: best.ckpt and early stopping follow it */
  long log_every_n_steps;
  char device[256];               /* empty: env CLTRAIN_DEVICE, else device 0 */
  net_gemm gemm;                  /* engine of the Linear layers (net_gemm.h) */
  net_whole_mode whole_net;       /* training steps in the whole-network kernel (net.h) */
  char data_path[TRAIN_PATH_MAX]; /* --data */
  double val_fraction;
  long synth_size;
  uint64_t split_seed;            /* train/test and train/val split (42, as the hls4ml split) */
  uint64_t synth_seed;            /* jsc-synth generator */
  bool no_cache;                  /* do not read or write the pre-processed data cache */
  char project_dir[TRAIN_PATH_MAX];
  char name[128];                 /* --name: the run directory's stem instead of <model>_<dataset> */
  char load[TRAIN_PATH_MAX];      /* initial weights from a checkpoint (new run) */
  char resume[TRAIN_PATH_MAX];    /* continue the run this checkpoint belongs to */
  bool no_progress;
  bool quiet;
  char kernels_dir[TRAIN_PATH_MAX];
  bool given[TOPT_COUNT];         /* set explicitly (command line, sweep, or a stored config) */
  int data_parallel;              /* not an option: the MPI ranks a data-parallel `train` splits
                                     its batches over (mpirun -n N); 0 or 1: one process.
                                     Stored in checkpoints ("data-parallel=N") when > 1. */
} train_config;

void train_config_default(train_config *cfg);

/* The option's long name ("batch-size"; "model"/"dataset" for the positionals). */
const char *train_option_name(train_option opt);
/* Look up by long name; -1 when unknown. */
int train_option_find(const char *name);

/* Set option NAME (long name without dashes) from VALUE with the strict checks of the
   command line. Returns 0, or -1 with one line in err. Marks the option as given. */
int train_config_set(train_config *cfg, const char *name, const char *value, char *err, size_t errlen);
int train_config_set_opt(train_config *cfg, train_option opt, const char *value, char *err, size_t errlen);

/* Long options of training, NULL-terminated static array (ids TRAIN_OPT_ID_BASE + opt). */
const struct option *train_config_long_options(void);
size_t train_config_long_options_count(void);
/* True for the getopt ids of training options. */
bool train_config_is_option_id(int id);
/* Apply the training option with getopt id ID (a value with the strict checks of
   train_config_set_opt). 0, or -1 with ERR (EXIT_USAGE naming the option). */
int train_config_getopt(train_config *cfg, int id, const char *arg, error *err);
/* The option help block (shared by train, test, sweep, compare). */
void train_config_print_options_help(FILE *out);

/* Cross-option checks (--load with --resume, ...). 0 or -1 with err. */
int train_config_validate(const train_config *cfg, char *err, size_t errlen);

/* Effective weight decay: sgd uses MASE's 5e-4 unless --weight-decay was given. */
double train_config_weight_decay(const train_config *cfg);
const char *sched_kind_name(sched_kind k);

/* The value of OPT as text (buffer of at least 64 + TRAIN_PATH_MAX bytes). */
void train_config_value_text(const train_config *cfg, train_option opt, char *buf, size_t len);

/* Table of name, default, override, effective. DEVICE_NAME (may be NULL) annotates the
   device row with the resolved device. */
void train_config_print_table(FILE *out, const train_config *cfg, const char *device_name);
int train_config_write_table(const char *path, const train_config *cfg, const char *device_name,
                             char *err, size_t errlen);

/* key=value lines of every option plus "given=NAME,..." (checkpoints); parsing them
   back into a default configuration restores values and given flags. */
char *train_config_to_text(const train_config *cfg);
int train_config_from_text(train_config *cfg, const char *text, char *err, size_t errlen);

#endif
