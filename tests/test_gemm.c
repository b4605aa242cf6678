/* GEMM module against a double-precision CPU reference, on every device present
   (POCL_DEVICES="pthread basic" gives two), for edge and model shapes, all transposes,
   alpha/beta accumulation and non-zero buffer offsets. Tolerance: max relative error
   1e-5 with an absolute floor of 1 (values are O(1) sums of k products). */
#include <stdint.h>
#include <string.h>

#include "cl/gemm.h"
#include "testutil.h"
#include "base/util.h"

static float frand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((*s >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static void ref_gemm(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *a,
                     size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double acc = 0;
      for (size_t p = 0; p < k; p++) {
        double av = ta ? a[p * lda + i] : a[i * lda + p];
        double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        acc += av * bv;
      }
      c[i * ldc + j] = (float)(alpha * acc + (double)beta * c[i * ldc + j]);
    }
}

static void run_case(cl_runtime *rt, size_t m, size_t n, size_t k, bool ta, bool tb, float alpha,
                     float beta) {
  const size_t off = 7; /* element offsets exercise the flat-buffer use */
  size_t lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
  size_t na = (ta ? k : m) * lda, nb = (tb ? n : k) * ldb, nc = m * ldc;
  float *a = xmalloc(na * sizeof *a), *b = xmalloc(nb * sizeof *b);
  float *c = xmalloc(nc * sizeof *c), *want = xmalloc(nc * sizeof *c), *got = xmalloc(nc * sizeof *c);
  uint64_t s = m * 1000003 + n * 1009 + k;
  for (size_t i = 0; i < na; i++) a[i] = frand(&s);
  for (size_t i = 0; i < nb; i++) b[i] = frand(&s);
  for (size_t i = 0; i < nc; i++) c[i] = want[i] = frand(&s);
  cl_mem da = rt_alloc(rt, (na + off) * 4), db = rt_alloc(rt, (nb + off) * 4), dc = rt_alloc(rt, (nc + off) * 4);
  rt_write(rt, da, off * 4, na * 4, a);
  rt_write(rt, db, off * 4, nb * 4, b);
  rt_write(rt, dc, off * 4, nc * 4, c);
  gemm(rt, ta, tb, m, n, k, alpha, da, off, lda, db, off, ldb, beta, dc, off, ldc);
  rt_read(rt, dc, off * 4, nc * 4, got);
  ref_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
  double e = max_rel_err(got, want, nc, 1.0);
  CHECK(e < 1e-5, "device %s m=%zu n=%zu k=%zu ta=%d tb=%d alpha=%g beta=%g: max rel err %g",
        rt->info.name, m, n, k, ta, tb, alpha, beta, e);
  rt_release(&da);
  rt_release(&db);
  rt_release(&dc);
  free(a); free(b); free(c); free(want); free(got);
}

int main(void) {
  device_list list;
  error e = {0};
  CHECK(device_list_get(&list, &e) == 0, "enumeration: %s", e.msg);
  CHECK(list.count >= 1, "no OpenCL device");
  const char *expect = getenv("CLTRAIN_EXPECT_DEVICES");
  if (expect) CHECK(list.count == atoi(expect), "expected %s devices, found %d", expect, list.count);
  const size_t shapes[][3] = {{1, 1, 1}, {5, 16, 256}, {256, 5, 16}, {33, 17, 65}, {1024, 64, 64}};
  for (int d = 0; d < list.count; d++) {
    char spec[16];
    snprintf(spec, sizeof spec, "%d", d);
    cl_runtime rt;
    if (rt_open(&rt, spec, NULL, &e) != 0) {
      CHECK(0, "device %s: %s", spec, e.msg);
      continue;
    }
    printf("device %d: %s\n", d, rt.info.name);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      for (int t = 0; t < 4; t++) {
        run_case(&rt, shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t & 2, 1.0f, 0.0f);
        /* gradient accumulation form: C = 0.5 * op(A) op(B) + 1 * C */
        run_case(&rt, shapes[s][0], shapes[s][1], shapes[s][2], t & 1, t & 2, 0.5f, 1.0f);
      }
    rt_close(&rt);
  }
  device_list_free(&list);
  return test_summary("test_gemm");
}
