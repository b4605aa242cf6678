/* Fused narrow Linear layers (ops_fused.h, kernels/fused_linear.cl), both forms forced on
   this device, against the double-precision references of refops.h and against the CLBlast
   path (ops_linear.c: GEMM + bias/activation kernel forward, bias backward + two GEMMs),
   on the edge shapes: widths 1, 5, 7, 16, 33, 64 as input and as output, batches
   1, 2, 31, 32, 33, 1024, every epilogue kind (with and without dropout).

   Tolerances, all relative with an absolute floor of 1 (the outputs and gradients are sums
   of up to 64 (forward, dx) or 1024 (dW, db) products of O(1) values, whose float rounding
   is relative to the summands, not to a possibly cancelled total):
   - against the reference: forward 1e-5, gradients 1e-4, as tests/test_ops_linear.c holds
     the CLBlast path to (a float sum of n terms is within about n * 6e-8 of its summands'
     magnitude in the worst case and sqrt(n) * 6e-8 typically; 1e-5 leaves room for 64
     terms, 1e-4 for 1024 summed in blocks of 32);
   - against the CLBlast path: twice those (each path within its bound of the exact value;
     CLBlast sums in its own blocked order, so bits differ);
   - dh (the epilogue's backward written over dz) 1e-4 with floor 1e-2 as test_ops_linear
     (sigmoid/tanh derivatives come from the float output).
   Exact (bit) checks: a form run twice gives the same bits; with the CLBlast path's
   backward fed the fused forward's output, dh and db are bit-identical to the vector form
   of op_bias_act_backward (same per-element operations, same ROW_BLOCK order); the block
   sums (`part`) of an identity epilogue equal the host's float sums of the output's rows
   in row order. With dropout, the same kernels without the mask (evaluation) give the
   activation alone. The loss run inside the dW launch gives the bits of the loss kernel
   followed by the plain backward. */
#include <string.h>

#include "cl/runtime.h"
#include "devutil.h"
#include "ops/ops_fused.h"
#include "refops.h"

static const int widths_full[] = {1, 5, 7, 16, 33, 64};
static const int batches_full[] = {1, 2, 31, 32, 33, 1024};
/* For an interpreter (CLTRAIN_TEST_SMALL, the oclgrind stage): one column, a column
   count with vector tails (7), a full 32-wide tile and a second one (33), the widest layer
   (64); one row, a row block of 32 and a partial one (33), more rows than a GPU-form
   work-group of 64 (70). */
static const int widths_small[] = {1, 7, 33, 64};
static const int batches_small[] = {1, 33, 70};
#define widths (ref_small() ? widths_small : widths_full)
#define batches (ref_small() ? batches_small : batches_full)
#define N_W (ref_small() ? REF_COUNT_(widths_small) : REF_COUNT_(widths_full))
#define N_B (ref_small() ? REF_COUNT_(batches_small) : REF_COUNT_(batches_full))

static const op_epilogue epis[] = {
    {ACT_NONE, 0, 0, 0, 0, NULL},  {ACT_RELU, 0, 0, 0, 0, NULL},        {ACT_RELU, 0, 0.5f, 4, 77, NULL},
    {ACT_TANH, 0, 0, 0, 0, NULL},  {ACT_SIGMOID, 0, 0.25f, 9, 5, NULL}, {ACT_LEAKY_RELU, -0.2f, 0, 0, 0, NULL},
    {ACT_GELU, 0, 0, 0, 0, NULL},  {ACT_GELU, 0, 0.3f, 4, 13, NULL},
};
#define N_EPIS ((int)(sizeof epis / sizeof epis[0]))

/* Outputs of one run of a path: z, dh (over dz), grads (flat), dx, block sums. */
typedef struct {
  float *z, *dh, *grads, *dx, *part;
} outputs;

static void outputs_free(outputs *o) {
  free(o->z); free(o->dh); free(o->grads); free(o->dx); free(o->part);
  memset(o, 0, sizeof *o);
}

typedef struct {
  int rows, in, out;
  bool has_bias;
  size_t off, nx, nh, nw, nflat, nblocks;
  cl_mem x, flat, dz0;
  op_epilogue e;
} fcase;

