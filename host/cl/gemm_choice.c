/* The per-shape GEMM path table (gemm_choice.h). */
#include "cl/gemm_choice.h"

#include <stddef.h>
#include <stdint.h>

static const char *const names[GEMM_PATH_COUNT] = {"none", "clblast", "fused"};

const char *gemm_path_name(gemm_path p) { return p >= 0 && p < GEMM_PATH_COUNT ? names[p] : NULL; }

/* How far batch size A is from B as the ratio hi / lo, kept as a fraction (exact). */
typedef struct {
  int64_t hi, lo;
} ratio;

static ratio distance(int a, int b) { return a > b ? (ratio){a, b} : (ratio){b, a}; }

gemm_path gemm_choice_lookup(const gemm_choices *c, int in, int out, int batch) {
  const gemm_choice *best = NULL;
  ratio best_d = {0, 1};
  for (int i = 0; i < c->n; i++) {
    const gemm_choice *e = &c->items[i];
    if (e->in != in || e->out != out || batch < 1 || e->batch < 1) continue;
    const ratio d = distance(e->batch, batch);
    const int64_t lhs = d.hi * best_d.lo, rhs = best_d.hi * d.lo; /* d < best_d when lhs < rhs */
    if (!best || lhs < rhs || (lhs == rhs && e->batch > best->batch)) best = e, best_d = d;
  }
  return best ? best->path : GEMM_PATH_NONE;
}
