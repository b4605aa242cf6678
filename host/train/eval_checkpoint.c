/* A checkpoint evaluated on one split (with the class probabilities of every row when
   asked), and its confusion matrix written: the one path `cltrain test`, `cltrain predict`
   and lab1 share (evaluate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "train/evaluate.h"
#include "train/scores.h"

int evaluate_checkpoint(cl_runtime *rt, const checkpoint *ck, const model_spec *m, const data_split *split,
                        long batch_size, eval_result *out, float *probs, error *err) {
  memset(out, 0, sizeof *out);
  if (split->rows == 0) return ERR_USAGE(err, "the split to evaluate is empty");
  if (m->output_width != JSC_N_CLASSES)
    return ERR_USAGE(err, "model %s has %d outputs; the JSC classes are %d", m->name, m->output_width, JSC_N_CLASSES);
  int batch = (size_t)batch_size < split->rows ? (int)batch_size : (int)split->rows;
  net *n = net_create(rt, m, batch, 0, err);
  if (!n) return -1;
  if (ck->n_params != net_param_count(n) || ck->n_stats != net_stats_count(n)) {
    net_free(n);
    return ERR_USAGE(err, "the checkpoint holds %zu parameters and %zu statistics, model %s needs %zu and %zu",
                     ck->n_params, ck->n_stats, m->name, net_param_count(n), net_stats_count(n));
  }
  /* Evaluation needs no optimizer state. */
  if (net_write_state(n, ck->params, ck->stats, NULL, err)) {
    net_free(n);
    return -1;
  }
  device_split dev;
  size_t xb = split->rows * JSC_N_FEATURES * sizeof(float), yb = split->rows * sizeof(int32_t);
  dev.rows = split->rows;
  dev.x = rt_alloc(rt, xb);
  dev.y = rt_alloc(rt, yb);
  rt_write(rt, dev.x, 0, xb, split->x);
  rt_write(rt, dev.y, 0, yb, split->y);
  int rc = evaluate_split(n, &dev, batch, out, probs, err);
  if (rc == 0 && probs) softmax_rows(probs, split->rows, JSC_N_CLASSES, probs);
  rt_release(&dev.x);
  rt_release(&dev.y);
  net_free(n);
  return rc;
}

int write_confusion(const char *path, const long counts[JSC_N_CLASSES * JSC_N_CLASSES], error *err) {
  char tmp[4096 + 8];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return ERR_USAGE(err, "path too long: %s", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return ERR_RUNTIME(err, "cannot write %s: %s", tmp, strerror(errno));
  fputs("class", f);
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, ",%s", jsc_class_names[p]);
  fputc('\n', f);
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    fputs(jsc_class_names[t], f);
    for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, ",%ld", counts[t * JSC_N_CLASSES + p]);
    fputc('\n', f);
  }
  const bool write_error = ferror(f) != 0;
  if (fclose(f) != 0 || write_error || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return ERR_RUNTIME(err, "cannot write %s: %s", path, e ? strerror(e) : "write error");
  }
  return 0;
}
