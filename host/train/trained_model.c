#include "train/trained_model.h"

#include <stdio.h>

int trained_model_open(const char *path, checkpoint *ck, model_spec *m, error *err) {
  char msg[sizeof err->msg];
  if (checkpoint_read(path, ck, msg, sizeof msg)) return ERR_USAGE(err, "%s", msg);
  char origin[600];
  snprintf(origin, sizeof origin, "model stored in %.500s", path);
  if (model_parse(ck->model_text, origin, ck->model_name, m, err)) {
    checkpoint_free(ck);
    return -1;
  }
  if (ck->n_params != m->n_params || ck->n_stats != m->n_stats) {
    error_set(err, EXIT_USAGE, "checkpoint %s: %zu parameters and %zu statistics stored, its model '%s' needs %zu and %zu",
              path, ck->n_params, ck->n_stats, m->name, m->n_params, m->n_stats);
    trained_model_close(ck, m);
    return -1;
  }
  return 0;
}

void trained_model_close(checkpoint *ck, model_spec *m) {
  model_free(m);
  checkpoint_free(ck);
}
