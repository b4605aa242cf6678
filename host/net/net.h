/* A network on the device: one flat parameter buffer (and matching gradient and
   optimizer-state buffers), every activation buffer sized for max_batch, allocated once.
   A training step is: gather the batch from the device-resident data set, forward,
   softmax cross-entropy (loss and correct count accumulate on the device), backward,
   one optimizer launch. Nothing here blocks on the host except net_take_metrics and the
   state read/write used by checkpoints and tests; train steps and evaluation batches only
   keep the queue at most ~16 steps deep (waiting for a step 16 steps old, which leaves
   the device busy), because very long queues slow PoCL down.
   Errors: everything that only enqueues records a failure in the runtime (cl/runtime.h)
   and returns nothing; the blocking calls (metrics, state and output reads) return 0, or
   -1 with the runtime's first error copied into err (err may be NULL).
   Numerics follow PyTorch (the golden replay, tests/test_net_golden.c, holds them to it). */
#ifndef CLTRAIN_NET_H
#define CLTRAIN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl/runtime.h"
#include "model/model.h"
#include "net/net_gemm.h"
#include "ops/optimizer.h"

typedef struct net net;

/* Allocate everything for batches up to max_batch and initialise the parameters as
   PyTorch does (Linear W, b ~ U(-1/sqrt(in), 1/sqrt(in)); BatchNorm gamma 1, beta 0,
   running mean 0, running var 1) from a host RNG seeded by SEED. SEED also keys the
   dropout masks. NULL with err when the device fails or the sizes exceed the kernels'
   32-bit indices. The net has no optimizer until net_use_optimizer. GEMM: the engine of its
   Linear stages (net_gemm.h); both give PyTorch's numbers within float rounding, and each
   the same bits run to run. */
net *net_create(cl_runtime *rt, const model_spec *m, int max_batch, uint64_t seed, net_gemm gemm,
                error *err);
/* How many of the net's Linear stages run on the fused kernels, and whether model layer
   LAYER is a Linear whose stage does (a net may mix the paths: net_gemm.h). */
int net_fused_stages(const net *n);
bool net_layer_fused(const net *n, int layer);
void net_free(net *n);

/* Train with optimizer KIND: its kernels and its state (zero; optim_state_per_param floats
   per parameter). Replaces an earlier one. 0, or -1 with err. */
int net_use_optimizer(net *n, optim_kind kind, error *err);

/* Copy rows perm[start .. start+batch) of the device-resident data set (x_all:
   rows x in_width floats, y_all: int32 labels) into the net's input and label buffers.
   perm NULL means rows start .. start+batch in order. */
void net_set_batch(net *n, cl_mem x_all, cl_mem y_all, cl_mem perm, size_t start, int batch);
/* Same, from host memory (tests, golden files). */
void net_set_batch_host(net *n, const float *x, const int32_t *y, int batch);

/* One full training step on the current batch: forward in training mode (batch-norm batch
   statistics and running-stat update, dropout mask keyed by (seed, step, layer)), loss and
   accuracy accumulated on the device, backward, one optimizer launch. STEP counts from 1
   (Adam bias correction uses it); opt->kind must be the net_use_optimizer one. */
void net_train_step(net *n, int batch, const optim_config *opt, uint64_t step);

/* ---- The whole-network kernel (net_whole.c; README "--whole-net") ----
   One launch runs many training steps of the whole net (ops/ops_whole.h). AUTO: on CPU
   devices, when every Linear stage took the fused path (not under --gemm clblast or a
   stored CLBlast choice), for nets no wider than NET_WHOLE_AUTO_WIDTH whose
   Linear layers make at most NET_WHOLE_AUTO_WORK multiply-adds per step at the net's
   largest batch (one core then beats the per-stage kernels on all cores: BENCHMARKS.md);
   ON: wherever the net can (one process, at least one stage); OFF: never. Its numbers are PyTorch's within float
   rounding, like the per-stage path's, but not the same bits (other summation orders):
   each path gives the same bits run to run and however its steps are split into calls. */
typedef enum { NET_WHOLE_AUTO, NET_WHOLE_ON, NET_WHOLE_OFF, NET_WHOLE_COUNT } net_whole_mode;
#define NET_WHOLE_AUTO_WIDTH 64
#define NET_WHOLE_AUTO_WORK 3e6 /* jsc-trt at batch 1024: 3.0e6, 1.5x faster; jsc-s: 4.4e6, 0.85x */
/* Steps per launch (a launch of jsc-tiny at batch 32 is then about 0.5 ms: a signal or the
   queue bound waits no longer than that). */
#define NET_WHOLE_MAX_STEPS 64
const char *net_whole_name(net_whole_mode m); /* "auto", "on", "off"; NULL out of range */
int net_whole_parse(const char *name, net_whole_mode *out); /* 0, or -1: none of them */
/* Whether MODE puts this net's training steps in the whole-network kernel. */
bool net_whole_fits(const net *n, net_whole_mode mode);
/* Build the kernel for the net's optimizer (call after net_use_optimizer, and again after
   changing it) when net_whole_fits, else go back to per-stage steps. 0, or -1 with err. */
