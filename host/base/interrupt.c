#include "base/interrupt.h"

#include <signal.h>
#include <string.h>

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
