/* report.md of `cltrain lab1`: the figures, a table per experiment, observations computed
   from the numbers, the confusion matrix and a table of every run. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/csvread.h"
#include "study/lab1_report_internal.h"
#include "base/util.h"

/* Embed OUT_DIR/REL when it was drawn, else say where its data is. */
static void figure(FILE *f, const char *out_dir, const char *rel, int number, const char *caption) {
  char png[RUN_PATH_MAX];
  int n = snprintf(png, sizeof png, "%s/%s.png", out_dir, rel);
  bool drawn = n > 0 && (size_t)n < sizeof png && access(png, F_OK) == 0;
  if (drawn)
    fprintf(f, "![Figure %d](%s.png)\n\n*Figure %d: %s*\n\n", number, rel, number, caption);
  else
    fprintf(f, "*Figure %d: %s* - not drawn (gnuplot missing); its data is in `%s.csv`.\n\n", number, caption, rel);
}

static void run_link(FILE *f, const char *out_dir, const char *run_dir) {
  size_t n = strlen(out_dir);
  const char *rel = strncmp(run_dir, out_dir, n) == 0 && run_dir[n] == '/' ? run_dir + n + 1 : run_dir;
  fprintf(f, "`%s`", rel);
}

static void experiment_table(FILE *f, const char *out_dir, const lab1_outcome *o, const lab1_run_info *runs) {
  bool models = strcmp(o->exp.name, "models") == 0;
  fprintf(f, "| %s | %sfinal val acc | best val acc (epoch) | wall time (s) | samples/s | steps | status | run |\n",
          o->exp.title, models ? "params | " : "");
  fprintf(f, "|---|%s---|---|---|---|---|---|---|\n", models ? "---|" : "");
  for (size_t i = 0; i < o->n; i++) {
    const lab1_run_info *x = &runs[i];
    char a[32], b[32];
    fprintf(f, "| %s | ", x->value);
    if (models) fprintf(f, "%.0f | ", x->params);
    fprintf(f, "%s | %s (%.0f) | %.1f | %.0f | %.0f | %s | ", lab1_pct(x->r->final_val_acc, a),
            lab1_pct(x->r->best_val_acc, b), x->best_epoch, x->r->train_s, x->r->samples_per_s, x->steps,
            x->r->status);
    run_link(f, out_dir, x->r->run_dir);
    fprintf(f, "%s |\n", x->r->reused ? " (earlier)" : "");
  }
  fputc('\n', f);
}

