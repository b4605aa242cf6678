/* Finding the run of a sweep point among existing run directories, so that re-running a
   sweep skips what already finished and continues what was interrupted.

   A run directory belongs to a point when its last.ckpt was trained with the same
   configuration: every option that changes what is computed or logged (model, dataset and
   data options, epochs, batch size, learning rate, optimizer, weight decay, scheduler,
   seed, early stopping, log interval) has the same effective value, and the device has
   the same name. Options that only say where or how to show a run do not count. A run
   without last.ckpt stopped before its first epoch ended: nothing in it is worth keeping,
   and it is not matched. */
#ifndef CLTRAIN_SWEEP_RUNS_H
#define CLTRAIN_SWEEP_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "train/checkpoint.h"
#include "train/run_log.h"
#include "train/train_config.h"

typedef struct {
  char dir[RUN_PATH_MAX];
  char status[32];   /* summary.json "status"; "unknown" when it cannot be read */
  uint64_t steps;    /* optimizer steps held by last.ckpt */
  checkpoint ckpt;   /* its last.ckpt, read once: continuing the run takes it over */
} sweep_found;

/* True for the states a run ends in: finished, early-stopped, diverged (re-running a
   diverged run would diverge again: the same seed gives the same numbers). */
bool sweep_status_done(const char *status);

/* Name of the device SPEC selects (NULL/empty: CLTRAIN_DEVICE, else device 0), as run
   directories and checkpoints record it. 0, or -1 with err (unknown device). */
int sweep_device_name(const char *spec, char *name, size_t n, char *err, size_t errlen);

/* True when the configuration stored in a checkpoint (its text) describes the same run as
   CFG: see above. DEVICE_NAME / STORED_DEVICE are the resolved device names; a NULL
   DEVICE_NAME matches any device (a sweep over MPI ranks, whose points move between
   ranks and their devices). */
bool sweep_same_run(const train_config *cfg, const char *device_name, const char *stored_config_text,
                    const char *stored_device);

/* Look in RUNS_DIR for the run of CFG on DEVICE_NAME. Prefers a run that is done, then the
   one furthest along, then the latest name. Returns true and fills OUT (free its
   checkpoint with checkpoint_free unless taken over) when one exists. A missing
   RUNS_DIR holds no runs. */
bool sweep_find_run(const char *runs_dir, const train_config *cfg, const char *device_name, sweep_found *out);

#endif
