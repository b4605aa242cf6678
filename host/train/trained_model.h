/* A trained model as its consumers (predict, export) open it: the checkpoint and the
   model it stores, checked to agree. */
#ifndef CLTRAIN_TRAINED_MODEL_H
#define CLTRAIN_TRAINED_MODEL_H

#include "base/error.h"
#include "model/model.h"
#include "train/checkpoint.h"

/* Read PATH, parse its model, check the stored parameter counts. 0, or -1 with a usage
   error (not a checkpoint, corrupted, model does not parse or does not match). */
int trained_model_open(const char *path, checkpoint *ck, model_spec *m, error *err);
void trained_model_close(checkpoint *ck, model_spec *m);

#endif
