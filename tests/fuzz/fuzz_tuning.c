/* libFuzzer target: the stored-tuning reader (tuning_load). Each input is read as it is
   and with a correct "checksum" line appended in place of any it has, so the lines
   behind the checksum are fuzzed as well as the checksum check. */
#define _GNU_SOURCE /* memfd_create, in fuzz_file.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "cl/tuning.h"
#include "base/util.h"

static void load_one(const uint8_t *data, size_t n) {
  tuning t;
  char err[1024] = "";
  if (tuning_load(fuzz_file(data, n), &t, err, sizeof err) == 0) {
    if (t.n_sets < 0 || t.n_sets > TUNING_MAX_SETS) abort();
    for (int s = 0; s < t.n_sets; s++) {
      if (t.sets[s].n < 1 || t.sets[s].n > TUNING_MAX_PARAMS) abort();
      if (!memchr(t.sets[s].kernel, '\0', sizeof t.sets[s].kernel)) abort();
    }
    if (!memchr(t.device, '\0', sizeof t.device) || !memchr(t.driver, '\0', sizeof t.driver)) abort();
  } else if (err[0] == '\0') {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  load_one(data, n);
  /* The body up to an existing "checksum " line (or all of it), then the right one. */
  size_t body = n;
  for (size_t i = 0; i + 9 <= n; i++)
    if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, "checksum ", 9) == 0) {
      body = i;
      break;
    }
  char *fixed = malloc(body + 32);
  if (!fixed) return 0;
  memcpy(fixed, data, body);
  int w = snprintf(fixed + body, 32, "checksum %016llx\n", (unsigned long long)fnv1a64(fixed, body, FNV1A64_INIT));
  load_one((const uint8_t *)fixed, body + (size_t)w);
  free(fixed);
  return 0;
}
