/* Small device helpers shared by the op tests (header-only: each test is one executable). */
#ifndef CLTRAIN_DEVUTIL_H
#define CLTRAIN_DEVUTIL_H

#include <stdlib.h>

#include "cl/runtime.h"
#include "base/util.h"

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
