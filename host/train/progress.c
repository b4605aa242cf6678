#include "train/progress.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

void progress_init(progress *p, FILE *out, bool quiet, bool no_progress) {
  memset(p, 0, sizeof *p);
  p->out = out;
  p->quiet = quiet;
  if (quiet || no_progress) p->mode = PROGRESS_OFF;
  else p->mode = isatty(fileno(out)) ? PROGRESS_BAR : PROGRESS_LINES;
  p->loss = p->acc = NAN;
}

void progress_epoch_begin(progress *p, uint64_t epoch, uint64_t max_epochs, uint64_t steps_in_epoch,
                          uint64_t first_done) {
  p->epoch = epoch;
  p->max_epochs = max_epochs;
  p->steps_in_epoch = steps_in_epoch;
  p->first_done = first_done;
  p->epoch_start = p->last_draw = now_seconds();
}

static void format_eta(char *buf, size_t len, double s) {
  if (!isfinite(s) || s < 0) snprintf(buf, len, "--:--");
  else if (s >= 3600) snprintf(buf, len, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
  else snprintf(buf, len, "%d:%02d", (int)(s / 60), (int)s % 60);
}

static void draw(progress *p, uint64_t done, double now) {
  double dt = now - p->epoch_start;
  double rate = dt > 0 ? (double)(done - p->first_done) / dt : 0;
  /* The ETA is for the whole run: this epoch's steps left and every later epoch's, at
     this epoch's rate (validation is not counted). */
  uint64_t later = p->max_epochs > p->epoch + 1 ? p->max_epochs - p->epoch - 1 : 0;
  double left = (double)(p->steps_in_epoch - done) + (double)later * (double)p->steps_in_epoch;
  char eta[32];
  format_eta(eta, sizeof eta, rate > 0 ? left / rate : NAN);
  if (p->mode == PROGRESS_BAR) {
    const int width = 24;
    int fill = p->steps_in_epoch ? (int)((double)width * (double)done / (double)p->steps_in_epoch) : width;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(p->out, "\repoch %llu/%llu [%s] %llu/%llu %.0f steps/s loss %.4f acc %.4f ETA %s \033[K",
            (unsigned long long)p->epoch + 1, (unsigned long long)p->max_epochs, bar, (unsigned long long)done,
            (unsigned long long)p->steps_in_epoch, rate, p->loss, p->acc, eta);
    p->drawn = true;
  } else {
    fprintf(p->out, "epoch %llu/%llu step %llu/%llu %.0f steps/s loss %.4f acc %.4f ETA %s\n",
            (unsigned long long)p->epoch + 1, (unsigned long long)p->max_epochs, (unsigned long long)done,
            (unsigned long long)p->steps_in_epoch, rate, p->loss, p->acc, eta);
  }
  fflush(p->out);
  p->last_draw = now;
}

void progress_step(progress *p, uint64_t done) {
  if (p->mode == PROGRESS_OFF) return;
  double now = now_seconds();
  double every = p->mode == PROGRESS_BAR ? 0.1 : 10.0;
  if (now - p->last_draw >= every) draw(p, done, now);
}

void progress_metrics(progress *p, double loss, double acc) {
  p->loss = loss;
  p->acc = acc;
}

void progress_clear(progress *p) {
  if (p->drawn) {
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->drawn = false;
  }
}

void progress_epoch_end(progress *p, const epoch_row *e) {
  progress_clear(p);
  if (p->quiet) return;
  fprintf(p->out,
          "epoch %llu/%llu  step %llu  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  lr %.3g  "
          "%.1f s  %.0f samples/s\n",
          (unsigned long long)e->epoch + 1, (unsigned long long)p->max_epochs, (unsigned long long)e->step,
          e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->lr, e->epoch_s, e->samples_per_s);
  fflush(p->out);
}
