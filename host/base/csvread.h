/* A small, strict reader for the CSV files cltrain itself writes (metrics.csv, epochs.csv,
   confusion.csv, sweep.csv, compare.csv). Not the dataset loader: whole file in memory,
   cells kept as strings. RFC 4180 quoting ("a,b", "say ""hi""") is understood; CRLF line
   ends, a missing final newline and blank lines are tolerated; a row whose field count
   differs from the header is an error that names the file and line. */
#ifndef CLTRAIN_CSVREAD_H
#define CLTRAIN_CSVREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
  char *path;      /* as given to csv_read, for messages */
  size_t ncols;
  char **header;   /* ncols names, surrounding spaces trimmed */
  size_t nrows;    /* data rows, header excluded */
  char **cells;    /* nrows * ncols, row-major */
  size_t *lines;   /* source line number of each data row, for messages */
} csv_table;

/* Read PATH. Returns 0, or -1 with a one-line reason in err ("PATH: ..."). An empty file or
   one without a header is an error; a header with no rows is not. */
int csv_read(const char *path, csv_table *t, char *err, size_t errlen);
void csv_free(csv_table *t);

/* Column index of NAME (exact match), or -1. */
int csv_col(const csv_table *t, const char *name);
const char *csv_cell(const csv_table *t, size_t row, size_t col);

/* Column NAME as numbers (caller frees *out, nrows entries). Fails, naming file, line and
   column, when the column is absent or a cell is not a number. "nan" and "inf" are numbers
   (a diverged run logs them); callers decide what to do with non-finite values. */
int csv_numbers(const csv_table *t, const char *name, double **out, char *err, size_t errlen);
/* Every column named in NAMES (NULL-terminated) must exist; the error lists the first
   missing one and what the header holds. */
int csv_require(const csv_table *t, const char *const *names, char *err, size_t errlen);

/* Write S as one CSV field, quoted only when it holds a comma, quote or line break. */
void csv_put_field(FILE *f, const char *s);

#endif
