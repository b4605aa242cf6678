/* The effective-configuration table (config.txt) and the key=value text stored in
   checkpoints, built on the option accessors of train_config.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/train_config.h"
#include "base/safe_file.h"
#include "base/util.h"

#define CELL (TRAIN_PATH_MAX + 64)

/* The four cells of one table row. */
static void table_row(const train_config *cfg, const train_config *defaults, int i, const char *device_name,
                      char def[CELL], char over[CELL], char eff[CELL]) {
  train_config_value_text(defaults, (train_option)i, def, CELL);
  train_config_value_text(cfg, (train_option)i, eff, CELL);
  if (cfg->given[i]) snprintf(over, CELL, "%s", eff);
  else snprintf(over, CELL, "-");
  if (i == TOPT_WEIGHT_DECAY) snprintf(eff, CELL, "%g", train_config_weight_decay(cfg));
  if (i == TOPT_DEVICE && device_name) {
    size_t n = strlen(eff); /* the device spec: at most 255 characters */
    if (n) n += (size_t)snprintf(eff + n, CELL - n, ": ");
    if (n < CELL) snprintf(eff + n, CELL - n, "%.256s", device_name);
  }
  if (!def[0]) snprintf(def, CELL, "-");
  if (!eff[0]) snprintf(eff, CELL, "-");
}

void train_config_print_table(FILE *out, const train_config *cfg, const char *device_name) {
  train_config defaults;
  train_config_default(&defaults);
  int w[3] = {(int)strlen("default"), (int)strlen("override"), 18};
  char def[CELL], over[CELL], eff[CELL];
  for (int i = 0; i < TOPT_COUNT; i++) {
    table_row(cfg, &defaults, i, device_name, def, over, eff);
    if ((int)strlen(def) > w[0]) w[0] = (int)strlen(def);
    if ((int)strlen(over) > w[1]) w[1] = (int)strlen(over);
  }
  fprintf(out, "%-*s  %-*s  %-*s  %s\n", w[2], "option", w[0], "default", w[1], "override", "effective");
  for (int i = 0; i < TOPT_COUNT; i++) {
    table_row(cfg, &defaults, i, device_name, def, over, eff);
    fprintf(out, "%-*s  %-*s  %-*s  %s\n", w[2], train_option_name((train_option)i), w[0], def, w[1], over, eff);
  }
}

int train_config_write_table(const char *path, const train_config *cfg, const char *device_name, char *err,
                             size_t errlen) {
  /* Through PATH.tmp and a rename: a resumed run rewrites its table, and a full disk must
     not leave it truncated. */
  const size_t size = strlen(path) + sizeof ".tmp";
  char *tmp = xmalloc(size);
  snprintf(tmp, size, "%s.tmp", path);
  int rc = 0;
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) {
    rc = seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  } else {
    train_config_print_table(f, cfg, device_name);
    errno = 0;
    const bool write_error = ferror(f) != 0;
    if (fclose(f) != 0 || write_error || rename(tmp, path) != 0) {
      rc = seterr(err, errlen, "cannot write %s: %s", path, errno ? strerror(errno) : "write error");
      unlink(tmp);
    }
  }
  free(tmp);
  return rc;
}

char *train_config_to_text(const train_config *cfg) {
  size_t cap = (TOPT_COUNT + 1) * (CELL + 32) + 64, n = 0;
  char *text = xmalloc(cap);
  text[0] = '\0';
  char val[CELL];
  for (int i = 0; i < TOPT_COUNT; i++) {
    train_config_value_text(cfg, (train_option)i, val, sizeof val);
    n += (size_t)snprintf(text + n, cap - n, "%s=%s\n", train_option_name((train_option)i), val);
  }
  n += (size_t)snprintf(text + n, cap - n, "given=");
  for (int i = 0, first = 1; i < TOPT_COUNT; i++)
    if (cfg->given[i]) {
      n += (size_t)snprintf(text + n, cap - n, "%s%s", first ? "" : ",", train_option_name((train_option)i));
      first = 0;
    }
  n += (size_t)snprintf(text + n, cap - n, "\n");
  /* only for data-parallel runs, so a one-process checkpoint's text stays as it was */
  if (cfg->data_parallel > 1) snprintf(text + n, cap - n, "data-parallel=%d\n", cfg->data_parallel);
  return text;
}

/* "given=a,b,c": exactly these options count as given. */
static int apply_given(train_config *cfg, char *list, char *err, size_t errlen) {
  memset(cfg->given, 0, sizeof cfg->given);
  char *save = NULL;
  for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    int opt = train_option_find(name);
    if (opt < 0) return seterr(err, errlen, "stored configuration: unknown option '%s'", name);
    cfg->given[opt] = true;
  }
  return 0;
}

int train_config_from_text(train_config *cfg, const char *text, char *err, size_t errlen) {
  char line[CELL + 64];
  bool have_given = false;
  for (const char *p = text; *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len >= sizeof line) return seterr(err, errlen, "stored configuration: line too long");
    memcpy(line, p, len);
    line[len] = '\0';
    p += len + (eol ? 1 : 0);
    if (!line[0]) continue;
    char *eq = strchr(line, '=');
    if (!eq) return seterr(err, errlen, "stored configuration: malformed line '%s'", line);
    *eq = '\0';
    const char *value = eq + 1;
    if (strcmp(line, "given") == 0) {
      if (apply_given(cfg, eq + 1, err, errlen)) return -1;
      have_given = true;
      continue;
    }
    if (strcmp(line, "data-parallel") == 0) {
      long ranks;
      if (!parse_long(value, 2, 1L << 20, &ranks))
        return seterr(err, errlen, "stored configuration: data-parallel '%s' is not a rank count", value);
      cfg->data_parallel = (int)ranks;
      continue;
    }
    int opt = train_option_find(line);
    if (opt < 0) return seterr(err, errlen, "stored configuration: unknown option '%s'", line);
    if (!value[0]) continue; /* an unset text option: as in the defaults */
    if (train_config_set_opt(cfg, (train_option)opt, value, err, errlen)) return -1;
  }
  if (!have_given) { /* older text without the list: non-default values count as given */
    train_config defaults;
    train_config_default(&defaults);
    char a[CELL], b[CELL];
    for (int i = 0; i < TOPT_COUNT; i++) {
      train_config_value_text(cfg, (train_option)i, a, sizeof a);
      train_config_value_text(&defaults, (train_option)i, b, sizeof b);
      cfg->given[i] = strcmp(a, b) != 0;
    }
  }
  return 0;
}
