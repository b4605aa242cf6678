#include "cl/gemm.h"

#include <stdio.h>

#include <clblast_c.h>

int gemm_status(cl_runtime *rt, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                float alpha, cl_mem a, size_t a_off, size_t lda,
                cl_mem b, size_t b_off, size_t ldb,
                float beta, cl_mem c, size_t c_off, size_t ldc) {
  rt->gemm_calls++;
  return (int)CLBlastSgemm(CLBlastLayoutRowMajor,
                           trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                           trans_b ? CLBlastTransposeYes : CLBlastTransposeNo,
                           m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc,
                           &rt->queue, NULL);
}

void gemm_at(const char *file, int line, cl_runtime *rt, bool trans_a, bool trans_b, size_t m,
             size_t n, size_t k, float alpha, cl_mem a, size_t a_off, size_t lda,
             cl_mem b, size_t b_off, size_t ldb,
             float beta, cl_mem c, size_t c_off, size_t ldc) {
  if (rt_failed(rt)) return;
  const int st = gemm_status(rt, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, b, b_off, ldb,
                             beta, c, c_off, ldc);
  if (st == 0) return;
  char what[96]; /* formatted only on failure: this runs ~12 times per training step */
  snprintf(what, sizeof what, "CLBlastSgemm(%zux%zux%zu)", m, n, k);
  clblast_check_at(&rt->err, st, what, file, line);
}

int gemm_override(cl_runtime *rt, const char *kernel, size_t n, const char *const *names,
                  const size_t *values) {
  return (int)CLBlastOverrideParameters(rt->info.device, kernel, CLBlastPrecisionSingle, n,
                                        (const char **)names, values);
}
