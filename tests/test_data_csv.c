/* CSV loader: the 100 real rows load with the labels their names say (mapped into the
   canonical g q W Z t order), column order and label-column variants give the same
   table, and every malformed file is rejected with a message naming the problem. The
   reference for values and labels is an independent line split of the same file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_sources.h"
#include "testutil.h"

#define FIXTURE CLTRAIN_SOURCE_DIR "/tests/data/jsc_test100_standardized.csv"
#define RAW8 CLTRAIN_SOURCE_DIR "/tests/data/jsc_raw8_openml.csv"

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *text) { return test_write_file(tmpdir, name, text); }

/* Reference parse: cells split at commas with strtod; label = last cell. */
typedef struct {
  int rows;
  double x[128][18];
  char label[128][8];
} ref_table;

static void ref_parse(const char *path, ref_table *t) {
  FILE *f = fopen(path, "r");
  char line[4096];
  t->rows = 0;
  if (!f || !fgets(line, sizeof line, f)) return;
  while (fgets(line, sizeof line, f) && t->rows < 128) {
    char *save = NULL, *tok = strtok_r(line, ",\n", &save);
    int c = 0;
    char *last = NULL;
    while (tok) {
      if (c < 18) t->x[t->rows][c] = strtod(tok, NULL);
      last = tok;
      c++;
      tok = strtok_r(NULL, ",\n", &save);
    }
    snprintf(t->label[t->rows], 8, "%s", last ? last : "");
    t->rows++;
  }
  fclose(f);
}

static int canonical(const char *name) {
  static const char *const order[5] = {"g", "q", "w", "z", "t"};
  for (int k = 0; k < 5; k++)
    if (strcmp(name, order[k]) == 0) return k;
  return -1;
}

static void expect_fail(const char *name, const char *text, const char *needle) {
  const char *path = write_tmp(name, text);
  raw_table t;
  char err[512] = "";
  int rc = csv_load(path, &t, err, sizeof err);
  CHECK(rc == -1, "%s accepted", name);
  CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", name, err, needle);
  CHECK(strstr(err, name) != NULL, "%s: message '%s' does not name the file", name, err);
  CHECK(strchr(err, '\n') == NULL, "%s: message is not one line", name);
  if (rc == 0) raw_table_free(&t);
}

static const char *header =
    "j_zlogz,j_c1_b0_mmdt,j_c1_b1_mmdt,j_c1_b2_mmdt,j_c2_b1_mmdt,j_c2_b2_mmdt,j_d2_b1_mmdt,j_d2_b2_mmdt,"
    "j_d2_a1_b1_mmdt,j_d2_a1_b2_mmdt,j_m2_b1_mmdt,j_m2_b2_mmdt,j_n2_b1_mmdt,j_n2_b2_mmdt,j_mass_mmdt,"
    "j_multiplicity,label\n";

static void test_fixture(void) {
  raw_table t;
  char err[512];
  CHECK(csv_load(FIXTURE, &t, err, sizeof err) == 0, "fixture: %s", err);
  CHECK(t.rows == 100, "rows %zu", t.rows);
  int counts[5] = {0};
  for (size_t r = 0; r < t.rows; r++) counts[t.y[r]]++;
  /* g 17, q 24, W 18, Z 16, t 25 in canonical order. */
  CHECK(counts[0] == 17 && counts[1] == 24 && counts[2] == 18 && counts[3] == 16 && counts[4] == 25,
        "class counts g%d q%d W%d Z%d t%d", counts[0], counts[1], counts[2], counts[3], counts[4]);
  ref_table *ref = malloc(sizeof *ref);
  ref_parse(FIXTURE, ref);
  CHECK(ref->rows == 100, "reference rows %d", ref->rows);
  int bad_values = 0, bad_labels = 0;
  for (int r = 0; r < ref->rows && r < (int)t.rows; r++) {
    for (int j = 0; j < 16; j++) bad_values += t.x[r * 16 + j] != (float)ref->x[r][j];
    bad_labels += t.y[r] != canonical(ref->label[r]);
  }
  CHECK(bad_values == 0, "%d feature values differ from the reference parse", bad_values);
  CHECK(bad_labels == 0, "%d labels differ from their names", bad_labels);
  free(ref);
  raw_table_free(&t);
}

