/* Layer operations on the device: thin launchers over the kernels in kernels/ (*.cl files) plus the
   Linear GEMMs. Every launcher only enqueues (no host wait); a failure (OpenCL, CLBlast,
   or a size the kernels cannot index) is recorded in rt->err (cl/runtime.h) and makes the
   rest no-ops. Buffers are row-major rows x width blocks; parameter, gradient and
   statistic locations are element offsets into the flat buffers of host/net/net.c. The
   tests drive these one by one against plain-C references; host/net/ strings them into a
   network. */
#ifndef CLTRAIN_OPS_H
#define CLTRAIN_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl/gemm.h"
#include "cl/runtime.h"
#include "model/model.h"
#include "ops/optimizer.h"

/* What a fused kernel applies to its output: the activation, then dropout.
   drop_p == 0 means no dropout. With dropout, op_dropout_mask fills `mask` (one byte per
   element of the layer's rows x width block, 1 = keep) for the step, and the forward and
   backward kernels read it; kept elements are scaled by dropout_scale(p) =
   float(1 / (1 - p)) as PyTorch. Mask of element idx (row * width + column): word idx % 4
   of Philox4x32-10 at counter (idx / 4, drop_layer, step low, step high) under key
   (seed low, seed high); kept when that word >> 8 >= dropout_threshold(p). */
typedef struct {
  act_kind act;         /* model/activation.h */
  float slope;          /* the activation's parameter (leaky_relu's slope) */
  float drop_p;
  uint32_t drop_layer;  /* model layer index of the dropout layer */
  uint64_t seed;
  cl_mem mask;          /* max rows x width bytes; NULL without dropout */
} op_epilogue;

uint32_t dropout_threshold(float p);
float dropout_scale(float p);
/* Host reference of the device mask (tests, golden files). */
bool dropout_keep(uint64_t seed, uint64_t step, uint32_t layer, uint32_t idx, uint32_t threshold);
/* Whether the epilogue drops anything (p > 0 and a mask buffer). */
bool op_epilogue_drops(const op_epilogue *e);
/* Whether the epilogue's backward needs a buffer of its own (the output alone does not
   determine the activation's gradient: the activation saves its input, or dropout follows
   an activation whose output does not gate it (act_info.output_gates)). Otherwise the
   backward reads the output z as its saved value. */
bool op_epilogue_needs_saved(const op_epilogue *e);

/* Every kernel, built once (ops_init) with fixed local sizes so nothing compiles later. */
typedef struct {
  cl_kernel bias_act_fwd, bias_act_bwd;
  cl_kernel bn_train_fwd, bn_eval_fwd, bn_train_bwd;
  /* Vector form (col_vec): one kernel per activation kind and dropout flag of the
     epilogue, [act][drop] (EPILOGUE_VARIANTS, kernels/common.cl); NULL otherwise. */
  cl_kernel bias_act_bwd_v[ACT_COUNT][2], bn_train_fwd_v[ACT_COUNT][2], bn_train_bwd_v[ACT_COUNT][2];
  /* Synchronised batch norm of data-parallel training (ops_init_bn_sync; NULL before). */
  cl_kernel bn_sync_sum, bn_sync_fwd, bn_sync_bwd_sums, bn_sync_bwd_dx;
  cl_kernel pointwise_fwd, pointwise_bwd;
  cl_kernel dropout_mask, softmax_xent, softmax_xent_small, softmax_xent_vec, gather_rows;
  /* The optimizer's update, built by ops_init_optimizer for one optimizer (NULL before). */
  cl_kernel optimizer_step, optimizer_step_vec;
  optim_kind optimizer;
  bool optimizer_vec; /* the optimizer in float16 vectors, 16 parameters per work-item (CPUs) */
  bool vector_form;   /* the device gets the vector (CPU) forms: its type, or CLTRAIN_KERNEL_FORM */
  bool col_vec;    /* column kernels in vector form (one work-item per OPS_VEC_GROUP columns,
                      CPUs) rather than one work-group per column (GPUs); kernels/colvec.cl */
  size_t col_wg;   /* per-column reductions (bias gradient, batch norm): local size */
  bool loss_vec;   /* training loss with few classes in one vectorised work-item (CPUs) */
  size_t loss_wg;  /* the single work-group of the loss otherwise */
  size_t ew_wg;    /* element-wise kernels */
} ops_kernels;

/* Failures are recorded in rt->err (the kernels are then NULL). */
void ops_init(ops_kernels *k, cl_runtime *rt);
/* The program kernels/FILE built with the constants and tables every kernel expects, then
   the options EXTRA (ops_init uses it; tests build variants with it). */
