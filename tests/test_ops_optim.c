/* The one-launch optimizer (kernels/optimizer.cl) against PyTorch's Adam, AdamW, SGD
   (momentum, Nesterov or not, weight decay) and RMSprop (alpha 0.99, eps 1e-8, weight decay
   or not) written out in double precision, over 5 steps
   with fresh gradients each step, for parameter counts from 1 to the largest zoo model, in
   both kernel forms (vectors of 16 parameters per work-item, one parameter per work-item).
   Tolerance: the parameter change since the start, and the optimizer state, within 1e-5
   relative error of the reference. Floors: lr for the change (the size of one step, for
   RMSprop up to lr / sqrt(1 - alpha); a
   change summed over steps of both signs can cancel, while the float rounding of the
   parameter itself stays ~1e-7); 0.1 for the first moment / momentum buffer and 1e-2 for
   the second moment and RMSprop's square average (gradients are O(1) and of random sign,
   so averages can cancel). The state beyond the optimizer's size must stay untouched. */
#include <string.h>

#include "devutil.h"
#include "refops.h"

static void run(cl_runtime *rt, ops_kernels *k, size_t n, optim_kind kind, float lr, float wd,
                bool nesterov) {
  ops_init_optimizer(k, rt, kind);
  optim_config o;
  optim_config_default(&o, kind, lr, wd);
  o.nesterov = nesterov;
  float *p = xmalloc(n * 4), *g = xmalloc(n * 4);
  ref_fill(p, n, n + (size_t)kind, -1, 1);
  double *pr = ref_dup(p, n), *p0 = ref_dup(p, n), *s1 = xcalloc(n, 8), *s2 = xcalloc(n, 8);
  cl_mem bp = dev_upload(rt, p, n * 4), bg = rt_alloc(rt, n * 4), bs = rt_alloc(rt, 2 * n * 4);
  rt_zero(rt, bs, 0, 2 * n * 4);
  for (uint64_t step = 1; step <= 5; step++) {
    ref_fill(g, n, n * 10 + step, -1, 1);
    for (size_t i = 0; i < n; i += 7) g[i] = 0.0f;        /* zero gradients: no Adam step */
    for (size_t i = 3; i < n; i += 11) g[i] *= 1e-9f;     /* gradients below eps */
    double *gd = ref_dup(g, n);
    rt_write(rt, bg, 0, n * 4, g);
    op_optimizer_step(rt, k, n, bp, bg, bs, &o, step, NULL, NULL);
    ref_optim(&o, step, n, pr, gd, s1, s2);
    free(gd);
  }
  float *pg = dev_download(rt, bp, n), *sg = dev_download(rt, bs, 2 * n);
  double *dgot = xmalloc(n * 8), *dwant = xmalloc(n * 8);
  for (size_t i = 0; i < n; i++) {
    dgot[i] = (double)pg[i] - p0[i];
    dwant[i] = pr[i] - p0[i];
  }
  /* RMSprop's step is up to lr / sqrt(1 - alpha) = 10 lr whatever the gradient's size */
  const double step_size = kind == OPTIM_RMSPROP ? lr / sqrt(1.0 - (double)o.alpha) : lr;
  double ep = ref_max_err_dd(dgot, dwant, n, step_size);
  const int per_param = optim_state_per_param(kind);
  double e1 = ref_max_err(sg, s1, n, kind == OPTIM_RMSPROP ? 1e-2 : 0.1);
  double e2 = per_param == 1 ? 0 : ref_max_err(sg + n, s2, n, 1e-2);
  size_t beyond = 0; /* the buffer holds 2n floats; a one-float-per-parameter optimizer leaves n zero */
  for (size_t i = (size_t)per_param * n; i < 2 * n; i++) beyond += sg[i] != 0.0f;
  CHECK(beyond == 0, "kind=%d n=%zu: %zu state floats past the optimizer's size written", kind, n, beyond);
  CHECK(ep < 1e-5 && e1 < 1e-5 && e2 < 1e-5, "kind=%d n=%zu lr=%g wd=%g nesterov=%d: params %g state %g %g",
        kind, n, lr, wd, nesterov, ep, e1, e2);
  rt_release(&bp); rt_release(&bg); rt_release(&bs);
  free(p); free(g); free(pr); free(p0); free(s1); free(s2); free(pg); free(sg); free(dgot); free(dwant);
}

/* The mirror: after steps of the net's optimizer launch, the transposed copy of every
   Linear weight equals the weight bit for bit, and slots of params_t that no parameter
   maps to are left alone (a sentinel survives). */
