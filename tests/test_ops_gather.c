/* Batch gather (kernels/gather.cl): rows of a device-resident data set picked through a
   permutation (or in order) land bit-exactly in the batch buffers, for every test batch
   size, at the start, middle and end of the set; one pass over a permutation visits every
   row exactly once. Rows of 16 features (the kernel's vector path) and of 5 (its loop). */
#include <string.h>

#include "devutil.h"
#include "refops.h"
#include "base/rng.h"

static void run(cl_runtime *rt, const ops_kernels *k, const int W) {
  enum { ROWS = 2100 };
  float *x = xmalloc((size_t)ROWS * W * 4);
  int32_t *y = xmalloc(ROWS * 4);
  uint32_t *perm = xmalloc(ROWS * 4);
  ref_fill(x, (size_t)ROWS * W, 1, -5, 5);
  for (int i = 0; i < ROWS; i++) y[i] = i * 7 % 5;
  rng_state r;
  rng_seed(&r, 3, 1);
  rng_permutation(&r, perm, ROWS);
  cl_mem bx = dev_upload(rt, x, (size_t)ROWS * W * 4), by = dev_upload(rt, y, ROWS * 4);
  cl_mem bp = dev_upload(rt, perm, ROWS * 4);
  cl_mem ox = rt_alloc(rt, 1000 * W * 4), oy = rt_alloc(rt, 1000 * 4);
  float *gx = xmalloc(1000 * W * 4);
  int32_t *gy = xmalloc(1000 * 4);
  for (int b = 0; b < REF_N_BATCHES; b++) {
    const int B = ref_batches[b];
    const size_t starts[] = {0, (size_t)(ROWS - B) / 2, (size_t)(ROWS - B)};
    for (int s = 0; s < 3; s++)
      for (int use_perm = 0; use_perm < 2; use_perm++) {
        op_gather(rt, k, B, W, bx, by, use_perm ? bp : NULL, starts[s], ox, oy);
        rt_read(rt, ox, 0, (size_t)B * W * 4, gx);
        rt_read(rt, oy, 0, (size_t)B * 4, gy);
        int bad = 0;
        for (int i = 0; i < B; i++) {
          size_t src = use_perm ? perm[starts[s] + (size_t)i] : starts[s] + (size_t)i;
          bad += memcmp(gx + (size_t)i * W, x + src * W, W * 4) != 0 || gy[i] != y[src];
        }
        CHECK(bad == 0, "W %d batch %d start %zu perm %d: %d rows differ", W, B, starts[s], use_perm, bad);
      }
  }
  /* one epoch in batches of 1000 (the last one partial) sees each row once */
  int *seen = xcalloc(ROWS, sizeof *seen);
  for (size_t start = 0; start < ROWS; start += 1000) {
    int B = ROWS - (int)start < 1000 ? ROWS - (int)start : 1000;
    op_gather(rt, k, B, W, bx, by, bp, start, ox, oy);
    rt_read(rt, ox, 0, (size_t)B * W * 4, gx);
    for (int i = 0; i < B; i++)
      for (int j = 0; j < ROWS; j++)
        if (memcmp(gx + (size_t)i * W, x + (size_t)j * W, W * 4) == 0) { seen[j]++; break; }
  }
  int once = 0;
  for (int j = 0; j < ROWS; j++) once += seen[j] == 1;
  CHECK(once == ROWS, "W %d: %d of %d rows seen exactly once", W, once, ROWS);
  rt_release(&bx); rt_release(&by); rt_release(&bp); rt_release(&ox); rt_release(&oy);
  free(x); free(y); free(perm); free(gx); free(gy); free(seen);
}

int main(void) {
  cl_runtime rt;
  dev_open(&rt);
  ops_kernels k;
  ops_init(&k, &rt);
  run(&rt, &k, 16);
  run(&rt, &k, 5);
  ops_free(&k);
  rt_close(&rt);
  dev_check(&rt, "test_ops_gather");
  return test_summary("test_ops_gather");
}