static void section(FILE *f, const lab1_report_input *in, int e, const lab1_run_info *runs) {
  const lab1_outcome *o = &in->outcomes[e];
  const train_config *c = &o->configs[0];
  char dir[RUN_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", o->exp.name);
  fprintf(f, "## %d. %s\n\n", e + 1, o->exp.title);
  fprintf(f, "`--vary %s`; fixed: ", o->exp.vary);
  if (strcmp(o->exp.name, "models") != 0) fprintf(f, "model %s, ", c->model);
  if (o->exp.batch_size) fprintf(f, "batch size %ld, ", c->batch_size);
  char num[32];
  if (o->exp.learning_rate > 0) fprintf(f, "learning rate %s, ", lab1_number(c->learning_rate, num));
  if (o->exp.max_epochs) fprintf(f, "%ld epochs, ", c->max_epochs);
  fprintf(f, "Adam, cosine schedule.\n\n");
  char rel[RUN_PATH_MAX + 32];
  switch (e) {
    case 0:
      snprintf(rel, sizeof rel, "%s/train_acc", dir);
      figure(f, in->out_dir, rel, 1, "Training accuracy (per batch) vs optimizer step for each batch size");
      snprintf(rel, sizeof rel, "%s/val_acc", dir);
      figure(f, in->out_dir, rel, 2, "Validation accuracy vs epoch for each batch size");
      snprintf(rel, sizeof rel, "%s/time_vs_batch", dir);
      figure(f, in->out_dir, rel, 7, "Training wall time and throughput vs batch size");
      break;
    case 1:
      snprintf(rel, sizeof rel, "%s/train_acc", dir);
      figure(f, in->out_dir, rel, 3, "Training accuracy vs optimizer step for each maximum epoch count");
      break;
    case 2:
      snprintf(rel, sizeof rel, "%s/train_acc", dir);
      figure(f, in->out_dir, rel, 4, "Training accuracy vs optimizer step for each learning rate");
      snprintf(rel, sizeof rel, "%s/val_acc", dir);
      figure(f, in->out_dir, rel, 5, "Validation accuracy vs epoch for each learning rate");
      break;
    default:
      snprintf(rel, sizeof rel, "%s/train_acc", dir);
      figure(f, in->out_dir, rel, 6, "Training accuracy vs optimizer step: jsc-trt against jsc-tiny and jsc-toy");
      snprintf(rel, sizeof rel, "%s/val_acc", dir);
      figure(f, in->out_dir, rel, 8, "Validation accuracy vs epoch of the three models");
  }
  experiment_table(f, in->out_dir, o, runs);
  fprintf(f, "Observations:\n\n");
  lab1_observe(f, o, runs);
  fprintf(f, "\nMore figures in `%s/`: train_loss, val_loss%s; the numbers: `%s/sweep.csv`.\n\n", dir,
          e == 1 ? ", val_acc" : "", dir);
}

static void confusion_section(FILE *f, const lab1_report_input *in) {
  const lab1_confusion *c = in->confusion;
  fprintf(f, "## 5. Confusion matrix of the best run\n\n");
  if (!c->have) {
    fprintf(f, "No run finished an epoch, so there is no best run to evaluate.\n\n");
    return;
  }
  fprintf(f, "The run with the highest validation accuracy, ");
  run_link(f, in->out_dir, c->run_dir);
  fprintf(f, " (%s), evaluated from its `best.ckpt` on the test split (%ld jets): accuracy %.2f%%, loss %.4f.\n\n",
          c->model, c->rows, 100.0 * c->acc, c->loss);
  figure(f, in->out_dir, "confusion/confusion_matrix", 9, "Confusion matrix of the best run on the test split");
  fprintf(f, "| true \\ predicted |");
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, " %s |", jsc_class_names[p]);
  fprintf(f, " recall |\n|---|");
  for (int p = 0; p <= JSC_N_CLASSES; p++) fprintf(f, "---|");
  fputc('\n', f);
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    long row = 0;
    for (int p = 0; p < JSC_N_CLASSES; p++) row += c->counts[t * JSC_N_CLASSES + p];
    fprintf(f, "| **%s** |", jsc_class_names[t]);
    for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, " %ld |", c->counts[t * JSC_N_CLASSES + p]);
    char a[32];
    fprintf(f, " %s |\n", lab1_pct(row ? (double)c->counts[t * JSC_N_CLASSES + t] / (double)row : NAN, a));
  }
  fprintf(f, "\nObservations:\n\n");
  lab1_observe_confusion(f, c);
  fputc('\n', f);
  figure(f, in->out_dir, "confusion/roc", 10,
         "ROC curves of the best run on the test split, one class against the rest (background efficiency on a "
         "log scale)");
  fprintf(f, "| AUC |");
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, " %s |", jsc_class_names[p]);
  fprintf(f, "\n|---|");
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, "---|");
  fprintf(f, "\n| best run |");
  for (int p = 0; p < JSC_N_CLASSES; p++) fprintf(f, " %.4f |", c->auc[p]);
  fprintf(f, "\n\nThe curves and AUC: `confusion/roc.csv`.\n\n");
}

