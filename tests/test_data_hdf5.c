/* HDF5 loader: a small file written here in MASE's layout (dataset t_allpar_new, a 1-D
   compound table with the 16 features, extra fields and the one-hot columns j_g j_q j_w
   j_z j_t, fields in another order and of mixed types) loads to exactly the rows the CSV
   loader reads from the same data; files without the table, with a missing field, a bad
   one-hot row, a NaN, or a truncated file are rejected with their message, and the
   command exits 2 on them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "data/data_sources.h"
#include "testutil.h"
#include "base/util.h"

#define FIXTURE CLTRAIN_SOURCE_DIR "/tests/data/jsc_test100_standardized.csv"

static char tmpdir[256];

/* A path in the test directory; each call returns its own buffer. */
static const char *tmp_path(const char *name) {
  static char paths[16][512];
  static int used = 0;
  if (used == 16) abort();
  char *p = paths[used++];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  return p;
}

/* Run the command; return its exit code and the first line of stderr in msg. */
static int run_cli(const char *args, char *msg, size_t msglen) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s/stderr.txt' >/dev/null", CLTRAIN_BINARY, args, tmpdir);
  int st = system(cmd);
  snprintf(cmd, sizeof cmd, "%s/stderr.txt", tmpdir);
  char *text = read_file(cmd, NULL);
  snprintf(msg, msglen, "%s", text ? text : "");
  free(text);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#ifdef CLTRAIN_HAVE_HDF5
#include <hdf5.h>

typedef struct {
  int32_t j_index;
  int32_t onehot_t; /* j_t first: the loader must map by name */
  float f[JSC_N_FEATURES];
  double j_pt;
  int32_t onehot[4]; /* j_g j_q j_w j_z */
} fixture_row;

typedef enum { WRITE_OK, WRITE_NO_MASS, WRITE_BAD_ONEHOT, WRITE_NAN, WRITE_OTHER_NAME } fixture_kind;

/* Features are inserted in reverse canonical order, so file order != canonical order. */
static void write_fixture(const char *path, const raw_table *t, fixture_kind kind) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(fixture_row));
  H5Tinsert(type, "j_index", HOFFSET(fixture_row, j_index), H5T_NATIVE_INT32);
  H5Tinsert(type, "j_t", HOFFSET(fixture_row, onehot_t), H5T_NATIVE_INT32);
  for (int j = JSC_N_FEATURES - 1; j >= 0; j--) {
    if (kind == WRITE_NO_MASS && j == 14) continue;
    H5Tinsert(type, jsc_feature_names[j], HOFFSET(fixture_row, f) + (size_t)j * sizeof(float), H5T_NATIVE_FLOAT);
  }
  H5Tinsert(type, "j_pt", HOFFSET(fixture_row, j_pt), H5T_NATIVE_DOUBLE);
  static const char *const gqwz[4] = {"j_g", "j_q", "j_w", "j_z"};
  for (int k = 0; k < 4; k++) H5Tinsert(type, gqwz[k], HOFFSET(fixture_row, onehot) + (size_t)k * 4, H5T_NATIVE_INT32);
  fixture_row *rows = calloc(t->rows, sizeof *rows);
  for (size_t r = 0; r < t->rows; r++) {
    rows[r].j_index = (int32_t)r;
    rows[r].j_pt = 1000.0 + (double)r;
    memcpy(rows[r].f, t->x + r * JSC_N_FEATURES, sizeof rows[r].f);
    if (t->y[r] == 4) rows[r].onehot_t = 1;
    else rows[r].onehot[t->y[r]] = 1;
  }
  if (kind == WRITE_BAD_ONEHOT) {
    rows[2].onehot_t = 0;
    memset(rows[2].onehot, 0, sizeof rows[2].onehot);
  }
  if (kind == WRITE_NAN) rows[4].f[6] = 0.0f / 0.0f;
  hsize_t n = t->rows;
  hid_t space = H5Screate_simple(1, &n, NULL);
  hid_t dset = H5Dcreate2(file, kind == WRITE_OTHER_NAME ? "jets" : "t_allpar_new", type, space, H5P_DEFAULT,
                          H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
  H5Dclose(dset);
  H5Sclose(space);
  H5Tclose(type);
  H5Fclose(file);
  free(rows);
}

