/* libFuzzer target: the dataset CSV loader (csv_load, the real JSC table) and the reader
   of cltrain's own CSV files (csv_read), on the same arbitrary file. */
#define _GNU_SOURCE /* memfd_create, in fuzz_file.h */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/csvread.h"
#include "data/data_sources.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  const char *path = fuzz_file(data, n);
  char err[1024] = "";
  raw_table t;
  if (csv_load(path, &t, err, sizeof err) == 0) {
    /* Accepted rows hold finite features and labels in range. */
    for (size_t r = 0; r < t.rows; r++) {
      if (t.y[r] < 0 || t.y[r] >= JSC_N_CLASSES) abort();
      for (int f = 0; f < JSC_N_FEATURES; f++)
        if (!isfinite(t.x[r * JSC_N_FEATURES + f])) abort();
    }
    raw_table_free(&t);
  } else if (err[0] == '\0') {
    abort();
  }

  csv_table c;
  err[0] = '\0';
  if (csv_read(path, &c, err, sizeof err) == 0) {
    for (size_t r = 0; r < c.nrows; r++)
      for (size_t k = 0; k < c.ncols; k++)
        if (!csv_cell(&c, r, k)) abort();
    double *v = NULL;
    if (c.ncols > 0 && csv_numbers(&c, c.header[0], &v, err, sizeof err) == 0) free(v);
    csv_free(&c);
  } else if (err[0] == '\0') {
    abort();
  }
  return 0;
}
