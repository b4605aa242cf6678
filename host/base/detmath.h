/* Deterministic elementary functions for the synthetic data set: built only from IEEE
   double +, -, *, /, sqrt and exact binary scaling (frexp/ldexp), so jsc-synth is
   bit-identical on every machine and C library (libm's exp/log may differ in the last
   bit between platforms). Relative error below 1e-14, plenty for a data generator. */
#ifndef CLTRAIN_DETMATH_H
#define CLTRAIN_DETMATH_H

#include <stdbool.h>

#include "base/rng.h"

double det_log(double x);  /* x > 0 */
double det_exp(double x);  /* |x| < 700 */
double det_pow(double x, double p); /* x > 0 */

/* Standard normal variates by Marsaglia's polar method on an xoshiro stream. */
typedef struct {
  rng_state rng;
  double spare;
  bool has_spare;
} det_normal_gen;

void det_normal_init(det_normal_gen *g, uint64_t seed, uint64_t stream);
double det_normal(det_normal_gen *g);
double det_uniform(det_normal_gen *g); /* [0, 1), the same stream */

#endif
