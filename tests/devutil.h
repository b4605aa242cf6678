/* Small device helpers shared by the op tests (header-only: each test is one executable). */
#ifndef CLTRAIN_DEVUTIL_H
#define CLTRAIN_DEVUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "cl/runtime.h"
#include "net/net.h"
#include "base/util.h"

/* The default device (CLTRAIN_DEVICE or 0); a test without one cannot run: exit 1. */
static inline void dev_open(cl_runtime *rt) {
  error e = {0};
  if (rt_open(rt, NULL, NULL, &e) != 0) {
    fprintf(stderr, "rt_open: %s\n", e.msg);
    exit(1);
  }
}

/* Exit 1 with the runtime's error when it has failed (a test's device work must not). */
static inline void dev_check(const cl_runtime *rt, const char *what) {
  if (!rt_failed(rt)) return;
  fprintf(stderr, "%s: %s\n", what, rt_error(rt)->msg);
  exit(1);
}

/* A net training with optimizer KIND, its Linear layers on GEMM; exit 1 when it cannot be
   made. */
static inline net *dev_net_gemm(cl_runtime *rt, const model_spec *m, int max_batch, uint64_t seed, optim_kind kind,
                                net_gemm gemm) {
  error e = {0};
  net *n = net_create(rt, m, max_batch, seed, gemm, &e);
  if (!n || net_use_optimizer(n, kind, &e) != 0) {
    fprintf(stderr, "net_create: %s\n", e.msg);
    exit(1);
  }
  return n;
}
/* The same on CLBlast, the reference path. */
static inline net *dev_net(cl_runtime *rt, const model_spec *m, int max_batch, uint64_t seed, optim_kind kind) {
  return dev_net_gemm(rt, m, max_batch, seed, kind, NET_GEMM_CLBLAST);
}

/* A device buffer holding a copy of n floats (n == 0 gives a 4-byte buffer). */
static inline cl_mem dev_upload(cl_runtime *rt, const void *host, size_t bytes) {
  cl_mem m = rt_alloc(rt, bytes ? bytes : 4);
  if (bytes) rt_write(rt, m, 0, bytes, host);
  return m;
}
static inline float *dev_download(cl_runtime *rt, cl_mem m, size_t n) {
  float *v = xmalloc((n ? n : 1) * sizeof *v);
  rt_read(rt, m, 0, n * sizeof *v, v);
  return v;
}

#endif
