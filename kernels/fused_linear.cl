/* Fused narrow Linear layers (host/ops/ops_fused.c): cltrain's own small GEMMs for widths
   up to 64, where a CLBlast call costs more in launch and host overhead than in arithmetic.
   Widths and activation are compile-time constants (one program per layer shape, like
   tiny-cuda-nn's templates); dropout is an argument (has_drop: the mask of
   kernels/dropout.cl, read only in training), so training and evaluation share a program:
     -D IN=  -D OUT=   the Linear's widths (1..64); W is OUT x IN row-major, y = x W^T + b
     -D ACT=           the epilogue's activation: an id of ACT_LIST, whose math is act_math.cl's
     -D ACT_IDENTITY=  the id of "none" (the input-gradient GEMM has no epilogue)
     -D FUSED_WG=      work-group size of the GPU forms (OPS_FUSED_WG, host/ops/ops_fused.h)
   (ROW_BLOCK, LOSS_SMALL_C and ACT_LIST come with every program, host/ops/ops_build.c.)
   Kernels, each in a CPU form (*_cpu: one work-item per ROW_BLOCK rows or per few outputs,
   the narrow matrix in private memory, explicit vectors, no barriers) and a GPU form (*_gpu:
   work-groups of FUSED_WG items, the matrix and the row tile in local memory):
     fused_fwd   z = epilogue(x W^T + b), optionally the per-ROW_BLOCK column sums of x W^T + b
     fused_dx    dx = dh W
     fused_dw    dh = epilogue_backward(dz) (written over dz), dW = dh^T x, db = column sums of dh
     fused_dw_loss_cpu   the same after the training loss (xent_vec.cl) wrote dz, and then
                 fused_dx's work: the whole backward of a net's last stage in one launch
   Every sum runs in a fixed order, so a form gives the same bits run to run on a device:
   the GEMM sums over k = 0, 1, ... in order and then adds the bias (the order of h + b in
   linear.cl); the row reductions (dW, db, block sums) go in row order inside blocks of
   ROW_BLOCK rows and then over the blocks in order, exactly as the column kernels of
   colvec.cl (so db, and a block sum that a BatchNorm adds up, are the colvec values). */
#include "colvec.cl"
#include "xent_vec.cl"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
/* CAT expands its arguments, and PoCL defines vload/vstore as macros: paste these names. */
#define VLD16 vload16
#define VLD8 vload8
#define VLD4 vload4
#define VLD1 vload1
#define VST16 vstore16
#define VST8 vstore8
#define VST4 vstore4
#define VST1 vstore1

/* Vector width of a row of IN or OUT floats: the narrowest of colvec's widths that holds it,
   16 for wider rows (which then take several vectors, the last one padded). */
#if OUT > 8
#define VWO 16
#elif OUT > 4
#define VWO 8
#elif OUT > 1
#define VWO 4
#else
#define VWO 1
#endif
#if IN > 8
#define VWI 16
#elif IN > 4
#define VWI 8
#elif IN > 1
#define VWI 4
#else
#define VWI 1
#endif
#define NVEC(N, VW) (((N) + (VW) - 1) / (VW))

/* The first COUNT floats at p in a vector of VW lanes, the rest 0 (never reads past p + COUNT). */
#define LOAD_PART(VW)                                                              \
  inline CAT(float, VW) CAT(load_part, VW)(__global const float *p, const uint count) { \
    float t[VW];                                                                   \
    for (uint l = 0; l < VW; l++) t[l] = l < count ? p[l] : 0.0f;                  \
    return CAT(VLD, VW)(0, t);                                                   \
  }
LOAD_PART(16)
LOAD_PART(8)
LOAD_PART(4)
LOAD_PART(1)

/* Arguments of the two GEMM kernels: rows x K input a, the K x N operand in params at b_off
   (stored [K][N], or [N][K] when transposed), bias (has_bias) at bias_off, rows x N output
   c, saved (store_saved) what the epilogue's backward reads, part (write_part) the
   ceil(rows / ROW_BLOCK) x N block sums of the pre-activation values. */
#define GEMM_PARAMS                                                                           \
  const int rows, __global const float *a, __global const float *params, const uint b_off,    \
      const int has_bias, const uint bias_off, __global float *c, __global float *saved,       \
      const int store_saved, __global float *part, const int write_part, const float slope,   \
      const int has_drop, const float drop_scale, __global const uchar *drop_mask

/* CPU form of c = epilogue(a B + bias): work-item g owns rows [g ROW_BLOCK, +ROW_BLOCK);
   B sits in a private array padded to whole vectors, a row of c is NVEC(N, VW) vectors
   accumulated over k in order. A row's last vector, when N does not fill it, goes through
   the scalar epilogue lane by lane (the mask and c must not be touched past the row). */
