/* Per-row class scores of a trained net: evaluation of a split (as evaluate_split, the
   same eval-mode forward on the device) that also reads every batch's logits back, for
   `cltrain predict` and the ROC curves of `cltrain test`. */
#ifndef CLTRAIN_SCORES_H
#define CLTRAIN_SCORES_H

#include "train/evaluate.h"

/* evaluate_split, plus the logits of every row into LOGITS (s->rows x output width). */
void evaluate_split_scores(net *n, const device_split *s, int batch, eval_result *out, float *logits);

/* Row-wise softmax of ROWS x K logits into PROBS (may alias LOGITS), in double. */
void softmax_rows(const float *logits, size_t rows, int k, float *probs);

#endif
