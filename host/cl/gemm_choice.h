/* Which GEMM path a Linear stage of a given shape takes on this device, as `cltrain tune`
   measured it (cl/tuning.h stores it; docs/FORMATS.md "Tuning files"): CLBlast, or
   cltrain's fused narrow-Linear kernels (ops/ops_fused.h). One entry per Linear in -> out
   at each batch size tune timed; `--gemm auto` reads it (net/net_gemm.h). */
#ifndef CLTRAIN_GEMM_CHOICE_H
#define CLTRAIN_GEMM_CHOICE_H

typedef enum { GEMM_PATH_NONE, GEMM_PATH_CLBLAST, GEMM_PATH_FUSED, GEMM_PATH_COUNT } gemm_path;

typedef struct {
  int in, out, batch;
  gemm_path path;                   /* the faster one: CLBLAST or FUSED */
  double clblast_us, fused_us;      /* one stage's forward + backward as measured */
} gemm_choice;

/* Enough for the zoo's 12 Linear shapes at 8 batch sizes, and more. */
#define GEMM_CHOICES_MAX 128

typedef struct {
  gemm_choice items[GEMM_CHOICES_MAX];
  int n;
} gemm_choices;

/* "clblast", "fused" ("none" for GEMM_PATH_NONE); NULL out of range. */
const char *gemm_path_name(gemm_path p);
/* The stored path of a Linear in -> out running batches of up to BATCH rows: the entry for
   in -> out at the tuned batch size nearest to BATCH (by ratio; the larger on a tie), or
   GEMM_PATH_NONE when there is none for in -> out. */
gemm_path gemm_choice_lookup(const gemm_choices *c, int in, int out, int batch);

#endif
