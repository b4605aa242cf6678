/* Stored CLBlast tuning per device. `cltrain tune` measures kernel parameter sets for
   the GEMM shapes of the models, and per Linear shape whether CLBlast or the fused kernels
   run its stage faster (gemm_choice.h), and writes the winners to a small text file keyed
   by the device name, platform and driver version (docs/FORMATS.md "Tuning files"); a run that wants it applies it explicitly
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
/* GemmRoutine's XGEMM_MIN_INDIRECT_SIZE that keeps every shape on the direct kernel, and
   the largest value a tuning file may hold. */
#define TUNING_NEVER_INDIRECT (1 << 20)

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
  gemm_choices choices;                    /* the GEMM path per Linear shape (format 2 on) */
} tuning;

/* Where the tuning file of this device lives: $CLTRAIN_TUNING_DIR, else
   $XDG_CACHE_HOME/cltrain/tuning, else ~/.cache/cltrain/tuning. */
void tuning_path(const device_info *d, char *out, size_t n);

int tuning_save(const char *path, const tuning *t, char *err, size_t errlen);
/* 0 ok; -1 with err (one line naming the file and the fault) for unreadable or corrupt
   files. Format 1 files (before the GEMM path choices) load with no choices. */
int tuning_load(const char *path, tuning *t, char *err, size_t errlen);
/* Apply T's parameter sets to the device; -1 with err when CLBlast refuses one. */
int tuning_apply(cl_runtime *rt, const tuning *t, char *err, size_t errlen);

/* Load and apply this device's stored tuning if there is one; sets rt->tuned and
   rt->gemm_paths and returns rt->tuned. Missing, or the environment variable CLTRAIN_NO_TUNING set (and not "0"): nothing
   happens, CLBlast's defaults stay. Stale or corrupt: a warning on stderr and the CLBlast
   defaults (a run never fails for want of a tuning). */
bool tuning_apply_stored(cl_runtime *rt);

#endif
