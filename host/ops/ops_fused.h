/* Fused narrow Linear layers (kernels/fused_linear.cl): cltrain's own small GEMMs for
   widths up to OPS_FUSED_MAX_WIDTH with the epilogue folded in, the alternative to the
   CLBlast GEMMs of ops_linear.c where a call's fixed cost dominates. Same conventions as
   ops.h: row-major blocks, W is out x in at params[w_off] (y = x W^T + b), element offsets
   into the flat parameter and gradient buffers, launchers only enqueue.

   One fused_linear per Linear layer: its program is specialised to the layer's widths and
   activation (-D through ops_program, cached by the runtime), in the CPU or the GPU form;
   dropout is decided per launch (training with a mask, evaluation without), as in the
   other ops.
   Errors are latched in the runtime as for every launcher of ops.h.
   Per step a stage costs one launch forward (op_fused_forward) and one or two backward
   (op_fused_backward: dW/db with the epilogue's backward, then dx when wanted; one when
   the loss runs inside, which computes dx in the same launch), against
   the CLBlast path's GEMM + bias/activation launch forward and bias backward + two GEMMs. */
#ifndef CLTRAIN_OPS_FUSED_H
#define CLTRAIN_OPS_FUSED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "ops/ops.h"

#define OPS_FUSED_MAX_WIDTH 64
#define OPS_FUSED_WG 64 /* work-group size of the GPU form (-D FUSED_WG, fused_linear.cl) */

/* CPU form: one work-item per 32 rows (or per few outputs of dW), the matrix in private
   memory and explicit vectors, no barriers (PoCL runs a work-group as a loop over its
   items, so barriers cost a pass over all of them). GPU form: work-groups of 64 items with
   the matrix and a row tile in local memory. AUTO: the GPU form on GPUs. */
typedef enum { FUSED_FORM_AUTO = 0, FUSED_FORM_CPU = 1, FUSED_FORM_GPU = 2 } fused_form;

typedef struct {
  int in, out;
  act_kind act;        /* the epilogue's activation, compiled in */
  fused_form form;     /* CPU or GPU, never AUTO after fused_linear_init */
  cl_kernel fwd, dx, dw;
  cl_kernel dw_loss;   /* fused_dw_loss_cpu: CPU form with out <= OPS_LOSS_SMALL_C, else NULL */
} fused_linear;

/* Whether a Linear in -> out has a fused form. */
bool fused_linear_fits(int in, int out);
/* Build (or take from rt's program cache) the kernels of a Linear in -> out whose output
   goes through activation ACT. 0, or -1 with err: a usage error for widths out of range
   (the runtime stays usable), else the runtime's error (the build failed). */
int fused_linear_init(fused_linear *f, cl_runtime *rt, int in, int out, act_kind act, fused_form form,
                      error *err);
void fused_linear_free(fused_linear *f);

/* z = epilogue(x W^T + b), b at params[bias_off] when has_bias (else no bias: a BatchNorm
   that follows adds it). saved (NULL when op_epilogue_needs_saved is false) gets what the
   backward reads. part (NULL: none): ceil(rows / OPS_ROW_BLOCK) x out floats, block
   b's column sums of x W^T + b over rows [32 b, 32 b + 32) in row order: the partial sums
   a following BatchNorm's mean adds up (kernels/colvec.cl order). E (NULL: none) must have
   the activation F was built for (else an error in rt->err). */
void op_fused_forward(cl_runtime *rt, const fused_linear *f, int rows, cl_mem x, cl_mem params,
                      size_t w_off, bool has_bias, size_t bias_off, cl_mem z, cl_mem saved,
                      cl_mem part, const op_epilogue *e);

/* From dz (the gradient at the epilogue's output): dh = epilogue_backward(dz), written over
   dz unless the epilogue is the identity (as op_bias_act_backward with write_dh); dW = dh^T x
   into grads[dw_off]; db = column sums of dh into grads[db_off] when has_db; dx = dh W when
   dx is not NULL. saved: the forward's saved buffer, or z. Sums over rows in order in blocks
   of 32, so db is bit-identical to op_bias_act_backward's vector form.
   loss (NULL: none; only where fused_linear_can_fuse_loss): the training loss of the
   stage's output first, its gradient written into dz, in the same launch as dW (as
   op_bias_act_backward's loss). */
void op_fused_backward(cl_runtime *rt, const fused_linear *f, int rows, cl_mem dz, cl_mem saved,
                       cl_mem x, cl_mem params, size_t w_off, cl_mem grads, size_t dw_off,
                       bool has_db, size_t db_off, cl_mem dx, const op_epilogue *e,
                       const op_loss *loss);
/* Whether op_fused_backward of F can run the training loss first (the CPU form, out <=
   OPS_LOSS_SMALL_C classes: one work-item does it all). */
bool fused_linear_can_fuse_loss(const fused_linear *f);

#endif
