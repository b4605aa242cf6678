/* The inside of a net (host/net*.c only). A model's layers are grouped into stages, each
   one fused launch (plus the GEMMs of a Linear): a head (Linear, BatchNorm, or nothing)
   followed by at most one activation and one dropout, which the head's kernel applies to
   its output. A Linear directly followed by a BatchNorm leaves its bias to the BatchNorm
   kernel (and gets its bias gradient from the BatchNorm backward). A Linear stage runs on
   CLBlast GEMMs plus the bias/activation kernels, or, where the net's --gemm choice puts it
   there (net_gemm_fused), on the fused kernels of ops_fused.h: GEMM and epilogue in one
   launch forward, one or two backward. */
#ifndef CLTRAIN_NET_INTERNAL_H
#define CLTRAIN_NET_INTERNAL_H

#include "net/net.h"
#include "ops/ops.h"
#include "ops/ops_fused.h"
#include "ops/ops_whole.h"

typedef enum { STAGE_LINEAR, STAGE_BATCHNORM, STAGE_POINTWISE } stage_kind;

/* The whole-network kernel of a net (net_whole.c); kernel NULL: steps run stage by stage. */
typedef struct {
  cl_kernel kernel;
  op_whole_net net;     /* its stage table, work and mask buffers, and the net's buffers */
  cl_mem hs;            /* optimizer scalars of steps hs_first .. hs_first + NET_WHOLE_TABLE - 1 */
  uint64_t hs_first;
  optim_config hs_opt;  /* the settings they were computed for */
  bool hs_valid;
} net_whole_state;

/* Steps per scalar table of the whole-network kernel (one blocking write each). */
#define NET_WHOLE_TABLE 4096

typedef struct {
  stage_kind kind;
  int layer;            /* model index of the head layer */
  int in, out;          /* widths */
  op_epilogue epi;      /* activation/dropout applied to the head's output */
  bool has_epi;
  bool bias_in_next;    /* Linear: its bias is added by the following BatchNorm stage */
  bool needs_dx;        /* an earlier stage has parameters: compute the input gradient */
  size_t w_off, b_off;  /* Linear: weights and bias in the flat parameter buffer */
  op_bn bn;             /* BatchNorm (with the preceding Linear's bias when it has one) */
  cl_mem in_buf;        /* forward input: the previous stage's output or the net input */
  cl_mem out_buf;       /* forward output (for a Linear also the GEMM result, in place) */
  cl_mem saved_buf;     /* what the epilogue backward reads: out_buf or own_saved */
  cl_mem own_saved;     /* separate buffer when op_epilogue_needs_saved */
  cl_mem dout_buf;      /* gradient at the output */
  cl_mem din_buf;       /* gradient at the input: the previous stage's dout_buf (or NULL) */
  bool fused_on;        /* Linear: runs on the fused kernels (net_gemm_fused), not CLBlast */
  fused_linear fused;   /* their programs, when fused_on */
  cl_mem sync_local, sync_global; /* BatchNorm in data-parallel training: 2C floats each
                                     (net_shard.c) */
} net_stage;

struct net {
  cl_runtime *rt;
  model_spec m;         /* copy of the layer table (text not owned) */
  int max_batch;
  uint64_t seed;
  net_gemm gemm;        /* engine of the Linear stages (net_gemm.h) */
  ops_kernels k;
  cl_mem params, grads, optim_state, stats;
  size_t optim_floats;  /* optimizer state (net_use_optimizer), 0 before */
  cl_mem params_t;      /* the Linear weights transposed (ops_weight_mirror_map), for the
                           forward GEMMs; the optimizer launch keeps it equal to params */
  cl_mem tmap;          /* the mirror map, n_params uint32 */
  cl_mem x, labels;     /* the current batch, when batch_in_x */
  /* The current batch as net_set_batch gave it: kernels that can (a first BatchNorm in
     training, the loss) read it in place from src_x / src_y through src_rows; it is copied
     into x / labels (net_batch_in_x) only when something else needs it there. */
  cl_mem src_x, src_y;
  op_rows src_rows;
  bool batch_in_x;
  cl_mem metrics;       /* OPS_METRICS_WORDS words, see ops.h */
  cl_mem metrics_copy;  /* the same, copied for net_metrics_snapshot (made at its first use) */
  cl_mem confusion;     /* classes x classes uint32 */
  net_stage stages[MODEL_MAX_LAYERS];
  int n_stages;
  cl_mem logits;        /* output of the last stage (x when there is none) */
  cl_mem dlogits;       /* gradient at the logits (last stage's dout_buf) */
  long count;           /* samples through the loss since the last take */
  int last_batch;
  cl_event marker;      /* end of the step NET_QUEUE_STEPS steps ago (see net_step.c) */
  int since_marker;
  /* Data-parallel training (net_shard.c): sharded while net_train_step_shard runs. */
  net_reducer reducer;
  bool sharded;
  int global_rows;      /* rows of the global batch */
  size_t row_offset;    /* where this process's rows start in it */
  float *sync_host;     /* host side of the sums: max(n_params, 2 x widest batch norm) floats */
  net_whole_state whole;
};

/* How many steps (or evaluation batches) may wait in the queue: PoCL slows down with very
   long queues (a trt step at batch 32 took 2.4 ms with 1000 steps queued against 1.05 ms
   with at most 50), so every NET_QUEUE_STEPS steps the host waits for the marker left
   NET_QUEUE_STEPS steps earlier; the device always has that many steps of work left. */
#define NET_QUEUE_STEPS 16

/* net.c: whether 1 <= batch <= max_batch; else an error naming WHAT in the runtime. */
bool net_check_batch(const net *n, int batch, const char *what);
/* net.c: make x / labels hold the current batch (one gather launch unless they do). */
void net_batch_in_x(net *n, int batch);
/* net_plan.c: group layers into stages and allocate their buffers. */
void net_plan_stages(net *n);
void net_free_stages(net *n);
/* net_shard.c: a batch norm stage's training forward / backward with statistics and sums
   over the global batch (n->sharded). */
void net_shard_bn_forward(net *n, net_stage *s, int batch, cl_mem in, const op_rows *rows, cl_mem saved,
                          const op_epilogue *e);
void net_shard_bn_backward(net *n, net_stage *s, int batch, cl_mem in, const op_rows *rows, cl_mem dx);
/* net_step.c: bound the queue after a step's (or a whole-net launch's) work. */
void net_throttle(net *n);
/* net_whole.c: release the whole-network kernel and its buffers. */
void net_free_whole(net *n);
/* net_init.c: PyTorch initialisation of parameters and running statistics. */
void net_init_params(const model_spec *m, uint64_t seed, float *params, float *stats);

#endif