static void test_variants(void) {
  raw_table base, t;
  char err[512];
  CHECK(csv_load(FIXTURE, &base, err, sizeof err) == 0, "fixture: %s", err);

  /* label_idx alone: indices in the sorted order g q t w z. */
  FILE *in = fopen(FIXTURE, "r");
  char path[512];
  snprintf(path, sizeof path, "%s/idx_only.csv", tmpdir);
  FILE *out = fopen(path, "w");
  char line[4096];
  while (in && out && fgets(line, sizeof line, in)) {
    char *last = strrchr(line, ',');
    if (last) strcpy(last, "\n");
    fputs(line, out);
  }
  if (in) fclose(in);
  if (out) fclose(out);
  CHECK(csv_load(path, &t, err, sizeof err) == 0, "label_idx only: %s", err);
  CHECK(t.rows == base.rows && memcmp(t.y, base.y, base.rows * sizeof(int32_t)) == 0,
        "label_idx mapping differs from the label names");
  raw_table_free(&t);

  /* OpenML style: quoted header, class column first, features in another order, an extra
     column, CRLF line ends. */
  const char *openml =
      "\"class\",\"j_multiplicity\",\"j_mass_mmdt\",\"j_n2_b2_mmdt\",\"j_n2_b1_mmdt\",\"j_m2_b2_mmdt\","
      "\"j_m2_b1_mmdt\",\"j_d2_a1_b2_mmdt\",\"j_d2_a1_b1_mmdt\",\"j_d2_b2_mmdt\",\"j_d2_b1_mmdt\",\"j_c2_b2_mmdt\","
      "\"j_c2_b1_mmdt\",\"j_c1_b2_mmdt\",\"j_c1_b1_mmdt\",\"j_c1_b0_mmdt\",\"j_zlogz\",\"j_pt\"\r\n"
      "Z,39,91.25,0.09,0.24,0.03,0.08,0.16,0.97,0.60,0.97,0.0048,0.047,0.0080,0.049,0.437,-2.67,1000\r\n"
      "t,61,162.1,0.29,0.36,0.08,0.12,0.25,1.27,1.35,1.27,0.038,0.124,0.029,0.098,0.458,-3.11,990\r\n";
  CHECK(csv_load(write_tmp("openml.csv", openml), &t, err, sizeof err) == 0, "openml: %s", err);
  CHECK(t.rows == 2 && t.y[0] == 3 && t.y[1] == 4, "openml labels %d %d", t.y[0], t.y[1]);
  CHECK(t.x[14] == 91.25f && t.x[15] == 39.0f && t.x[0] == -2.67f, "openml columns mapped by name");
  CHECK(t.x[16 + 1] == 0.458f && t.x[16 + 13] == 0.29f, "openml second row");
  raw_table_free(&t);

  /* The raw OpenML rows: physical scales and the duplicated d2 feature. */
  CHECK(csv_load(RAW8, &t, err, sizeof err) == 0, "raw8: %s", err);
  const int want[8] = {0, 2, 4, 3, 2, 2, 4, 0}; /* g w t z w w t g */
  for (size_t r = 0; r < t.rows && r < 8; r++) {
    CHECK(t.y[r] == want[r], "raw8 row %zu label %d", r, t.y[r]);
    CHECK(t.x[r * 16 + 6] == t.x[r * 16 + 8], "raw8 row %zu: d2_a1_b1 != d2_b1", r);
  }
  CHECK(t.rows == 8 && t.x[14] == 8.926881790161133f && t.x[15] == 75.0f, "raw8 first row mass/multiplicity");
  raw_table_free(&t);
  raw_table_free(&base);
}