/* Every distinct run once, in the order the experiments met them. */
static void all_runs(FILE *f, const lab1_report_input *in) {
  fprintf(f, "## All runs\n\n| run | model | batch | lr | epochs | status | final val acc | best val acc | "
             "test acc (last) | wall time (s) | samples/s |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  double total = 0;
  int count = 0, reused = 0;
  for (int e = 0; e < LAB1_EXPERIMENTS; e++) {
    const lab1_outcome *o = &in->outcomes[e];
    for (size_t i = 0; i < o->n; i++) {
      const sweep_result *r = &o->results[i];
      bool seen = false;
      for (int e2 = 0; e2 <= e && !seen; e2++)
        for (size_t j = 0; j < (e2 == e ? i : in->outcomes[e2].n) && !seen; j++)
          seen = strcmp(in->outcomes[e2].results[j].run_dir, r->run_dir) == 0;
      if (seen || !r->have_run) continue;
      const train_config *c = &o->configs[i];
      char a[32], b[32], t[32], lr[32];
      fputs("| ", f);
      run_link(f, in->out_dir, r->run_dir);
      fprintf(f, " | %s | %ld | %s | %ld | %s | %s | %s | %s | %.1f | %.0f |\n", c->model, c->batch_size,
              lab1_number(c->learning_rate, lr), c->max_epochs, r->status, lab1_pct(r->final_val_acc, a), lab1_pct(r->best_val_acc, b),
              lab1_pct(r->test_acc, t), r->train_s, r->samples_per_s);
      if (isfinite(r->train_s)) total += r->train_s;
      count++;
      reused += r->reused;
    }
  }
  fprintf(f, "\n%d distinct runs (%d trained by this call, %d found done in an earlier call), %.0f s of training "
             "in total. Wall time counts training and validation, not data loading or kernel compilation; "
             "samples/s counts training steps only.\n",
          count, count - reused, reused, total);
}

int lab1_write_report(const lab1_report_input *in, char *err, size_t errlen) {
  char path[RUN_PATH_MAX], tmp[RUN_PATH_MAX + 8];
  run_path(path, sizeof path, in->out_dir, "report.md");
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  char date[64];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
  const lab1_plan *plan = in->plan;
  fprintf(f, "# Lab 1 with cltrain\n\n");
  fprintf(f, "Written by `cltrain lab1%s` (cltrain %s) on %s.\n\n", plan->mode == LAB1_QUICK ? " --quick" : "",
          CLTRAIN_VERSION, date);
  fprintf(f, "- Mode: %s\n", plan->mode == LAB1_FULL    ? "full (the lab's sizes)"
                             : plan->mode == LAB1_QUICK ? "quick (fewer jets and epochs than the lab)"
                                                        : "smoke test (tiny sizes, numbers mean nothing)");
  fprintf(f, "- Data: %s\n", in->dataset_desc[0] ? in->dataset_desc : in->base->dataset);
  fprintf(f, "- Device: %s\n", in->device_name);
  fprintf(f, "- Every run: Adam, cosine learning-rate schedule (T_max = max-epochs, eta_min 1e-6), seed %llu, "
             "one metrics row every %ld steps; accuracies are fractions of the validation split shown in percent\n",
          (unsigned long long)in->base->seed, in->base->log_every_n_steps);
  fprintf(f, "- Wall time of this `lab1` call: %.0f s\n\n", in->wall_seconds);
  for (int e = 0; e < LAB1_EXPERIMENTS; e++) {
    const lab1_outcome *o = &in->outcomes[e];
    lab1_run_info *runs = xcalloc(o->n ? o->n : 1, sizeof *runs);
    for (size_t i = 0; i < o->n; i++) lab1_run_info_get(o, i, &runs[i]);
    section(f, in, e, runs);
    free(runs);
  }
  confusion_section(f, in);
  all_runs(f, in);
  if (fclose(f) != 0 || rename(tmp, path) != 0) return seterr(err, errlen, "cannot write %s: %s", path, strerror(errno));
  return 0;
}
