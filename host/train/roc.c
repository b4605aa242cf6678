#include "train/roc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

typedef struct {
  float score;
  int signal;
} scored;

static int by_score_desc(const void *a, const void *b) {
  float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
  return (x < y) - (x > y);
}

void roc_compute(const float *probs, int k, const int32_t *y, size_t rows, int cls, roc_curve *out) {
  memset(out, 0, sizeof *out);
  scored *s = xmalloc((rows ? rows : 1) * sizeof *s);
  for (size_t i = 0; i < rows; i++) {
    s[i].score = probs[i * (size_t)k + (size_t)cls];
    s[i].signal = y[i] == cls;
    if (s[i].signal) out->n_sig++;
    else out->n_bkg++;
  }
  qsort(s, rows, sizeof *s, by_score_desc);
  size_t cap = rows + 2;
  out->threshold = xmalloc(cap * sizeof(double));
  out->sig_eff = xmalloc(cap * sizeof(double));
  out->bkg_eff = xmalloc(cap * sizeof(double));
  double ns = out->n_sig ? (double)out->n_sig : 1.0, nb = out->n_bkg ? (double)out->n_bkg : 1.0;
  out->threshold[0] = INFINITY;
  out->sig_eff[0] = out->bkg_eff[0] = 0;
  out->n = 1;
  size_t tp = 0, fp = 0;
  double area = 0; /* in counts: sum over steps of d(fp) * (tp_before + tp_after) / 2 */
  for (size_t i = 0; i < rows;) {
    size_t j = i, tp0 = tp, fp0 = fp;
    for (; j < rows && s[j].score == s[i].score; j++) {
      if (s[j].signal) tp++;
      else fp++;
    }
    area += (double)(fp - fp0) * (double)(tp + tp0) / 2.0;
    out->threshold[out->n] = s[i].score;
    out->sig_eff[out->n] = (double)tp / ns;
    out->bkg_eff[out->n] = (double)fp / nb;
    out->n++;
    i = j;
  }
  out->auc = out->n_sig && out->n_bkg ? area / ((double)out->n_sig * (double)out->n_bkg) : NAN;
  free(s);
}

void roc_free(roc_curve *c) {
  free(c->threshold);
  free(c->sig_eff);
  free(c->bkg_eff);
  memset(c, 0, sizeof *c);
}

void roc_compute_all(const float *probs, const int32_t *y, size_t rows, roc_curve out[JSC_N_CLASSES]) {
  for (int c = 0; c < JSC_N_CLASSES; c++) roc_compute(probs, JSC_N_CLASSES, y, rows, c, &out[c]);
}

void roc_free_all(roc_curve c[JSC_N_CLASSES]) {
  for (int k = 0; k < JSC_N_CLASSES; k++) roc_free(&c[k]);
}

static bool worth_keeping(const roc_curve *c, size_t i, size_t last) {
  if (i == 0 || i + 1 == c->n) return true;
  double ds = fabs(c->sig_eff[i] - c->sig_eff[last]), db = fabs(c->bkg_eff[i] - c->bkg_eff[last]);
  return ds >= 1.0 / 2000 || db >= 1.0 / 2000 || db >= 0.01 * c->bkg_eff[last];
}

int roc_write_csv(const char *path, const roc_curve curves[JSC_N_CLASSES], error *err) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return ERR_USAGE(err, "cannot write %s: %s", tmp, strerror(errno));
  fputs("class,threshold,signal_efficiency,background_efficiency,auc\n", f);
  for (int c = 0; c < JSC_N_CLASSES; c++) {
    const roc_curve *r = &curves[c];
    size_t last = 0;
    for (size_t i = 0; i < r->n; i++) {
      if (!worth_keeping(r, i, last)) continue;
      last = i;
      fprintf(f, "%s,%.9g,%.9g,%.9g,%.9g\n", jsc_class_names[c], isinf(r->threshold[i]) ? 1.0 : r->threshold[i],
              r->sig_eff[i], r->bkg_eff[i], r->auc);
    }
  }
  int bad = ferror(f);
  if (fclose(f) || bad || rename(tmp, path)) { /* a full disk, an I/O error: not the user's input */
    int e = errno;
    unlink(tmp);
    return ERR_RUNTIME(err, "cannot write %s: %s", path, strerror(e));
  }
  return 0;
}

/* TEXT with the line of "KEY": replaced by LINE, or LINE inserted after the line of AFTER. */
static char *set_or_insert(char *text, const char *key, const char *after, const char *line) {
  char needle[96];
  snprintf(needle, sizeof needle, "\n  \"%s\": ", key);
  char *at = strstr(text, needle), *end;
  if (at) {
    end = strchr(at + 1, '\n');
  } else {
    snprintf(needle, sizeof needle, "\n  \"%s\": ", after);
    at = strstr(text, needle);
    if (!at) {
      free(text);
      return NULL;
    }
    at = end = strchr(at + 1, '\n');
  }
  if (!end) {
    free(text);
    return NULL;
  }
  size_t head = (size_t)(at - text), ll = strlen(line), tail = strlen(end);
  char *out = xmalloc(head + ll + tail + 2);
  memcpy(out, text, head);
  out[head] = '\n';
  memcpy(out + head + 1, line, ll);
  memcpy(out + head + 1 + ll, end, tail + 1);
  free(text);
  return out;
}

int roc_summary_set_auc(const char *summary_path, const roc_curve curves[JSC_N_CLASSES], error *err) {
  size_t len;
  char *text = read_file(summary_path, &len);
  if (!text) return ERR_USAGE(err, "cannot read %s: %s", summary_path, strerror(errno));
  char after[64] = "test_acc";
  for (int c = 0; c < JSC_N_CLASSES && text; c++) {
    char key[64], line[128];
    snprintf(key, sizeof key, "test_auc_%s", jsc_class_names[c]);
    if (isfinite(curves[c].auc)) snprintf(line, sizeof line, "  \"%s\": %.9g,", key, curves[c].auc);
    else snprintf(line, sizeof line, "  \"%s\": null,", key);
    text = set_or_insert(text, key, after, line);
    snprintf(after, sizeof after, "%s", key);
  }
  if (!text) return ERR_USAGE(err, "%s lacks the test_acc field of a cltrain summary", summary_path);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", summary_path);
  FILE *f = fopen(tmp, "w");
  int rc = 0;
  if (!f || fputs(text, f) == EOF) rc = ERR_RUNTIME(err, "cannot write %s: %s", tmp, strerror(errno));
  if (f && fclose(f) && !rc) rc = ERR_RUNTIME(err, "cannot write %s: %s", tmp, strerror(errno));
  if (!rc && rename(tmp, summary_path)) rc = ERR_RUNTIME(err, "cannot rename %s: %s", tmp, strerror(errno));
  if (rc) unlink(tmp);
  free(text);
  return rc;
}
