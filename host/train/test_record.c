/* test-<key>.json of `cltrain test` (test_record.h). */
#include "train/test_record.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

void test_record_key(const char *dataset_short, const char *split, size_t rows, const char *dataset_spec,
                     const char *options_text, char *key, size_t n) {
  uint64_t h = fnv1a64(dataset_spec, strlen(dataset_spec), FNV1A64_INIT);
  h = fnv1a64(options_text, strlen(options_text), h);
  snprintf(key, n, "%s_%s_%zu_%08llx", dataset_short, split, rows, (unsigned long long)(h & 0xffffffffull));
}

static void put_string(FILE *f, const char *key, const char *v, bool last) {
  fprintf(f, "  \"%s\": \"", key);
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if ((unsigned char)*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fprintf(f, "\"%s\n", last ? "" : ",");
}

static void put_number(FILE *f, const char *key, double v) {
  if (isfinite(v)) fprintf(f, "  \"%s\": %.9g,\n", key, v);
  else fprintf(f, "  \"%s\": null,\n", key);
}

int test_record_write(const char *path, const test_record *r, error *err) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return ERR_RUNTIME(err, "cannot write %s: %s", tmp, strerror(errno));
  const eval_result *e = r->result;
  fputs("{\n", f);
  put_string(f, "checkpoint", r->checkpoint, false);
  put_string(f, "model", r->model, false);
  put_string(f, "dataset", r->dataset, false);
  put_string(f, "source", r->source, false);
  put_string(f, "split", r->split, false);
  put_string(f, "data_options", r->data_options, false);
  fprintf(f, "  \"own_test_split\": %s,\n", r->own_test_split ? "true" : "false");
  fprintf(f, "  \"rows\": %ld,\n  \"correct\": %ld,\n", e->count, e->correct);
  put_number(f, "loss", e->loss);
  put_number(f, "acc", e->acc);
  char key[32];
  for (int t = 0; t < JSC_N_CLASSES; t++) {
    long rows = 0;
    for (int p = 0; p < JSC_N_CLASSES; p++) rows += e->confusion[t * JSC_N_CLASSES + p];
    snprintf(key, sizeof key, "acc_%s", jsc_class_names[t]);
    put_number(f, key, rows ? (double)e->confusion[t * JSC_N_CLASSES + t] / (double)rows : NAN);
  }
  for (int c = 0; c < JSC_N_CLASSES; c++) {
    snprintf(key, sizeof key, "auc_%s", jsc_class_names[c]);
    put_number(f, key, r->roc[c].auc);
  }
  fprintf(f, "  \"version\": 1\n}\n");
  bool failed = ferror(f) != 0;
  if (fclose(f) != 0) failed = true;
  if (failed || rename(tmp, path) != 0) {
    int saved = errno;
    remove(tmp);
    return ERR_RUNTIME(err, "cannot write %s: %s", path, strerror(saved ? saved : EIO));
  }
  return 0;
}
