/* Ctrl-C handling for training: the first SIGINT/SIGTERM only records the signal, so the
   trainer finishes the current step, saves last.ckpt and the logs, and returns; the
   handler resets itself, so a second signal ends the process at once. */
#ifndef CLTRAIN_INTERRUPT_H
#define CLTRAIN_INTERRUPT_H

/* Arm the handlers for SIGINT and SIGTERM and clear any recorded signal. Calls nest: inside
   an outer install (a sweep between its runs) the handlers and a recorded signal stay. */
void interrupt_install(void);
/* Undo one interrupt_install; the outermost restores the default handlers. */
void interrupt_uninstall(void);
/* The recorded signal number, or 0. */
int interrupt_pending(void);
/* 130 for SIGINT, 143 for SIGTERM (128 + signal). */
int interrupt_exit_code(int sig);

/* A signal the main thread cannot answer because it is stuck in one long call (an
   OpenCL program compile, CLBlast's first GEMM with new parameters: minutes, and no
   way to cancel it) must still end the process within seconds. The watchdog thread
   polls the recorded signal; when one stays unanswered for GRACE seconds it calls
   ON_STUCK(CTX) (which marks the run interrupted), prints one line and ends the process
   with 128 + signal: with xmalloc's out-of-memory exit (base/util.h), the only exits
   of the process below host/cli/ (the HDF5 loader's forked child ends itself with
   _exit), since no error value can reach a caller that is stuck in the driver.
   Stop it before answering a signal in a way that takes longer. */
typedef struct {
  void *thread;               /* pthread_t, hidden to keep <pthread.h> out of the header */
  void (*on_stuck)(void *ctx);
  void *ctx;
  double grace;
  volatile int stop;          /* set by interrupt_watchdog_stop, read by the thread */
} interrupt_watchdog;

/* 0, or -1 when the thread cannot be started (then there is no watchdog; not fatal). */
int interrupt_watchdog_start(interrupt_watchdog *w, double grace, void (*on_stuck)(void *ctx), void *ctx);
void interrupt_watchdog_stop(interrupt_watchdog *w);

#endif
