/* Activation functions: one table (model keyword, what the backward reads, the optional
   parameter) read by the model parser, the net planner and the kernel builder. The math is
   written once, in kernels/act_math.cl (ACT_FORWARD_<name>, ACT_BACKWARD_<name>); the
   kernel builder hands the table to every program as -DACT_LIST(X,M)=X(M,name,id,saves,gates)...
   and the kernels instantiate from it. To add an activation: its kind below, its row in
   activation.c, its math in kernels/act_math.cl. */
#ifndef CLTRAIN_ACTIVATION_H
#define CLTRAIN_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_GELU, ACT_COUNT } act_kind;

/* What the backward reads as its "saved" value. The values are passed to the kernels. */
typedef enum {
  ACT_SAVES_NOTHING = 0,       /* the identity: no activation */
  ACT_SAVES_OUTPUT = 1,        /* the gradient follows from the output */
  ACT_SAVES_INPUT = 2,         /* the gradient needs the input */
  ACT_SAVES_INPUT_IF_NEG = 3,  /* the input when the parameter is negative (leaky_relu: the
                                  sign of the output then no longer tells the input's) */
} act_saves;

typedef struct {
  const char *name;       /* model keyword and kernel-name part ("none": no keyword) */
  act_saves saves;
  bool has_param;         /* an optional number after the keyword */
  float default_param;    /* its value when not given */
  bool output_gates;      /* the output after dropout is > 0 exactly where the gradient
                             passes, so it can serve as the saved value (ReLU) */
} act_info;

/* The row of K; NULL out of range. */
const act_info *act_info_of(act_kind k);
/* The activation whose keyword is NAME (never ACT_NONE); -1 when none is. */
int act_find(const char *name);
/* Whether the backward of K with parameter PARAM reads the input rather than the output. */
bool act_saves_input(act_kind k, float param);
/* "relu, leaky_relu, ...": the keywords, for messages, into out (n bytes). */
void act_keyword_list(char *out, size_t n);

#endif
