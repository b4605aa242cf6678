/* Column kernels in vector form (CPU devices), shared by batchnorm.cl and linear.cl.

   A column kernel reduces every channel (column) of a rows x C block over the rows. On a
   CPU one work-item owns a group of VEC_GROUP neighbouring channels and walks the rows with
   explicit vector loads: a row's channels of the group are one contiguous floatN, so each
   channel is a SIMD lane and the loops need no barrier and no cooperation between items
   (PoCL runs a barrier-separated work-group region as a loop over its items, about 40
   cycles per row and region; here a row costs a few vector instructions). A group of 16
   channels runs as float16; a narrower last group as float8, float4 and single channels.
   Rows are summed in order inside each lane, in blocks of ROW_BLOCK, exactly as the
   scalar reference order (per lane the vector operations are the scalar ones).

   The bodies are written once for a width N through VEC_WIDTHS(MAKE), which instantiates
   MAKE(N) for N = 16, 8, 4, 1; floatN/vloadN/vstoreN/convert_intN of width 1 map to the
   scalar forms. The epilogue kind is a compile-time constant of each kernel (see
   EPILOGUE_VARIANTS in common.cl), so the row loops carry no branch on it. */
#ifndef COLVEC_CL
#define COLVEC_CL
#include "common.cl"

#define VEC_WIDTHS(MAKE) MAKE(16) MAKE(8) MAKE(4) MAKE(1)
/* VEC_GROUP comes from the host (OPS_VEC_GROUP) as -D; the bodies below split a group into
   vectors of 16, 8, 4 and 1. */
#if VEC_GROUP != 16
#error "VEC_GROUP_KERNEL splits groups of 16 channels"
#endif

typedef float float1;
typedef int int1;
typedef uchar uchar1;
#define vload1(o, p) ((p)[(o)])
#define vstore1(v, o, p) ((p)[(o)] = (v))
#define convert_int1 convert_int

/* Epilogue forward of N lanes at element idx (see epilogue_forward in common.cl). A and D:
   the activation and dropout flag, constants. */
#define VEC_EPILOGUE(N)                                                                         \
  inline float##N act_forward##N(const int act, const float slope, const float##N v) {         \
    ACT_LIST(ACT_FWD_CASE, _)                                                                   \
    return v;                                                                                   \
  }                                                                                             \
  inline float##N act_backward##N(const int act, const float slope, const float##N s,          \
                                  const float##N g) {                                           \
    ACT_LIST(ACT_BWD_CASE, _)                                                                   \
    return g;                                                                                   \
  }                                                                                             \
  inline float##N epi_forward##N(const int A, const int D, const float slope,                  \
                                 const float drop_scale, __global const uchar *drop_mask,      \
                                 const uint idx, const float##N v, float##N *saved) {          \
    const float##N a = act_forward##N(A, slope, v);                                            \
    *saved = act_saves_input(A, slope) ? v : a;                                                 \
    if (!D) return a;                                                                           \
    const int##N keep = convert_int##N(vload##N(0, drop_mask + idx)) != 0;                     \
    return keep ? a * drop_scale : (float##N)(0.0f);                                          \
  }                                                                                             \
  /* Gradient at the epilogue input. With ReLU (act_gates) and dropout the saved value is     \
     the output z itself (op_epilogue_needs_saved): z > 0 exactly when the element was kept   \
     and the ReLU passed it, so the mask is not read. */                                      \
  inline float##N epi_backward##N(const int A, const int D, const float slope,                 \
                                  const float drop_scale, __global const uchar *drop_mask,     \
                                  const uint idx, const float##N s, float##N g) {              \
    if (act_gates(A) && D) return s > 0.0f ? g * drop_scale : (float##N)(0.0f);               \
    if (D) {                                                                                    \
      const int##N keep = convert_int##N(vload##N(0, drop_mask + idx)) != 0;                   \
      g = keep ? g * drop_scale : (float##N)(0.0f);                                            \
    }                                                                                           \
    return act_backward##N(A, slope, s, g);                                                     \
  }
VEC_WIDTHS(VEC_EPILOGUE)

/* Kernel NAME_SUFFIX for every epilogue variant: work-item g runs BODY##N over the
   channels [16 g, min(16 g + 16, C)), widest vectors first. BODY##N takes the kernel's
   parameters (PARAMS/ARGS), then the first channel, A and D. PROLOGUE (a macro name; empty:
   NO_PROLOGUE) is a statement each item runs first. */
#define NO_PROLOGUE
#define VEC_GROUP_KERNEL(NAME, SUFFIX, A, D, PARAMS, ARGS, BODY, PROLOGUE)                     \
  __kernel void NAME##_##SUFFIX(PARAMS) {                                                      \
    uint c = get_global_id(0) * VEC_GROUP;                                                     \
    if (c >= (uint)C) return;                                                                   \
    PROLOGUE;                                                                                   \
    const uint end = min(c + VEC_GROUP, (uint)C);                                               \
    if (end - c == 16) {                                                                        \
      BODY##16(ARGS, c, A, D);                                                                  \
      return;                                                                                   \
    }                                                                                           \
    if (end - c >= 8) {                                                                         \
      BODY##8(ARGS, c, A, D);                                                                   \
      c += 8;                                                                                   \
    }                                                                                           \
    if (end - c >= 4) {                                                                         \
      BODY##4(ARGS, c, A, D);                                                                   \
      c += 4;                                                                                   \
    }                                                                                           \
    for (; c < end; c++) BODY##1(ARGS, c, A, D);                                                \
  }
#endif
