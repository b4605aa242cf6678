/* CSV loader for the real JSC table: a header row, the 16 features selected by name (any
   order, extra columns ignored), and a label column: OpenML's `class` or `label` (names
   g q w z t, case-insensitive, also j_g ...) or, without those, `label_idx` (indices in
   the sorted-name order g q t w z that hls4ml/OpenML exports use). Labels are mapped by
   name into the canonical order g q W Z t. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/data_sources.h"
#include "base/util.h"

#define MAX_COLUMNS 4096

typedef struct {
  const char *p;   /* cell text, quotes and surrounding blanks removed */
  size_t len;
} cell;

/* Split one line [p, end) at commas into cells; returns the count or -1 if > max. */
static int split_cells(const char *p, const char *end, cell *cells, int max) {
  int n = 0;
  for (;;) {
    const char *c = p;
    while (c < end && *c != ',') c++;
    if (n == max) return -1;
    const char *a = p, *b = c;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
    if (b - a >= 2 && ((*a == '"' && b[-1] == '"') || (*a == '\'' && b[-1] == '\''))) {
      a++;
      b--;
    }
    cells[n].p = a;
    cells[n].len = (size_t)(b - a);
    n++;
    if (c == end) return n;
    p = c + 1;
  }
}

static bool is_blank(const char *p, const char *end) {
  for (; p < end; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return false;
  return true;
}

typedef enum { LABEL_NAME, LABEL_SORTED_INDEX } label_kind;

/* Strict number: the whole cell must parse; non-finite values are rejected by the caller. */
static bool parse_cell_number(const cell *c, double *v) {
  char buf[128];
  if (c->len == 0 || c->len >= sizeof buf) return false;
  memcpy(buf, c->p, c->len);
  buf[c->len] = '\0';
  char *end;
  errno = 0;
  *v = strtod(buf, &end);
  return *end == '\0' && errno != EINVAL && end != buf;
}

/* LABEL_COL -1 (with NEED_LABEL false): the file has no label column. */
static int header_columns(const char *path, const cell *h, int nh, int feature_col[JSC_N_FEATURES],
                          bool need_label, int *label_col, label_kind *kind, int *split_col, char *err,
                          size_t errlen) {
  for (int j = 0; j < JSC_N_FEATURES; j++) feature_col[j] = -1;
  int col_class = -1, col_label = -1, col_idx = -1;
  *split_col = -1;
  for (int c = 0; c < nh; c++) {
    if (h[c].len == 5 && memcmp(h[c].p, "split", 5) == 0) {
      if (*split_col >= 0) return seterr(err, errlen, "%s: header names column 'split' twice", path);
      *split_col = c;
      continue;
    }
    int f = jsc_feature_from_name(h[c].p, h[c].len);
    if (f >= 0) {
      if (feature_col[f] >= 0)
        return seterr(err, errlen, "%s: header names column '%s' twice", path, jsc_feature_names[f]);
      feature_col[f] = c;
    } else if (h[c].len == 5 && memcmp(h[c].p, "class", 5) == 0) {
      col_class = c;
    } else if (h[c].len == 5 && memcmp(h[c].p, "label", 5) == 0) {
      col_label = c;
    } else if (h[c].len == 9 && memcmp(h[c].p, "label_idx", 9) == 0) {
      col_idx = c;
    }
  }
  for (int j = 0; j < JSC_N_FEATURES; j++)
    if (feature_col[j] < 0)
      return seterr(err, errlen, "%s: missing feature column '%s' in the header", path, jsc_feature_names[j]);
  *kind = LABEL_NAME;
  if (col_class >= 0) *label_col = col_class;
  else if (col_label >= 0) *label_col = col_label;
  else if (col_idx >= 0) {
    *label_col = col_idx;
    *kind = LABEL_SORTED_INDEX;
  } else if (need_label) {
    return seterr(err, errlen, "%s: no label column in the header (need 'class', 'label' or 'label_idx')", path);
  } else {
    *label_col = -1;
  }
  return 0;
}

static int parse_label(const char *path, size_t row, const cell *c, label_kind kind, int32_t *y,
                       char *err, size_t errlen) {
  if (kind == LABEL_SORTED_INDEX) {
    static const int32_t sorted_to_canonical[5] = {0, 1, 4, 2, 3}; /* g q t w z -> g q W Z t */
    if (c->len == 1 && c->p[0] >= '0' && c->p[0] <= '4') {
      *y = sorted_to_canonical[c->p[0] - '0'];
      return 0;
    }
    return seterr(err, errlen, "%s: row %zu: unknown label_idx '%.*s' (expected 0-4 for g, q, t, w, z)", path,
                  row, (int)(c->len > 40 ? 40 : c->len), c->p);
  }
  int k = jsc_class_from_name(c->p, c->len);
  if (k < 0)
    return seterr(err, errlen, "%s: row %zu: unknown label '%.*s' (expected g, q, w, z or t)", path, row,
                  (int)(c->len > 40 ? 40 : c->len), c->p);
  *y = k;
  return 0;
}

/* A `split` cell: train, val (or validation) or test, case-insensitive. */
static int parse_split(const char *path, size_t row, size_t line, const cell *c, int8_t *out, char *err,
                       size_t errlen) {
  static const struct {
    const char *name;
    int8_t split;
  } names[] = {{"train", RAW_SPLIT_TRAIN}, {"val", RAW_SPLIT_VAL}, {"validation", RAW_SPLIT_VAL}, {"test", RAW_SPLIT_TEST}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (c->len == strlen(names[i].name) && strncasecmp(c->p, names[i].name, c->len) == 0) {
      *out = names[i].split;
      return 0;
    }
  return seterr(err, errlen, "%s: row %zu (line %zu): split '%.*s' is not train, val or test", path, row, line,
                (int)(c->len > 40 ? 40 : c->len), c->p);
}

int csv_load(const char *path, raw_table *out, char *err, size_t errlen) {
  bool has_labels;
  return csv_load_rows(path, true, out, &has_labels, err, errlen);
}

int csv_load_rows(const char *path, bool need_labels, raw_table *out, bool *has_labels, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return seterr(err, errlen, "%s: %s", path, strerror(errno));
  const char *p = text, *end = text + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte-order mark */
  if (is_blank(p, end)) {
    free(text);
    return seterr(err, errlen, "%s: empty file", path);
  }
  if (memchr(p, '\0', (size_t)(end - p))) {
    free(text);
    return seterr(err, errlen, "%s: binary data, not a CSV text file (nor HDF5)", path);
  }

  cell *cells = xmalloc(MAX_COLUMNS * sizeof(cell));
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  if (!eol) eol = end;
  int nh = split_cells(p, eol, cells, MAX_COLUMNS);
  int feature_col[JSC_N_FEATURES], label_col = -1, split_col = -1;
  label_kind kind;
  int rc = -1;
  if (nh < 0) {
    seterr(err, errlen, "%s: more than %d columns in the header", path, MAX_COLUMNS);
    goto done;
  }
  if (header_columns(path, cells, nh, feature_col, need_labels, &label_col, &kind, &split_col, err, errlen))
    goto done;
  *has_labels = label_col >= 0;

  /* Rows: at most one per remaining newline. */
  size_t cap = 1;
  for (const char *q = eol; q < end; q++) cap += *q == '\n';
  raw_table_alloc(out, cap);
  if (split_col >= 0) out->split = xmalloc(cap * sizeof(int8_t));
  size_t row = 0, line = 1;
  p = eol < end ? eol + 1 : end;
  while (p < end) {
    line++;
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    if (is_blank(p, eol)) {
      p = eol + 1;
      continue;
    }
    int n = split_cells(p, eol, cells, MAX_COLUMNS);
    if (n != nh) {
      seterr(err, errlen, "%s: row %zu (line %zu) has %d cells, the header has %d", path, row + 1, line,
             n < 0 ? MAX_COLUMNS : n, nh);
      goto done;
    }
    float *x = out->x + row * JSC_N_FEATURES;
    for (int j = 0; j < JSC_N_FEATURES; j++) {
      const cell *c = &cells[feature_col[j]];
      double v;
      if (!parse_cell_number(c, &v)) {
        seterr(err, errlen, "%s: row %zu (line %zu), column %d '%s': '%.*s' is not a number", path, row + 1, line,
               feature_col[j] + 1, jsc_feature_names[j], (int)(c->len > 40 ? 40 : c->len), c->p);
        goto done;
      }
      x[j] = (float)v;
      if (!isfinite(x[j])) {
        seterr(err, errlen, "%s: row %zu (line %zu), column %d '%s': non-finite value '%.*s'", path, row + 1,
               line, feature_col[j] + 1, jsc_feature_names[j], (int)(c->len > 40 ? 40 : c->len), c->p);
        goto done;
      }
    }
    if (label_col < 0) out->y[row] = -1;
    else if (parse_label(path, row + 1, &cells[label_col], kind, &out->y[row], err, errlen)) goto done;
    if (split_col >= 0 && parse_split(path, row + 1, line, &cells[split_col], &out->split[row], err, errlen))
      goto done;
    row++;
    p = eol + 1;
  }
  if (row == 0) {
    seterr(err, errlen, "%s: no data rows after the header", path);
    goto done;
  }
  out->rows = row;
  rc = 0;
done:
  free(cells);
  free(text);
  if (rc) raw_table_free(out);
  return rc;
}
