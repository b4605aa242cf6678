/* Which GEMM engine a net's Linear stages run on (README.md "--gemm"): CLBlast, the
   reference path every layer can take, or the fused narrow-Linear kernels
   (ops/ops_fused.h) where a layer fits them. */
#ifndef CLTRAIN_NET_GEMM_H
#define CLTRAIN_NET_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "cl/gemm_choice.h"

typedef enum {
  NET_GEMM_AUTO,    /* per Linear shape, what `cltrain tune` measured faster on the device
                       (cl/gemm_choice.h); where it measured nothing, fused for layers up to
                       64 wide (CPU and GPU devices alike), CLBlast for wider ones */
  NET_GEMM_CLBLAST, /* CLBlast everywhere */
  NET_GEMM_FUSED,   /* fused wherever a layer fits (ops_fused.h), CLBlast for the rest */
  NET_GEMM_COUNT
} net_gemm;

/* "auto", "clblast", "fused"; NULL out of range. */
const char *net_gemm_name(net_gemm g);
/* 0 with *out set, or -1 when NAME is none of them. */
int net_gemm_parse(const char *name, net_gemm *out);
/* Whether a Linear in -> out takes the fused path under G, given the device's stored
   choice for its shape (GEMM_PATH_NONE: none). */
bool net_gemm_fused(net_gemm g, gemm_path stored, int in, int out);

#endif
