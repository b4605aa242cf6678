#include "base/csvread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Growable array of strings: the fields of the row being parsed. */
typedef struct {
  char **items;
  size_t n, cap;
} strvec;

static void strvec_push(strvec *v, char *s) {
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 16;
    v->items = xrealloc(v->items, v->cap * sizeof *v->items);
  }
  v->items[v->n++] = s;
}

static void strvec_clear(strvec *v) {
  for (size_t i = 0; i < v->n; i++) free(v->items[i]);
  v->n = 0;
}

/* Copy of [b, e) without surrounding blanks (unquoted fields only). */
static char *trimmed_copy(const char *b, const char *e) {
  while (b < e && (*b == ' ' || *b == '\t')) b++;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
  char *s = xmalloc((size_t)(e - b) + 1);
  memcpy(s, b, (size_t)(e - b));
  s[e - b] = '\0';
  return s;
}

/* Parse one record starting at *pp (not at end of text). Fields go to ROW; *pp moves past
   the record's line break; *line counts line breaks consumed. Returns 0 or -1 with err. */
static int parse_record(const char **pp, const char *end, strvec *row, size_t *line,
                        const char *path, char *err, size_t errlen) {
  const char *p = *pp;
  size_t start_line = *line;
  for (;;) {
    if (p < end && *p == '"') { /* quoted field: "" is a literal quote */
      size_t cap = 64, n = 0;
      char *s = xmalloc(cap);
      p++;
      for (;;) {
        if (p >= end) {
          free(s);
          return seterr(err, errlen, "%s:%zu: unterminated quoted field", path, start_line);
        }
        if (*p == '"') {
          if (p + 1 < end && p[1] == '"') p++;
          else break;
        } else if (*p == '\n') {
          (*line)++;
        }
        if (n + 2 > cap) s = xrealloc(s, cap *= 2);
        s[n++] = *p++;
      }
      s[n] = '\0';
      p++; /* closing quote */
      while (p < end && (*p == ' ' || *p == '\t')) p++;
      if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
        free(s);
        return seterr(err, errlen, "%s:%zu: text after a closing quote", path, *line);
      }
      strvec_push(row, s);
    } else {
      const char *b = p;
      while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
        if (*p == '"')
          return seterr(err, errlen, "%s:%zu: quote inside an unquoted field", path, *line);
        p++;
      }
      strvec_push(row, trimmed_copy(b, p));
    }
    if (p < end && *p == ',') {
      p++;
      continue;
    }
    if (p < end && *p == '\r') p++;
    if (p < end && *p == '\n') p++;
    (*line)++;
    *pp = p;
    return 0;
  }
}

int csv_read(const char *path, csv_table *t, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return seterr(err, errlen, "%s: cannot read: %s", path, strerror(errno));
  if (memchr(text, '\0', len)) {
    free(text);
    return seterr(err, errlen, "%s: not a text file (holds NUL bytes)", path);
  }
  t->path = xstrdup(path);
  const char *p = text, *end = text + len;
  if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3; /* UTF-8 byte-order mark */

  strvec row = {0};
  size_t line = 1, cap = 0;
  int rc = 0;
  while (p < end) {
    if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) { /* blank line */
      p += *p == '\r' ? 2 : 1;
      line++;
      continue;
    }
    size_t row_line = line;
    if (parse_record(&p, end, &row, &line, path, err, errlen) != 0) {
      rc = -1;
      break;
    }
    if (!t->header) {
      t->ncols = row.n;
      t->header = row.items;
      row = (strvec){0};
      continue;
    }
    if (row.n != t->ncols) {
      rc = seterr(err, errlen, "%s:%zu: %zu fields where the header has %zu", path, row_line,
                  row.n, t->ncols);
      break;
    }
    if (t->nrows == cap) {
      cap = cap ? 2 * cap : 256;
      t->cells = xrealloc(t->cells, cap * t->ncols * sizeof *t->cells);
      t->lines = xrealloc(t->lines, cap * sizeof *t->lines);
    }
    memcpy(t->cells + t->nrows * t->ncols, row.items, t->ncols * sizeof *row.items);
    t->lines[t->nrows++] = row_line;
    row.n = 0; /* ownership moved to the table */
  }
  strvec_clear(&row);
  free(row.items);
  free(text);
  if (rc == 0 && !t->header) rc = seterr(err, errlen, "%s: empty file (no header line)", path);
  if (rc == 0)
    for (size_t c = 0; c < t->ncols; c++)
      if (!t->header[c][0]) {
        rc = seterr(err, errlen, "%s:1: column %zu has an empty name", path, c + 1);
        break;
      }
  if (rc != 0) csv_free(t);
  return rc;
}

void csv_free(csv_table *t) {
  if (t->header)
    for (size_t c = 0; c < t->ncols; c++) free(t->header[c]);
  for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
  free(t->header);
  free(t->cells);
  free(t->lines);
  free(t->path);
  memset(t, 0, sizeof *t);
}

int csv_col(const csv_table *t, const char *name) {
  for (size_t c = 0; c < t->ncols; c++)
    if (strcmp(t->header[c], name) == 0) return (int)c;
  return -1;
}

const char *csv_cell(const csv_table *t, size_t row, size_t col) {
  return t->cells[row * t->ncols + col];
}

static void header_list(const csv_table *t, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t c = 0; c < t->ncols && used + 1 < n; c++) {
    int w = snprintf(buf + used, n - used, "%s%s", c ? "," : "", t->header[c]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

int csv_require(const csv_table *t, const char *const *names, char *err, size_t errlen) {
  for (; *names; names++)
    if (csv_col(t, *names) < 0) {
      char have[256];
      header_list(t, have, sizeof have);
      return seterr(err, errlen, "%s: no column '%s' (header: %s)", t->path, *names, have);
    }
  return 0;
}

int csv_numbers(const csv_table *t, const char *name, double **out, char *err, size_t errlen) {
  const char *names[] = {name, NULL};
  if (csv_require(t, names, err, errlen) != 0) return -1;
  size_t c = (size_t)csv_col(t, name);
  double *v = xmalloc(t->nrows * sizeof *v);
  for (size_t r = 0; r < t->nrows; r++) {
    const char *s = csv_cell(t, r, c);
    char *end;
    v[r] = strtod(s, &end); /* overflow gives +-inf, underflow 0: both fine for plotting */
    if (!*s || *end) {
      free(v);
      return seterr(err, errlen, "%s:%zu: column '%s': '%s' is not a number", t->path,
                    t->lines[r], name, s);
    }
  }
  *out = v;
  return 0;
}

void csv_put_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}
