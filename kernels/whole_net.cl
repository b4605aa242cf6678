/* A whole narrow network's training steps in ONE launch (CPU devices): for each of n_steps
   consecutive batches of the epoch's permutation, the forward of every stage, the softmax
   cross-entropy, the backward and the optimizer update, in one work-item, with 16 rows of
   the batch in the 16 lanes of a float16. The design of tiny-cuda-nn's fully fused MLP for a
   CPU: the per-launch cost (2-4 us on PoCL, a dozen launches a step) is paid once per
   n_steps, and the activations stay in cache between the layers.

   The stages come from the host as a table (host/ops/ops_whole.h: one record of WS_WORDS
   words per stage, field indices WS_* and WS_NONE arrive as -D), the same stages as the
   per-stage kernels (host/net/net_plan.c): a Linear, a BatchNorm or a stand-alone
   activation/dropout, each with its epilogue, a Linear's bias left to a following BatchNorm
   (WS_BIAS). The optimizer's update is kernels/optimizer.cl's (built with -DOPT_<name>).

   Activations live in the work buffer in row blocks: element (row r, feature f) of a
   tensor F wide at ((r / 16) * F + f) * 16 + r % 16, so one vload16 reads a feature of 16
   rows. A batch that is not a multiple of 16 leaves lanes past its last row ("dead"): the
   forward fills them from the last row (finite values), every sum over rows masks them,
   and every gradient is zero there (the loss writes zero, the BatchNorm backward writes
   zero), so the weight-gradient sums need no mask. Every sum has a fixed order (blocks in
   order inside a lane, then the lanes as a fixed tree), so a launch gives the same bits every time,
   and n steps give the same bits whether they run in one launch or in several. */
#include "optimizer.cl"
#include "xent_vec.cl"

#define LANES 16u
#define LANE_IDS ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))

/* Feature f of row block b of a tensor F wide at region R (a __global float *). */
#define BLK(R, F, b, f) ((R) + ((b) * (F) + (f)) * LANES)

/* The 16 lanes summed as a fixed tree (lane l + lane l + 8, then l + 4, l + 2, l + 1): the
   one horizontal sum every row sum ends with. Through a private array, not the vectors'
   .lo/.hi halves, which crash Oclgrind 21.10's uninitialised-value check (the compiler
   makes the same shuffles of either). */
inline float lanes_sum(const float16 v) {
  float a[16];
  vstore16(v, 0, a);
  for (uint l = 0; l < 8; l++) a[l] += a[l + 8];
  for (uint l = 0; l < 4; l++) a[l] += a[l + 4];
  a[0] += a[2];
  a[1] += a[3];
  return a[0] + a[1];
}

/* One stage's record. */
typedef struct {
  uint kind, in, out, w_off, b_off, gamma, beta, rm, rv, bias, act, thr, layer;
  float slope, scale, momentum, eps;
  uint x_off, z_off, s_off, g_off, dx_off, bs_off, m_off;
} stage_rec;

inline stage_rec stage_at(__global const uint *plan, const uint i) {
  __global const uint *p = plan + i * WS_WORDS;
  stage_rec s;
  s.kind = p[WS_KIND];
  s.in = p[WS_IN];
  s.out = p[WS_OUT];
  s.w_off = p[WS_W_OFF];
  s.b_off = p[WS_B_OFF];
  s.gamma = p[WS_GAMMA];
  s.beta = p[WS_BETA];
  s.rm = p[WS_RM];
  s.rv = p[WS_RV];
  s.bias = p[WS_BIAS];
  s.act = p[WS_ACT];
  s.thr = p[WS_DROP_THR];
  s.layer = p[WS_DROP_LAYER];
  s.slope = as_float(p[WS_SLOPE]);
  s.scale = as_float(p[WS_DROP_SCALE]);
  s.momentum = as_float(p[WS_MOMENTUM]);
  s.eps = as_float(p[WS_EPS]);
  s.x_off = p[WS_X_OFF];
  s.z_off = p[WS_Z_OFF];
  s.s_off = p[WS_S_OFF];
  s.g_off = p[WS_G_OFF];
  s.dx_off = p[WS_DX_OFF];
  s.bs_off = p[WS_BS_OFF];
  s.m_off = p[WS_M_OFF];
  return s;
}

/* Philox4x32-10 on 16 counters (idx / 4, layer, step low, step high) under the run's key,
   as kernels/dropout.cl and host/base/rng.c: word w of counter c decides element 4c + w. */
