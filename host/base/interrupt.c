#include "base/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The one piece of global state a signal handler cannot avoid, and how many callers hold
   the handlers now (a sweep holds them between its runs, each run inside it). */
static volatile sig_atomic_t pending_signal;
static int holders;

static void on_signal(int sig) { pending_signal = sig; }

static void set_handler(int sig, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

void interrupt_install(void) {
  if (holders++ > 0) return; /* an outer caller holds them: keep its recorded signal */
  pending_signal = 0;
  set_handler(SIGINT, on_signal, SA_RESETHAND);
  set_handler(SIGTERM, on_signal, SA_RESETHAND);
}

void interrupt_uninstall(void) {
  if (holders > 0 && --holders > 0) return;
  set_handler(SIGINT, SIG_DFL, 0);
  set_handler(SIGTERM, SIG_DFL, 0);
}

int interrupt_pending(void) { return (int)pending_signal; }

int interrupt_exit_code(int sig) { return 128 + sig; }

static void *watchdog_main(void *arg) {
  interrupt_watchdog *w = arg;
  const struct timespec tick = {0, 50 * 1000 * 1000};
  double waited = 0;
  while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
    nanosleep(&tick, NULL);
    int sig = (int)pending_signal;
    waited = sig ? waited + 0.05 : 0;
    if (sig && waited >= w->grace && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
      if (w->on_stuck) w->on_stuck(w->ctx);
      fprintf(stderr, "cltrain: %s during a long OpenCL call (a program compile): stopped without waiting for it\n",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
      /* _exit: the main thread is inside the driver; exit handlers would wait on it. */
      _exit(interrupt_exit_code(sig));
    }
  }
  return NULL;
}

int interrupt_watchdog_start(interrupt_watchdog *w, double grace, void (*on_stuck)(void *ctx), void *ctx) {
  memset(w, 0, sizeof *w);
  w->on_stuck = on_stuck;
  w->ctx = ctx;
  w->grace = grace;
  pthread_t *t = malloc(sizeof *t);
  if (!t) return -1;
  /* The thread must not take the signals: they stay with the main thread's handler. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  int rc = pthread_create(t, NULL, watchdog_main, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    free(t);
    return -1;
  }
  w->thread = t;
  return 0;
}

void interrupt_watchdog_stop(interrupt_watchdog *w) {
  if (!w->thread) return;
  __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
  pthread_join(*(pthread_t *)w->thread, NULL);
  free(w->thread);
  w->thread = NULL;
}
