/* jsc-synth: a seeded, physics-shaped stand-in for the hls4ml jet data set. Each jet gets
   latent quantities (class component, transverse momentum pT, groomed mass, multiplicity,
   a shared radiation level, prong energy sharing z, a two-prong discriminant D); the 16
   features are then derived the way energy-correlation observables relate in the real
   rows:
     c1_b2 = (m / pT)^2,   c1_b1 = rho sqrt(c1_b2) with rho ~ sqrt(z (1 - z)),
     c2_bB = d2_bB c1_bB,  d2_a1_b1 = d2_b1,  d2_a1_b2 = d2_b1 rho^3,
     n2 and m2 follow d2_b2 on log-log lines, zlogz ~ -0.68 ln(multiplicity),
   all with noise. Class differences live in the latents (data/README.md has the design
   and its calibration): W/Z/t mass peaks whose response depends on z, heavy-flavour
   decays with more particles and lower mass, top jets holding only the W, signal jets
   groomed to one prong that look like QCD, gluons radiating more than quarks, and pT as
   a hidden nuisance that scales QCD masses and every multiplicity. Only det_* math is
   used (and this file is compiled without FMA contraction), so a seed gives the same
   jets on every machine. */
#include <math.h>
#include <string.h>

#include "data/data_sources.h"
#include "base/detmath.h"

enum { STREAM_SYNTH = 0x5e7 };

typedef enum { MASS_LOGNORMAL, MASS_GAUSS } mass_shape;
typedef enum { SHARE_SOFT, SHARE_SYMMETRIC } share_shape;

/* One way a jet of a class can look. */
typedef struct {
  double weight;       /* probability within the class */
  mass_shape shape;
  double mass_a;       /* gauss: mean (GeV); lognormal: median */
  double mass_b;       /* gauss: sigma (GeV); lognormal: sigma of ln m */
  double d_median;     /* two-prong discriminant D = d2_b2: median */
  double d_sigma;      /* sigma of ln D */
  share_shape share;   /* prong energy sharing: QCD-like soft or decay-like symmetric */
  double mult_scale;   /* multiplicity relative to the class median (b-quark decays add particles) */
  double response;     /* mass response relative to light-quark decays (b decays lose neutrinos) */
} component;

typedef struct {
  double mult_median;  /* multiplicity median at MULT_REF_MASS */
  double radiation;    /* mean of the shared radiation latent */
  int n_components;
  component c[3];
} class_model;

/* Canonical class order g, q, W, Z, t. */
static const class_model classes[JSC_N_CLASSES] = {
    /* g */ {50, 0.30, 1, {{1.0, MASS_LOGNORMAL, 26, 0.75, 1.9, 0.45, SHARE_SOFT, 1, 1}}},
    /* q */ {44, -0.30, 1, {{1.0, MASS_LOGNORMAL, 19, 0.75, 1.65, 0.45, SHARE_SOFT, 1, 1}}},
    /* W */ {21, -0.2, 3,
             {{0.45, MASS_GAUSS, 80.4, 4.0, 0.45, 0.6, SHARE_SYMMETRIC, 1, 1},
              {0.37, MASS_GAUSS, 80.4, 4.0, 0.50, 0.6, SHARE_SYMMETRIC, 1.12, 0.96},
              {0.18, MASS_LOGNORMAL, 14, 0.8, 1.5, 0.5, SHARE_SOFT, 1, 1}}},
    /* Z */ {22, -0.1, 3,
             {{0.54, MASS_GAUSS, 91.2, 4.5, 0.45, 0.6, SHARE_SYMMETRIC, 1, 1},
              {0.28, MASS_GAUSS, 91.2, 4.5, 0.60, 0.6, SHARE_SYMMETRIC, 1.3, 0.90},
              {0.18, MASS_LOGNORMAL, 16, 0.8, 1.5, 0.5, SHARE_SOFT, 1, 1}}},
    /* t */ {25, 0.3, 3,
             {{0.68, MASS_GAUSS, 173, 12, 1.0, 0.5, SHARE_SYMMETRIC, 1, 1},
              {0.20, MASS_GAUSS, 81, 7, 0.60, 0.55, SHARE_SYMMETRIC, 1.25, 1},
              {0.12, MASS_LOGNORMAL, 45, 0.6, 1.4, 0.5, SHARE_SOFT, 1, 1}}},
};

