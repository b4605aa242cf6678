/* The lab's confusion matrix: the best run's best.ckpt evaluated on the test split with
   the data set already in memory, as `cltrain test` does from the command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "study/lab1.h"
#include "base/safe_file.h"
#include "base/util.h"

static int write_confusion(const char *path, const long *counts, char *err, size_t errlen) {
  char tmp[RUN_PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) return seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  fputs("class", f);
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, ",%s", jsc_class_names[p]);
  fputc('\n', f);
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    fputs(jsc_class_names[t], f);
    for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, ",%ld", counts[t * JSC_N_CLASSES + p]);
    fputc('\n', f);
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) return seterr(err, errlen, "cannot write %s: %s", path, strerror(errno));
  return 0;
}

int lab1_evaluate_best(const train_config *cfg, const dataset *ds, const char *run_dir, const char *out_dir,
                       lab1_confusion *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char path[RUN_PATH_MAX];
  run_path(path, sizeof path, run_dir, "best.ckpt");
  checkpoint ck;
  if (checkpoint_read(path, &ck, err, errlen)) die_usage("lab1: %s", err);
  model_spec m;
  char origin[RUN_PATH_MAX + 32];
  snprintf(origin, sizeof origin, "model stored in %s", path);
  if (model_parse(ck.model_text, origin, ck.model_name, &m, err, errlen)) die_usage("lab1: %s", err);
  if (ds->test.rows == 0) die_usage("lab1: the test split of %s is empty", ds->name);

  cl_runtime rt;
  rt_open(&rt, cfg->device[0] ? cfg->device : NULL, cfg->kernels_dir[0] ? cfg->kernels_dir : NULL);
  device_data dev;
  device_data_upload(&rt, ds, &dev);
  int batch = ds->test.rows < 1024 ? (int)ds->test.rows : 1024;
  net *n = net_create(&rt, &m, batch, 0);
  if (ck.n_params != net_param_count(n) || ck.n_stats != net_stats_count(n))
    die_usage("lab1: %s does not hold the parameters of its model", path);
  float *optim = xcalloc(net_optim_count(n) + 1, sizeof(float));
  net_write_state(n, ck.params, ck.stats, optim);
  free(optim);
  eval_result r;
  evaluate_split(n, &dev.test, batch, &r);
  net_free(n);
  device_data_free(&dev);
  rt_close(&rt);

  out->have = true;
  snprintf(out->run_dir, sizeof out->run_dir, "%s", run_dir);
  snprintf(out->model, sizeof out->model, "%s", ck.model_name);
  memcpy(out->counts, r.confusion, sizeof out->counts);
  out->acc = r.acc;
  out->loss = r.loss;
  out->rows = r.count;
  model_free(&m);
  checkpoint_free(&ck);
  if (make_dirs(out_dir, err, errlen)) return -1;
  run_path(path, sizeof path, out_dir, "confusion.csv");
  return write_confusion(path, out->counts, err, errlen);
}
