/* Activations (ReLU, LeakyReLU with positive and negative slope, Sigmoid, Tanh) and
   dropout, stand-alone (kernels/activations.cl) and as the shared epilogue, against the
   double-precision references of refops.h on every test shape; the references'
   backwards against central finite differences; the Philox generator against the
   Random123 known answers and the device dropout mask against the host one (also the
   kernel's byte-wise store path of big-endian devices).
   Tolerances: forward max relative error 1e-5, backward 1e-4, both with an absolute
   floor of 1e-6 (every value is one or two rounded float operations, so only values
   below ~1e-6 need the floor); finite differences 1e-6 relative, floor 1e-6. GELU (exact
   erf form) takes floors of 1e-2 (forward) and 1e-3 (backward), i.e. an absolute error of
   1e-7: its forward holds 1 + erf(x / sqrt 2), which cancels for x near -3 (erf near -1),
   and its derivative Phi(x) + x phi(x) is the difference of two terms of ~0.23 near its
   zero at x = -0.75, so float rounding of O(1) quantities (2^-24 ~ 6e-8 each) remains
   whatever the size of the result. */
#include <string.h>

#include "devutil.h"
#include "refops.h"
#include "base/rng.h"

static const struct {
  act_kind act;
  float slope;
  const char *name;
  double fwd_floor, bwd_floor;
} acts[] = {{ACT_NONE, 0, "none", 1e-6, 1e-6},          {ACT_RELU, 0, "relu", 1e-6, 1e-6},
            {ACT_LEAKY_RELU, 0.01f, "leaky0.01", 1e-6, 1e-6}, {ACT_LEAKY_RELU, -0.3f, "leaky-0.3", 1e-6, 1e-6},
            {ACT_SIGMOID, 0, "sigmoid", 1e-6, 1e-6},    {ACT_TANH, 0, "tanh", 1e-6, 1e-6},
            {ACT_GELU, 0, "gelu", 1e-2, 1e-3}};
#define N_ACTS ((int)(sizeof acts / sizeof acts[0]))

