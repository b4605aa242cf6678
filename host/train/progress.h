/* Training progress on the console: on a terminal a one-line bar per epoch (steps/s, loss,
   accuracy, ETA) redrawn at most 10 times a second; otherwise a plain line every
   10 seconds. Loss and accuracy are those of the last logged step (the trainer reads the
   device only at log rows). Epoch summaries print in both modes unless quiet. */
#ifndef CLTRAIN_PROGRESS_H
#define CLTRAIN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "train/run_log.h"

typedef enum { PROGRESS_BAR, PROGRESS_LINES, PROGRESS_OFF } progress_mode;

typedef struct {
  progress_mode mode;
  bool quiet;            /* no epoch lines either */
  FILE *out;
  uint64_t epoch, max_epochs, steps_in_epoch, first_done;
  double epoch_start, last_draw;
  double loss, acc;      /* last logged values, NaN before the first */
  bool drawn;            /* a bar is on the current line */
} progress;

void progress_init(progress *p, FILE *out, bool quiet, bool no_progress);
/* FIRST_DONE: batches of this epoch already done (resumed runs). */
void progress_epoch_begin(progress *p, uint64_t epoch, uint64_t max_epochs, uint64_t steps_in_epoch,
                          uint64_t first_done);
/* After every step: cheap unless it is time to redraw. */
void progress_step(progress *p, uint64_t done_in_epoch);
/* At log rows: the step's loss and accuracy. */
void progress_metrics(progress *p, double loss, double acc);
void progress_epoch_end(progress *p, const epoch_row *row);
/* Clear a pending bar before other output. */
void progress_clear(progress *p);

#endif
