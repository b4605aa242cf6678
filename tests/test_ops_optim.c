/* The one-launch optimizer (kernels/optimizer.cl) against PyTorch's Adam, AdamW and SGD
   (momentum, Nesterov or not, weight decay) written out in double precision, over 5 steps
   with fresh gradients each step, for parameter counts from 1 to the largest zoo model.
   Tolerance: the parameter change since the start, and the optimizer state, within 1e-5
   relative error of the reference. Floors: lr for the change (the size of one step; a
   change summed over steps of both signs can cancel, while the float rounding of the
   parameter itself stays ~1e-7); 0.1 for the first moment / momentum buffer and 1e-2 for
   the second moment (gradients are O(1) and of random sign, so averages can cancel). */
#include "devutil.h"
#include "refops.h"

static void run(cl_runtime *rt, const ops_kernels *k, size_t n, optim_kind kind, float lr, float wd,
                bool nesterov) {
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
    op_optimizer_step(rt, k, n, bp, bg, bs, &o, step);
    ref_optim(&o, step, n, pr, gd, s1, s2);
    free(gd);
  }
  float *pg = dev_download(rt, bp, n), *sg = dev_download(rt, bs, 2 * n);
  double *dgot = xmalloc(n * 8), *dwant = xmalloc(n * 8);
  for (size_t i = 0; i < n; i++) {
    dgot[i] = (double)pg[i] - p0[i];
    dwant[i] = pr[i] - p0[i];
  }
  double ep = ref_max_err_dd(dgot, dwant, n, lr);
  double e1 = ref_max_err(sg, s1, n, 0.1), e2 = kind == OPTIM_SGD ? 0 : ref_max_err(sg + n, s2, n, 1e-2);
  CHECK(ep < 1e-5 && e1 < 1e-5 && e2 < 1e-5, "kind=%d n=%zu lr=%g wd=%g nesterov=%d: params %g state %g %g",
        kind, n, lr, wd, nesterov, ep, e1, e2);
  rt_release(&bp); rt_release(&bg); rt_release(&bs);
  free(p); free(g); free(pr); free(p0); free(s1); free(s2); free(pg); free(sg); free(dgot); free(dwant);
}

int main(void) {
  cl_runtime rt;
  rt_open(&rt, NULL, NULL);
  ops_kernels k;
  ops_init(&k, &rt);
  const size_t sizes[] = {1, 5, 64, 117, 1000, 3231, 5615};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    run(&rt, &k, n, OPTIM_ADAM, 0.05f, 0.0f, false);
    run(&rt, &k, n, OPTIM_ADAM, 0.05f, 0.01f, false);
    run(&rt, &k, n, OPTIM_ADAMW, 0.05f, 0.01f, false);
    run(&rt, &k, n, OPTIM_ADAMW, 0.05f, 0.0f, false);
    run(&rt, &k, n, OPTIM_SGD, 0.1f, 5e-4f, true);
    run(&rt, &k, n, OPTIM_SGD, 0.1f, 0.0f, false);
  }
  ops_free(&k);
  rt_close(&rt);
  return test_summary("test_ops_optim");
}
