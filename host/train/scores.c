#include "train/scores.h"

#include <math.h>
#include <string.h>

void evaluate_split_scores(net *n, const device_split *s, int batch, eval_result *out, float *logits) {
  memset(out, 0, sizeof *out);
  net_metrics m;
  net_take_metrics(n, &m, NULL); /* start from clean accumulators */
  int k = JSC_N_CLASSES;
  for (size_t start = 0; start < s->rows; start += (size_t)batch) {
    size_t left = s->rows - start;
    int b = left < (size_t)batch ? (int)left : batch;
    net_set_batch(n, s->x, s->y, NULL, start, b);
    net_eval_batch(n, b);
    /* A blocking read per batch: the logits buffer is reused by the next batch. */
    net_read_output(n, logits + start * (size_t)k, b);
  }
  net_take_metrics(n, &m, out->confusion);
  out->count = m.count;
  out->correct = m.correct;
  out->loss = m.count ? m.loss_sum / (double)m.count : 0.0;
  out->acc = m.count ? (double)m.correct / (double)m.count : 0.0;
}

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