inline void philox16(uint16 *c0, uint16 *c1, uint16 *c2, uint16 *c3, uint k0, uint k1) {
  for (int round = 0; round < 10; round++) {
    const uint16 hi0 = mul_hi(*c0, (uint16)(0xD2511F53u)), lo0 = *c0 * (uint16)(0xD2511F53u);
    const uint16 hi1 = mul_hi(*c2, (uint16)(0xCD9E8D57u)), lo1 = *c2 * (uint16)(0xCD9E8D57u);
    const uint16 n0 = hi1 ^ *c1 ^ (uint16)(k0);
    const uint16 n2 = hi0 ^ *c3 ^ (uint16)(k1);
    *c1 = lo1;
    *c3 = lo0;
    *c0 = n0;
    *c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

/* The dropout mask of stage s for this step: mask byte of (row r, feature f) = 1 (keep)
   when word (r * F + f) % 4 of the counter (r * F + f) / 4 has word >> 8 >= threshold: the
   masks of kernels/dropout.cl, element for element. With F a multiple of 4 the four
   features of one counter come from one Philox call. */
inline void make_mask(const stage_rec *s, const uint nb, const ulong step, const uint seed_lo,
                      const uint seed_hi, __global uchar *mask) {
  const uint F = s->out;
  const uint16 thr = (uint16)(s->thr);
  const uint16 c1 = (uint16)(s->layer), c2 = (uint16)((uint)step), c3 = (uint16)((uint)(step >> 32));
  __global uchar *m = mask + s->m_off;
  for (uint b = 0; b < nb; b++) {
    const uint16 row = (uint16)(b * LANES) + convert_uint16(LANE_IDS);
    if (F % 4u == 0u) {
      for (uint f = 0; f < F; f += 4) {
        uint16 a0 = (row * (uint16)(F) + (uint16)(f)) >> 2, a1 = c1, a2 = c2, a3 = c3;
        philox16(&a0, &a1, &a2, &a3, seed_lo, seed_hi);
        vstore16(convert_uchar16((a0 >> 8) >= thr) & (uchar16)(1), 0, BLK(m, F, b, f));
        vstore16(convert_uchar16((a1 >> 8) >= thr) & (uchar16)(1), 0, BLK(m, F, b, f + 1));
        vstore16(convert_uchar16((a2 >> 8) >= thr) & (uchar16)(1), 0, BLK(m, F, b, f + 2));
        vstore16(convert_uchar16((a3 >> 8) >= thr) & (uchar16)(1), 0, BLK(m, F, b, f + 3));
      }
      continue;
    }
    for (uint f = 0; f < F; f++) {
      const uint16 idx = row * (uint16)(F) + (uint16)(f);
      uint16 a0 = idx >> 2, a1 = c1, a2 = c2, a3 = c3;
      philox16(&a0, &a1, &a2, &a3, seed_lo, seed_hi);
      const uint16 w = idx & (uint16)(3);
      const uint16 word = w == (uint16)(0) ? a0 : w == (uint16)(1) ? a1 : w == (uint16)(2) ? a2 : a3;
      vstore16(convert_uchar16(word >> 8 >= thr) & (uchar16)(1), 0, BLK(m, F, b, f));
    }
  }
}

/* The epilogue of 16 rows of feature f of block b (colvec.cl's, whose mask index is the
   element's place in the row blocks here). The saved value is what the per-stage path
   keeps (op_epilogue_needs_saved): without a region of its own, the output z. */
inline float16 epi_forward_at(const stage_rec *s, __global const uchar *mask, const uint b, const uint f,
                              const float16 v, float16 *saved) {
  return epi_forward16((int)s->act, s->thr != 0u, s->slope, s->scale, mask + s->m_off, (b * s->out + f) * LANES, v,
                       saved);
}

inline float16 epi_backward_at(const stage_rec *s, __global const uchar *mask, const uint b, const uint f,
                               const float16 saved, const float16 g) {
  return epi_backward16((int)s->act, s->thr != 0u, s->slope, s->scale, mask + s->m_off, (b * s->out + f) * LANES,
                        saved, g);
}

/* Write z (and the saved value, when the stage keeps one) of feature f of block b. */
inline void epi_store(const stage_rec *s, __global float *work, __global const uchar *mask, const uint b,
                      const uint f, const float16 v) {
  float16 saved;
  const float16 z = epi_forward_at(s, mask, b, f, v, &saved);
  vstore16(z, 0, BLK(work + s->z_off, s->out, b, f));
  if (s->s_off != WS_NONE) vstore16(saved, 0, BLK(work + s->s_off, s->out, b, f));
}

/* Four outputs at a time share each load of the input (then the rest one by one); every
   output sums its inputs in order. */
inline void linear_forward(const stage_rec *s, const uint nb, __global const float *params, __global float *work,
                           __global const uchar *mask) {
  __global const float *x = work + s->x_off;
  const uint I = s->in, O = s->out;
  __global const float *W = params + s->w_off;
  for (uint b = 0; b < nb; b++) {
    uint o = 0;
    for (; o + 4 <= O; o += 4) {
      float16 a0 = (float16)(s->b_off != WS_NONE ? params[s->b_off + o] : 0.0f);
      float16 a1 = (float16)(s->b_off != WS_NONE ? params[s->b_off + o + 1] : 0.0f);
      float16 a2 = (float16)(s->b_off != WS_NONE ? params[s->b_off + o + 2] : 0.0f);
      float16 a3 = (float16)(s->b_off != WS_NONE ? params[s->b_off + o + 3] : 0.0f);
      for (uint i = 0; i < I; i++) {
        const float16 v = vload16(0, BLK(x, I, b, i));
        a0 += v * W[o * I + i];
        a1 += v * W[(o + 1) * I + i];
        a2 += v * W[(o + 2) * I + i];
        a3 += v * W[(o + 3) * I + i];
      }
      epi_store(s, work, mask, b, o, a0);
      epi_store(s, work, mask, b, o + 1, a1);
      epi_store(s, work, mask, b, o + 2, a2);
      epi_store(s, work, mask, b, o + 3, a3);
    }
    for (; o < O; o++) {
      float16 acc = (float16)(s->b_off != WS_NONE ? params[s->b_off + o] : 0.0f);
      for (uint i = 0; i < I; i++) acc += vload16(0, BLK(x, I, b, i)) * W[o * I + i];
      epi_store(s, work, mask, b, o, acc);
    }
  }
}

/* Batch statistics over the live rows, the running statistics, and the normalised output. */
inline void bn_forward(const stage_rec *s, const uint nb, const uint rows, const int16 live_last,
                       __global const float *params, __global float *stats, __global float *work,
                       __global const uchar *mask) {
  __global const float *x = work + s->x_off;
  const uint C = s->out;
  for (uint c = 0; c < C; c++) {
    const float bias = s->bias != WS_NONE ? params[s->bias + c] : 0.0f;
    float16 acc = (float16)(0.0f);
    for (uint b = 0; b < nb; b++) {
      const float16 v = vload16(0, BLK(x, C, b, c)) + bias;
      acc += b + 1 < nb ? v : select((float16)(0.0f), v, live_last);
    }
    const float mean = lanes_sum(acc) / (float)rows;
    acc = (float16)(0.0f);
    for (uint b = 0; b < nb; b++) {
      const float16 d = vload16(0, BLK(x, C, b, c)) + bias - mean;
      acc += b + 1 < nb ? d * d : select((float16)(0.0f), d * d, live_last);
    }
    const float invstd = bn_batch_stats(stats, s->rm, s->rv, work + s->bs_off, C, c, mean, lanes_sum(acc), (int)rows,
                                        s->momentum, s->eps, true);
    const float gamma = params[s->gamma + c], beta = params[s->beta + c];
    for (uint b = 0; b < nb; b++) {
      const float16 xhat = (vload16(0, BLK(x, C, b, c)) + bias - mean) * invstd;
      epi_store(s, work, mask, b, c, xhat * gamma + beta);
    }
  }
}

inline void pointwise_forward(const stage_rec *s, const uint nb, __global float *work, __global const uchar *mask) {
  for (uint b = 0; b < nb; b++)
    for (uint f = 0; f < s->out; f++) epi_store(s, work, mask, b, f, vload16(0, BLK(work + s->x_off, s->out, b, f)));
}

/* The gradient before the epilogue, in place of the gradient after it. */
inline void epi_backward_inplace(const stage_rec *s, const uint nb, __global float *work, __global const uchar *mask) {
  if (s->act == ACT_ID_NONE && s->thr == 0u) return;
  const uint F = s->out;
  __global const float *saved = work + (s->s_off != WS_NONE ? s->s_off : s->z_off);
  for (uint b = 0; b < nb; b++)
    for (uint f = 0; f < F; f++) {
      __global float *g = BLK(work + s->g_off, F, b, f);
      vstore16(epi_backward_at(s, mask, b, f, vload16(0, BLK(saved, F, b, f)), vload16(0, g)), 0, g);
    }
}

/* dW = g^T x and db = sum g over the rows: g is zero in dead lanes, so no sum needs a mask.
   Four weights at a time share each load of g; every sum runs over the blocks in order. */
inline void linear_weight_grads(const stage_rec *s, const uint nb, __global float *grads, __global const float *work) {
  __global const float *x = work + s->x_off, *g = work + s->g_off;
  const uint I = s->in, O = s->out;
  __global float *dW = grads + s->w_off;
  for (uint o = 0; o < O; o++) {
    uint i = 0;
    for (; i + 4 <= I; i += 4) {
      float16 a0 = (float16)(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (uint b = 0; b < nb; b++) {
        const float16 gv = vload16(0, BLK(g, O, b, o));
        a0 += gv * vload16(0, BLK(x, I, b, i));
        a1 += gv * vload16(0, BLK(x, I, b, i + 1));
        a2 += gv * vload16(0, BLK(x, I, b, i + 2));
        a3 += gv * vload16(0, BLK(x, I, b, i + 3));
      }
      dW[o * I + i] = lanes_sum(a0);
      dW[o * I + i + 1] = lanes_sum(a1);
      dW[o * I + i + 2] = lanes_sum(a2);
      dW[o * I + i + 3] = lanes_sum(a3);
    }
    for (; i < I; i++) {
      float16 acc = (float16)(0.0f);
      for (uint b = 0; b < nb; b++) acc += vload16(0, BLK(g, O, b, o)) * vload16(0, BLK(x, I, b, i));
      dW[o * I + i] = lanes_sum(acc);
    }
    if (s->b_off != WS_NONE) {
      float16 acc = (float16)(0.0f);
      for (uint b = 0; b < nb; b++) acc += vload16(0, BLK(g, O, b, o));
      grads[s->b_off + o] = lanes_sum(acc);
    }
  }
}

/* dx = g W, four inputs at a time sharing each load of g; each sums the outputs in order. */
inline void linear_input_grad(const stage_rec *s, const uint nb, __global const float *params, __global float *work) {
  __global const float *g = work + s->g_off, *W = params + s->w_off;
  const uint I = s->in, O = s->out;
  for (uint b = 0; b < nb; b++) {
    uint i = 0;
    for (; i + 4 <= I; i += 4) {
      float16 a0 = (float16)(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (uint o = 0; o < O; o++) {
        const float16 gv = vload16(0, BLK(g, O, b, o));
        a0 += gv * W[o * I + i];
        a1 += gv * W[o * I + i + 1];
        a2 += gv * W[o * I + i + 2];
        a3 += gv * W[o * I + i + 3];
      }
      vstore16(a0, 0, BLK(work + s->dx_off, I, b, i));
      vstore16(a1, 0, BLK(work + s->dx_off, I, b, i + 1));
      vstore16(a2, 0, BLK(work + s->dx_off, I, b, i + 2));
      vstore16(a3, 0, BLK(work + s->dx_off, I, b, i + 3));
    }
    for (; i < I; i++) {
      float16 acc = (float16)(0.0f);
      for (uint o = 0; o < O; o++) acc += vload16(0, BLK(g, O, b, o)) * W[o * I + i];
      vstore16(acc, 0, BLK(work + s->dx_off, I, b, i));
    }
  }
}

inline void linear_backward(const stage_rec *s, const uint nb, __global const float *params, __global float *grads,
                            __global float *work, __global const uchar *mask) {
  epi_backward_inplace(s, nb, work, mask);
  linear_weight_grads(s, nb, grads, work);
  if (s->dx_off != WS_NONE) linear_input_grad(s, nb, params, work);
}

/* As kernels/batchnorm.cl: dgamma = sum(g xhat), dbeta = sum(g), dx = gamma invstd (g -
   dbeta/N - xhat dgamma/N), and the preceding Linear's bias gradient sum(dx). */
inline void bn_backward(const stage_rec *s, const uint nb, const uint rows, const int16 live_last,
                        __global const float *params, __global float *grads, __global float *work,
                        __global const uchar *mask) {
  epi_backward_inplace(s, nb, work, mask);
  __global const float *x = work + s->x_off, *g = work + s->g_off, *bs = work + s->bs_off;
  const uint C = s->out;
  for (uint c = 0; c < C; c++) {
    const float bias = s->bias != WS_NONE ? params[s->bias + c] : 0.0f;
    const float mean = bs[c], invstd = bs[C + c];
    float16 sg = (float16)(0.0f), sgx = (float16)(0.0f);
    for (uint b = 0; b < nb; b++) {
      const float16 gv = vload16(0, BLK(g, C, b, c));
      sg += gv;
      sgx += gv * ((vload16(0, BLK(x, C, b, c)) + bias - mean) * invstd);
    }
    const float dbeta = lanes_sum(sg), dgamma = lanes_sum(sgx);
    grads[s->gamma + c] = dgamma;
    grads[s->beta + c] = dbeta;
    if (s->dx_off == WS_NONE && s->bias == WS_NONE) continue;
    const float n = (float)rows, k = params[s->gamma + c] * invstd;
    const float mean_g = dbeta / n, mean_gx = dgamma / n;
    float16 sd = (float16)(0.0f);
    for (uint b = 0; b < nb; b++) {
      const float16 xhat = (vload16(0, BLK(x, C, b, c)) + bias - mean) * invstd;
      float16 d = (vload16(0, BLK(g, C, b, c)) - mean_g - xhat * mean_gx) * k;
      if (b + 1 == nb) d = select((float16)(0.0f), d, live_last);
      if (s->dx_off != WS_NONE) vstore16(d, 0, BLK(work + s->dx_off, C, b, c));
      sd += d;
    }
    if (s->bias != WS_NONE) grads[s->bias + c] = lanes_sum(sd);
  }
}

inline void pointwise_backward(const stage_rec *s, const uint nb, __global float *work, __global const uchar *mask) {
  if (s->dx_off == WS_NONE) return;
  __global const float *saved = work + (s->s_off != WS_NONE ? s->s_off : s->z_off);
  for (uint b = 0; b < nb; b++)
    for (uint f = 0; f < s->out; f++) {
      const float16 g = vload16(0, BLK(work + s->g_off, s->out, b, f));
      vstore16(epi_backward_at(s, mask, b, f, vload16(0, BLK(saved, s->out, b, f)), g), 0,
               BLK(work + s->dx_off, s->out, b, f));
    }
}

/* Softmax cross-entropy of the last stage's output (K classes) against the labels, mean
   over the batch: the gradient (zero in dead lanes) into the last stage's output gradient,
   the batch's loss sum and correct count into the running metrics (xent_vec.cl). */
inline void loss_step(const stage_rec *last, const uint nb, const uint rows, const int16 live_last,
                      __global const int *y_all, __global const uint *perm, const uint start, const int use_perm,
                      __global float *work, __global uint *metrics) {
  const uint K = last->out;
  __global const float *z = work + last->z_off;
  __global float *dz = work + last->g_off;
  const float inv_n = 1.0f / (float)rows;
  float16 loss = (float16)(0.0f);
  int16 correct = (int16)(0);
  for (uint b = 0; b < nb; b++) {
    const int16 live = b + 1 < nb ? (int16)(-1) : live_last;
    int yv[16];
    for (uint l = 0; l < LANES; l++) yv[l] = y_all[batch_row(min(b * LANES + l, rows - 1u), perm, start, use_perm)];
    const int16 y = vload16(0, yv);
    float16 mx = vload16(0, BLK(z, K, b, 0));
    int16 arg = (int16)(0);
    for (uint j = 1; j < K; j++) {
      const float16 v = vload16(0, BLK(z, K, b, j));
      const int16 gt = v > mx; /* the first maximum, as argmax */
      mx = select(mx, v, gt);
      arg = select(arg, (int16)(j), gt);
    }
    float16 sum = (float16)(0.0f), zy = (float16)(0.0f);
    for (uint j = 0; j < K; j++) {
      const float16 v = vload16(0, BLK(z, K, b, j));
      const float16 e = exp(v - mx);
      vstore16(e, 0, BLK(dz, K, b, j));
      sum += e;
      zy = select(zy, v, y == (int16)(j));
    }
    const int16 valid = y >= (int16)(0) && y < (int16)(K);
    /* -log softmax(z)_y = log(sum exp(z - max)) - (z_y - max); a bad label poisons the loss */
    const float16 l16 = select((float16)(NAN), log(sum) - (zy - mx), valid);
    loss += select((float16)(0.0f), l16, live);
    correct += select((int16)(0), (int16)(1), valid && arg == y && live);
    const float16 inv_sum = 1.0f / sum;
    for (uint j = 0; j < K; j++) {
      __global float *d = BLK(dz, K, b, j);
      const float16 p = vload16(0, d) * inv_sum - select((float16)(0.0f), (float16)(1.0f), y == (int16)(j));
      vstore16(select((float16)(0.0f), p * inv_n, live), 0, d);
    }
  }
  int c[16];
  vstore16(correct, 0, c);
  uint total = 0;
  for (uint l = 0; l < LANES; l++) total += (uint)c[l];
  add_batch_metrics(lanes_sum(loss), total, metrics);
}

/* The first stage's input: rows perm[start ..] of the data set, in row blocks; dead lanes
   repeat the last row. Feature by feature across the 16 rows of a block, so the 16 rows'
   cache misses (random rows of a data set larger than the cache) are in flight together
   instead of one row after another. */
inline void gather_input(const uint in, const uint nb, const uint rows, __global const float *x_all,
                         __global const uint *perm, const uint start, const int use_perm, __global float *x0) {
  for (uint b = 0; b < nb; b++) {
    uint at[16];
    for (uint l = 0; l < LANES; l++) at[l] = batch_row(min(b * LANES + l, rows - 1u), perm, start, use_perm) * in;
    for (uint f = 0; f < in; f++) {
      float v[16];
      for (uint l = 0; l < LANES; l++) v[l] = x_all[at[l] + f];
      vstore16(vload16(0, v), 0, BLK(x0, in, b, f));
    }
  }
}

/* The optimizer update of every parameter (optimizer.cl), and the transposed copy of the
   Linear weights that the per-stage forward GEMMs read (mirror). */
inline void optimizer_all(const uint n, __global float *p, __global const float *grad, __global float *state,
                          const float8 h, __global float *pt, __global const uint *tmap, const int mirror) {
  uint i = 0;
  for (; i + LANES <= n; i += LANES)
    vstore16(opt_update16(vload16(0, p + i), vload16(0, grad + i), state, i, n, h), 0, p + i);
  for (; i < n; i++) p[i] = opt_update1(p[i], grad[i], state, i, n, h);
  for (uint j = 0; j < n && mirror; j++)
    if (tmap[j] != NO_MIRROR) pt[tmap[j]] = p[j];
}

/* n_steps steps: step k (0-based) trains on rows first_start + k * batch .. of the
   permutation (the last batch of an epoch may be short: total_rows ends it), is step
   first_step + k of the run (dropout counters), and takes the optimizer scalars hs[hs_at + k]. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void whole_net_steps(const uint n_steps, const ulong first_step, const uint first_start, const uint batch,
                     const uint total_rows, __global const float *x_all, __global const int *y_all,
                     __global const uint *perm, const int use_perm, __global const uint *plan, const uint n_stages,
                     __global float *params, __global float *grads, __global float *state, const uint n_params,
                     __global float *stats, __global float *pt, __global const uint *tmap, const int mirror,
                     __global const float8 *hs, const uint hs_at, const uint seed_lo, const uint seed_hi, __global float *work,
                     __global uchar *mask, __global uint *metrics) {
  const stage_rec first = stage_at(plan, 0), last = stage_at(plan, n_stages - 1u);
  for (uint k = 0; k < n_steps; k++) {
    const uint start = first_start + k * batch;
    const uint rows = min(batch, total_rows - start);
    const uint nb = (rows + LANES - 1u) / LANES;
    const int16 live_last = LANE_IDS < (int16)((int)(rows - (nb - 1u) * LANES));
    const ulong step = first_step + k;
    gather_input(first.in, nb, rows, x_all, perm, start, use_perm, work + first.x_off);
    for (uint i = 0; i < n_stages; i++) {
      const stage_rec s = stage_at(plan, i);
      if (s.thr != 0u) make_mask(&s, nb, step, seed_lo, seed_hi, mask);
      if (s.kind == WS_LINEAR) linear_forward(&s, nb, params, work, mask);
      else if (s.kind == WS_BATCHNORM) bn_forward(&s, nb, rows, live_last, params, stats, work, mask);
      else pointwise_forward(&s, nb, work, mask);
    }
    loss_step(&last, nb, rows, live_last, y_all, perm, start, use_perm, work, metrics);
    for (uint i = n_stages; i-- > 0;) {
      const stage_rec s = stage_at(plan, i);
      if (s.kind == WS_LINEAR) linear_backward(&s, nb, params, grads, work, mask);
      else if (s.kind == WS_BATCHNORM) bn_backward(&s, nb, rows, live_last, params, grads, work, mask);
      else pointwise_backward(&s, nb, work, mask);
    }
    optimizer_all(n_params, params, grads, state, hs[hs_at + k], pt, tmap, mirror);
  }
}
