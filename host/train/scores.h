/* Class probabilities from a net's logits, for `cltrain predict` and the ROC curves of
   `cltrain test` and lab1 (through evaluate_checkpoint, evaluate.h). */
#ifndef CLTRAIN_SCORES_H
#define CLTRAIN_SCORES_H

#include <stddef.h>

/* Row-wise softmax of ROWS x K logits into PROBS (may alias LOGITS), in double. */
void softmax_rows(const float *logits, size_t rows, int k, float *probs);

#endif
