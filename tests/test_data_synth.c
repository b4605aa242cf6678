/* jsc-synth: deterministic in its seed, exactly balanced, and its statistics inside the
   ranges it was designed for (data/README.md): mass peaks of W, Z and top, soft QCD
   masses, gluons with more particles than quarks, two-prong jets with low d2/n2, the
   energy-correlation identities of the real data, physical scales like the real rows.
   The deterministic math it uses is checked against the C library. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_sources.h"
#include "base/detmath.h"
#include "testutil.h"
#include "base/util.h"

/* fnv1a64 of the features of the first 20000 jets of seed 0. */
#define SYNTH_DIGEST 0x30330c1d57e1e3e0ull

enum { ZLOGZ, C1B0, C1B1, C1B2, C2B1, C2B2, D2B1, D2B2, D2A1B1, D2A1B2, M2B1, M2B2, N2B1, N2B2, MASS, MULT };
enum { G, Q, W, Z, T };

static int cmpf(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Quantile q of feature j over the jets of class k. */
static double quantile(const raw_table *t, int k, int j, double q) {
  float *v = malloc(t->rows * sizeof(float));
  size_t m = 0;
  for (size_t r = 0; r < t->rows; r++)
    if (t->y[r] == k) v[m++] = t->x[r * 16 + j];
  qsort(v, m, sizeof(float), cmpf);
  double out = v[(size_t)(q * (double)(m - 1))];
  free(v);
  return out;
}

static double fraction_in(const raw_table *t, int k, int j, double lo, double hi) {
  size_t in = 0, m = 0;
  for (size_t r = 0; r < t->rows; r++)
    if (t->y[r] == k) {
      m++;
      float v = t->x[r * 16 + j];
      in += v >= lo && v <= hi;
    }
  return (double)in / (double)m;
}

/* Centre of the fullest 4 GeV bin of the class's mass between 40 and 240 GeV. */
static double mass_peak(const raw_table *t, int k) {
  int bins[50] = {0}, best = 0;
  for (size_t r = 0; r < t->rows; r++) {
    float m = t->x[r * 16 + MASS];
    if (t->y[r] == k && m >= 40 && m < 240) bins[(int)((m - 40) / 4)]++;
  }
  for (int b = 1; b < 50; b++)
    if (bins[b] > bins[best]) best = b;
  return 40 + 4 * best + 2;
}

static void test_detmath(void) {
  double worst_exp = 0, worst_log = 0;
  for (int i = -4000; i <= 4000; i++) {
    double x = i * 0.0173;
    worst_exp = fmax(worst_exp, fabs(det_exp(x) - exp(x)) / exp(x));
  }
  for (int i = 1; i <= 20000; i++) {
    double x = i * 0.0137, y = 1.0 / (i * 7.3);
    worst_log = fmax(worst_log, fabs(det_log(x) - log(x)) / fmax(fabs(log(x)), 1e-3));
    worst_log = fmax(worst_log, fabs(det_log(y) - log(y)) / fabs(log(y)));
  }
  CHECK(worst_exp < 1e-14, "det_exp relative error %g (tolerance 1e-14)", worst_exp);
  CHECK(worst_log < 1e-14, "det_log relative error %g (tolerance 1e-14)", worst_log);
  CHECK(fabs(det_log(4.9e-320) - log(4.9e-320)) < 1e-12, "det_log of a subnormal");
  CHECK(fabs(det_pow(2.0, 0.5) - sqrt(2.0)) < 1e-15, "det_pow");
  /* The normal generator: mean 0, variance 1, tails as a Gaussian (200k draws). */
  det_normal_gen g;
  det_normal_init(&g, 3, 4);
  double s = 0, s2 = 0, beyond2 = 0;
  int n = 200000;
  for (int i = 0; i < n; i++) {
    double v = det_normal(&g);
    s += v;
    s2 += v * v;
    beyond2 += fabs(v) > 2;
  }
  CHECK(fabs(s / n) < 0.01 && fabs(s2 / n - 1) < 0.015, "normal mean %g var %g", s / n, s2 / n);
  CHECK(fabs(beyond2 / n - 0.0455) < 0.003, "P(|z|>2) = %g, want 0.0455", beyond2 / n);
}

static void test_determinism(void) {
  raw_table a, b, c;
  synth_generate(20000, 0, &a);
  synth_generate(20000, 0, &b);
  synth_generate(20000, 1, &c);
  CHECK(memcmp(a.x, b.x, 20000 * 16 * sizeof(float)) == 0 && memcmp(a.y, b.y, 20000 * sizeof(int32_t)) == 0,
        "same seed, different jets");
  CHECK(memcmp(a.x, c.x, 20000 * 16 * sizeof(float)) != 0, "seeds 0 and 1 gave the same jets");
  /* A prefix of a larger set is the smaller set (jets are generated in sequence). */
  raw_table big;
  synth_generate(30000, 0, &big);
  CHECK(memcmp(a.x, big.x, 20000 * 16 * sizeof(float)) == 0, "size changes earlier jets");
  /* Pin the stream: identical on every machine and compiler. This digest changes only
     when the generator is deliberately changed (then update it and data/README.md). */
  uint64_t h = fnv1a64(a.x, 20000 * 16 * sizeof(float), FNV1A64_INIT);
  printf("jsc-synth seed 0, 20000 jets: feature digest %016llx\n", (unsigned long long)h);
  CHECK(h == SYNTH_DIGEST, "digest %016llx differs from the pinned %016llx", (unsigned long long)h,
        (unsigned long long)SYNTH_DIGEST);
  raw_table_free(&a);
  raw_table_free(&b);
  raw_table_free(&c);
  raw_table_free(&big);
}

static void test_statistics(void) {
  raw_table t;
  size_t n = 100000;
  synth_generate(n, 0, &t);
  int counts[5] = {0}, finite = 1, integer = 1, identity = 1;
  double worst_c2 = 0, worst_a1b2 = 0;
  for (size_t r = 0; r < n; r++) {
    const float *x = t.x + r * 16;
    counts[t.y[r]]++;
    for (int j = 0; j < 16; j++) finite &= isfinite(x[j]) != 0;
    integer &= x[MULT] == floorf(x[MULT]) && x[MULT] >= 2;
    identity &= x[D2A1B1] == x[D2B1];
    worst_c2 = fmax(worst_c2, rel_err(x[C2B1], (double)x[D2B1] * x[C1B1], 1e-30));
    worst_c2 = fmax(worst_c2, rel_err(x[C2B2], (double)x[D2B2] * x[C1B2], 1e-30));
    double rho = x[C1B1] / sqrt(x[C1B2]);
    worst_a1b2 = fmax(worst_a1b2, rel_err(x[D2A1B2], x[D2B1] * rho * rho * rho, 1e-30));
  }
  CHECK(counts[G] == 20000 && counts[Q] == 20000 && counts[W] == 20000 && counts[Z] == 20000 && counts[T] == 20000,
        "classes not balanced");
  CHECK(finite, "non-finite feature");
  CHECK(integer, "multiplicity not an integer >= 2");
  CHECK(identity, "j_d2_a1_b1_mmdt != j_d2_b1_mmdt");
  CHECK(worst_c2 < 1e-6, "c2 = d2 * c1 off by %g (float rounding: 1e-6)", worst_c2);
  CHECK(worst_a1b2 < 1e-5, "d2_a1_b2 = d2_b1 rho^3 off by %g (1e-5)", worst_a1b2);

  /* Mass peaks (GeV): most W, Z, top jets near 80, 91, 173. */
  double mw = quantile(&t, W, MASS, 0.5), mz = quantile(&t, Z, MASS, 0.5), mt = quantile(&t, T, MASS, 0.5);
  CHECK(fraction_in(&t, W, MASS, 65, 95) > 0.55, "W jets in 65-95 GeV: %.2f", fraction_in(&t, W, MASS, 65, 95));
  CHECK(fraction_in(&t, Z, MASS, 70, 110) > 0.55, "Z jets in 70-110 GeV: %.2f", fraction_in(&t, Z, MASS, 70, 110));
  CHECK(fraction_in(&t, T, MASS, 140, 210) > 0.5, "t jets in 140-210 GeV: %.2f", fraction_in(&t, T, MASS, 140, 210));
  CHECK(mw > 70 && mw < 85 && mz > 78 && mz < 95 && mt > 140 && mt < 185, "median masses W %.1f Z %.1f t %.1f", mw,
        mz, mt);
  double pw = mass_peak(&t, W), pz = mass_peak(&t, Z), pt = mass_peak(&t, T);
  CHECK(pw >= 74 && pw <= 86 && pz >= 84 && pz <= 96 && pt >= 160 && pt <= 186, "mass peaks W %.0f Z %.0f t %.0f", pw,
        pz, pt);
  double mq = quantile(&t, Q, MASS, 0.5), mg = quantile(&t, G, MASS, 0.5);
  CHECK(mq < mg && mg < 40 && mq > 5, "QCD median masses q %.1f g %.1f", mq, mg);
  CHECK(mw < mz && mz < mt, "mass order W < Z < t");

  /* Gluons radiate more than quarks; top (three prongs) more than W. */
  double nq = quantile(&t, Q, MULT, 0.5), ng = quantile(&t, G, MULT, 0.5);
  double nw = quantile(&t, W, MULT, 0.5), nt = quantile(&t, T, MULT, 0.5);
  CHECK(ng > 1.3 * nq, "median multiplicity g %.0f vs q %.0f", ng, nq);
  CHECK(nt > nw, "median multiplicity t %.0f vs W %.0f", nt, nw);
  CHECK(nq > 20 && ng < 80 && quantile(&t, G, MULT, 0.95) < 200, "multiplicity scale q %.0f g %.0f", nq, ng);

  /* Two-prong substructure: W and Z have lower d2 and n2 than QCD jets. */
  for (int k = W; k <= Z; k++) {
    CHECK(quantile(&t, k, D2B2, 0.5) < 0.5 * quantile(&t, Q, D2B2, 0.5), "class %d d2_b2 not two-prong-like", k);
    CHECK(quantile(&t, k, N2B2, 0.5) < 0.5 * quantile(&t, Q, N2B2, 0.5), "class %d n2_b2 not two-prong-like", k);
  }
  /* Scales as in the real rows: zlogz about -3..-2, c1_b0 below 0.5, ratios mostly 0..3. */
  for (int k = G; k <= T; k++) {
    double z50 = quantile(&t, k, ZLOGZ, 0.5);
    CHECK(z50 > -3.3 && z50 < -2.0, "class %d median zlogz %.2f", k, z50);
    CHECK(quantile(&t, k, ZLOGZ, 0.001) > -5 && quantile(&t, k, ZLOGZ, 0.999) < -0.5, "class %d zlogz tails", k);
    CHECK(quantile(&t, k, C1B0, 0.0) > 0 && quantile(&t, k, C1B0, 1.0) < 0.5, "class %d c1_b0 outside (0, 0.5)", k);
    CHECK(quantile(&t, k, D2B1, 0.95) < 3.5 && quantile(&t, k, D2B2, 0.9) < 4, "class %d d2 scale", k);
    CHECK(quantile(&t, k, N2B1, 0.99) < 1.2 && quantile(&t, k, M2B1, 0.99) < 0.5, "class %d n2/m2 scale", k);
    CHECK(quantile(&t, k, C1B2, 0.5) < 0.05 && quantile(&t, k, C1B1, 0.5) < 0.2, "class %d c1 scale", k);
  }
  raw_table_free(&t);
}

int main(void) {
  test_detmath();
  test_determinism();
  test_statistics();
  return test_summary("test_data_synth");
}