/* Run the fused path: forward (with block sums), backward with dx. */
static void run_fused(cl_runtime *rt, const fused_linear *f, const fcase *c, outputs *o) {
  cl_mem z = rt_alloc(rt, c->nh * 4), dz = rt_alloc(rt, c->nh * 4), dx = rt_alloc(rt, c->nx * 4);
  cl_mem grads = rt_alloc(rt, c->nflat * 4), part = rt_alloc(rt, c->nblocks * c->out * 4);
  cl_mem saved = op_epilogue_needs_saved(&c->e) ? rt_alloc(rt, c->nh * 4) : NULL;
  rt_zero(rt, grads, 0, c->nflat * 4);
  CL_CHECK(&rt->err, clEnqueueCopyBuffer(rt->queue, c->dz0, dz, 0, 0, c->nh * 4, 0, NULL, NULL));
  const size_t w = c->off, b = c->off + c->nw;
  op_fused_forward(rt, f, c->rows, c->x, c->flat, w, c->has_bias, b, z, saved, part, &c->e);
  op_fused_backward(rt, f, c->rows, dz, saved ? saved : z, c->x, c->flat, w, grads, w, true, b, dx, &c->e, NULL);
  dev_check(rt, "fused launch");
  o->z = dev_download(rt, z, c->nh);
  o->dh = dev_download(rt, dz, c->nh);
  o->grads = dev_download(rt, grads, c->nflat);
  o->dx = dev_download(rt, dx, c->nx);
  o->part = dev_download(rt, part, c->nblocks * c->out);
  rt_release(&z); rt_release(&dz); rt_release(&dx); rt_release(&grads); rt_release(&part); rt_release(&saved);
}

/* The CLBlast path on the same inputs; with fz (the fused forward's output, NULL: its own),
   the backward starts from that forward instead (for the bit checks of dh and db). */
static void run_clblast(cl_runtime *rt, const ops_kernels *k, const fcase *c, const float *fz, outputs *o) {
  cl_mem h = rt_alloc(rt, c->nh * 4), dz = rt_alloc(rt, c->nh * 4), dx = rt_alloc(rt, c->nx * 4);
  cl_mem grads = rt_alloc(rt, c->nflat * 4);
  cl_mem saved = op_epilogue_needs_saved(&c->e) ? rt_alloc(rt, c->nh * 4) : NULL;
  rt_zero(rt, grads, 0, c->nflat * 4);
  CL_CHECK(&rt->err, clEnqueueCopyBuffer(rt->queue, c->dz0, dz, 0, 0, c->nh * 4, 0, NULL, NULL));
  const size_t w = c->off, b = c->off + c->nw;
  op_linear_forward(rt, c->rows, c->in, c->out, c->x, c->flat, w, h);
  /* without a bias, the epilogue over h + 0 (h itself up to the sign of a zero) */
  cl_mem zeros = rt_alloc(rt, (size_t)c->out * 4);
  rt_zero(rt, zeros, 0, (size_t)c->out * 4);
  op_bias_act_forward(rt, k, c->rows, c->out, h, c->has_bias ? c->flat : zeros, c->has_bias ? b : 0, h, saved,
                      &c->e);
  rt_release(&zeros);
  if (fz) rt_write(rt, h, 0, c->nh * 4, fz);
  const bool has_epi = c->e.act != ACT_NONE || op_epilogue_drops(&c->e);
  op_bias_act_backward(rt, k, c->rows, c->out, dz, saved ? saved : h, has_epi, grads, b, &c->e, NULL);
  op_linear_backward(rt, c->rows, c->in, c->out, dz, c->x, c->flat, w, grads, w, dx);
  o->z = dev_download(rt, h, c->nh);
  o->dh = dev_download(rt, dz, c->nh);
  o->grads = dev_download(rt, grads, c->nflat);
  o->dx = dev_download(rt, dx, c->nx);
  rt_release(&h); rt_release(&dz); rt_release(&dx); rt_release(&grads); rt_release(&saved);
}

