/* Which GEMM engine a net's Linear stages run on (README.md "--gemm"): CLBlast, the
   reference path every layer can take, or the fused narrow-Linear kernels
   (ops/ops_fused.h) where a layer fits them. */
#ifndef CLTRAIN_NET_GEMM_H
#define CLTRAIN_NET_GEMM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  NET_GEMM_AUTO,    /* fused for layers up to 64 wide on CPU devices, CLBlast otherwise */
  NET_GEMM_CLBLAST, /* CLBlast everywhere */
  NET_GEMM_FUSED,   /* fused wherever a layer fits (ops_fused.h), CLBlast for the rest */
  NET_GEMM_COUNT
} net_gemm;

/* "auto", "clblast", "fused"; NULL out of range. */
const char *net_gemm_name(net_gemm g);
/* 0 with *out set, or -1 when NAME is none of them. */
int net_gemm_parse(const char *name, net_gemm *out);
/* Whether a Linear in -> out on a device of kind GPU takes the fused path under G. */
bool net_gemm_fused(net_gemm g, bool gpu, int in, int out);

#endif
