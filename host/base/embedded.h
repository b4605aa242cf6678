/* Files compiled into the binary: kernels/NAME.cl, models/NAME.model, plots/NAME.gp. */
#ifndef CLTRAIN_EMBEDDED_H
#define CLTRAIN_EMBEDDED_H

#include <stddef.h>

typedef struct {
  const char *name; /* "kernels/foo.cl", "models/jsc-tiny.model", "plots/curves.gp" */
  const char *data; /* NUL-terminated */
  size_t size;
} embedded_file;

extern const embedded_file embedded_files[]; /* terminated by a NULL name */

/* Look up an embedded file by name; NULL when absent. */
const embedded_file *embedded_find(const char *name);

#endif