static const double MULT_SIGMA = 0.16;       /* sigma of ln multiplicity at a given mass */
static const double MULT_MASS_SLOPE = 0.60;  /* d ln multiplicity / d ln mass */
static const double MULT_PT_SLOPE = 1.2;     /* d ln multiplicity / d ln pT */
static const double MULT_REF_MASS = 30;      /* GeV: where mult_median applies */
static const double RESPONSE_0 = 0.40, RESPONSE_Z = 2.00; /* resonance mass response 0.60..1.40, peak 1 */
static const double D_PT_SLOPE = 0.8;        /* QCD: d ln d2_b2 / d ln pT */
static const double RHO_RADIATION = 0.03, RHO_NOISE = 0.03;
static const double PT_MEAN = 1000;     /* GeV */
static const double PT_SIGMA = 0.35;    /* sigma of ln pT */
#define MULT_MIN 5
#define MULT_MAX 250

static const component *pick_component(const class_model *cm, double u) {
  for (int i = 0; i < cm->n_components - 1; i++) {
    if (u < cm->c[i].weight) return &cm->c[i];
    u -= cm->c[i].weight;
  }
  return &cm->c[cm->n_components - 1];
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Logarithms used per jet, computed once with det_log. */
typedef struct {
  double ln_mass_median[JSC_N_CLASSES][3], ln_d_median[JSC_N_CLASSES][3];
  double ln_mult_median[JSC_N_CLASSES];
  double ln_int[MULT_MAX + 1];  /* ln k for integer multiplicities */
  double ln_mult_ref_mass;
  double ln_pt, ln5, ln40, ln_n2, ln_n2b1, ln_m2, ln_m2b1;
} synth_logs;

static void synth_logs_init(synth_logs *L) {
  for (int k = 0; k < JSC_N_CLASSES; k++) {
    L->ln_mult_median[k] = det_log(classes[k].mult_median);
    for (int i = 0; i < classes[k].n_components; i++) {
      L->ln_mass_median[k][i] = det_log(classes[k].c[i].mass_a);
      L->ln_d_median[k][i] = det_log(classes[k].c[i].d_median);
    }
  }
  L->ln_int[0] = L->ln_int[1] = 0;
  for (int i = 2; i <= MULT_MAX; i++) L->ln_int[i] = det_log(i);
  L->ln_pt = det_log(PT_MEAN);
  L->ln_mult_ref_mass = det_log(MULT_REF_MASS);
  L->ln5 = det_log(5);
  L->ln40 = det_log(40);
  L->ln_n2 = det_log(0.15);
  L->ln_n2b1 = det_log(0.72);
  L->ln_m2 = det_log(0.28);
  L->ln_m2b1 = det_log(0.47);
}

static void generate_jet(det_normal_gen *g, const synth_logs *L, int cls, float *f) {
  const class_model *cm = &classes[cls];
  const component *c = pick_component(cm, det_uniform(g));
  int ci = (int)(c - cm->c);
  double radiation = cm->radiation + det_normal(g);

  double pt_shift = PT_SIGMA * det_normal(g); /* ln(pT / PT_MEAN) */
  double pt = det_exp(L->ln_pt + pt_shift);

  /* Prong sharing z in [0.1, 0.5]: decays centre on 0.3 (triangular), QCD splittings
     favour soft z. */
  double u = det_uniform(g);
  double z = c->share == SHARE_SYMMETRIC ? 0.1 + 0.2 * (u + det_uniform(g)) : 0.1 * det_exp(u * L->ln5);
  double rho = sqrt(z * (1 - z)) * det_exp(0.10 + RHO_RADIATION * radiation + RHO_NOISE * det_normal(g));

  /* A resonance's groomed mass is scaled by a response that grows with z (an asymmetric
     decay loses more of its soft prong), so the best mass estimate combines the mass with
     rho = c1_b1 / sqrt(c1_b2). QCD masses follow the radiation level. */
  double mass;
  if (c->shape == MASS_GAUSS)
    mass = (c->mass_a + c->mass_b * det_normal(g)) * (RESPONSE_0 + RESPONSE_Z * z) * c->response;
  else
    mass = det_exp(L->ln_mass_median[cls][ci] + pt_shift + c->mass_b * (0.45 * radiation + 0.89 * det_normal(g)));
  mass = clamp(mass, 0.5, 0.6 * pt);

  /* Multiplicity grows with the mass for every class; at a given mass gluons have more. */
  double ln_mass = det_log(mass);
  double mult = c->mult_scale * det_exp(L->ln_mult_median[cls] + MULT_MASS_SLOPE * (ln_mass - L->ln_mult_ref_mass) +
                                        MULT_PT_SLOPE * pt_shift +
                        MULT_SIGMA * (0.5 * radiation + 0.87 * det_normal(g)));
  int n_particles = (int)floor(clamp(mult, MULT_MIN, MULT_MAX) + 0.5);
  double ln_mult = L->ln_int[n_particles];

  double c1_b2 = (mass / pt) * (mass / pt) * det_exp(0.05 * det_normal(g));
  double c1_b1 = rho * sqrt(c1_b2);
  double ln_d2_b2 = L->ln_d_median[cls][ci] + c->d_sigma * (0.3 * radiation + 0.95 * det_normal(g));
  if (c->share == SHARE_SOFT) ln_d2_b2 += D_PT_SLOPE * pt_shift; /* QCD radiates more at high pT */
  double d2_b2 = det_exp(ln_d2_b2);
  double d2_b1 = det_exp((ln_d2_b2 + 0.45) / 2.1 + 0.12 * det_normal(g));
  double ln_n2_b2 = L->ln_n2 + 0.95 * ln_d2_b2 + 0.25 * det_normal(g);
  double n2_b1 = det_exp(L->ln_n2b1 + 0.47 * ln_n2_b2 + 0.08 * det_normal(g));
  double ln_m2_b2 = L->ln_m2 + ln_n2_b2 + 0.1 * radiation + 0.3 * det_normal(g);
  double m2_b1 = det_exp(L->ln_m2b1 + 0.5 * ln_m2_b2 + 0.08 * det_normal(g));
  double spread = (z * z + (1 - z) * (1 - z)) * det_exp(-1.0 - 0.45 * (ln_mult - L->ln40) + 0.1 * det_normal(g));
  double c1_b0 = 0.5 * (1 - clamp(spread, 0.02, 0.98));
  double zlogz = -0.68 * ln_mult - 0.1 * det_normal(g);

  f[0] = (float)zlogz;
  f[1] = (float)c1_b0;
  f[2] = (float)c1_b1;
  f[3] = (float)c1_b2;
  f[4] = (float)(d2_b1 * c1_b1);
  f[5] = (float)(d2_b2 * c1_b2);
  f[6] = (float)d2_b1;
  f[7] = (float)d2_b2;
  f[8] = (float)d2_b1; /* j_d2_a1_b1_mmdt equals j_d2_b1_mmdt, as in the real data */
  f[9] = (float)(d2_b1 * rho * rho * rho);
  f[10] = (float)m2_b1;
  f[11] = (float)det_exp(ln_m2_b2);
  f[12] = (float)n2_b1;
  f[13] = (float)det_exp(ln_n2_b2);
  f[14] = (float)mass;
  f[15] = (float)n_particles;
}

void synth_generate(size_t n, uint64_t seed, raw_table *out) {
  raw_table_alloc(out, n);
  det_normal_gen g;
  det_normal_init(&g, seed, STREAM_SYNTH);
  synth_logs logs;
  synth_logs_init(&logs);
  for (size_t i = 0; i < n; i++) {
    int cls = (int)(i % JSC_N_CLASSES);
    out->y[i] = cls;
    generate_jet(&g, &logs, cls, out->x + i * JSC_N_FEATURES);
  }
}
