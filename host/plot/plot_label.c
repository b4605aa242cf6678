/* Legend labels ("batch 256", "lr 1e-3") and reading a run's settings for them. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot_internal.h"
#include "base/util.h"

/* Lower case, '_' as '-', leading dashes dropped: "--Batch_Size" -> "batch-size". */
static void normalize_key(const char *key, char *out, size_t n) {
  while (*key == '-') key++;
  size_t i = 0;
  for (; key[i] && i + 1 < n; i++)
    out[i] = key[i] == '_' ? '-' : (char)tolower((unsigned char)key[i]);
  out[i] = '\0';
}

/* 0.01 -> "1e-2", 5e-4 -> "5e-4", 0.1 -> "0.1", 300 -> "300"; others as %g. */
static void compact_number(char *buf, size_t n, const char *value) {
  double v;
  if (!parse_double(value, -HUGE_VAL, HUGE_VAL, &v) || v == 0) {
    snprintf(buf, n, "%s", value);
    return;
  }
  int e = (int)floor(log10(fabs(v)));
  double m = v / pow(10, e);
  if (fabs(round(m)) >= 10) { /* log10 rounded below an exact power of ten */
    m /= 10;
    e++;
  }
  if ((e <= -2 || e >= 5) && fabs(m - round(m)) < 1e-9) snprintf(buf, n, "%.0fe%d", round(m), e);
  else snprintf(buf, n, "%g", v);
}

void plot_label(char *buf, size_t n, const char *key, const char *value) {
  char k[64], num[64];
  normalize_key(key, k, sizeof k);
  static const char *const bare[] = {"model", "dataset", "optimizer", "device", "scheduler", NULL};
  for (const char *const *b = bare; *b; b++)
    if (strcmp(k, *b) == 0) {
      snprintf(buf, n, "%s", value);
      return;
    }
  static const char *const named[][2] = {
      {"batch-size", "batch"}, {"batch", "batch"},     {"learning-rate", "lr"},
      {"lr", "lr"},            {"max-epochs", "epochs"}, {"epochs", "epochs"},
      {"weight-decay", "wd"},  {"seed", "seed"},
  };
  const char *shown = key;
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (strcmp(k, named[i][0]) == 0) shown = named[i][1];
  compact_number(num, sizeof num, value);
  snprintf(buf, n, "%s %s", shown, num);
}

/* Value of "KEY": in a flat JSON object (string or bare number/true/false). */
static bool json_lookup(const char *text, const char *key, char *value, size_t n) {
  for (const char *p = text; (p = strchr(p, '"')) != NULL;) {
    const char *name = ++p;
    while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
    if (!*p) return false;
    char k[64];
    size_t len = (size_t)(p - name);
    p++;
    if (len >= sizeof k) continue;
    memcpy(k, name, len);
    k[len] = '\0';
    const char *q = p;
    while (isspace((unsigned char)*q)) q++;
    if (*q != ':') continue; /* a string value, not a key */
    q++;
    char nk[64];
    normalize_key(k, nk, sizeof nk);
    if (strcmp(nk, key) != 0) continue;
    while (isspace((unsigned char)*q)) q++;
    size_t i = 0;
    if (*q == '"') {
      for (q++; *q && *q != '"' && i + 1 < n; q++) {
        if (*q == '\\' && q[1]) q++;
        value[i++] = *q;
      }
    } else {
      while (*q && !strchr(",}] \t\r\n", *q) && i + 1 < n) value[i++] = *q++;
    }
    value[i] = '\0';
    return i > 0;
  }
  return false;
}

/* config.txt: a table whose rows start with the setting name and end with its effective
   value; separators may be blanks, '|' or ','. */
static bool config_lookup(const char *text, const char *key, char *value, size_t n) {
  for (const char *line = text; *line;) {
    size_t len = strcspn(line, "\n");
    char row[1024];
    snprintf(row, sizeof row, "%.*s", (int)(len < sizeof row ? len : sizeof row - 1), line);
    line += len + (line[len] == '\n');
    char *tokens[64];
    size_t nt = 0;
    for (char *save = NULL, *t = strtok_r(row, " \t\r|,", &save); t && nt < 64;
         t = strtok_r(NULL, " \t\r|,", &save))
      tokens[nt++] = t;
    if (nt < 2) continue;
    char nk[64];
    normalize_key(tokens[0], nk, sizeof nk);
    if (strcmp(nk, key) != 0) continue;
    snprintf(value, n, "%s", tokens[nt - 1]);
    return true;
  }
  return false;
}

int plot_run_setting(const char *dir, const char *key, char *value, size_t n, char *err,
                     size_t errlen) {
  char k[64], path[4096];
  normalize_key(key, k, sizeof k);
  static const char *const files[] = {"summary.json", "config.txt"};
  bool any = false;
  for (int f = 0; f < 2; f++) {
    if (path_join(path, sizeof path, dir, files[f], err, errlen) != 0) return -1;
    char *text = read_file(path, NULL);
    if (!text) continue;
    any = true;
    bool found = f == 0 ? json_lookup(text, k, value, n) : config_lookup(text, k, value, n);
    free(text);
    if (found) return 0;
  }
  if (!any) return seterr(err, errlen, "%s: no summary.json or config.txt to read '%s' from", dir, key);
  return seterr(err, errlen, "%s: no setting '%s' in summary.json or config.txt", dir, key);
}