#define GEMM_CPU(NAME, K, N, VW, TRANS, A_, D_)                                               \
  GEMM_CPU_ROWS(CAT(NAME, _rows), K, N, VW, TRANS, A_, D_)                                     \
  __kernel void NAME(GEMM_PARAMS) {                                                          \
    const uint r0 = get_global_id(0) * ROW_BLOCK;                                             \
    if (r0 < (uint)rows) CAT(NAME, _rows)(GEMM_ARGS, r0);                                     \
  }
/* The rows [r0, r0 + ROW_BLOCK) of the CPU form, as FN (the kernel above is one call; the
   loss form of the dW kernel calls the input gradient's for every block of rows). */
#define GEMM_ARGS                                                                             \
  rows, a, params, b_off, has_bias, bias_off, c, saved, store_saved, part, write_part, slope, \
      has_drop, drop_scale, drop_mask
#define GEMM_CPU_ROWS(FN, K, N, VW, TRANS, A_, D_)                                            \
  inline void FN(GEMM_PARAMS, const uint r0) {                                                \
    const uint r1 = min(r0 + (uint)ROW_BLOCK, (uint)rows);                                    \
    const uint np = NVEC(N, VW) * VW;                                                         \
    float wp[K * NVEC(N, VW) * VW];                                                           \
    for (uint k = 0; k < K; k++)                                                              \
      for (uint n = 0; n < np; n++)                                                           \
        wp[k * np + n] = n >= N ? 0.0f : TRANS ? params[b_off + n * K + k] : params[b_off + k * N + n]; \
    CAT(float, VW) bias[NVEC(N, VW)], psum[NVEC(N, VW)];                                      \
    _Pragma("unroll") for (uint v = 0; v < NVEC(N, VW); v++) {                                                  \
      bias[v] = has_bias ? CAT(load_part, VW)(params + bias_off + v * VW, N - v * VW) : 0.0f; \
      psum[v] = 0.0f;                                                                         \
    }                                                                                         \
    for (uint r = r0; r < r1; r++) {                                                          \
      CAT(float, VW) acc[NVEC(N, VW)];                                                        \
      _Pragma("unroll") for (uint v = 0; v < NVEC(N, VW); v++) acc[v] = 0.0f;                                   \
      for (uint k = 0; k < K; k++) {                                                          \
        const float xk = a[r * K + k];                                                        \
        _Pragma("unroll") for (uint v = 0; v < NVEC(N, VW); v++) acc[v] += xk * CAT(VLD, VW)(0, wp + k * np + v * VW); \
      }                                                                                       \
      _Pragma("unroll") for (uint v = 0; v < NVEC(N, VW); v++) {                                                \
        const CAT(float, VW) h = has_bias ? acc[v] + bias[v] : acc[v];                        \
        psum[v] += h;                                                                         \
        const uint idx = r * N + v * VW;                                                      \
        if (v * VW + VW <= N) {                                                               \
          CAT(float, VW) s;                                                                   \
          const CAT(float, VW) z = CAT(epi_forward, VW)(A_, D_ && has_drop, slope, drop_scale, drop_mask, idx, h, &s); \
          CAT(VST, VW)(z, 0, c + idx);                                                     \
          if (store_saved) CAT(VST, VW)(s, 0, saved + idx);                                \
        } else {                                                                              \
          float t[VW];                                                                        \
          CAT(VST, VW)(h, 0, t);                                                           \
          for (uint l = 0; v * VW + l < N; l++) {                                             \
            float s;                                                                          \
            c[idx + l] = epi_forward1(A_, D_ && has_drop, slope, drop_scale, drop_mask, idx + l, t[l], &s); \
            if (store_saved) saved[idx + l] = s;                                              \
          }                                                                                   \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
    if (write_part) {                                                                         \
      __global float *p = part + (r0 / ROW_BLOCK) * N;                                        \
      _Pragma("unroll") for (uint v = 0; v < NVEC(N, VW); v++) {                                                \
        float t[VW];                                                                          \
        CAT(VST, VW)(psum[v], 0, t);                                                       \
        for (uint l = 0; l < VW && v * VW + l < N; l++) p[v * VW + l] = t[l];                 \
      }                                                                                       \
    }                                                                                         \
  }

/* GPU form of the same: work-group g owns rows [g ROW_BLOCK, +ROW_BLOCK); B and the group's
   rows of a are staged in local memory, each item computes output elements lid, lid + WG,
   ... of the row tile with the same order of operations as the CPU form. Remainders are
   written e - e / N * N: for a small constant N, clang turns e % N into a narrowed `freeze`
   instruction that Oclgrind's uninitialised-value checker cannot interpret (it then
   reports garbage downstream). */
#define GEMM_GPU(NAME, K, N, TRANS, A_, D_)                                                   \
  __kernel __attribute__((reqd_work_group_size(FUSED_WG, 1, 1))) void NAME(GEMM_PARAMS) {    \
    __local float ws[K * N], as[ROW_BLOCK * K], hs[ROW_BLOCK * N];                            \
    const uint lid = get_local_id(0), r0 = get_group_id(0) * ROW_BLOCK;                       \
    const uint nr = min((uint)ROW_BLOCK, (uint)rows - r0);                                    \
    for (uint e = lid; e < K * N; e += FUSED_WG)                                              \
      ws[e] = TRANS ? params[b_off + (e - e / N * N) * K + e / N] : params[b_off + e];        \
    for (uint e = lid; e < nr * K; e += FUSED_WG) as[e] = a[r0 * K + e];                      \
    barrier(CLK_LOCAL_MEM_FENCE);                                                             \
    for (uint e = lid; e < nr * N; e += FUSED_WG) {                                           \
      const uint rl = e / N, n = e - rl * N; /* not e % N: see above */                     \
      float acc = 0.0f;                                                                       \
      for (uint k = 0; k < K; k++) acc += as[rl * K + k] * ws[k * N + n];                     \
      const float h = has_bias ? acc + params[bias_off + n] : acc;                            \
      hs[e] = h;                                                                              \
      float s;                                                                                \
      const uint idx = r0 * N + e;                                                            \
      c[idx] = epi_forward1(A_, D_ && has_drop, slope, drop_scale, drop_mask, idx, h, &s);                \
      if (store_saved) saved[idx] = s;                                                        \
    }                                                                                         \
    if (write_part) {                                                                         \
      barrier(CLK_LOCAL_MEM_FENCE);                                                           \
      for (uint n = lid; n < N; n += FUSED_WG) {                                              \
        float p = 0.0f;                                                                       \
        for (uint rl = 0; rl < nr; rl++) p += hs[rl * N + n];                                 \
        part[get_group_id(0) * N + n] = p;                                                    \
      }                                                                                       \
    }                                                                                         \
  }

/* Forward: K = IN, N = OUT, B = W stored [OUT][IN] = transposed, with the epilogue (D_ 1:
   dropout when has_drop). */
GEMM_CPU(fused_fwd_cpu, IN, OUT, VWO, 1, ACT, 1)
GEMM_GPU(fused_fwd_gpu, IN, OUT, 1, ACT, 1)
/* Input gradient: K = OUT, N = IN, B = W as stored, no bias and no epilogue. */
GEMM_CPU(fused_dx_cpu, OUT, IN, VWI, 0, ACT_IDENTITY, 0)
GEMM_GPU(fused_dx_gpu, OUT, IN, 0, ACT_IDENTITY, 0)

/* Arguments of the weight-gradient kernels: dz (rows x OUT; dh written over it when
   write_dh), saved (what the forward saved, or any rows x OUT buffer when the activation
   needs none), x the forward's input (rows x IN), dW at grads[dw_off], db at grads[db_off]
   when has_db. */
#define DW_PARAMS                                                                             \
  const int rows, __global float *dz, __global const float *saved, const int write_dh,         \
      __global const float *x, __global float *grads, const uint dw_off, const int has_db,     \
      const uint db_off, const float slope, const int has_drop, const float drop_scale,         \
      __global const uchar *drop_mask

/* CPU form: work-item g owns outputs [g DW_OB, +DW_OB) and walks every row; x's row is
   loaded once per row for all of them. DW_OB keeps a block's accumulators at 4 float16 (8
   AVX2 registers; more spilled and ran 5-10x slower at batch 1024). Host copy:
   dw_outputs_per_item in host/ops/ops_fused.c. */
#define NVI NVEC(IN, VWI)
#define DW_OB (NVI >= 4 ? 1 : 4 / NVI)
#define DW_ARGS                                                                                   \
  rows, dz, saved, write_dh, x, grads, dw_off, has_db, db_off, slope, has_drop, drop_scale, drop_mask
inline void dw_cpu_outputs(DW_PARAMS, const uint o0) {
  CAT(float, VWI) tot[DW_OB][NVI], part[DW_OB][NVI];
  float dbt[DW_OB], dbp[DW_OB];
  _Pragma("unroll") for (uint j = 0; j < DW_OB; j++) {
    dbt[j] = 0.0f;
    _Pragma("unroll") for (uint v = 0; v < NVI; v++) tot[j][v] = 0.0f;
  }
  for (uint i0 = 0; i0 < (uint)rows; i0 += ROW_BLOCK) {
    const uint end = min(i0 + (uint)ROW_BLOCK, (uint)rows);
    _Pragma("unroll") for (uint j = 0; j < DW_OB; j++) {
      dbp[j] = 0.0f;
      _Pragma("unroll") for (uint v = 0; v < NVI; v++) part[j][v] = 0.0f;
    }
    for (uint r = i0; r < end; r++) {
      CAT(float, VWI) xr[NVI];
      _Pragma("unroll") for (uint v = 0; v < NVI; v++)
        xr[v] = v * VWI + VWI <= IN ? CAT(VLD, VWI)(0, x + r * IN + v * VWI)
                                    : CAT(load_part, VWI)(x + r * IN + v * VWI, IN - v * VWI);
      /* a guard, not a break: a loop with an early exit is not unrolled (clang warned
         "loop not unrolled" on every cold compile) */
      _Pragma("unroll") for (uint j = 0; j < DW_OB; j++) {
        if (o0 + j < OUT) {
          const uint idx = r * OUT + o0 + j;
          const float g = epi_backward1(ACT, has_drop, slope, drop_scale, drop_mask, idx, saved[idx], dz[idx]);
          if (write_dh) dz[idx] = g;
          dbp[j] += g;
          _Pragma("unroll") for (uint v = 0; v < NVI; v++) part[j][v] += g * xr[v];
        }
      }
    }
    _Pragma("unroll") for (uint j = 0; j < DW_OB; j++) {
      dbt[j] += dbp[j];
      _Pragma("unroll") for (uint v = 0; v < NVI; v++) tot[j][v] += part[j][v];
    }
  }
  for (uint j = 0; j < DW_OB && o0 + j < OUT; j++) {
    __global float *dw = grads + dw_off + (o0 + j) * IN;
    _Pragma("unroll") for (uint v = 0; v < NVI; v++) {
      float t[VWI];
      CAT(VST, VWI)(tot[j][v], 0, t);
      for (uint l = 0; l < VWI && v * VWI + l < IN; l++) dw[v * VWI + l] = t[l];
    }
    if (has_db) grads[db_off + o0 + j] = dbt[j];
  }
}

__kernel void fused_dw_cpu(DW_PARAMS) {
  const uint o0 = get_global_id(0) * DW_OB;
  if (o0 < OUT) dw_cpu_outputs(DW_ARGS, o0);
}

/* The same with the training loss first (the last stage of a net, OUT <= XENT_MAX_C
   classes): one work-item computes the loss of the stage's output into dz (xent_vec.cl,
   the code of the stand-alone loss kernel) and then every output group in turn. */
#if OUT <= XENT_MAX_C
/* ... and, when has_dx, the input gradient dx = dh W (W at params[w_off]) after it, block
   by block with the code of fused_dx_cpu (the same bits, one launch less a step). */
__kernel void fused_dw_loss_cpu(DW_PARAMS, __global const float *params, const uint w_off, __global float *dx,
                                const int has_dx LOSS_PARAMS_COMMA) {
  const int C = OUT;
  FUSED_LOSS;
  for (uint o0 = 0; o0 < OUT; o0 += DW_OB) dw_cpu_outputs(DW_ARGS, o0);
  if (has_dx)
    for (uint r0 = 0; r0 < (uint)rows; r0 += ROW_BLOCK)
      fused_dx_cpu_rows(rows, dz, params, w_off, 0, 0, dx, dx, 0, dx, 0, 0.0f, 0, 1.0f, drop_mask, r0);
}
#endif

/* GPU form: work-group o owns output o; per block of rows the items first turn the block's
   dz column into dh in local memory (so no item reads a dz another one has overwritten),
   then item j < IN adds that block into dW[o][j] in row order, and item 0 also into db. */
__kernel __attribute__((reqd_work_group_size(FUSED_WG, 1, 1))) void fused_dw_gpu(DW_PARAMS) {
  __local float gs[ROW_BLOCK];
  const uint o = get_group_id(0), j = get_local_id(0);
  float tot = 0.0f, dbt = 0.0f;
  for (uint i0 = 0; i0 < (uint)rows; i0 += ROW_BLOCK) {
    const uint nr = min((uint)ROW_BLOCK, (uint)rows - i0);
    if (j < nr) {
      const uint idx = (i0 + j) * OUT + o;
      const float g = epi_backward1(ACT, has_drop, slope, drop_scale, drop_mask, idx, saved[idx], dz[idx]);
      if (write_dh) dz[idx] = g;
      gs[j] = g;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float part = 0.0f, dbp = 0.0f;
    if (j < IN)
      for (uint l = 0; l < nr; l++) part += gs[l] * x[(i0 + l) * IN + j];
    if (j == 0)
      for (uint l = 0; l < nr; l++) dbp += gs[l];
    tot += part;
    dbt += dbp;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (j < IN) grads[dw_off + o * IN + j] = tot;
  if (j == 0 && has_db) grads[db_off + o] = dbt;
}