static void mirror(cl_runtime *rt, ops_kernels *k, const char *model) {
  ops_init_optimizer(k, rt, OPTIM_ADAM);
  model_spec m;
  error e = {0};
  CHECK(model_load(model, &m, &e) == 0, "%s", e.msg);
  const size_t n = m.n_params;
  uint32_t *tmap = xmalloc(n * 4);
  ops_weight_mirror_map(&m, tmap);
  float *p = xmalloc(n * 4), *g = xmalloc(n * 4), *pt0 = xmalloc(n * 4);
  ref_fill(p, n, 7, -1, 1);
  for (size_t i = 0; i < n; i++) pt0[i] = -1234.5f;
  cl_mem bp = dev_upload(rt, p, n * 4), bg = rt_alloc(rt, n * 4), bs = rt_alloc(rt, 2 * n * 4);
  cl_mem bpt = dev_upload(rt, pt0, n * 4), bmap = dev_upload(rt, tmap, n * 4);
  rt_zero(rt, bs, 0, 2 * n * 4);
  optim_config o;
  optim_config_default(&o, OPTIM_ADAM, 0.01f, 0.0f);
  for (uint64_t step = 1; step <= 3; step++) {
    ref_fill(g, n, 100 + step, -1, 1);
    rt_write(rt, bg, 0, n * 4, g);
    op_optimizer_step(rt, k, n, bp, bg, bs, &o, step, bpt, bmap);
  }
  float *pg = dev_download(rt, bp, n), *ptg = dev_download(rt, bpt, n);
  size_t mapped = 0, bad = 0, touched = 0;
  bool *hit = xcalloc(n, 1);
  for (size_t i = 0; i < n; i++) {
    if (tmap[i] == OPS_NO_MIRROR) continue;
    mapped++;
    hit[tmap[i]] = true;
    if (memcmp(&ptg[tmap[i]], &pg[i], 4) != 0) bad++;
  }
  for (size_t i = 0; i < n; i++)
    if (!hit[i] && ptg[i] != -1234.5f) touched++;
  /* every weight of every Linear is mirrored, nothing else */
  size_t weights = 0;
  for (int l = 0; l < m.n_layers; l++)
    if (m.layers[l].kind == LAYER_LINEAR) weights += (size_t)m.layers[l].in * (size_t)m.layers[l].out;
  CHECK(mapped == weights && bad == 0 && touched == 0,
        "%s mirror: %zu of %zu weights mapped, %zu differ, %zu unmapped slots written", model, mapped, weights,
        bad, touched);
  rt_release(&bp); rt_release(&bg); rt_release(&bs); rt_release(&bpt); rt_release(&bmap);
  free(tmap); free(p); free(g); free(pt0); free(pg); free(ptg); free(hit);
  model_free(&m);
}

int main(void) {
  cl_runtime rt;
  dev_open(&rt);
  /* the device's form (on a CPU: 16 parameters per work-item in vectors), then the form of
     one work-item per parameter that GPUs run */
  for (int form = 0; form < 2; form++) {
    ops_kernels k;
    ops_init(&k, &rt);
    if (form == 1) k.optimizer_vec = false;
    const size_t sizes[] = {1, 5, 64, 117, 1000, 3231, 5615};
    /* the two largest only at full size: 117 and 1000 already leave a partial vector */
    const size_t n_sizes = sizeof sizes / sizeof sizes[0] - (ref_small() ? 2 : 0);
    for (size_t s = 0; s < n_sizes; s++) {
      size_t n = sizes[s];
      run(&rt, &k, n, OPTIM_ADAM, 0.05f, 0.0f, false);
      run(&rt, &k, n, OPTIM_ADAM, 0.05f, 0.01f, false);
      run(&rt, &k, n, OPTIM_ADAMW, 0.05f, 0.01f, false);
      run(&rt, &k, n, OPTIM_ADAMW, 0.05f, 0.0f, false);
      run(&rt, &k, n, OPTIM_SGD, 0.1f, 5e-4f, true);
      run(&rt, &k, n, OPTIM_SGD, 0.1f, 0.0f, false);
      run(&rt, &k, n, OPTIM_RMSPROP, 0.01f, 0.0f, false);
      run(&rt, &k, n, OPTIM_RMSPROP, 0.01f, 0.01f, false);
    }
    mirror(&rt, &k, "jsc-tiny");
    mirror(&rt, &k, "jsc-s");
    ops_free(&k);
  }
  rt_close(&rt);
  dev_check(&rt, "test_ops_optim");
  return test_summary("test_ops_optim");
}
