/* The whole-network kernel (kernels/whole_net.cl): every stage's forward, the loss, the
   backward and the optimizer of n consecutive training steps in one launch of one
   work-item, 16 batch rows per float16. For narrow nets on CPU devices, where a step of
   per-stage kernels costs a dozen launches of 2-4 us each (host/net/net_whole.c decides
   where it runs).

   The host describes the net as a table of stage records, WS_WORDS uint32 words each,
   field k at index WS_<k> (passed to the kernel as -D, so the two sides cannot drift):
   offsets into the flat parameter buffer (params, grads, optimizer state), the running
   statistics, the work buffer (activations in row blocks: whole_net.cl) and the mask
   buffer; floats are stored as their bits; WS_NONE marks an absent field. */
#ifndef CLTRAIN_OPS_WHOLE_H
#define CLTRAIN_OPS_WHOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

#define WHOLE_FIELDS(X)                                                                              \
  X(KIND)       /* WS_LINEAR, WS_BATCHNORM or WS_POINTWISE */                                        \
  X(IN) X(OUT)  /* widths */                                                                         \
  X(W_OFF)      /* Linear: W (out x in) in params */                                                 \
  X(B_OFF)      /* Linear: its bias, or WS_NONE when a BatchNorm stage adds it */                    \
  X(GAMMA) X(BETA) /* BatchNorm: in params */                                                        \
  X(RM) X(RV)   /* BatchNorm: running mean and variance in the statistics buffer */                  \
  X(BIAS)       /* BatchNorm: the preceding Linear's bias in params, or WS_NONE */                   \
  X(ACT) X(SLOPE) /* the epilogue's activation id and parameter (float bits) */                      \
  X(DROP_THR) X(DROP_SCALE) X(DROP_LAYER) /* dropout: threshold (0: none), scale bits, layer */      \
  X(MOMENTUM) X(EPS) /* BatchNorm (float bits) */                                                    \
  X(X_OFF)      /* the input in work (the first stage's: the gathered batch) */                      \
  X(Z_OFF)      /* the output in work */                                                             \
  X(S_OFF)      /* what the activation's backward reads, in work, or WS_NONE: none is needed */      \
  X(G_OFF)      /* the gradient at the output, in work */                                            \
  X(DX_OFF)     /* the gradient at the input (the previous stage's G_OFF), or WS_NONE */             \
  X(BS_OFF)     /* BatchNorm: 2 x out floats of batch mean and 1/sqrt(var + eps), in work */         \
  X(M_OFF)      /* dropout: the mask bytes in the mask buffer */

#define WHOLE_FIELD_ENUM(NAME) WS_##NAME,
enum { WHOLE_FIELDS(WHOLE_FIELD_ENUM) WS_WORDS };
#undef WHOLE_FIELD_ENUM

enum { WS_LINEAR = 0, WS_BATCHNORM = 1, WS_POINTWISE = 2 };
#define WS_NONE 0xFFFFFFFFu
#define WHOLE_LANES 16 /* rows per float16: activations are stored in blocks of 16 rows */

/* The kernel, built for optimizer KIND. NULL with the error latched in rt. */
cl_kernel op_whole_kernel(cl_runtime *rt, optim_kind kind);

/* Everything one launch reads besides its steps. */
typedef struct {
  cl_mem plan;           /* n_stages records */
  uint32_t n_stages;
  cl_mem params, grads, state, stats, params_t, tmap;
  uint32_t n_params;
  bool mirror;           /* keep params_t (the transposed Linear weights) equal to params */
  uint64_t seed;         /* keys the dropout masks */
  cl_mem work, mask, metrics;
} op_whole_net;

/* N_STEPS steps from FIRST_STEP (counted from 1): step k trains on rows FIRST_START + k *
   BATCH .. of the data set X_ALL / Y_ALL read through PERM (NULL: in order), the last batch
   cut at TOTAL_ROWS, with the optimizer scalars of step k at float8 HS_AT + k of HS
   (optim_scalars). */
void op_whole_steps(cl_runtime *rt, cl_kernel k, const op_whole_net *w, uint32_t n_steps, uint64_t first_step,
                    size_t first_start, int batch, size_t total_rows, cl_mem x_all, cl_mem y_all, cl_mem perm,
                    cl_mem hs, uint32_t hs_at);

#endif
