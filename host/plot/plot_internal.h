/* Shared by the plot_*.c files: a figure under construction and the gnuplot driver. */
#ifndef CLTRAIN_PLOT_INTERNAL_H
#define CLTRAIN_PLOT_INTERNAL_H

#include <stdio.h>

#include "plot/plot.h"

/* A figure being built. `gp` collects the gnuplot preamble (variables, data blocks) that
   precedes plots/SCRIPT; `csv` is OUT_DIR/NAME.csv, the same data for people and tools. */
typedef struct {
  char name[256];   /* PREFIX_NAME */
  char base[4096];  /* OUT_DIR/PREFIX_NAME, without extension */
  FILE *gp;
  char *gp_text;
  size_t gp_len;
  FILE *csv;
} figure;

/* Create OUT_DIR when needed, open NAME.csv and the preamble buffer. PLOT_* status. */
int figure_begin(figure *f, const char *out_dir, const char *prefix, const char *name,
                 char *err, size_t errlen);
/* Close the CSV and draw with plots/SCRIPT at WIDTH x HEIGHT pixels (or, without gnuplot,
   warn once and keep the CSV only). Frees the figure. PLOT_* status. */
int figure_finish(plotter *p, figure *f, const char *script, int width, int height,
                  char *err, size_t errlen);

/* Gnuplot literals: a single-quoted string (control characters become spaces) and a
   number (non-finite values become NaN, which gnuplot leaves out of lines). */
void gp_string(FILE *f, const char *s);
void gp_number(FILE *f, double v);
/* NAME = 'VALUE' on its own line. */
void gp_set_string(FILE *f, const char *name, const char *value);
/* array NAME[n] = ['..', ...] */
void gp_string_array(FILE *f, const char *name, const char *const *values, size_t n);
/* The same for strings used as tic labels, which gnuplot reads as formats ('%' doubled). */
void gp_tic_array(FILE *f, const char *name, const char *const *values, size_t n);

/* "TEXT — TITLE" or TEXT alone when TITLE is NULL/empty, into buf. */
void figure_title(char *buf, size_t n, const char *text, const char *title);
/* DIR/NAME into buf; -1 with err when it does not fit. */
int path_join(char *buf, size_t n, const char *dir, const char *name, char *err, size_t errlen);

#endif
