/* Deterministic random numbers, identical on every machine.
   - rng_*: xoshiro256** seeded through splitmix64, for host-side work (init, shuffles,
     splits, the synthetic data set).
   - philox4x32: the counter-based generator the dropout kernel uses; this C copy is the
     reference the tests compare the kernel with. */
#ifndef CLTRAIN_RNG_H
#define CLTRAIN_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t s[4];
} rng_state;

/* Seed from a 64-bit seed and a stream id, so independent uses of one user seed
   (init, shuffle, split, synth) do not share a sequence. */
void rng_seed(rng_state *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(rng_state *r);
double rng_uniform(rng_state *r);                 /* [0, 1) with 53 bits */
float rng_uniform_range(rng_state *r, float lo, float hi);
double rng_normal(rng_state *r);                  /* standard normal (Box-Muller) */
uint64_t rng_below(rng_state *r, uint64_t n);     /* uniform in [0, n), unbiased */
void rng_permutation(rng_state *r, uint32_t *perm, uint32_t n); /* Fisher-Yates of 0..n-1 */

uint64_t splitmix64(uint64_t *x);

/* Philox4x32-10: counter ctr[4], key key[2] -> out[4]. */
void philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

#endif
