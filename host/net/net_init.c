/* PyTorch's default initialisation, from the host RNG so every device starts alike:
   Linear weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)
   gives exactly this bound), BatchNorm gamma 1, beta 0, running mean 0, running var 1. */
#include <math.h>

#include "net/net_internal.h"
#include "base/rng.h"

/* Stream id of parameter initialisation, distinct from shuffling, splits and synthesis. */
#define RNG_STREAM_INIT 0x696e6974ull /* "init" */

void net_init_params(const model_spec *m, uint64_t seed, float *params, float *stats) {
  rng_state r;
  rng_seed(&r, seed, RNG_STREAM_INIT);
  for (int i = 0; i < m->n_layers; i++) {
    const layer_spec *L = &m->layers[i];
    float *p = params + L->param_offset;
    if (L->kind == LAYER_LINEAR) {
      const float bound = (float)(1.0 / sqrt((double)L->in));
      for (size_t j = 0; j < L->n_params; j++) p[j] = rng_uniform_range(&r, -bound, bound);
    } else if (L->kind == LAYER_BATCHNORM) {
      for (int c = 0; c < L->out; c++) {
        p[c] = 1.0f;
        p[L->out + c] = 0.0f;
        stats[L->stats_offset + (size_t)c] = 0.0f;
        stats[L->stats_offset + (size_t)L->out + (size_t)c] = 1.0f;
      }
    }
  }
}
