/* One-vs-rest ROC curves and their AUC, as taggers are judged (the hls4ml JSC paper):
   class C is the signal, every other class the background; a row is tagged when its
   probability of C is at least the threshold. The curve has one point per distinct score
   (rows with equal scores enter together, so ties give one diagonal step), from (0,0) to
   (1,1) in (background efficiency, signal efficiency). AUC is the trapezoid area under
   signal efficiency against background efficiency, which equals the probability that a
   random signal row scores above a random background row, ties counted one half. */
#ifndef CLTRAIN_ROC_H
#define CLTRAIN_ROC_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "data/data.h"

typedef struct {
  size_t n;            /* points, including (0,0) and (1,1) */
  double *threshold;   /* score at which the point is reached (+inf for the first) */
  double *sig_eff;     /* true-positive rate */
  double *bkg_eff;     /* false-positive rate */
  double auc;          /* NaN when the split has no signal or no background row */
  size_t n_sig, n_bkg;
} roc_curve;

/* The curve of class CLS from ROWS rows of PROBS (row-major, K columns) and labels Y. */
void roc_compute(const float *probs, int k, const int32_t *y, size_t rows, int cls, roc_curve *out);
void roc_free(roc_curve *c);
/* The curves of every class. */
void roc_compute_all(const float *probs, const int32_t *y, size_t rows, roc_curve out[JSC_N_CLASSES]);
void roc_free_all(roc_curve c[JSC_N_CLASSES]);

/* roc.csv: class,threshold,signal_efficiency,background_efficiency,auc, one block of rows
   per class. Long curves are thinned for drawing (a point is kept when either efficiency
   moved by 1/2000, or the background efficiency by 1% of itself); the endpoints are
   always kept and the auc column is computed from the full curve. Written atomically. */
int roc_write_csv(const char *path, const roc_curve curves[JSC_N_CLASSES], error *err);

/* Set "test_auc_CLASS" (one line per class) in a run's summary.json, after test_acc. */
int roc_summary_set_auc(const char *summary_path, const roc_curve curves[JSC_N_CLASSES], error *err);

#endif