cl_program ops_program(cl_runtime *rt, const char *file, const char *extra);
/* Constants the kernels share with the host: every program gets them as -D (ops_build.c),
   the kernels write none of them. */
#define OPS_VEC_GROUP 16 /* columns per work-item of the vector form (VEC_GROUP, colvec.cl) */
#define OPS_ROW_BLOCK 32 /* rows per partial sum of the column reductions (ROW_BLOCK, common.cl) */
/* Same with chosen local sizes for the reductions. col_wg 0: the device's default (a CPU:
   vector form; a GPU: a work-group of 64 per column); col_wg > 0:
   a work-group of col_wg per column. loss_wg 0: on a CPU one vectorised work-item for a
   training loss with few classes (else a group of 16), 256 on a GPU. The tests use
   it to cover both configurations on one device. */
void ops_init_local(ops_kernels *k, cl_runtime *rt, size_t col_wg, size_t loss_wg);
void ops_free(ops_kernels *k);
/* Build the update kernels of optimizer KIND (replacing any earlier one). */
void ops_init_optimizer(ops_kernels *k, cl_runtime *rt, optim_kind kind);
/* The column kernel for epilogue E: in vector form the variant of E's activation and
   dropout, else GENERIC. */
cl_kernel ops_col_kernel(const ops_kernels *k, cl_kernel generic,
                         cl_kernel const variants[ACT_COUNT][2], const op_epilogue *e);
/* Enqueue column kernel KK over C columns in the form ops_init chose. */
void ops_launch_cols_at(cl_runtime *rt, const ops_kernels *k, cl_kernel kk, int C, const char *file,
                        int line);
#define ops_launch_cols(rt, k, kk, C) ops_launch_cols_at((rt), (k), (kk), (C), __FILE__, __LINE__)

/* Where a batch's rows are read from: row i of the batch is row perm[start + i] of the
   source buffer (perm NULL: row start + i). A NULL op_rows pointer: row i of the buffer. */
typedef struct {
  cl_mem perm;
  size_t start;
} op_rows;

/* A training loss fused into the start of the last stage's backward kernel (see
   ops_can_fuse_loss): softmax cross-entropy of `logits` (the stage's output) against the
   labels (read through label_rows when not NULL), added to `metrics` like op_softmax_xent;
   its gradient becomes the kernel's dz. */
typedef struct {
  cl_mem logits, labels;
  const op_rows *label_rows;
  cl_mem metrics;
} op_loss;
/* Whether a backward kernel over C columns can run the loss first (the CPU vector forms,
   with C <= OPS_LOSS_SMALL_C: one work-item does it all). */
bool ops_can_fuse_loss(const ops_kernels *k, int C);
/* Internal to the ops_*.c files: the loss arguments of a vector-form backward kernel
   (loss NULL: none). */
void ops_arg_loss(karg_cursor *a, const op_loss *loss);

/* --- Linear (ops_linear.c) ---
   The GEMMs a Linear runs in a training step, in one place: the launchers below run them,
   cltrain bench and cltrain tune time them. */
typedef enum { LINEAR_GEMM_FORWARD, LINEAR_GEMM_DW, LINEAR_GEMM_DX, LINEAR_GEMM_COUNT } linear_gemm;
/* forward: h[rows][out] = x[rows][in] Wt[in][out]; dW[out][in] = dh^T x; dx[rows][in] = dh W */
gemm_shape linear_gemm_shape(linear_gemm which, size_t rows, size_t in, size_t out);
/* The GEMMs of layer L of M (a Linear) in a step of ROWS rows into out: forward, dW, and dX
   unless no layer before it has parameters (the net computes no input gradient there).
   Returns their count (2 or 3); 0 for another layer. */
int linear_step_gemms(const model_spec *m, int l, size_t rows, gemm_shape out[LINEAR_GEMM_COUNT]);

/* h = x W^T with W at params[w_off] ([out][in] row-major); bias added by
   op_bias_act_forward or by the following batch norm. */
void op_linear_forward(cl_runtime *rt, int rows, int in, int out, cl_mem x, cl_mem params,
                       size_t w_off, cl_mem h);
/* The same from the transposed weights Wt = W^T ([in][out]) at params_t[w_off]: a
   non-transposed GEMM, which CLBlast's kernels run faster than x W^T on CPUs. */
void op_linear_forward_t(cl_runtime *rt, int rows, int in, int out, cl_mem x, cl_mem params_t,
                         size_t w_off, cl_mem h);
