/* CLBlast against the fused kernels per Linear stage (tune_paths.h). */
#include "study/tune_paths.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/rng.h"
#include "base/util.h"
#include "model/activation.h"
#include "net/net.h"
#include "ops/ops_fused.h"

/* The probe's model text: input, BatchNorm, the Linear, then the layers its stage takes
   in (an activation, a dropout) or, with neither, a BatchNorm that takes its bias. */
static void probe_text(const model_spec *m, int l, char *out, size_t n) {
  const layer_spec *L = &m->layers[l];
  size_t len = (size_t)snprintf(out, n, "input %d\nbatchnorm\nlinear %d\n", L->in, L->out);
  int j = l + 1;
  bool epilogue = false;
  if (j < m->n_layers && m->layers[j].kind == LAYER_ACTIVATION) {
    const act_info *a = act_info_of(m->layers[j].act);
    if (a->has_param) len += (size_t)snprintf(out + len, n - len, "%s %.9g\n", a->name, (double)m->layers[j].arg);
    else len += (size_t)snprintf(out + len, n - len, "%s\n", a->name);
    epilogue = true;
    j++;
  }
  if (j < m->n_layers && m->layers[j].kind == LAYER_DROPOUT) {
    len += (size_t)snprintf(out + len, n - len, "dropout %.9g\n", (double)m->layers[j].arg);
    epilogue = true;
    j++;
  }
  if (!epilogue && j < m->n_layers && m->layers[j].kind == LAYER_BATCHNORM)
    snprintf(out + len, n - len, "batchnorm\n");
}

/* STEPS probe steps: forward in training, loss, backward; the queue kept shallow as a
   training step's (net.h NET_QUEUE_STEPS) and drained at the end. Microseconds per step. */
static double probe_us(cl_runtime *rt, net *n, int batch, int steps, uint64_t *step) {
  double t0 = now_seconds();
  for (int i = 0; i < steps; i++) {
    ++*step;
    net_forward(n, batch, true, *step);
    net_loss(n, batch);
    net_backward(n, batch, *step);
    if (i % 16 == 15) rt_finish(rt);
  }
  rt_finish(rt);
  return (now_seconds() - t0) / steps * 1e6;
}

/* A probe net on PATH with a batch of random rows and labels in it. */
static net *probe_net(cl_runtime *rt, const model_spec *pm, int batch, net_gemm path, error *err) {
  net *n = net_create(rt, pm, batch, 1, path, err);
  if (!n) return NULL;
  const size_t in = (size_t)pm->input_width;
  float *x = xmalloc((size_t)batch * in * sizeof *x);
  int32_t *y = xmalloc((size_t)batch * sizeof *y);
  rng_state r;
  rng_seed(&r, 77, 0x7a9e);
  for (size_t i = 0; i < (size_t)batch * in; i++) x[i] = (float)rng_normal(&r);
  for (int i = 0; i < batch; i++) y[i] = (int32_t)rng_below(&r, (uint64_t)pm->output_width);
  net_set_batch_host(n, x, y, batch);
  free(x);
  free(y);
  return n;
}

int tune_path_measure(cl_runtime *rt, const model_spec *m, int layer, int batch, int reps, int rounds,
                      gemm_choice *out, error *err) {
  const layer_spec *L = &m->layers[layer];
  if (L->kind != LAYER_LINEAR || !fused_linear_fits(L->in, L->out))
    return ERR_USAGE(err, "%s layer %d is not a Linear with a fused form", m->name, layer + 1);
  char text[512];
  probe_text(m, layer, text, sizeof text);
  model_spec pm;
  if (model_parse(text, "tune probe", "probe", &pm, err)) return -1;
  net *nets[2] = {probe_net(rt, &pm, batch, NET_GEMM_CLBLAST, err), NULL};
  if (nets[0]) nets[1] = probe_net(rt, &pm, batch, NET_GEMM_FUSED, err);
  int rc = nets[1] ? 0 : -1;
  if (rc == 0 && (net_fused_stages(nets[0]) != 0 || net_fused_stages(nets[1]) != 1))
    rc = ERR_RUNTIME(err, "tune probe %dx%d: expected 0 and 1 fused stages, got %d and %d", L->in, L->out,
                     net_fused_stages(nets[0]), net_fused_stages(nets[1]));
  double best[2] = {INFINITY, INFINITY};
  uint64_t step = 0;
  for (int p = 0; p < 2 && rc == 0; p++) probe_us(rt, nets[p], batch, 2, &step); /* compiles; not timed */
  for (int round = 0; round < rounds && rc == 0; round++)
    for (int p = 0; p < 2; p++) best[p] = fmin(best[p], probe_us(rt, nets[p], batch, reps, &step));
  net_metrics met;
  for (int p = 0; p < 2; p++)
    if (nets[p]) {
      if (rc == 0 && net_take_metrics(nets[p], &met, NULL, err)) rc = -1;
      net_free(nets[p]);
    }
  model_free(&pm);
  if (rc) return -1;
  *out = (gemm_choice){L->in, L->out, batch, best[1] <= best[0] ? GEMM_PATH_FUSED : GEMM_PATH_CLBLAST, best[0],
                       best[1]};
  return 0;
}
