#include "train/evaluate.h"

#include <string.h>

static void upload_split(cl_runtime *rt, const data_split *s, int n_features, device_split *out) {
  size_t xb = s->rows * (size_t)n_features * sizeof(float), yb = s->rows * sizeof(int32_t);
  out->rows = s->rows;
  out->x = rt_alloc(rt, xb ? xb : sizeof(float));
  out->y = rt_alloc(rt, yb ? yb : sizeof(int32_t));
  if (xb) rt_write(rt, out->x, 0, xb, s->x);
  if (yb) rt_write(rt, out->y, 0, yb, s->y);
}

void device_data_upload(cl_runtime *rt, const dataset *ds, device_data *out) {
  upload_split(rt, &ds->train, ds->n_features, &out->train);
  upload_split(rt, &ds->val, ds->n_features, &out->val);
  upload_split(rt, &ds->test, ds->n_features, &out->test);
}

void device_data_free(device_data *d) {
  device_split *s[3] = {&d->train, &d->val, &d->test};
  for (int i = 0; i < 3; i++) {
    rt_release(&s[i]->x);
    rt_release(&s[i]->y);
  }
}

int evaluate_split(net *n, const device_split *s, int batch, eval_result *out, float *logits, error *err) {
  return evaluate_rows(n, s, 0, s->rows, batch, out, logits, err);
}

int evaluate_rows(net *n, const device_split *s, size_t first, size_t count, int batch, eval_result *out,
                  float *logits, error *err) {
  memset(out, 0, sizeof *out);
  net_metrics m;
  if (net_take_metrics(n, &m, NULL, err) != 0) return -1; /* start from clean accumulators */
  for (size_t done = 0; done < count; done += (size_t)batch) {
    size_t left = count - done;
    int b = left < (size_t)batch ? (int)left : batch;
    net_set_batch(n, s->x, s->y, NULL, first + done, b);
    net_eval_batch(n, b);
    /* Blocking: the output buffer is reused by the next batch. */
    if (logits && net_read_output(n, logits + done * JSC_N_CLASSES, b, err) != 0) return -1;
  }
  if (net_take_metrics(n, &m, out->confusion, err) != 0) return -1;
  out->count = m.count;
  out->correct = m.correct;
  out->loss_sum = m.loss_sum;
  out->loss = m.count ? m.loss_sum / (double)m.count : 0.0;
  out->acc = m.count ? (double)m.correct / (double)m.count : 0.0;
  return 0;
}
