/* ROC curves and AUC (train/roc.h) against a brute-force reference: the AUC is the share
   of (signal, background) pairs where the signal row scores higher, ties counted one half,
   counted pair by pair. Also: endpoints (0,0) and (1,1), monotone curves, ties entering
   as one step, degenerate splits, roc.csv, and the AUC lines in summary.json. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/rng.h"
#include "base/util.h"
#include "testutil.h"
#include "train/roc.h"
#include "train/run_summary.h"

static double brute_auc(const float *probs, const int32_t *y, size_t n, int cls) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < n; i++) {
    if (y[i] != cls) continue;
    for (size_t j = 0; j < n; j++) {
      if (y[j] == cls) continue;
      float s = probs[i * JSC_N_CLASSES + (size_t)cls], b = probs[j * JSC_N_CLASSES + (size_t)cls];
      wins += s > b ? 1.0 : s == b ? 0.5 : 0.0;
      pairs++;
    }
  }
  return wins / pairs;
}

static void check_shape(const roc_curve *c, const char *what) {
  CHECK(c->n >= 2, "%s: %zu points", what, c->n);
  CHECK(c->sig_eff[0] == 0 && c->bkg_eff[0] == 0, "%s: starts at (%g, %g)", what, c->bkg_eff[0], c->sig_eff[0]);
  CHECK(c->sig_eff[c->n - 1] == 1 && c->bkg_eff[c->n - 1] == 1, "%s: ends at (%g, %g)", what, c->bkg_eff[c->n - 1],
        c->sig_eff[c->n - 1]);
  for (size_t i = 1; i < c->n; i++)
    CHECK(c->sig_eff[i] >= c->sig_eff[i - 1] && c->bkg_eff[i] >= c->bkg_eff[i - 1] &&
              c->threshold[i] < c->threshold[i - 1],
          "%s: point %zu goes back", what, i);
}

/* Random scores on a coarse grid (so many rows tie) with class-dependent means. */
static void random_case(size_t n, int levels, uint64_t seed, float *probs, int32_t *y) {
  rng_state r;
  rng_seed(&r, seed, 1);
  for (size_t i = 0; i < n; i++) {
    y[i] = (int32_t)(rng_next(&r) % JSC_N_CLASSES);
    for (int c = 0; c < JSC_N_CLASSES; c++) {
      double u = (double)(rng_next(&r) >> 11) / 9007199254740992.0;
      double v = 0.7 * u + (c == y[i] ? 0.3 * u * u : 0.0);
      probs[i * JSC_N_CLASSES + (size_t)c] = (float)(floor(v * levels) / levels);
    }
  }
}