/* dW = dh^T x into grads[dw_off]; dx = dh W when dx is not NULL. */
void op_linear_backward(cl_runtime *rt, int rows, int in, int out, cl_mem dh, cl_mem x,
                        cl_mem params, size_t w_off, cl_mem grads, size_t dw_off, cl_mem dx);
/* z = epilogue(h + b), b at params[bias_off]; h and z may be the same buffer. saved
   (NULL when op_epilogue_needs_saved is false) gets what the backward reads. */
void op_bias_act_forward(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem h,
                         cl_mem params, size_t bias_off, cl_mem z, cl_mem saved,
                         const op_epilogue *e);
/* dh = epilogue_backward(dz) written over dz when write_dh, and the bias gradient
   grads[db_off + c] = sum over rows of dh. saved: the forward's saved buffer, or z. loss
   (NULL: none; only where ops_can_fuse_loss): compute dz as the loss gradient first. */
void op_bias_act_backward(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem dz,
                          cl_mem saved, bool write_dh, cl_mem grads, size_t db_off,
                          const op_epilogue *e, const op_loss *loss);

/* --- BatchNorm1d (ops_batchnorm.c) --- */
typedef struct {
  int C;
  cl_mem params;
  size_t gamma_off, beta_off;
  bool has_bias;         /* add params[bias_off + c] to the input (the preceding Linear's bias) */
  size_t bias_off;
  cl_mem stats;          /* running mean at rm_off, running var at rv_off */
  size_t rm_off, rv_off;
  cl_mem batch_stats;    /* 2C floats: C means, then C values 1/sqrt(var + eps), for backward */
  float momentum, eps;   /* 0.1, 1e-5 */
} op_bn;

/* Training forward; row i of the input is read as x_rows says (NULL: row i of x), so a
   batch can be normalised straight out of the data set. */
void op_bn_train_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                         const op_rows *x_rows, cl_mem z, cl_mem saved, const op_epilogue *e);
/* Evaluation: running statistics; the epilogue's dropout is ignored. */
void op_bn_eval_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                        cl_mem z, const op_epilogue *e);
/* dz is overwritten with the gradient before the epilogue. dx may be NULL (no input
   gradient); with has_bias the bias gradient goes to grads[dbias_off + c]. x and x_rows as
   the forward's. loss (NULL: none; only where ops_can_fuse_loss): compute dz as the loss
   gradient first. */
void op_bn_train_backward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows,
                          cl_mem x, const op_rows *x_rows, cl_mem dz, cl_mem saved, cl_mem dx,
                          cl_mem grads, size_t dgamma_off, size_t dbeta_off, size_t dbias_off,
                          const op_epilogue *e, const op_loss *loss);

/* --- Synchronised BatchNorm1d (ops_bn_sync.c, kernels/batchnorm_sync.cl) ---
   Data-parallel training: each process holds ROWS of the GLOBAL_ROWS rows of a batch; the
   caller sums the partial sums over all processes between the launches (host/net/net_shard.c).
   Forward: op_bn_sync_sum (C sums of x + b) -> global mean -> op_bn_sync_sum with CENTER
   (C sums of squared deviations) -> global -> op_bn_sync_forward with gstats (C means, C
   sums of squares). Backward: op_bn_sync_backward_sums (2C: sum g, sum g xhat; dz becomes
   g) -> global -> op_bn_sync_backward_dx, which writes this process's parts of dgamma,
   dbeta and the bias gradient (LSUMS: its own sums) for the gradient all-reduce. */
void ops_init_bn_sync(ops_kernels *k, cl_runtime *rt);
void op_bn_sync_sum(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                    const op_rows *x_rows, cl_mem center, cl_mem out);
void op_bn_sync_forward(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, int global_rows,
                        cl_mem x, const op_rows *x_rows, cl_mem gstats, cl_mem z, cl_mem saved,
                        const op_epilogue *e);
void op_bn_sync_backward_sums(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, cl_mem x,
                              const op_rows *x_rows, cl_mem dz, cl_mem saved, cl_mem out, const op_epilogue *e);
void op_bn_sync_backward_dx(cl_runtime *rt, const ops_kernels *k, const op_bn *bn, int rows, int global_rows,
                            cl_mem x, const op_rows *x_rows, cl_mem gsums, cl_mem lsums, cl_mem dz, cl_mem dx,
                            cl_mem grads, size_t dgamma_off, size_t dbeta_off, size_t dbias_off);

/* --- Stand-alone activation / dropout (ops_pointwise.c), n elements --- */
void op_pointwise_forward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem x, cl_mem z,
                          cl_mem saved, const op_epilogue *e);
