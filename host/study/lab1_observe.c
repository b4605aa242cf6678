/* Observations of the lab report: short factual sentences computed from the runs'
   numbers (which setting was fastest, most accurate, noisiest, still improving), never
   assumed. */
#include <math.h>
#include <string.h>

#include "study/lab1_report_internal.h"

typedef double (*run_value)(const lab1_run_info *x);
static double wall(const lab1_run_info *x) { return x->r->train_s; }
static double best_acc(const lab1_run_info *x) { return x->r->best_val_acc; }
static double final_acc(const lab1_run_info *x) { return x->r->final_val_acc; }

/* Index of the smallest (or largest) finite value; -1 when there is none. */
static int extreme(const lab1_run_info *runs, size_t n, run_value v, bool largest) {
  int k = -1;
  for (size_t i = 0; i < n; i++) {
    double x = v(&runs[i]);
    if (!isfinite(x)) continue;
    if (k < 0 || (largest ? x > v(&runs[k]) : x < v(&runs[k]))) k = (int)i;
  }
  return k;
}

static double points(double a, double b) { return 100.0 * (a - b); }

static void diverged_runs(FILE *f, const lab1_outcome *o, const lab1_run_info *runs) {
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(runs[i].r->status, "diverged") == 0)
      fprintf(f, "- %s %s diverged (NaN or infinite loss) after %llu epochs; the run kept its last good checkpoint.\n",
              o->exp.title, runs[i].value, (unsigned long long)runs[i].r->epochs_run);
}

static void observe_batch(FILE *f, const lab1_outcome *o, const lab1_run_info *r) {
  size_t n = o->n;
  int fast = extreme(r, n, wall, false), slow = extreme(r, n, wall, true);
  if (fast >= 0 && slow >= 0 && fast != slow) {
    fprintf(f, "- Batch %s trained fastest (%.1f s), batch %s slowest (%.1f s): %.1fx the wall time.", r[fast].value,
            r[fast].r->train_s, r[slow].value, r[slow].r->train_s, r[slow].r->train_s / r[fast].r->train_s);
    bool falls = true;
    for (size_t i = 1; i < n; i++) falls &= r[i].r->train_s < r[i - 1].r->train_s;
    if (falls) fprintf(f, " Wall time fell with every larger batch size.\n");
    else fprintf(f, " Wall time did not fall at every larger batch size (see the table).\n");
    fprintf(f, "- Throughput went from %.0f samples/s at batch %s to %.0f samples/s at batch %s.\n",
            r[0].r->samples_per_s, r[0].value, r[n - 1].r->samples_per_s, r[n - 1].value);
  }
  int hi = extreme(r, n, best_acc, true), lo = extreme(r, n, best_acc, false);
  if (hi >= 0 && lo >= 0) {
    char a[32], b[32];
    fprintf(f, "- In the same number of epochs, batch %s reached the highest validation accuracy (%s) and batch %s the "
               "lowest (%s); batch %s made %.0f optimizer steps, batch %s %.0f.\n",
            r[hi].value, lab1_pct(r[hi].r->best_val_acc, a), r[lo].value, lab1_pct(r[lo].r->best_val_acc, b),
            r[0].value, r[0].steps, r[n - 1].value, r[n - 1].steps);
  }
  if (isfinite(r[0].acc_std) && isfinite(r[n - 1].acc_std))
    fprintf(f, "- Per-batch training accuracy in the second half of each run varies with a standard deviation of "
               "%.1f points at batch %s and %.1f points at batch %s%s.\n",
            100.0 * r[0].acc_std, r[0].value, 100.0 * r[n - 1].acc_std, r[n - 1].value,
            r[0].acc_std > r[n - 1].acc_std ? ": the smaller batch gives the noisier curve" : "");
}

static void observe_epochs(FILE *f, const lab1_outcome *o, const lab1_run_info *r) {
  size_t n = o->n;
  char a[32];
  fprintf(f, "- Final validation accuracy:");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s %s after %s epoch%s", i ? ";" : "", lab1_pct(r[i].r->final_val_acc, a), r[i].value,
            strcmp(r[i].value, "1") ? "s" : "");
  fprintf(f, ".\n");
  if (n >= 2 && isfinite(r[0].r->final_val_acc) && isfinite(r[n - 1].r->final_val_acc))
    fprintf(f, "- Going from %s to %s epochs changed it by %+.1f points, at %.1fx the wall time.\n", r[0].value,
            r[n - 1].value, points(r[n - 1].r->final_val_acc, r[0].r->final_val_acc),
            r[n - 1].r->train_s / r[0].r->train_s);
  int fell = 0;
  for (size_t i = 0; i < n; i++) {
    double drop = points(r[i].r->best_val_acc, r[i].r->final_val_acc);
    if (drop > 0.5) {
      fprintf(f, "- The %s-epoch run peaked at epoch %.0f; its last epoch is %.1f points below that peak.\n",
              r[i].value, r[i].best_epoch, drop);
      fell++;
    }
  }
  if (!fell) fprintf(f, "- No run ended more than 0.5 points below its best validation accuracy: no sign of overfitting.\n");
  if (isfinite(r[n - 1].val_rise))
    fprintf(f, "- Over the second half of the %s-epoch run validation accuracy changed by %+.1f points.\n",
            r[n - 1].value, 100.0 * r[n - 1].val_rise);
}

