/* The optimizer table: PyTorch's single-tensor Adam, AdamW, SGD (MASE's settings) and
   RMSprop (PyTorch's defaults).
   Each row's scalars are read by the same optimizer's update in kernels/optimizer.cl. */
#include "ops/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  int state_per_param;
  double default_weight_decay;
  void (*scalars)(const optim_config *o, double t, float *s);
} optim_info;

/* adam, adamw: s0 weight_decay, s1 1 - lr * weight_decay (AdamW's decay factor), s2 beta2,
   s3 1 - beta1, s4 1 - beta2, s5 eps, s6 lr / (1 - beta1^t), s7 sqrt(1 - beta2^t). */
static void adam_scalars(const optim_config *o, double t, float *s) {
  const double lr = o->lr, b1 = o->beta1, b2 = o->beta2;
  s[0] = o->weight_decay;
  s[1] = (float)(1.0 - lr * (double)o->weight_decay);
  s[2] = o->beta2;
  s[3] = (float)(1.0 - b1);
  s[4] = (float)(1.0 - b2);
  s[5] = o->eps;
  s[6] = (float)(lr / (1.0 - pow(b1, t)));
  s[7] = (float)sqrt(1.0 - pow(b2, t));
}

/* sgd: s0 weight_decay, s1 momentum, s2 nesterov (0 or 1), s3 lr. */
static void sgd_scalars(const optim_config *o, double t, float *s) {
  (void)t;
  s[0] = o->weight_decay;
  s[1] = o->momentum;
  s[2] = o->nesterov ? 1.0f : 0.0f;
  s[3] = o->lr;
}

/* rmsprop: s0 weight_decay, s1 alpha, s2 1 - alpha, s3 eps, s4 lr. */
static void rmsprop_scalars(const optim_config *o, double t, float *s) {
  (void)t;
  s[0] = o->weight_decay;
  s[1] = o->alpha;
  s[2] = (float)(1.0 - (double)o->alpha);
  s[3] = o->eps;
  s[4] = o->lr;
}

static const optim_info table[OPTIM_COUNT] = {
    [OPTIM_ADAM] = {"adam", 2, 0.0, adam_scalars},
    [OPTIM_ADAMW] = {"adamw", 2, 0.0, adam_scalars},
    [OPTIM_SGD] = {"sgd", 1, 5e-4, sgd_scalars},
    [OPTIM_RMSPROP] = {"rmsprop", 1, 0.0, rmsprop_scalars},
};

static const optim_info *info(optim_kind k) {
  return (int)k >= 0 && k < OPTIM_COUNT ? &table[k] : NULL;
}

const char *optim_kind_name(optim_kind k) { return info(k) ? info(k)->name : NULL; }

int optim_kind_parse(const char *name, optim_kind *out) {
  for (int k = 0; k < OPTIM_COUNT; k++)
    if (strcmp(table[k].name, name) == 0) {
      *out = (optim_kind)k;
      return 0;
    }
  return -1;
}

void optim_kind_list(char *out, size_t n) {
  size_t len = 0;
  out[0] = '\0';
  for (int k = 0; k < OPTIM_COUNT && len < n; k++)
    len += (size_t)snprintf(out + len, n - len, "%s%s", k ? ", " : "", table[k].name);
}

int optim_state_per_param(optim_kind k) { return info(k) ? info(k)->state_per_param : 0; }

double optim_default_weight_decay(optim_kind k) { return info(k) ? info(k)->default_weight_decay : 0.0; }

void optim_config_default(optim_config *o, optim_kind kind, float lr, float weight_decay) {
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->lr = lr;
  o->weight_decay = weight_decay;
  o->beta1 = 0.9f;
  o->beta2 = 0.999f;
  o->eps = 1e-8f;
  o->momentum = 0.9f;
  o->nesterov = true;
  o->alpha = 0.99f;
}

void optim_scalars(const optim_config *o, uint64_t step, float out[OPTIM_SCALARS]) {
  for (int i = 0; i < OPTIM_SCALARS; i++) out[i] = 0.0f;
  if (info(o->kind)) info(o->kind)->scalars(o, (double)step, out);
}