static void one_case(cl_runtime *rt, const ops_kernels *k, const fused_linear *forms, int rows, int in,
                     int out, const op_epilogue *epi, bool has_bias) {
  const uint64_t step = 3;
  fcase c = {.rows = rows, .in = in, .out = out, .has_bias = has_bias, .off = 11, .e = *epi};
  c.nx = (size_t)rows * in;
  c.nh = (size_t)rows * out;
  c.nw = (size_t)out * in;
  c.nflat = c.off + c.nw + (size_t)out;
  c.nblocks = ((size_t)rows + OPS_ROW_BLOCK - 1) / OPS_ROW_BLOCK;
  float *x = xmalloc(c.nx * 4), *flat = xmalloc(c.nflat * 4), *dz = xmalloc(c.nh * 4);
  ref_fill(x, c.nx, c.nx + 1, -1, 1);
  ref_fill(flat, c.nflat, c.nw + 2, -1, 1);
  ref_fill(dz, c.nh, c.nh + 3, -1, 1);
  c.x = dev_upload(rt, x, c.nx * 4);
  c.flat = dev_upload(rt, flat, c.nflat * 4);
  c.dz0 = dev_upload(rt, dz, c.nh * 4);
  if (epi->drop_p > 0) {
    c.e.mask = rt_alloc(rt, c.nh);
    op_dropout_mask(rt, k, &c.e, (int)c.nh, step);
  }

  /* the reference */
  const float *W = flat + c.off, *b = has_bias ? flat + c.off + c.nw : NULL;
  double *h = xmalloc(c.nh * 8), *z = xmalloc(c.nh * 8), *dh = xmalloc(c.nh * 8);
  double *dW = xmalloc(c.nw * 8), *db = xmalloc((size_t)out * 8), *dx = xmalloc(c.nx * 8);
  double *part = xmalloc(c.nblocks * (size_t)out * 8);
  ref_linear(rows, in, out, x, W, b, h);
  for (size_t i = 0; i < c.nh; i++) {
    z[i] = ref_epi(&c.e, step, i, h[i]);
    dh[i] = ref_epi_back(&c.e, step, i, h[i], dz[i]);
  }
  ref_linear_back(rows, in, out, x, W, dh, dW, db, dx);
  memset(part, 0, c.nblocks * (size_t)out * 8);
  for (int i = 0; i < rows; i++)
    for (int o = 0; o < out; o++) part[(size_t)(i / OPS_ROW_BLOCK) * out + o] += h[(size_t)i * out + o];

  outputs cb = {0};
  run_clblast(rt, k, &c, NULL, &cb);
  const size_t wo = c.off, bo = c.off + c.nw;
  for (int form = 0; form < 2; form++) {
    const fused_linear *f = &forms[form];
    const char *fn = form ? "gpu" : "cpu";
    outputs fo = {0}, again = {0};
    run_fused(rt, f, &c, &fo);
    double ez = ref_max_err(fo.z, z, c.nh, 1.0), ew = ref_max_err(fo.grads + wo, dW, c.nw, 1.0);
    double eb = ref_max_err(fo.grads + bo, db, (size_t)out, 1.0), ex = ref_max_err(fo.dx, dx, c.nx, 1.0);
    double edh = ref_max_err(fo.dh, dh, c.nh, 1e-2), ep = ref_max_err(fo.part, part, c.nblocks * out, 1.0);
    CHECK(ez < 1e-5 && ep < 1e-5, "%s forward rows=%d in=%d out=%d act=%d p=%g: z %g part %g", fn, rows, in, out,
          c.e.act, c.e.drop_p, ez, ep);
    CHECK(ew < 1e-4 && eb < 1e-4 && ex < 1e-4 && edh < 1e-4,
          "%s backward rows=%d in=%d out=%d act=%d p=%g: dW %g db %g dx %g dh %g", fn, rows, in, out, c.e.act,
          c.e.drop_p, ew, eb, ex, edh);
    /* against the CLBlast path */
    double cz = 0, cw = 0, cb_ = 0, cx = 0;
    for (size_t i = 0; i < c.nh; i++) cz = fmax(cz, rel_err(fo.z[i], cb.z[i], 1.0));
    for (size_t i = 0; i < c.nw; i++) cw = fmax(cw, rel_err(fo.grads[wo + i], cb.grads[wo + i], 1.0));
    for (int i = 0; i < out; i++) cb_ = fmax(cb_, rel_err(fo.grads[bo + i], cb.grads[bo + i], 1.0));
    for (size_t i = 0; i < c.nx; i++) cx = fmax(cx, rel_err(fo.dx[i], cb.dx[i], 1.0));
    CHECK(cz < 2e-5 && cw < 2e-4 && cb_ < 2e-4 && cx < 2e-4,
          "%s vs CLBlast rows=%d in=%d out=%d act=%d p=%g: z %g dW %g db %g dx %g", fn, rows, in, out, c.e.act,
          c.e.drop_p, cz, cw, cb_, cx);
    /* the same form again: the same bits */
    run_fused(rt, f, &c, &again);
    CHECK(memcmp(fo.z, again.z, c.nh * 4) == 0 && memcmp(fo.dh, again.dh, c.nh * 4) == 0 &&
              memcmp(fo.grads, again.grads, c.nflat * 4) == 0 && memcmp(fo.dx, again.dx, c.nx * 4) == 0 &&
              memcmp(fo.part, again.part, c.nblocks * out * 4) == 0,
          "%s rows=%d in=%d out=%d: a second run differs", fn, rows, in, out);
    /* dh and db bit-identical to the column kernel's vector form on the same forward
       (leaky_relu < 0 saves the input, which the fused z does not give: skipped) */
    if (k->col_vec && !op_epilogue_needs_saved(&c.e)) {
      outputs same = {0};
      run_clblast(rt, k, &c, fo.z, &same);
      CHECK(memcmp(fo.dh, same.dh, c.nh * 4) == 0 && memcmp(fo.grads + bo, same.grads + bo, (size_t)out * 4) == 0,
            "%s rows=%d in=%d out=%d act=%d: dh/db not bit-identical to bias_act_backward_vec", fn, rows, in, out,
            c.e.act);
      outputs_free(&same);
    }
    /* block sums of an identity epilogue: the host's float row-order sums of z */
    if (c.e.act == ACT_NONE && !op_epilogue_drops(&c.e)) {
      bool same = true;
      for (size_t bl = 0; bl < c.nblocks; bl++)
        for (int o = 0; o < out; o++) {
          float p = 0.0f;
          for (size_t i = bl * OPS_ROW_BLOCK; i < (size_t)rows && i < (bl + 1) * OPS_ROW_BLOCK; i++)
            p += fo.z[i * out + o];
          same = same && memcmp(&p, &fo.part[bl * out + o], 4) == 0;
        }
      CHECK(same, "%s rows=%d in=%d out=%d: block sums differ from row-order float sums", fn, rows, in, out);
    }
    /* evaluation: the same kernels with the mask off give the activation alone */
    if (c.e.mask) {
      op_epilogue ev = c.e;
      ev.mask = NULL;
      cl_mem zb = rt_alloc(rt, c.nh * 4);
      op_fused_forward(rt, f, rows, c.x, c.flat, wo, has_bias, bo, zb, NULL, NULL, &ev);
      dev_check(rt, "fused evaluation forward");
      float *ze = dev_download(rt, zb, c.nh);
      double *za = xmalloc(c.nh * 8);
      for (size_t i = 0; i < c.nh; i++) za[i] = ref_act(c.e.act, c.e.slope, h[i]);
      double ee = ref_max_err(ze, za, c.nh, 1.0);
      CHECK(ee < 1e-5, "%s evaluation forward rows=%d in=%d out=%d act=%d: %g", fn, rows, in, out, c.e.act, ee);
      rt_release(&zb);
      free(ze);
      free(za);
    }
    outputs_free(&fo);
    outputs_free(&again);
  }
  outputs_free(&cb);
  rt_release(&c.x); rt_release(&c.flat); rt_release(&c.dz0); rt_release(&c.e.mask);
  free(x); free(flat); free(dz); free(h); free(z); free(dh); free(dW); free(db); free(dx); free(part);
}