static void observe_lr(FILE *f, const lab1_outcome *o, const lab1_run_info *r) {
  size_t n = o->n;
  char a[32], b[32];
  int hi = extreme(r, n, final_acc, true), lo = extreme(r, n, final_acc, false);
  if (hi >= 0 && lo >= 0)
    fprintf(f, "- Highest final validation accuracy at lr %s (%s), lowest at lr %s (%s).\n", r[hi].value,
            lab1_pct(r[hi].r->final_val_acc, a), r[lo].value, lab1_pct(r[lo].r->final_val_acc, b));
  /* The values are listed smallest first. */
  const lab1_run_info *small = &r[0], *big = &r[n - 1];
  if (isfinite(small->val_rise))
    fprintf(f, "- lr %s: %s after %ld epochs, %s by %.1f points over the second half of its epochs.\n", small->value,
            lab1_pct(small->r->final_val_acc, a), small->cfg->max_epochs,
            small->val_rise > 0.005 ? "still rising" : "changing", 100.0 * small->val_rise);
  if (strcmp(big->r->status, "diverged") != 0 && isfinite(big->r->best_val_acc)) {
    fprintf(f, "- lr %s: best validation accuracy %s at epoch %.0f, final %s", big->value,
            lab1_pct(big->r->best_val_acc, a), big->best_epoch, lab1_pct(big->r->final_val_acc, b));
    if (hi >= 0 && big != &r[hi])
      fprintf(f, " (%.1f points below lr %s)", points(r[hi].r->final_val_acc, big->r->final_val_acc), r[hi].value);
    fprintf(f, ".\n");
  }
  if (hi >= 0 && big != &r[hi] && isfinite(big->first_val) && isfinite(r[hi].first_val))
    fprintf(f, "- After the first epoch lr %s was at %s against %s at lr %s; from there to the end it changed by "
               "%+.1f points, lr %s by %+.1f.\n",
            big->value, lab1_pct(big->first_val, a), lab1_pct(r[hi].first_val, b), r[hi].value,
            points(big->r->final_val_acc, big->first_val), r[hi].value, points(r[hi].r->final_val_acc, r[hi].first_val));
  if (hi >= 0 && big != &r[hi] && isfinite(big->acc_std) && isfinite(r[hi].acc_std))
    fprintf(f, "- Per-batch training accuracy in the second half varies with a standard deviation of %.1f points at "
               "lr %s against %.1f at lr %s.\n",
            100.0 * big->acc_std, big->value, 100.0 * r[hi].acc_std, r[hi].value);
}

static void observe_models(FILE *f, const lab1_outcome *o, const lab1_run_info *r) {
  size_t n = o->n;
  char a[32];
  for (size_t i = 0; i < n; i++)
    fprintf(f, "- %s: %.0f parameters, best validation accuracy %s, %.1f s.\n", r[i].value, r[i].params,
            lab1_pct(r[i].r->best_val_acc, a), r[i].r->train_s);
  int hi = extreme(r, n, best_acc, true);
  if (hi >= 0 && n >= 2) {
    const lab1_run_info *base = &r[0]; /* jsc-tiny */
    if (hi == 0) fprintf(f, "- The smallest model, %s, was the most accurate.\n", base->value);
    else
      fprintf(f, "- %s was the most accurate: %+.1f points over %s with %.1fx its parameters and %.1fx its wall "
                 "time.\n",
              r[hi].value, points(r[hi].r->best_val_acc, base->r->best_val_acc), base->value,
              r[hi].params / base->params, r[hi].r->train_s / base->r->train_s);
  }
}

void lab1_observe(FILE *f, const lab1_outcome *o, const lab1_run_info *runs) {
  if (o->n == 0) return;
  if (strcmp(o->exp.name, "batch_size") == 0) observe_batch(f, o, runs);
  else if (strcmp(o->exp.name, "max_epochs") == 0) observe_epochs(f, o, runs);
  else if (strcmp(o->exp.name, "learning_rate") == 0) observe_lr(f, o, runs);
  else observe_models(f, o, runs);
  diverged_runs(f, o, runs);
}

void lab1_observe_confusion(FILE *f, const lab1_confusion *c) {
  const int K = JSC_N_CLASSES;
  double recall[JSC_N_CLASSES];
  int best = 0, worst = 0;
  for (int t = 0; t < K; t++) {
    long row = 0;
    for (int p = 0; p < K; p++) row += c->counts[t * K + p];
    recall[t] = row ? (double)c->counts[t * K + t] / (double)row : NAN;
    if (recall[t] > recall[best]) best = t;
    if (recall[t] < recall[worst]) worst = t;
  }
  char a[32], b[32];
  fprintf(f, "- Best recognised class: %s (%s recall); worst: %s (%s).\n", jsc_class_names[best],
          lab1_pct(recall[best], a), jsc_class_names[worst], lab1_pct(recall[worst], b));
  /* The two largest confusions, as fractions of the true class. */
  int top[2][2] = {{-1, -1}, {-1, -1}};
  double frac[2] = {-1, -1};
  for (int t = 0; t < K; t++) {
    long row = 0;
    for (int p = 0; p < K; p++) row += c->counts[t * K + p];
    for (int p = 0; p < K && row; p++) {
      if (p == t) continue;
      double x = (double)c->counts[t * K + p] / (double)row;
      if (x > frac[0]) {
        frac[1] = frac[0];
        top[1][0] = top[0][0];
        top[1][1] = top[0][1];
        frac[0] = x;
        top[0][0] = t;
        top[0][1] = p;
      } else if (x > frac[1]) {
        frac[1] = x;
        top[1][0] = t;
        top[1][1] = p;
      }
    }
  }
  for (int i = 0; i < 2; i++)
    if (top[i][0] >= 0)
      fprintf(f, "- %s jets predicted as %s: %s of the %s jets.\n", jsc_class_names[top[i][0]],
              jsc_class_names[top[i][1]], lab1_pct(frac[i], a), jsc_class_names[top[i][0]]);
}
