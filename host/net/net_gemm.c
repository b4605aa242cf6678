/* The --gemm choice (net_gemm.h). */
#include <string.h>

#include "net/net_gemm.h"
#include "ops/ops_fused.h"

static const char *const names[NET_GEMM_COUNT] = {"auto", "clblast", "fused"};

const char *net_gemm_name(net_gemm g) { return g >= 0 && g < NET_GEMM_COUNT ? names[g] : NULL; }

int net_gemm_parse(const char *name, net_gemm *out) {
  for (int g = 0; g < NET_GEMM_COUNT; g++)
    if (name && !strcmp(name, names[g])) return *out = (net_gemm)g, 0;
  return -1;
}

bool net_gemm_fused(net_gemm g, gemm_path stored, int in, int out) {
  if (!fused_linear_fits(in, out)) return false;
  if (g != NET_GEMM_AUTO) return g == NET_GEMM_FUSED;
  /* auto without a measurement: on PoCL CPUs fused beats CLBlast 3-8x per Linear stage up
     to 64 wide (BENCHMARKS.md); on GPUs the fused form is the tiny-cuda-nn design (one
     launch per stage, the weights in local memory) against CLBlast's per-call cost, not yet
     measured here: `cltrain tune` measures both there and stores the faster */
  return stored != GEMM_PATH_CLBLAST;
}