/* The training loss run inside the dW launch (CPU form, out <= OPS_LOSS_SMALL_C) against
   the loss kernel followed by the plain backward: the same dz, gradients, dx and metrics,
   bit for bit. */
static void fused_loss_case(cl_runtime *rt, const ops_kernels *k, const fused_linear *f, int rows, const op_epilogue *epi) {
  const int in = f->in, out = f->out;
  op_epilogue e = *epi;
  const size_t nx = (size_t)rows * in, nh = (size_t)rows * out, np = (size_t)in * out + (size_t)out;
  float *x = xmalloc(nx * 4), *flat = xmalloc(np * 4);
  int32_t *y = xmalloc((size_t)rows * 4);
  ref_fill(x, nx, nx + 41, -2, 2);
  ref_fill(flat, np, np + 42, -1, 1);
  for (int i = 0; i < rows; i++) y[i] = (int32_t)((i * 3 + 2) % out);
  if (e.drop_p > 0) {
    e.mask = rt_alloc(rt, nh);
    op_dropout_mask(rt, k, &e, (int)nh, 6);
  }
  cl_mem bx = dev_upload(rt, x, nx * 4), bflat = dev_upload(rt, flat, np * 4), by = dev_upload(rt, y, (size_t)rows * 4);
  const size_t total = nh + np + nx + OPS_METRICS_WORDS;
  float *g[2];
  for (int fused = 0; fused < 2; fused++) {
    cl_mem bz = rt_alloc(rt, nh * 4), bdz = rt_alloc(rt, nh * 4), grads = rt_alloc(rt, np * 4);
    cl_mem bdx = rt_alloc(rt, nx * 4), bm = rt_alloc(rt, OPS_METRICS_WORDS * 4);
    cl_mem saved = op_epilogue_needs_saved(&e) ? rt_alloc(rt, nh * 4) : NULL;
    rt_zero(rt, bm, 0, OPS_METRICS_WORDS * 4);
    op_fused_forward(rt, f, rows, bx, bflat, 0, true, (size_t)in * out, bz, saved, NULL, &e);
    const op_loss loss = {bz, by, NULL, bm};
    if (!fused) op_softmax_xent(rt, k, rows, out, bz, by, NULL, bdz, bm, NULL);
    op_fused_backward(rt, f, rows, bdz, saved ? saved : bz, bx, bflat, 0, grads, 0, true, (size_t)in * out, bdx, &e,
                      fused ? &loss : NULL);
    dev_check(rt, "fused loss launch");
    g[fused] = xmalloc(total * 4);
    rt_read(rt, bdz, 0, nh * 4, g[fused]);
    rt_read(rt, grads, 0, np * 4, g[fused] + nh);
    rt_read(rt, bdx, 0, nx * 4, g[fused] + nh + np);
    rt_read(rt, bm, 0, OPS_METRICS_WORDS * 4, g[fused] + nh + np + nx);
    rt_release(&bz); rt_release(&bdz); rt_release(&grads); rt_release(&bdx); rt_release(&bm); rt_release(&saved);
  }
  CHECK(memcmp(g[0], g[1], total * 4) == 0, "rows=%d in=%d out=%d act=%d p=%g: loss fused into dW differs", rows, in,
        out, e.act, e.drop_p);
  rt_release(&bx); rt_release(&bflat); rt_release(&by); rt_release(&e.mask);
  free(x); free(flat); free(y); free(g[0]); free(g[1]);
}

