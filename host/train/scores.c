#include "train/scores.h"

#include <math.h>

void softmax_rows(const float *logits, size_t rows, int k, float *probs) {
  for (size_t i = 0; i < rows; i++) {
    const float *z = logits + i * (size_t)k;
    float *p = probs + i * (size_t)k;
    double mx = z[0], sum = 0;
    for (int c = 1; c < k; c++) mx = z[c] > mx ? z[c] : mx;
    for (int c = 0; c < k; c++) sum += exp((double)z[c] - mx);
    for (int c = 0; c < k; c++) p[c] = (float)(exp((double)z[c] - mx) / sum); /* z read before p is written */
  }
}
