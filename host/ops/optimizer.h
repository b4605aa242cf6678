/* Optimizers: one table (names, defaults, state size) and the scalars each update needs.
   The update itself is written once per optimizer in kernels/optimizer.cl, built per
   optimizer with -DOPT_<name>; ops_optim.c launches it with the scalars of optim_scalars.
   No OpenCL here: option parsing includes this header.
   To add an optimizer: its kind below, a row in optimizer.c's table (name, state size,
   defaults, scalars) and its update in kernels/optimizer.cl. */
#ifndef CLTRAIN_OPTIMIZER_H
#define CLTRAIN_OPTIMIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { OPTIM_ADAM, OPTIM_ADAMW, OPTIM_SGD, OPTIM_RMSPROP, OPTIM_COUNT } optim_kind;

typedef struct {
  optim_kind kind;
  float lr;            /* learning rate of this step (the scheduler sets it) */
  float weight_decay;  /* adamw: decoupled; every other optimizer: added to the gradient */
  float beta1, beta2, eps;  /* adam/adamw: 0.9, 0.999; eps (adam, adamw, rmsprop): 1e-8 */
  float alpha;              /* rmsprop: 0.99 (no momentum, not centered) */
  float momentum;           /* sgd: 0.9 */
  bool nesterov;            /* sgd: true */
} optim_config;

/* The scalars one update launch passes to the kernel (a float8 argument); what each slot
   means is the optimizer's own business (its row in optimizer.c, its update in
   kernels/optimizer.cl). */
#define OPTIM_SCALARS 8

/* Names in table order ("adam", ...); NULL for a kind out of range. */
const char *optim_kind_name(optim_kind k);
/* 0 and *out for a known NAME; -1 otherwise. */
int optim_kind_parse(const char *name, optim_kind *out);
/* "adam, adamw, sgd": the known names, for messages, into out (n bytes). */
void optim_kind_list(char *out, size_t n);
/* Floats of optimizer state per parameter (Adam: m and v, 2). */
int optim_state_per_param(optim_kind k);
/* Weight decay when the user gives none (MASE's SGD uses 5e-4; the others 0). */
double optim_default_weight_decay(optim_kind k);
/* Defaults as PyTorch/MASE for KIND, with the given learning rate and weight decay. */
void optim_config_default(optim_config *o, optim_kind kind, float lr, float weight_decay);
/* The kernel scalars of step STEP (counting from 1), computed in double where PyTorch
   computes them in double on the host (bias corrections, step size, decay factor). */
void optim_scalars(const optim_config *o, uint64_t step, float out[OPTIM_SCALARS]);

#endif