static void expect_fail(const char *path, const char *needle) {
  raw_table t;
  char err[512] = "";
  int rc = hdf5_load(path, &t, err, sizeof err);
  CHECK(rc == -1, "%s accepted", path);
  CHECK(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
  if (rc == 0) raw_table_free(&t);
}

static void run_tests(void) {
  raw_table csv, h5;
  char err[512];
  CHECK(csv_load(FIXTURE, &csv, err, sizeof err) == 0, "csv: %s", err);
  /* MASE's file ends in .z: the format is told by content, not by name. */
  const char *good = tmp_path("processed-jsc.z");
  write_fixture(good, &csv, WRITE_OK);
  CHECK(file_is_hdf5(good) == 1 && file_is_hdf5(FIXTURE) == 0, "HDF5 signature detection");
  CHECK(hdf5_load(good, &h5, err, sizeof err) == 0, "hdf5: %s", err);
  CHECK(h5.rows == csv.rows, "rows %zu vs %zu", h5.rows, csv.rows);
  if (h5.rows == csv.rows) {
    CHECK(memcmp(h5.x, csv.x, csv.rows * JSC_N_FEATURES * sizeof(float)) == 0, "features differ from the CSV");
    CHECK(memcmp(h5.y, csv.y, csv.rows * sizeof(int32_t)) == 0, "labels differ from the CSV");
  }
  raw_table_free(&h5);

  /* Through dataset_load the HDF5 and CSV give the same pre-processed data set. */
  data_options opt;
  data_options_default(&opt);
  opt.use_cache = false;
  dataset a, b;
  CHECK(dataset_load(good, &opt, &a, err, sizeof err) == 0, "dataset_load h5: %s", err);
  CHECK(dataset_load(FIXTURE, &opt, &b, err, sizeof err) == 0, "dataset_load csv: %s", err);
  CHECK(a.train.rows == b.train.rows && memcmp(a.train.x, b.train.x, a.train.rows * 16 * sizeof(float)) == 0 &&
            memcmp(a.test.y, b.test.y, a.test.rows * sizeof(int32_t)) == 0,
        "pre-processed HDF5 and CSV differ");
  dataset_free(&a);
  dataset_free(&b);

  const char *other = tmp_path("other.h5");
  write_fixture(other, &csv, WRITE_OTHER_NAME);
  expect_fail(other, "HDF5 file has no dataset 't_allpar_new'");
  const char *nomass = tmp_path("nomass.h5");
  write_fixture(nomass, &csv, WRITE_NO_MASS);
  expect_fail(nomass, "table 't_allpar_new' has no field 'j_mass_mmdt'");
  const char *onehot = tmp_path("onehot.h5");
  write_fixture(onehot, &csv, WRITE_BAD_ONEHOT);
  expect_fail(onehot, "row 3: unknown label");
  const char *nan = tmp_path("nan.h5");
  write_fixture(nan, &csv, WRITE_NAN);
  expect_fail(nan, "row 5, field 'j_d2_b1_mmdt': non-finite value");

  /* A truncated copy keeps the signature but cannot be read. */
  size_t n;
  char *bytes = read_file(good, &n);
  const char *cut = tmp_path("cut.h5");
  FILE *f = fopen(cut, "wb");
  fwrite(bytes, 1, n / 3, f);
  fclose(f);
  free(bytes);
  raw_table t;
  char msg[512] = "";
  int rc = hdf5_load(cut, &t, msg, sizeof msg);
  CHECK(rc == -1 && strstr(msg, cut) != NULL, "truncated file: rc %d '%s'", rc, msg);
  if (rc == 0) raw_table_free(&t);

  /* Every single-byte corruption of the metadata (the first 3 KB: superblock, object
     headers, the datatype and dataspace messages) of a file image is either refused with
     a message or loads a table whose rows fit in the image: no crash (ASan in the
     sanitizer build), no overrun, no allocation beyond the file's size, no HDF5 object
     left open. */
  bytes = read_file(good, &n);
  size_t meta = n < 3072 ? n : 3072, refused = 0, loaded = 0;
  static const unsigned char flips[] = {0x01, 0xff}; /* the lowest bit, and every bit */
  for (size_t i = 0; i < meta; i++)
    for (size_t k = 0; k < sizeof flips; k++) {
      bytes[i] ^= (char)flips[k];
      char e[512] = "";
      if (hdf5_load_image(bytes, n, "flip.h5", &t, e, sizeof e) == 0) {
        CHECK(t.rows >= 1 && t.rows * 84 <= n, "byte %zu ^ %#x: %zu rows from %zu bytes", i, flips[k], t.rows, n);
        raw_table_free(&t);
        loaded++;
      } else {
        CHECK(strncmp(e, "flip.h5: ", 9) == 0, "byte %zu ^ %#x: message '%s'", i, flips[k], e);
        refused++;
      }
      bytes[i] ^= (char)flips[k];
      /* Every file, data set, type and space the loader opened is closed again (libhdf5's
         own allocations are not checked by LeakSanitizer: tests/sanitizers/lsan.supp). */
      CHECK(H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "byte %zu ^ %#x: HDF5 objects left open", i,
            flips[k]);
    }
  CHECK(refused > 0 && loaded > 0, "corruptions: %zu refused, %zu loaded", refused, loaded);
  printf("single-byte corruptions of the first %zu bytes: %zu refused, %zu loaded\n", meta, refused, loaded);
  free(bytes);

  /* The command: exit 2 and one line naming the problem. */
  char args[700];
  snprintf(args, sizeof args, "data info '%s' --no-cache", other);
  rc = run_cli(args, msg, sizeof msg);
  CHECK(rc == 2 && strstr(msg, "no dataset 't_allpar_new'") && strchr(msg, '\n') == strrchr(msg, '\n'),
        "cli without table: rc %d '%s'", rc, msg);
  snprintf(args, sizeof args, "data info '%s' --no-cache", good);
  rc = run_cli(args, msg, sizeof msg);
  CHECK(rc == 0, "cli good h5: rc %d '%s'", rc, msg);
  raw_table_free(&csv);
}

#else

static void run_tests(void) {
  /* Built without libhdf5: a file with the HDF5 signature gets a clear error. */
  const char *path = tmp_path("fake.h5");
  FILE *f = fopen(path, "wb");
  fwrite("\x89HDF\r\n\x1a\n0000000000000000", 1, 24, f);
  fclose(f);
  raw_table t;
  char err[512];
  CHECK(hdf5_load(path, &t, err, sizeof err) == -1 && strstr(err, "built without libhdf5"), "message '%s'", err);
  char args[700], msg[512];
  snprintf(args, sizeof args, "data info '%s'", path);
  CHECK(run_cli(args, msg, sizeof msg) == 2 && strstr(msg, "without libhdf5"), "cli: %s", msg);
}

#endif

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/cltrain_test_h5_XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  run_tests();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_summary("test_data_hdf5");
}
