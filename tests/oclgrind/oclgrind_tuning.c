/* Writes the CLBlast tuning file (host/cl/tuning.h) of device 0 (Oclgrind, through the
   oclgrind tests' OCL_ICD_VENDORS) into $CLTRAIN_TUNING_DIR: XgemmDirect with an 8x8 tile
   computed by one work-item in float8 vectors (one of cmd_tune.c's candidates), direct for
   every shape. An interpreter pays per instruction and per checked access, and CLBlast's
   default tiles of 16-64 work-items spend most of a small GEMM on padding and
   local-memory staging: with this set the GEMMs of the oclgrind tests cost a fraction of
   their default instruction count. Only CLBlast's parameters change; cltrain's kernels and
   every result check stay as they are. */
#include <stdio.h>

#include "cl/runtime.h"
#include "cl/tuning.h"

int main(void) {
  cl_runtime rt;
  error e = {0};
  if (rt_open(&rt, "0", NULL, &e) != 0) {
    fprintf(stderr, "oclgrind_tuning: %s\n", e.msg);
    return 1;
  }
  static const char *const names[10] = {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                        "KWID", "VWMD", "VWND", "PADA", "PADB"};
  static const size_t values[10] = {8, 1, 1, 1, 1, 2, 8, 8, 0, 0};
  tuning t = {0};
  snprintf(t.device, sizeof t.device, "%s", rt.info.name);
  snprintf(t.platform, sizeof t.platform, "%s", rt.info.platform_name);
  snprintf(t.driver, sizeof t.driver, "%s", rt.info.driver);
  tuning_set *d = &t.sets[t.n_sets++];
  snprintf(d->kernel, sizeof d->kernel, "XgemmDirect");
  d->n = 10;
  for (int i = 0; i < 10; i++) {
    snprintf(d->names[i], sizeof d->names[i], "%s", names[i]);
    d->values[i] = values[i];
  }
  tuning_set *g = &t.sets[t.n_sets++];
  snprintf(g->kernel, sizeof g->kernel, "GemmRoutine");
  g->n = 1;
  snprintf(g->names[0], sizeof g->names[0], "XGEMM_MIN_INDIRECT_SIZE");
  g->values[0] = 4096; /* direct below 4096^3 multiply-adds: every test shape */
  char path[1200], err[512];
  tuning_path(&rt.info, path, sizeof path);
  if (tuning_save(path, &t, err, sizeof err) != 0) {
    fprintf(stderr, "oclgrind_tuning: %s\n", err);
    return 1;
  }
  printf("oclgrind_tuning: wrote %s for %s\n", path, rt.info.name);
  rt_close(&rt);
  return 0;
}
