#include "train/run_summary.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/safe_file.h"
#include "base/json.h"
#include "base/util.h"

static int replace_file(const char *path, const char *tmp, char *err, size_t errlen) {
  if (rename(tmp, path)) return seterr(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
  return 0;
}

int run_summary_write(const char *path, const run_summary *s, char *err, size_t errlen) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) return seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  fprintf(f, "{\n  \"model\": ");
  json_write_string(f, s->model);
  fprintf(f, ",\n  \"dataset\": ");
  json_write_string(f, s->dataset);
  fprintf(f, ",\n  \"params\": %zu,\n  \"device\": ", s->params);
  json_write_string(f, s->device);
  fprintf(f, ",\n  \"status\": ");
  json_write_string(f, s->status ? s->status : "unknown");
  fprintf(f, ",\n  \"error\": ");
  if (s->error) json_write_string(f, s->error);
  else fputs("null", f);
  fprintf(f, ",\n  \"epochs_run\": %llu,\n  \"max_epochs\": %llu,\n  \"steps\": %llu,\n  \"batch_size\": %ld",
          (unsigned long long)s->epochs_run, (unsigned long long)s->max_epochs, (unsigned long long)s->steps,
          s->batch_size);
  fprintf(f, ",\n  \"learning_rate\": ");
  json_write_number(f, s->learning_rate);
  fprintf(f, ",\n  \"optimizer\": ");
  json_write_string(f, s->optimizer ? s->optimizer : "");
  fprintf(f, ",\n  \"seed\": %llu,\n  \"best_val_acc\": ", (unsigned long long)s->seed);
  json_write_number(f, s->best_val_acc >= 0 ? s->best_val_acc : NAN);
  fprintf(f, ",\n  \"best_epoch\": ");
  if (s->best_val_acc >= 0) fprintf(f, "%llu", (unsigned long long)s->best_epoch);
  else fputs("null", f);
  const struct { const char *key; double v; } nums[] = {
      {"final_train_loss", s->final_train_loss}, {"final_train_acc", s->final_train_acc},
      {"final_val_loss", s->final_val_loss},     {"final_val_acc", s->final_val_acc},
      {"test_loss", s->have_test ? s->test_loss : NAN}, {"test_acc", s->have_test ? s->test_acc : NAN},
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    fprintf(f, ",\n  \"%s\": ", nums[i].key);
    json_write_number(f, nums[i].v);
  }
  fprintf(f, ",\n  \"test_checkpoint\": ");
  if (s->have_test) json_write_string(f, s->test_checkpoint);
  else fputs("null", f);
  fprintf(f, ",\n  \"train_seconds\": ");
  json_write_number(f, s->train_seconds);
  fprintf(f, ",\n  \"samples_per_s\": ");
  json_write_number(f, s->samples_per_s);
  fprintf(f, ",\n  \"compile_s\": ");
  json_write_number(f, s->compile_seconds);
  fprintf(f, ",\n  \"launch_us\": ");
  json_write_number(f, s->launch_us);
  fprintf(f, ",\n  \"step_kernel\": ");
  if (s->step_kernel) json_write_string(f, s->step_kernel);
  else fputs("null", f);
  fprintf(f, "\n}\n");
  if (fclose(f)) {
    seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    unlink(tmp); /* a full disk leaves no half-written temporary behind */
    return -1;
  }
  return replace_file(path, tmp, err, errlen);
}

/* Replace the value of "KEY": on its own line, keeping the trailing comma. */
static int set_line(char **text, const char *key, const char *value) {
  char needle[64];
  snprintf(needle, sizeof needle, "\n  \"%s\": ", key);
  char *at = strstr(*text, needle);
  if (!at) return -1;
  char *start = at + strlen(needle);
  char *end = start + strcspn(start, ",\n");
  size_t head = (size_t)(start - *text), vlen = strlen(value), tail = strlen(end);
  char *out = xmalloc(head + vlen + tail + 1);
  memcpy(out, *text, head);
  memcpy(out + head, value, vlen);
  memcpy(out + head + vlen, end, tail + 1);
  free(*text);
  *text = out;
  return 0;
}

int run_summary_set_test(const char *path, double loss, double acc, const char *checkpoint_name, char *err,
                         size_t errlen) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return seterr(err, errlen, "cannot read %s: %s", path, strerror(errno));
  char l[64], a[64], c[200];
  snprintf(l, sizeof l, "%.9g", loss);
  snprintf(a, sizeof a, "%.9g", acc);
  snprintf(c, sizeof c, "\"%.150s\"", checkpoint_name);
  for (char *q = c + 1; q[1]; q++)
    if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20) *q = '_';
  if (set_line(&text, "test_loss", l) || set_line(&text, "test_acc", a) || set_line(&text, "test_checkpoint", c)) {
    free(text);
    return seterr(err, errlen, "%s lacks the test_* fields of a cltrain summary", path);
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = safe_tmp_fopen(tmp);
  int rc = 0;
  if (!f || fputs(text, f) == EOF) rc = seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  if (f && fclose(f) && !rc) rc = seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  free(text);
  if (rc && f) unlink(tmp);
  return rc ? rc : replace_file(path, tmp, err, errlen);
}