/* Bad input: widths out of range (a usage error, the runtime stays usable) and an
   activation the kernels were not built for (latched in the runtime: checked on a runtime
   of its own). */
static void bad_input(cl_runtime *rt) {
  fused_linear f;
  error err = {0};
  CHECK(fused_linear_init(&f, rt, 65, 5, ACT_NONE, FUSED_FORM_AUTO, &err) == -1 && err.code == EXIT_USAGE &&
            strstr(err.msg, "65") != NULL,
        "width 65 accepted: %s", err.msg);
  error_clear(&err);
  CHECK(fused_linear_init(&f, rt, 4, 0, ACT_NONE, FUSED_FORM_AUTO, &err) == -1, "width 0 accepted");
  error_clear(&err);
  CHECK(!rt_failed(rt), "a refused width left the runtime failed: %s", rt->err.msg);
  cl_runtime own;
  dev_open(&own);
  CHECK(fused_linear_init(&f, &own, 4, 3, ACT_NONE, FUSED_FORM_CPU, &err) == 0, "4 -> 3: %s", err.msg);
  const op_epilogue relu = {ACT_RELU, 0, 0, 0, 0, NULL};
  cl_mem m = rt_alloc(&own, 64);
  op_fused_forward(&own, &f, 2, m, m, 0, true, 0, m, NULL, NULL, &relu);
  CHECK(rt_failed(&own) && own.err.code == EXIT_RUNTIME && strstr(own.err.msg, "activation") != NULL,
        "an activation the kernels were not built for was accepted");
  rt_release(&m);
  fused_linear_free(&f);
  rt_close(&own);
}

int main(void) {
  cl_runtime rt;
  dev_open(&rt);
  ops_kernels k;
  ops_init(&k, &rt);
  bad_input(&rt);
  int t = 0;
  for (int w = 0; w < N_W; w++)
    for (int dir = 0; dir < 2; dir++) {
      /* each width as input and as output, against a rotating partner width */
      const int other = widths[(w * 2 + dir + 1) % N_W];
      const int in = dir ? other : widths[w], out = dir ? widths[w] : other;
      const op_epilogue *e = &epis[t++ % N_EPIS];
      fused_linear forms[2];
      error err = {0};
      if (fused_linear_init(&forms[0], &rt, in, out, e->act, FUSED_FORM_CPU, &err) ||
          fused_linear_init(&forms[1], &rt, in, out, e->act, FUSED_FORM_GPU, &err)) {
        CHECK(0, "init %d -> %d: %s", in, out, err.msg);
        continue;
      }
      for (int b = 0; b < N_B; b++) one_case(&rt, &k, forms, batches[b], in, out, e, (b + w) % 3 != 0);
      CHECK(fused_linear_can_fuse_loss(&forms[0]) == (out <= OPS_LOSS_SMALL_C) && !fused_linear_can_fuse_loss(&forms[1]),
            "%d -> %d: which forms can run the loss", in, out);
      if (fused_linear_can_fuse_loss(&forms[0]))
        for (int b = 0; b < N_B; b++) fused_loss_case(&rt, &k, &forms[0], batches[b], e);
      fused_linear_free(&forms[0]);
      fused_linear_free(&forms[1]);
    }
  ops_free(&k);
  rt_close(&rt);
  return test_summary("test_ops_fused");
}
