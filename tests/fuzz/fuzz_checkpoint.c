/* libFuzzer target: the checkpoint reader. Every input is read twice: as it is (so the
   header, length and checksum checks are fuzzed) and with its last 8 bytes replaced by
   the right FNV-1a checksum (so the records behind the checksum are fuzzed too, which a
   random mutation would almost never reach). A checkpoint that reads is then compared
   with the zoo's jsc-tiny, which parses its stored model text, and its stored
   configuration is parsed as --resume does. */
#define _GNU_SOURCE /* memfd_create, in fuzz_file.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"
#include "fuzz_file.h"
#include "model/model.h"
#include "train/train_config.h"
#include "base/util.h"

static void read_one(const uint8_t *data, size_t n, const model_spec *tiny) {
  checkpoint c;
  char err[1024] = "";
  if (checkpoint_read(fuzz_file(data, n), &c, err, sizeof err) == 0) {
    /* What was read is what the arrays say. */
    volatile float sink = 0;
    for (size_t i = 0; i < c.n_params; i++) sink += c.params[i];
    for (size_t i = 0; i < c.n_stats; i++) sink += c.stats[i];
    for (size_t i = 0; i < c.n_optim; i++) sink += c.optim[i];
    (void)sink;
    if (!c.model_text || !c.config_text || memchr(c.model_name, '\0', sizeof c.model_name) == NULL) abort();
    err[0] = '\0';
    if (checkpoint_check_model(&c, tiny, "fuzz.ckpt", err, sizeof err) != 0 && err[0] == '\0') abort();
    /* The stored configuration, as --resume and `test` parse it. */
    train_config cfg;
    train_config_default(&cfg);
    err[0] = '\0';
    if (train_config_from_text(&cfg, c.config_text, err, sizeof err) != 0 && err[0] == '\0') abort();
    checkpoint_free(&c);
  } else if (err[0] == '\0') {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  static model_spec tiny;
  static int have_tiny;
  if (!have_tiny) {
    error err = {0};
    if (model_load("jsc-tiny", &tiny, &err) != 0) abort();
    have_tiny = 1;
  }
  read_one(data, n, &tiny);
  if (n >= 8) {
    uint8_t *fixed = malloc(n);
    if (!fixed) return 0;
    memcpy(fixed, data, n);
    uint64_t sum = fnv1a64(fixed, n - 8, FNV1A64_INIT);
    for (int i = 0; i < 8; i++) fixed[n - 8 + i] = (uint8_t)(sum >> (8 * i));
    read_one(fixed, n, &tiny);
    free(fixed);
  }
  return 0;
}
