/* Private to the lab report (lab1_report.c: the document; lab1_observe.c: the sentences
   computed from the numbers; lab1_runs.c: the numbers of each run and their formats,
   used by both). */
#ifndef CLTRAIN_LAB1_REPORT_INTERNAL_H
#define CLTRAIN_LAB1_REPORT_INTERNAL_H

#include <stdio.h>

#include "study/lab1.h"

/* One run of an experiment with what the report says about it. NaN: unknown. */
typedef struct {
  const sweep_result *r;
  const train_config *cfg;
  const char *value;        /* the varied value as listed ("1e-3") */
  double steps, params;
  double best_epoch;        /* 1-based */
  double acc_std;           /* spread of the per-batch train accuracy over the second half of the run */
  double val_rise;          /* validation accuracy gained over the second half of the epochs */
  double first_val;         /* validation accuracy after the first epoch */
} lab1_run_info;

void lab1_run_info_get(const lab1_outcome *o, size_t i, lab1_run_info *info);

/* %g without the exponent's leading zero: "1e-5". */
const char *lab1_number(double v, char buf[32]);
/* "70.1%" (a fraction in, one decimal), "n/a" when not finite. */
const char *lab1_pct(double fraction, char buf[32]);

/* The bullet list of observations of experiment O. */
void lab1_observe(FILE *f, const lab1_outcome *o, const lab1_run_info *runs);
/* Observations of the confusion matrix. */
void lab1_observe_confusion(FILE *f, const lab1_confusion *c);

#endif
