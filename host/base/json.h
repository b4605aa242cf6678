/* Writing JSON values to a stream: the few pieces cltrain's JSON files (summary.json,
   test results, the JSON model export) are made of. */
#ifndef CLTRAIN_JSON_H
#define CLTRAIN_JSON_H

#include <stdio.h>

/* S as a JSON string: quotes, backslashes and control characters escaped. */
void json_write_string(FILE *f, const char *s);
/* V with 9 significant digits (a float reads back to the same float); null when V is
   not finite, which JSON cannot hold. */
void json_write_number(FILE *f, double v);

#endif