void op_pointwise_backward(cl_runtime *rt, const ops_kernels *k, int n, cl_mem dz, cl_mem saved,
                           cl_mem dx, const op_epilogue *e);
/* The dropout mask of e for STEP over n elements (no-op without dropout). */
#define OPS_DROP_PER_ITEM 32 /* mask bytes per work-item (-D DROP_PER_ITEM, kernels/dropout.cl) */
void op_dropout_mask(cl_runtime *rt, const ops_kernels *k, const op_epilogue *e, int n, uint64_t step);
/* The same for n elements that start at element OFFSET of the step's global batch (a
   data-parallel rank's rows: row offset x width): the mask bytes of elements offset ..
   offset + n - 1, so every rank drops what one process at the global batch drops. */
void op_dropout_mask_at(cl_runtime *rt, const ops_kernels *k, const op_epilogue *e, int n, size_t offset,
                        uint64_t step);

/* --- Softmax cross-entropy (ops_loss.c) ---
   Adds the batch's loss sum and correct count to the metrics buffer (OPS_METRICS_WORDS
   uint32 words, layout below); dlogits (NULL: none) = (softmax - onehot) / rows; the
   confusion matrix (NULL: none, else C*C uint32, row = true class) counts predictions.
   Row i's label is labels[i] or, with label_rows, read through it. */
enum {
  OPS_METRIC_LOSS_SUM = 0,     /* float bits */
  OPS_METRIC_LOSS_COMP = 1,    /* float bits, Neumaier compensation of the sum */
  OPS_METRIC_LAST_LOSS = 2,    /* float bits: loss sum of the last batch */
  OPS_METRIC_LAST_CORRECT = 3,
  OPS_METRIC_CORRECT_LO = 4,   /* 64-bit running correct count */
  OPS_METRIC_CORRECT_HI = 5,
  OPS_METRICS_WORDS = 8
};
#define OPS_LOSS_SMALL_C 8 /* training with up to this many classes runs kernels/loss.cl's small
                              form (-D LOSS_SMALL_C) */
void op_softmax_xent(cl_runtime *rt, const ops_kernels *k, int rows, int C, cl_mem logits,
                     cl_mem labels, const op_rows *label_rows, cl_mem dlogits, cl_mem metrics,
                     cl_mem confusion);
/* The same with dlogits = (softmax - onehot) / grad_rows: data-parallel training divides by
   the global batch's rows, of which this process holds ROWS. */
void op_softmax_xent_over(cl_runtime *rt, const ops_kernels *k, int rows, int grad_rows, int C, cl_mem logits,
                          cl_mem labels, const op_rows *label_rows, cl_mem dlogits, cl_mem metrics,
                          cl_mem confusion);
/* Internal to the ops_*.c files: the 3 row-source arguments (perm, start, use_perm). */
void ops_arg_rows(karg_cursor *a, const op_rows *r);

/* --- Optimizer (ops_optim.c): one launch over n parameters of the optimizer that
   ops_init_optimizer built (o->kind must be it); state holds
   optim_state_per_param(o->kind) * n floats ---
   With params_t and tmap (both NULL: none), every updated parameter i with
   tmap[i] != OPS_NO_MIRROR is also written to params_t[tmap[i]]: the net keeps the Linear
   weights transposed there for the forward GEMMs (see ops_weight_mirror_map). */
#define OPS_NO_MIRROR 0xffffffffu
#define OPS_OPT_VEC_WG 1    /* work-items per group of the optimizer's vector form */
#define OPS_OPT_PER_ITEM 16 /* parameters per work-item of that form (-D OPT_PER_ITEM) */
void op_optimizer_step(cl_runtime *rt, const ops_kernels *k, size_t n, cl_mem params, cl_mem grads,
                       cl_mem state, const optim_config *o, uint64_t step, cl_mem params_t,
                       cl_mem tmap);
/* The mirror map of model M (n_params entries): the weight W[o][j] of a Linear at w_off
   maps to w_off + j * out + o (W^T, [in][out], in the same place as W); every other
   parameter maps to OPS_NO_MIRROR. */
void ops_weight_mirror_map(const model_spec *m, uint32_t *tmap);

/* --- Batch gather (ops_gather.c): x[i] = x_all[perm[start + i]] (perm NULL: start + i) --- */
void op_gather(cl_runtime *rt, const ops_kernels *k, int rows, int W, cl_mem x_all, cl_mem y_all,
               cl_mem perm, size_t start, cl_mem x, cl_mem y);

/* Internal to the ops_*.c files: the 5 epilogue arguments. */
void ops_arg_epilogue(karg_cursor *a, const op_epilogue *e);

#endif
