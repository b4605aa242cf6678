#include "base/detmath.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const double LN2 = 0.69314718055994530942;

/* Exact binary scaling by bit manipulation (cheaper than frexp/ldexp calls). */
static inline double pow2i(int n) { /* 2^n for -1022 <= n <= 1023 */
  uint64_t bits = (uint64_t)(n + 1023) << 52;
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

double det_log(double x) {
  /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1).
     |s| <= 0.1716: the series to s^17 leaves a relative error below 1e-15. */
  int e = 0;
  if (x < DBL_MIN) { /* subnormal: scale into the normal range first */
    x *= 18014398509481984.0; /* 2^54 */
    e = -54;
  }
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  e += (int)((bits >> 52) & 0x7ff) - 1022;
  bits = (bits & 0x800fffffffffffffull) | 0x3fe0000000000000ull;
  double m;
  memcpy(&m, &bits, sizeof m); /* x = m 2^e, m in [0.5, 1) */
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double p = 1.0 / 17;
  p = 1.0 / 15 + s2 * p;
  p = 1.0 / 13 + s2 * p;
  p = 1.0 / 11 + s2 * p;
  p = 1.0 / 9 + s2 * p;
  p = 1.0 / 7 + s2 * p;
  p = 1.0 / 5 + s2 * p;
  p = 1.0 / 3 + s2 * p;
  p = 1.0 + s2 * p;
  return 2.0 * s * p + (double)e * LN2;
}

double det_exp(double x) {
  /* x = n ln2 + r with |r| <= ln2/2; exp(r) by its Taylor polynomial of degree 12
     (relative error below 1e-14), evaluated as two interleaved halves for speed. */
  double n = floor(x * (1.0 / LN2) + 0.5);
  double r = x - n * LN2, r2 = r * r;
  double even = 1.0 / 479001600;                 /* 1/12! */
  double odd = 1.0 / 39916800;                   /* 1/11! */
  even = 1.0 / 3628800 + r2 * even;              /* 1/10! */
  odd = 1.0 / 362880 + r2 * odd;                 /* 1/9! */
  even = 1.0 / 40320 + r2 * even;
  odd = 1.0 / 5040 + r2 * odd;
  even = 1.0 / 720 + r2 * even;
  odd = 1.0 / 120 + r2 * odd;
  even = 1.0 / 24 + r2 * even;
  odd = 1.0 / 6 + r2 * odd;
  even = 0.5 + r2 * even;
  odd = 1.0 + r2 * odd;
  even = 1.0 + r2 * even;
  int k = (int)n;
  double v = even + r * odd;
  /* Apply 2^k in two steps so that k near the ends of the range stays representable. */
  return v * pow2i(k / 2) * pow2i(k - k / 2);
}

double det_pow(double x, double p) { return det_exp(p * det_log(x)); }

void det_normal_init(det_normal_gen *g, uint64_t seed, uint64_t stream) {
  rng_seed(&g->rng, seed, stream);
  g->has_spare = false;
  g->spare = 0;
}

double det_uniform(det_normal_gen *g) { return rng_uniform(&g->rng); }

double det_normal(det_normal_gen *g) {
  if (g->has_spare) {
    g->has_spare = false;
    return g->spare;
  }
  double u, v, s;
  do {
    u = 2.0 * rng_uniform(&g->rng) - 1.0;
    v = 2.0 * rng_uniform(&g->rng) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = sqrt(-2.0 * det_log(s) / s);
  g->spare = v * f;
  g->has_spare = true;
  return u * f;
}