int main(void) {
  enum { N = 1500 };
  float *probs = xmalloc(N * JSC_N_CLASSES * sizeof(float));
  int32_t *y = xmalloc(N * sizeof(int32_t));
  const int levels[] = {7, 50, 1000000};
  for (int k = 0; k < 3; k++) {
    random_case(N, levels[k], 11 + (uint64_t)k, probs, y);
    roc_curve c[JSC_N_CLASSES];
    roc_compute_all(probs, y, N, c);
    for (int cls = 0; cls < JSC_N_CLASSES; cls++) {
      char what[64];
      snprintf(what, sizeof what, "%d levels, class %d", levels[k], cls);
      check_shape(&c[cls], what);
      double want = brute_auc(probs, y, N, cls);
      /* Both sum the same half-integer counts; only the final division rounds. */
      CHECK(fabs(c[cls].auc - want) < 1e-12, "%s: AUC %.15g, pairwise count %.15g", what, c[cls].auc, want);
      CHECK(c[cls].auc > 0.55, "%s: AUC %.3f: the signal should score higher", what, c[cls].auc);
      if (levels[k] == 7) CHECK(c[cls].n <= 9, "%s: %zu points for 7 distinct scores", what, c[cls].n);
    }
    roc_free_all(c);
  }

  /* All scores equal: one diagonal step, AUC 1/2. Perfect separation: AUC 1. */
  float p2[4 * JSC_N_CLASSES] = {0};
  int32_t y2[4] = {0, 1, 0, 2};
  roc_curve c;
  roc_compute(p2, JSC_N_CLASSES, y2, 4, 0, &c);
  CHECK(c.n == 2 && c.auc == 0.5, "all tied: %zu points, AUC %g", c.n, c.auc);
  roc_free(&c);
  p2[0] = 0.9f;
  p2[2 * JSC_N_CLASSES] = 0.8f;
  roc_compute(p2, JSC_N_CLASSES, y2, 4, 0, &c);
  CHECK(c.auc == 1.0 && c.n == 4 && c.sig_eff[1] == 0.5 && c.bkg_eff[1] == 0, "separated: AUC %g, %zu points", c.auc,
        c.n);
  roc_free(&c);
  /* No signal rows (class 4): the AUC is undefined; the curve still reaches background 1. */
  roc_compute(p2, JSC_N_CLASSES, y2, 4, 4, &c);
  CHECK(isnan(c.auc) && c.n_sig == 0 && c.bkg_eff[c.n - 1] == 1, "no signal: AUC %g", c.auc);
  roc_free(&c);

  /* roc.csv and summary.json. */
  char dir[256], path[300], sum[300];
  snprintf(dir, sizeof dir, "/tmp/cltrain-test-roc-%d", (int)getpid());
  mkdir(dir, 0755);
  random_case(N, 1000000, 5, probs, y);
  roc_curve cs[JSC_N_CLASSES];
  roc_compute_all(probs, y, N, cs);
  snprintf(path, sizeof path, "%s/roc.csv", dir);
  error err = {0};
  CHECK(roc_write_csv(path, cs, &err) == 0, "%s", err.msg);
  size_t len;
  char *text = read_file(path, &len);
  CHECK(text && strncmp(text, "class,threshold,signal_efficiency,background_efficiency,auc\ng,1,0,0,", 67) == 0,
        "roc.csv starts '%.80s'", text ? text : "");
  int rows = 0;
  for (char *q = text; q && *q; q++) rows += *q == '\n';
  CHECK(rows > 50 && rows < 1 + 5 * 4100, "roc.csv has %d lines: thinning should keep a few thousand", rows);
  free(text);
  snprintf(path, sizeof path, "%s/no/roc.csv", dir);
  error_clear(&err);
  CHECK(roc_write_csv(path, cs, &err) == -1 && err.code == EXIT_USAGE && strstr(err.msg, path), "unwritable: '%s'",
        err.msg);

  run_summary s;
  memset(&s, 0, sizeof s);
  s.have_test = true;
  s.test_acc = 0.5;
  snprintf(sum, sizeof sum, "%s/summary.json", dir);
  char e2[256];
  CHECK(run_summary_write(sum, &s, e2, sizeof e2) == 0, "%s", e2);
  error_clear(&err);
  CHECK(roc_summary_set_auc(sum, cs, &err) == 0, "%s", err.msg);
  cs[0].auc = 0.25;
  CHECK(roc_summary_set_auc(sum, cs, &err) == 0, "%s", err.msg); /* replaces, does not add */
  text = read_file(sum, &len);
  CHECK(text && strstr(text, "\n  \"test_acc\": 0.5,\n  \"test_auc_g\": 0.25,\n  \"test_auc_q\": 0."),
        "summary.json:\n%s", text ? text : "");
  int count = 0;
  for (char *q = text; q && (q = strstr(q, "test_auc_t")); q++) count++;
  CHECK(count == 1, "test_auc_t appears %d times", count);
  free(text);
  roc_free_all(cs);
  unlink(sum);
  snprintf(path, sizeof path, "%s/roc.csv", dir);
  unlink(path);
  rmdir(dir);
  free(probs);
  free(y);
  return test_summary("test_roc");
}
