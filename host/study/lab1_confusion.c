/* The lab's confusion matrix and ROC curves: the best run's best.ckpt evaluated on the
   test split with the data set already in memory, through the path `cltrain test` takes
   too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cl/tuning.h"
#include "study/lab1.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/roc.h"

/* roc.csv and confusion.csv of the evaluated run into OUT_DIR. */
static int write_outputs(const char *out_dir, const lab1_confusion *out, const roc_curve roc[JSC_N_CLASSES],
                         error *err) {
  char path[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  if (make_dirs(out_dir, msg, sizeof msg)) return ERR_RUNTIME(err, "%s", msg);
  run_path(path, sizeof path, out_dir, "roc.csv");
  if (roc_write_csv(path, roc, err)) return -1;
  run_path(path, sizeof path, out_dir, "confusion.csv");
  return write_confusion(path, out->counts, err);
}

int lab1_evaluate_best(const train_config *cfg, const dataset *ds, const char *run_dir, const char *out_dir,
                       lab1_confusion *out, error *err) {
  memset(out, 0, sizeof *out);
  char path[RUN_PATH_MAX], msg[RUN_PATH_MAX + 256];
  run_path(path, sizeof path, run_dir, "best.ckpt");
  checkpoint ck;
  if (checkpoint_read(path, &ck, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  model_spec m;
  char origin[RUN_PATH_MAX + 32];
  snprintf(origin, sizeof origin, "model stored in %s", path);
  int rc = -1;
  if (model_parse(ck.model_text, origin, ck.model_name, &m, err)) {
    checkpoint_free(&ck);
    return -1;
  }
  cl_runtime rt;
  eval_result r;
  roc_curve roc[JSC_N_CLASSES];
  float *probs = xmalloc((ds->test.rows + 1) * JSC_N_CLASSES * sizeof(float));
  const bool opened =
      rt_open(&rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL, err) == 0;
  if (opened) tuning_apply_stored(&rt);
  if (opened && evaluate_checkpoint(&rt, &ck, &m, &ds->test, 1024, &r, probs, err) == 0) {
    out->have = true;
    snprintf(out->run_dir, sizeof out->run_dir, "%s", run_dir);
    snprintf(out->model, sizeof out->model, "%s", ck.model_name);
    memcpy(out->counts, r.confusion, sizeof out->counts);
    out->acc = r.acc;
    out->loss = r.loss;
    out->rows = r.count;
    roc_compute_all(probs, ds->test.y, ds->test.rows, roc);
    for (int c = 0; c < JSC_N_CLASSES; c++) out->auc[c] = roc[c].auc;
    rc = 0;
  }
  free(probs);
  if (opened) rt_close(&rt);
  model_free(&m);
  checkpoint_free(&ck);
  if (rc) return -1;
  rc = write_outputs(out_dir, out, roc, err);
  roc_free_all(roc);
  return rc;
}