int net_use_whole(net *n, net_whole_mode mode, error *err);
bool net_whole_on(const net *n);
/* N_STEPS training steps: step k on rows START + k * BATCH .. of X_ALL / Y_ALL read through
   PERM (NULL: in order), cut at TOTAL_ROWS (the epoch's last batch may be short), as step
   FIRST_STEP + k. Through the whole-network kernel when the net has it, else
   net_set_batch + net_train_step per step. */
void net_train_steps(net *n, cl_mem x_all, cl_mem y_all, cl_mem perm, size_t start, int batch, size_t total_rows,
                     int n_steps, const optim_config *opt, uint64_t first_step);

/* Pieces of the step, for tests and for evaluation. */
void net_forward(net *n, int batch, bool training, uint64_t step);
void net_loss(net *n, int batch);      /* loss + dlogits + metric accumulation */
void net_backward(net *n, int batch, uint64_t step);
void net_optimizer_step(net *n, const optim_config *opt, uint64_t step);
/* Evaluation: forward in eval mode, then accumulate loss, correct count and the
   confusion matrix (rows: true class, columns: predicted). */
void net_eval_batch(net *n, int batch);

typedef struct {
  double loss_sum;      /* sum over samples since the last take */
  long correct;
  long count;
  double last_loss;     /* mean loss of the last batch */
  double last_acc;      /* accuracy of the last batch */
  double last_loss_sum; /* the last batch's loss sum, correct count and rows (data-parallel */
  long last_correct;    /* training adds them up over the processes) */
  long last_count;
} net_metrics;

/* ---- Data-parallel training (net_shard.c; README "Clusters") ----
   Several processes hold one copy of the net each and a contiguous part of every global
   batch. SUM adds N floats in place over all of them, every process getting the same bits
   (e.g. dist_sum_floats); CTX is its first argument. */
typedef struct {
  int (*sum)(void *ctx, float *buf, size_t n, error *err);
  void *ctx;
} net_reducer;
/* Train data-parallel through R from now on (builds the synchronised batch-norm kernels).
   0, or -1 with err. */
int net_use_reducer(net *n, const net_reducer *r, error *err);
/* net_train_step for this process's part of a global batch: the current batch (ROWS rows)
   is rows OFFSET .. OFFSET + ROWS - 1 of a global batch of GLOBAL_ROWS. Batch norm
   normalises with the global batch's statistics (synchronised), dropout draws the masks of
   the global rows, the loss gradient is divided by GLOBAL_ROWS, and the gradient buffer is
   summed over the processes (one SUM of all parameters) before the optimizer step, so the
   parameters stay identical everywhere. Collective: every process calls it with the same
   GLOBAL_ROWS and STEP; the SUMs happen even after a device failure (recorded as usual), so
   no process is left waiting. Metrics accumulate this process's rows only. */
void net_train_step_shard(net *n, int rows, int global_rows, size_t offset, const optim_config *opt,
                          uint64_t step);

/* Read the accumulated metrics (one blocking read) and reset the accumulators.
   confusion may be NULL; else n_classes*n_classes counts, also reset. */
int net_take_metrics(net *n, net_metrics *out, long *confusion, error *err);

/* net_take_metrics in two halves, so the device need not idle while the host writes a
   log row: net_metrics_snapshot enqueues a copy of the accumulators (the metrics of
   everything enqueued so far), resets them and starts reading the copy without waiting;
   more steps can be enqueued at once; net_metrics_wait then waits for the copy only and
   gives what net_take_metrics would have given at the snapshot. One snapshot at a time. */
typedef struct {
  uint32_t words[8];    /* OPS_METRICS_WORDS, read into here */
  void *event;          /* the read's cl_event */
  long count;
  int last_batch;
  bool active;
} net_metrics_pending;
void net_metrics_snapshot(net *n, net_metrics_pending *p);
int net_metrics_wait(net *n, net_metrics_pending *p, net_metrics *out, error *err);

/* Compile everything before the clock starts: one training step on the first rows of the
   device data set X_ALL/Y_ALL (ROWS rows) at each of TRAIN_BATCHES and one evaluation
   batch at each of EVAL_BATCHES (sizes above ROWS are skipped), then the state
   (parameters, running statistics, optimizer state) is restored exactly, so the run's
   results do not change. The metric accumulators are cleared: call it before the first
   step whose metrics count. 0, or -1 with err. */
int net_warm_up(net *n, cl_mem x_all, cl_mem y_all, size_t rows, const int *train_batches, int n_train,
                const int *eval_batches, int n_eval, const optim_config *opt, error *err);

/* Sizes in floats, and host copies of the whole state (checkpoints, tests). */
size_t net_param_count(const net *n);
size_t net_stats_count(const net *n);   /* BatchNorm running mean/var */
size_t net_optim_count(const net *n);   /* optimizer state (0 before net_use_optimizer) */
/* NULL pointers are skipped; optim needs net_use_optimizer first. */
int net_read_state(net *n, float *params, float *stats, float *optim, error *err);
int net_write_state(net *n, const float *params, const float *stats, const float *optim, error *err);
int net_read_grads(net *n, float *grads, error *err);              /* n_params floats */
int net_read_output(net *n, float *logits, int batch, error *err); /* batch x out_width */
/* The runtime's first error (code 0: none). */
const error *net_error(const net *n);

#endif
