/* summary.json of a run (README.md "cltrain train"; keys in docs/FORMATS.md). Written with one "key": value pair per line so
   `cltrain test` can fill in the test results without a JSON library. Unknown values are
   null. */
#ifndef CLTRAIN_RUN_SUMMARY_H
#define CLTRAIN_RUN_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  char model[128];
  char dataset[128];
  size_t params;
  char device[256];
  const char *status;         /* "running", "finished", "early-stopped", "interrupted", "diverged",
                                 "failed" */
  const char *error;          /* "failed": the one-line error (else NULL: null) */
  uint64_t epochs_run, max_epochs, steps;
  long batch_size;
  double learning_rate;
  const char *optimizer;
  uint64_t seed;
  double best_val_acc;        /* < 0: unknown */
  uint64_t best_epoch;        /* 1-based, as the console (epochs.csv counts from 0) */
  double final_train_loss, final_train_acc, final_val_loss, final_val_acc; /* NaN: unknown */
  bool have_test;
  double test_loss, test_acc;
  char test_checkpoint[64];   /* base name of the evaluated checkpoint */
  double train_seconds, samples_per_s;
  double compile_seconds;     /* kernel/GEMM compilation of the last session, outside train_seconds */
  double launch_us;           /* the device's cost of one kernel launch (launch_probe.h); NaN: unknown */
  const char *step_kernel;    /* "whole" (the whole-network kernel), "stages", or NULL: unknown */
} run_summary;

/* Write PATH atomically. 0 or -1 with err. */
int run_summary_write(const char *path, const run_summary *s, char *err, size_t errlen);
/* Set test_loss, test_acc and test_checkpoint in an existing summary.json. */
int run_summary_set_test(const char *path, double loss, double acc, const char *checkpoint_name, char *err,
                         size_t errlen);

#endif