static void test_bad_input(void) {
  raw_table t;
  char err[512] = "";
  char missing[512];
  snprintf(missing, sizeof missing, "%s/no_such.csv", tmpdir);
  CHECK(csv_load(missing, &t, err, sizeof err) == -1 && strstr(err, "No such file"), "missing: %s", err);

  char buf[4096];
  expect_fail("empty.csv", "", "empty file");
  expect_fail("blank.csv", "\n\n  \n", "empty file");
  expect_fail("header_only.csv", header, "no data rows");
  /* Header without j_mass_mmdt. */
  char *h = strdup(header);
  char *m = strstr(h, "j_mass_mmdt,");
  memmove(m, m + strlen("j_mass_mmdt,"), strlen(m + strlen("j_mass_mmdt,")) + 1);
  snprintf(buf, sizeof buf, "%s1,2,3\n", h);
  expect_fail("no_mass.csv", buf, "missing feature column 'j_mass_mmdt'");
  free(h);
  const char *row = "-2.9,0.38,0.005,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,75,g\n";
  snprintf(buf, sizeof buf, "%s%s%s-2.9,0.38,abc,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,75,g\n",
           header, row, row);
  expect_fail("non_numeric.csv", buf, "row 3 (line 4), column 3 'j_c1_b1_mmdt': 'abc' is not a number");
  snprintf(buf, sizeof buf, "%s%s-2.9,0.38,0.005,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,,75,g\n",
           header, row);
  expect_fail("empty_cell.csv", buf, "row 2 (line 3), column 15 'j_mass_mmdt': '' is not a number");
  snprintf(buf, sizeof buf, "%s%s-2.9,0.38,0.005,8e-05,0.009,0.0002,nan,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,75,g\n",
           header, row);
  expect_fail("nan.csv", buf, "row 2 (line 3), column 7 'j_d2_b1_mmdt': non-finite value 'nan'");
  snprintf(buf, sizeof buf, "%s-2.9,0.38,0.005,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,inf,g\n",
           header);
  expect_fail("inf.csv", buf, "row 1 (line 2), column 16 'j_multiplicity': non-finite value 'inf'");
  snprintf(buf, sizeof buf, "%s-2.9,0.38,0.005,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,1e39,g\n",
           header);
  expect_fail("overflow.csv", buf, "non-finite value '1e39'");
  snprintf(buf, sizeof buf, "%s%s-2.9,0.38,0.005,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,75,b\n",
           header, row);
  expect_fail("unknown_label.csv", buf, "row 2: unknown label 'b'");
  snprintf(buf, sizeof buf, "%s%s-2.9,0.38\n", header, row);
  expect_fail("short_row.csv", buf, "row 2 (line 3) has 2 cells, the header has 17");
  expect_fail("no_label.csv", "j_zlogz,j_c1_b0_mmdt,j_c1_b1_mmdt,j_c1_b2_mmdt,j_c2_b1_mmdt,j_c2_b2_mmdt,"
              "j_d2_b1_mmdt,j_d2_b2_mmdt,j_d2_a1_b1_mmdt,j_d2_a1_b2_mmdt,j_m2_b1_mmdt,j_m2_b2_mmdt,"
              "j_n2_b1_mmdt,j_n2_b2_mmdt,j_mass_mmdt,j_multiplicity\n1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n",
              "no label column");
  snprintf(buf, sizeof buf, "j_zlogz,j_c1_b0_mmdt,j_c1_b1_mmdt,j_c1_b2_mmdt,j_c2_b1_mmdt,j_c2_b2_mmdt,"
           "j_d2_b1_mmdt,j_d2_b2_mmdt,j_d2_a1_b1_mmdt,j_d2_a1_b2_mmdt,j_m2_b1_mmdt,j_m2_b2_mmdt,"
           "j_n2_b1_mmdt,j_n2_b2_mmdt,j_mass_mmdt,j_multiplicity,label_idx\n"
           "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,7\n");
  expect_fail("bad_idx.csv", buf, "row 1: unknown label_idx '7'");
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/cltrain_test_csv_XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_fixture();
  test_variants();
  test_bad_input();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_summary("test_data_csv");
}
