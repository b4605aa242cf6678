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

#endif
