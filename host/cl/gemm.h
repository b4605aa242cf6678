/* The only place the project calls CLBlast: row-major single-precision GEMM
   C = alpha * op(A) * op(B) + beta * C, with element offsets into the buffers so one
   flat parameter buffer can hold every layer's weights. */
#ifndef CLTRAIN_GEMM_H
#define CLTRAIN_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "cl/runtime.h"

/* op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are row strides (row-major).
   A CLBlast failure is recorded in rt->err with the caller's file:line; a no-op once the
   runtime has failed. */
#define gemm(rt, ...) gemm_at(__FILE__, __LINE__, (rt), __VA_ARGS__)
void gemm_at(const char *file, int line, cl_runtime *rt, bool trans_a, bool trans_b, size_t m,
             size_t n, size_t k, float alpha, cl_mem a, size_t a_off, size_t lda,
             cl_mem b, size_t b_off, size_t ldb,
             float beta, cl_mem c, size_t c_off, size_t ldc);

/* One GEMM's shape: op(A) m x k, op(B) k x n, row strides (see gemm). */
typedef struct {
  bool ta, tb;
  size_t m, n, k, lda, ldb, ldc;
} gemm_shape;

/* C = op(A) op(B) (alpha 1, beta 0) in shape S, operands at element offsets. */
#define gemm_shaped(rt, s, a, a_off, b, b_off, c, c_off)                                       \
  gemm_at(__FILE__, __LINE__, (rt), (s)->ta, (s)->tb, (s)->m, (s)->n, (s)->k, 1.0f, (a), (a_off), \
          (s)->lda, (b), (b_off), (s)->ldb, 0.0f, (c), (c_off), (s)->ldc)

/* Same call, returning the CLBlast status and recording nothing (tests, cltrain tune's
   candidates). */
int gemm_status(cl_runtime *rt, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                float alpha, cl_mem a, size_t a_off, size_t lda,
                cl_mem b, size_t b_off, size_t ldb,
                float beta, cl_mem c, size_t c_off, size_t ldc);


/* Override CLBlast's kernel parameters for this device (single precision) from now on:
   KERNEL is a CLBlast kernel name ("XgemmDirect", "Xgemm", "GemmRoutine"). Returns the
   CLBlast status (0 on success) so callers can skip invalid candidate sets. */
int gemm_override(cl_runtime *rt, const char *kernel, size_t n, const char *const *names,
                  const size_t *values);

#endif
