/* Stored CLBlast tuning per device. `cltrain tune` measures kernel parameter sets for
   the GEMM shapes of the models and writes the winner to a small text file keyed by the
   device name, platform and driver version; a run that wants it applies it explicitly
   (tuning_apply_stored, right after rt_open, before its first GEMM); cltrain tune itself
   does not, so it measures from CLBlast's defaults. A file for another driver version
   (stale) or with a bad checksum (corrupt) is ignored with a warning. */
#ifndef CLTRAIN_TUNING_H
#define CLTRAIN_TUNING_H

#include <stdbool.h>
#include <stddef.h>

#include "cl/runtime.h"

#define TUNING_MAX_PARAMS 12
#define TUNING_MAX_SETS 4

typedef struct {
  char kernel[32];                         /* CLBlast kernel name, e.g. "XgemmDirect" */
  int n;
  char names[TUNING_MAX_PARAMS][32];
  size_t values[TUNING_MAX_PARAMS];
} tuning_set;

typedef struct {
  char device[256], platform[256], driver[128];
  tuning_set sets[TUNING_MAX_SETS];
  int n_sets;
  double tuned_us, default_us;             /* measured time of the shape mix, for the record */
} tuning;

/* Where the tuning file of this device lives: $CLTRAIN_TUNING_DIR, else
   $XDG_CACHE_HOME/cltrain/tuning, else ~/.cache/cltrain/tuning. */
void tuning_path(const device_info *d, char *out, size_t n);

int tuning_save(const char *path, const tuning *t, char *err, size_t errlen);
/* 0 ok; -1 with err for unreadable or corrupt files. */
int tuning_load(const char *path, tuning *t, char *err, size_t errlen);
/* Apply T's parameter sets to the device; -1 with err when CLBlast refuses one. */
int tuning_apply(cl_runtime *rt, const tuning *t, char *err, size_t errlen);

/* Load and apply this device's stored tuning if there is one; sets rt->tuned and returns
   it. Missing, or the environment variable CLTRAIN_NO_TUNING set (and not "0"): nothing
   happens, CLBlast's defaults stay. Stale or corrupt: a warning on stderr and the CLBlast
   defaults (a run never fails for want of a tuning). */
bool tuning_apply_stored(cl_runtime *rt);

#endif
