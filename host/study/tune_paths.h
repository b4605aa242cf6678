/* `cltrain tune`'s second half: for each Linear stage of the models at each batch size,
   time the stage on CLBlast and on the fused kernels (ops/ops_fused.h) and keep the faster
   (cl/gemm_choice.h), which `--gemm auto` then uses on this device.

   A stage is timed as a training step runs it: a probe net of the layer's input width with
   a BatchNorm before the Linear (so the stage computes its input gradient, as every Linear
   of the zoo does) and the Linear's own epilogue after it (activation, dropout, or the
   BatchNorm that takes its bias), forward in training mode + loss + backward. The two
   probes differ only in the Linear stage's path, so the faster probe has the faster stage;
   the times are the probes', for the record. Interleaved rounds, best of each. */
#ifndef CLTRAIN_TUNE_PATHS_H
#define CLTRAIN_TUNE_PATHS_H

#include <stddef.h>

#include "cl/gemm_choice.h"
#include "cl/runtime.h"
#include "model/model.h"

/* Time the stage of model M's Linear layer LAYER at BATCH rows on both paths (REPS probe
   steps per path and round, ROUNDS interleaved rounds), running on RT with the CLBlast
   parameters it has now; fill out (in, out, batch, the two times, the faster path). The
   layer must have a fused form (ops_fused.h fused_linear_fits). 0, or -1 with err. */
int tune_path_measure(cl_runtime *rt, const model_spec *m, int layer, int batch, int reps, int rounds,
                      gemm_choice *out, error *err);

#endif