static void philox_known_answers(void) {
  /* Random123 kat_vectors for philox4x32-10 */
  const uint32_t ctr[3][4] = {{0, 0, 0, 0},
                              {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                              {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
  const uint32_t key[3][2] = {{0, 0}, {0xffffffffu, 0xffffffffu}, {0xa4093822u, 0x299f31d0u}};
  const uint32_t want[3][4] = {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
                               {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
                               {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
  for (int t = 0; t < 3; t++) {
    uint32_t out[4];
    philox4x32(ctr[t], key[t], out);
    CHECK(memcmp(out, want[t], sizeof out) == 0, "philox KAT %d: %08x %08x %08x %08x", t, out[0],
          out[1], out[2], out[3]);
  }
}

/* Reference backward against central differences of the reference forward. */
static void finite_differences(void) {
  const int n = 64;
  float x[64];
  double dz[64];
  ref_fill_away(x, n, 11, 1e-3);
  for (int i = 0; i < n; i++) dz[i] = 0.5 + 0.01 * i;
  for (int a = 0; a < N_ACTS; a++)
    for (int d = 0; d < 2; d++) {
      op_epilogue e = {acts[a].act, acts[a].slope, d ? 0.5f : 0.0f, 3, 99, NULL};
      double want[64], got[64];
      for (int i = 0; i < n; i++) {
        const double h = 1e-6;
        want[i] = dz[i] * (ref_epi(&e, 7, (size_t)i, x[i] + h) - ref_epi(&e, 7, (size_t)i, x[i] - h)) / (2 * h);
        got[i] = ref_epi_back(&e, 7, (size_t)i, x[i], dz[i]);
      }
      double err = ref_max_err_dd(got, want, (size_t)n, 1e-6);
      CHECK(err < 1e-6, "FD %s dropout=%d: %g", acts[a].name, d, err);
    }
}

static void device_case(cl_runtime *rt, const ops_kernels *k, int rows, int width, int a, float p) {
  const int n = rows * width;
  const uint64_t step = 5 + (uint64_t)rows;
  op_epilogue e = {acts[a].act, acts[a].slope, p, 2, 0x1234567890abcdefull, NULL};
  float *x = xmalloc((size_t)n * sizeof *x), *dz = xmalloc((size_t)n * sizeof *dz);
  ref_fill(x, (size_t)n, (uint64_t)n * 7 + (uint64_t)a, -3.0, 3.0);
  ref_fill(dz, (size_t)n, (uint64_t)n * 13 + (uint64_t)a, -1.0, 1.0);
  double *zw = xmalloc((size_t)n * sizeof *zw), *dxw = xmalloc((size_t)n * sizeof *dxw);
  for (int i = 0; i < n; i++) {
    zw[i] = ref_epi(&e, step, (size_t)i, x[i]);
    dxw[i] = ref_epi_back(&e, step, (size_t)i, x[i], dz[i]);
  }
  cl_mem dx_in = dev_upload(rt, x, (size_t)n * 4), dz_in = dev_upload(rt, dz, (size_t)n * 4);
  cl_mem z = rt_alloc(rt, (size_t)n * 4), dx = rt_alloc(rt, (size_t)n * 4);
  cl_mem saved = op_epilogue_needs_saved(&e) ? rt_alloc(rt, (size_t)n * 4) : NULL;
  if (p > 0) e.mask = rt_alloc(rt, (size_t)n);
  op_dropout_mask(rt, k, &e, n, step);
  op_pointwise_forward(rt, k, n, dx_in, z, saved, &e);
  op_pointwise_backward(rt, k, n, dz_in, saved ? saved : z, dx, &e);
  if (p > 0) { /* the device mask, byte for byte, against the host Philox reference */
    unsigned char *mask = xmalloc((size_t)n);
    rt_read(rt, e.mask, 0, (size_t)n, mask);
    uint32_t thr = dropout_threshold(p);
    int bad = 0;
    for (int i = 0; i < n; i++) bad += mask[i] != (unsigned char)dropout_keep(e.seed, step, e.drop_layer, (uint32_t)i, thr);
    CHECK(bad == 0, "dropout mask p=%g n=%d: %d of %d bytes differ", p, n, bad, n);
    free(mask);
  }
  float *zg = dev_download(rt, z, (size_t)n), *dxg = dev_download(rt, dx, (size_t)n);
  double ef = ref_max_err(zg, zw, (size_t)n, acts[a].fwd_floor);
  double eb = ref_max_err(dxg, dxw, (size_t)n, acts[a].bwd_floor);
  CHECK(ef < 1e-5, "forward %s p=%g rows=%d width=%d: max rel err %g", acts[a].name, p, rows, width, ef);
  CHECK(eb < 1e-4, "backward %s p=%g rows=%d width=%d: max rel err %g", acts[a].name, p, rows, width, eb);
  if (p > 0 && n >= 64000) {
    long kept = 0;
    uint32_t thr = dropout_threshold(p);
    for (int i = 0; i < n; i++) kept += dropout_keep(e.seed, step, e.drop_layer, (uint32_t)i, thr);
    double frac = (double)kept / n;
    CHECK(fabs(frac - (1 - p)) < 0.01, "kept fraction %g for p=%g over %d elements", frac, p, n);
  }
  rt_release(&dx_in); rt_release(&dz_in); rt_release(&z); rt_release(&dx); rt_release(&saved);
  rt_release(&e.mask);
  free(x); free(dz); free(zw); free(dxw); free(zg); free(dxg);
}

/* The mask depends on seed, step and layer: changing any one changes it. */
static void mask_keys(void) {
  const uint32_t thr = dropout_threshold(0.5f);
  int diff_seed = 0, diff_step = 0, diff_layer = 0;
  for (uint32_t i = 0; i < 256; i++) {
    bool base = dropout_keep(1, 1, 1, i, thr);
    diff_seed += base != dropout_keep(2, 1, 1, i, thr);
    diff_step += base != dropout_keep(1, 2, 1, i, thr);
    diff_layer += base != dropout_keep(1, 1, 2, i, thr);
  }
  CHECK(diff_seed > 64 && diff_step > 64 && diff_layer > 64, "mask differences %d %d %d of 256",
        diff_seed, diff_step, diff_layer);
  CHECK(dropout_threshold(0.0f) == 0 && dropout_threshold(0.5f) == (1u << 23), "thresholds");
  CHECK(dropout_scale(0.5f) == 2.0f, "scale %g", dropout_scale(0.5f));
}

/* The mask kernel built with -D DROP_BYTEWISE (the path of big-endian devices: one byte
   store per element) against the host Philox reference, on sizes with and without a tail. */
static void mask_bytewise(cl_runtime *rt, const ops_kernels *k) {
  ops_kernels kb = *k;
  kb.dropout_mask = rt_kernel(rt, ops_program(rt, "dropout.cl", "-DDROP_BYTEWISE"), "dropout_mask");
  const int sizes[] = {1, 31, 32, 33, 1000, 12288};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    const int n = sizes[s];
    op_epilogue e = {ACT_RELU, 0, 0.3f, 5, 0xfeedbeefcafeull, rt_alloc(rt, (size_t)n)};
    op_dropout_mask(rt, &kb, &e, n, 77);
    unsigned char *mask = xmalloc((size_t)n);
    rt_read(rt, e.mask, 0, (size_t)n, mask);
    const uint32_t thr = dropout_threshold(e.drop_p);
    int bad = 0;
    for (int i = 0; i < n; i++) bad += mask[i] != (unsigned char)dropout_keep(e.seed, 77, 5, (uint32_t)i, thr);
    CHECK(bad == 0, "byte-wise dropout mask n=%d: %d bytes differ", n, bad);
    free(mask);
    rt_release(&e.mask);
  }
  clReleaseKernel(kb.dropout_mask);
}

/* A data-parallel rank's share (op_dropout_mask_at): n mask bytes from element OFFSET of
   the global batch equal the host reference at the global element index, for offsets on
   and off a Philox counter boundary (4 elements), in both kernel builds. */
static void mask_offsets(cl_runtime *rt, const ops_kernels *k) {
  ops_kernels kb = *k;
  kb.dropout_mask = rt_kernel(rt, ops_program(rt, "dropout.cl", "-DDROP_BYTEWISE"), "dropout_mask");
  const ops_kernels *forms[2] = {k, &kb};
  const size_t offsets[] = {0, 1, 3, 4, 48 * 128, 5 * 129 + 2, 33};
  const int sizes[] = {1, 7, 31, 32, 33, 1000, 6144};
  for (int f = 0; f < 2; f++)
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++)
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int n = sizes[s];
        op_epilogue e = {ACT_RELU, 0, 0.5f, 8, 0x5eedull, rt_alloc(rt, (size_t)n + 64)};
        /* bytes past the share must stay untouched */
        unsigned char *mask = xmalloc((size_t)n + 64);
        memset(mask, 0xab, (size_t)n + 64);
        rt_write(rt, e.mask, 0, (size_t)n + 64, mask);
        op_dropout_mask_at(rt, forms[f], &e, n, offsets[o], 9);
        rt_read(rt, e.mask, 0, (size_t)n + 64, mask);
        const uint32_t thr = dropout_threshold(e.drop_p);
        int bad = 0;
        for (int i = 0; i < n; i++)
          bad += mask[i] != (unsigned char)dropout_keep(e.seed, 9, 8, (uint32_t)(offsets[o] + (size_t)i), thr);
        for (int i = n; i < n + 64; i++) bad += mask[i] != 0xab;
        CHECK(bad == 0, "dropout mask at offset %zu, n=%d (%s): %d bytes differ", offsets[o], n,
              f ? "byte-wise" : "word stores", bad);
        free(mask);
        rt_release(&e.mask);
      }
  clReleaseKernel(kb.dropout_mask);
}

int main(void) {
  philox_known_answers();
  finite_differences();
  mask_keys();
  cl_runtime rt;
  dev_open(&rt);
  ops_kernels k;
  ops_init(&k, &rt);
  for (int b = 0; b < REF_N_BATCHES; b++)
    for (int w = 0; w < REF_N_WIDTHS; w++)
      for (int a = 0; a < N_ACTS; a++) {
        device_case(&rt, &k, ref_batches[b], ref_widths[w], a, 0.0f);
        device_case(&rt, &k, ref_batches[b], ref_widths[w], a, a % 2 ? 0.5f : 0.2f);
      }
  mask_bytewise(&rt, &k);
  mask_offsets(&rt, &k);
  ops_free(&k);
  rt_close(&rt);
  dev_check(&rt, "test_ops_pointwise");
  return test_summary("test_ops_pointwise");
}
