/* The sizes and the experiments of `cltrain lab1`. */
#include <stdio.h>
#include <string.h>

#include "study/lab1.h"

void lab1_plan_init(lab1_plan *plan, lab1_mode mode) {
  memset(plan, 0, sizeof *plan);
  plan->mode = mode;
  switch (mode) {
    case LAB1_FULL: /* the lab: the full data set, MASE's 20 epochs */
      plan->synth_size = 830000;
      plan->epochs = 20;
      snprintf(plan->epoch_values, sizeof plan->epoch_values, "5,10,20,50");
      plan->log_every = 50;
      break;
    case LAB1_QUICK: /* an eighth of the jets and half the epochs; the epoch sweep keeps its values */
      plan->synth_size = 100000;
      plan->epochs = 10;
      snprintf(plan->epoch_values, sizeof plan->epoch_values, "5,10,20,50");
      plan->log_every = 25;
      break;
    case LAB1_SMOKE: /* tests: every code path in seconds */
      plan->synth_size = 2000;
      plan->epochs = 2;
      snprintf(plan->epoch_values, sizeof plan->epoch_values, "1,3");
      plan->log_every = 2;
      break;
  }
}

static lab1_experiment experiment(const char *name, const char *title, const char *vary, const char *model,
                                  long batch_size, double learning_rate, long max_epochs) {
  lab1_experiment e = {name, title, "", model, batch_size, learning_rate, max_epochs};
  snprintf(e.vary, sizeof e.vary, "%s", vary);
  return e;
}

void lab1_experiments(const lab1_plan *plan, lab1_experiment out[LAB1_EXPERIMENTS]) {
  /* The lab keeps MASE's defaults (lr 1e-5, 20 epochs) while it varies the batch size,
     then works at the batch size it picked (256), and compares the models at the tuned
     batch 256, lr 1e-3. */
  char epochs[96];
  snprintf(epochs, sizeof epochs, "max-epochs=%s", plan->epoch_values);
  out[0] = experiment("batch_size", "Batch size", "batch-size=32,64,128,256,512", "jsc-tiny", 0, 1e-5, plan->epochs);
  out[1] = experiment("max_epochs", "Maximum epochs", epochs, "jsc-tiny", 256, 1e-5, 0);
  out[2] = experiment("learning_rate", "Learning rate", "learning-rate=1e-5,1e-4,1e-3,1e-2", "jsc-tiny", 256, 0,
                      plan->epochs);
  out[3] = experiment("models", "Models", "model=jsc-tiny,jsc-toy,jsc-trt", "jsc-tiny", 256, 1e-3, plan->epochs);
}
