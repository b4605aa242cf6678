/* HDF5 loader for the file MASE downloads: dataset `t_allpar_new`, a 1-D compound table
   whose named fields include the 16 features and the one-hot labels j_g j_q j_w j_z j_t
   (already the canonical class order). HDF5 converts each field to float on read. */
#include <stdio.h>
#include <string.h>

#include "data/data_sources.h"
#include "base/util.h"

static const char HDF5_SIGNATURE[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

int file_is_hdf5(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  /* The superblock sits at 0 or, after a user block, at 512, 1024, 2048, ... */
  int found = 0;
  for (long off = 0; off <= (1L << 20) && !found; off = off ? off * 2 : 512) {
    char sig[8];
    if (fseek(f, off, SEEK_SET) != 0 || fread(sig, 1, 8, f) != 8) break;
    found = memcmp(sig, HDF5_SIGNATURE, 8) == 0;
  }
  fclose(f);
  return found;
}

#ifndef CLTRAIN_HAVE_HDF5

int hdf5_load(const char *path, raw_table *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  return seterr(err, errlen,
                "%s: is an HDF5 file, but this cltrain was built without libhdf5 (install libhdf5-dev and "
                "rebuild, or use the CSV export of the table)",
                path);
}

int hdf5_load_image(const void *image, size_t n, const char *name, raw_table *out, char *err, size_t errlen) {
  (void)image;
  (void)n;
  return hdf5_load(name, out, err, errlen);
}

#else

#include <errno.h>
#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>

#define TABLE_NAME "t_allpar_new"
static const char *const label_fields[JSC_N_CLASSES] = {"j_g", "j_q", "j_w", "j_z", "j_t"};

typedef struct {
  float f[JSC_N_FEATURES];
  float onehot[JSC_N_CLASSES];
} h5_row;

/* Memory type: the 21 wanted fields as float, matched to the file's fields by name. */
static hid_t row_memtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(h5_row));
  for (int j = 0; j < JSC_N_FEATURES; j++)
    H5Tinsert(t, jsc_feature_names[j], offsetof(h5_row, f) + (size_t)j * sizeof(float), H5T_NATIVE_FLOAT);
  for (int k = 0; k < JSC_N_CLASSES; k++)
    H5Tinsert(t, label_fields[k], offsetof(h5_row, onehot) + (size_t)k * sizeof(float), H5T_NATIVE_FLOAT);
  return t;
}

/* The member types HDF5 may convert to float without trusting damaged metadata: the
   standard IEEE floats and integers of 1 to 8 bytes, either byte order. A corrupt
   precision or offset (seen: 32 -> 16928 bits) makes the library's converters overrun
   their stack, so anything else is refused before H5Dread. */
static bool sane_number_type(hid_t t) {
  const hid_t standard[] = {
      H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_IEEE_F64LE, H5T_IEEE_F64BE, H5T_STD_I8LE,  H5T_STD_I8BE,
      H5T_STD_U8LE,   H5T_STD_U8BE,   H5T_STD_I16LE,  H5T_STD_I16BE,  H5T_STD_U16LE, H5T_STD_U16BE,
      H5T_STD_I32LE,  H5T_STD_I32BE,  H5T_STD_U32LE,  H5T_STD_U32BE,  H5T_STD_I64LE, H5T_STD_I64BE,
      H5T_STD_U64LE,  H5T_STD_U64BE,
  };
  for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++)
    if (H5Tequal(t, standard[i]) > 0) return true;
  return false;
}

/* Rows longer than this are not a JSC table (its rows are about a hundred bytes). */
#define MAX_ROW_BYTES 65536

/* Every member must lie inside the row; the wanted ones must be plain numbers. */
static int check_fields(const char *path, hid_t ftype, char *err, size_t errlen) {
  if (H5Tget_class(ftype) != H5T_COMPOUND)
    return seterr(err, errlen, "%s: '" TABLE_NAME "' is not a table of named fields (compound type)", path);
  size_t row = H5Tget_size(ftype);
  int members = H5Tget_nmembers(ftype);
  if (row == 0 || row > MAX_ROW_BYTES || members <= 0 || members > MAX_ROW_BYTES)
    return seterr(err, errlen, "%s: '" TABLE_NAME "' has an implausible row type (%zu bytes, %d fields)", path, row,
                  members);
  for (int m = 0; m < members; m++) {
    hid_t mt = H5Tget_member_type(ftype, (unsigned)m);
    size_t off = H5Tget_member_offset(ftype, (unsigned)m), size = mt >= 0 ? H5Tget_size(mt) : 0;
    if (mt >= 0) H5Tclose(mt);
    if (size == 0 || off > row || size > row - off)
      return seterr(err, errlen, "%s: field %d of '" TABLE_NAME "' lies outside its %zu-byte row (damaged file?)",
                    path, m + 1, row);
  }
  for (int j = 0; j < JSC_N_FEATURES + JSC_N_CLASSES; j++) {
    const char *name = j < JSC_N_FEATURES ? jsc_feature_names[j] : label_fields[j - JSC_N_FEATURES];
    int idx = H5Tget_member_index(ftype, name);
    if (idx < 0) return seterr(err, errlen, "%s: table '" TABLE_NAME "' has no field '%s'", path, name);
    H5T_class_t c = H5Tget_member_class(ftype, (unsigned)idx);
    if (c != H5T_INTEGER && c != H5T_FLOAT)
      return seterr(err, errlen, "%s: field '%s' of '" TABLE_NAME "' is not numeric", path, name);
    hid_t mt = H5Tget_member_type(ftype, (unsigned)idx);
    bool sane = mt >= 0 && sane_number_type(mt);
    if (mt >= 0) H5Tclose(mt);
    if (!sane)
      return seterr(err, errlen,
                    "%s: field '%s' of '" TABLE_NAME "' is not a standard 1-8 byte integer or 4/8-byte float "
                    "(damaged file?)",
                    path, name);
  }
  return 0;
}

/* The declared rows must fit in what the file holds: N rows of ROW bytes take at most the
   file's size, or 1032 times it for compressed (filtered) storage, deflate's largest
   ratio. A damaged count thus never becomes a huge allocation or a wrapped one. */
static int check_rows(const char *path, hid_t dset, hsize_t n, size_t row, uint64_t file_bytes, char *err,
                      size_t errlen) {
  hid_t plist = H5Dget_create_plist(dset);
  int filters = plist >= 0 && H5Pget_layout(plist) == H5D_CHUNKED ? H5Pget_nfilters(plist) : 0;
  if (plist >= 0) H5Pclose(plist);
  uint64_t room = filters > 0 ? (file_bytes > UINT64_MAX / 1032 ? UINT64_MAX : file_bytes * 1032) : file_bytes;
  if (row == 0 || n > room / row || n > SIZE_MAX / sizeof(h5_row))
    return seterr(err, errlen,
                  "%s: table '" TABLE_NAME "' declares %llu rows of %zu bytes, more than the %llu-byte file can hold "
                  "(damaged file?)",
                  path, (unsigned long long)n, row, (unsigned long long)file_bytes);
  return 0;
}

static int convert_rows(const char *path, const h5_row *rows, size_t n, raw_table *out, char *err,
                        size_t errlen) {
  for (size_t r = 0; r < n; r++) {
    for (int j = 0; j < JSC_N_FEATURES; j++) {
      float v = rows[r].f[j];
      if (!isfinite(v))
        return seterr(err, errlen, "%s: row %zu, field '%s': non-finite value %g", path, r + 1,
                      jsc_feature_names[j], (double)v);
      out->x[r * JSC_N_FEATURES + j] = v;
    }
    int label = -1, ones = 0;
    for (int k = 0; k < JSC_N_CLASSES; k++) {
      float v = rows[r].onehot[k];
      if (v == 1.0f) {
        label = k;
        ones++;
      } else if (v != 0.0f) {
        ones = -1;
        break;
      }
    }
    if (ones != 1)
      return seterr(err, errlen, "%s: row %zu: unknown label: one-hot fields j_g j_q j_w j_z j_t are %g %g %g %g %g",
                    path, r + 1, (double)rows[r].onehot[0], (double)rows[r].onehot[1], (double)rows[r].onehot[2],
                    (double)rows[r].onehot[3], (double)rows[r].onehot[4]);
    out->y[r] = label;
  }
  return 0;
}

/* The table of an open FILE of FILE_BYTES bytes; PATH names it in messages. */
static int load_open_file(hid_t file, const char *path, uint64_t file_bytes, raw_table *out, char *err,
                          size_t errlen) {
  int rc = -1;
  hid_t dset = -1, ftype = -1, space = -1, mtype = -1;
  h5_row *rows = NULL;
  if (H5Lexists(file, TABLE_NAME, H5P_DEFAULT) <= 0) {
    seterr(err, errlen, "%s: HDF5 file has no dataset '" TABLE_NAME "' (the JSC table MASE reads)", path);
    goto done;
  }
  dset = H5Dopen2(file, TABLE_NAME, H5P_DEFAULT);
  if (dset < 0 || (ftype = H5Dget_type(dset)) < 0 || (space = H5Dget_space(dset)) < 0) {
    seterr(err, errlen, "%s: cannot open dataset '" TABLE_NAME "'", path);
    goto done;
  }
  if (check_fields(path, ftype, err, errlen)) goto done;
  if (H5Sget_simple_extent_type(space) != H5S_SIMPLE || H5Sget_simple_extent_ndims(space) != 1) {
    seterr(err, errlen, "%s: '" TABLE_NAME "' is not a one-dimensional table", path);
    goto done;
  }
  hsize_t n;
  if (H5Sget_simple_extent_dims(space, &n, NULL) != 1) {
    seterr(err, errlen, "%s: cannot read the size of '" TABLE_NAME "' (damaged file?)", path);
    goto done;
  }
  if (n == 0) {
    seterr(err, errlen, "%s: table '" TABLE_NAME "' has no rows", path);
    goto done;
  }
  if (check_rows(path, dset, n, H5Tget_size(ftype), file_bytes, err, errlen)) goto done;
  mtype = row_memtype();
  rows = xmalloc((size_t)n * sizeof(h5_row));
  if (H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
    seterr(err, errlen, "%s: reading '" TABLE_NAME "' failed (damaged file?)", path);
    goto done;
  }
  raw_table_alloc(out, (size_t)n);
  if (convert_rows(path, rows, (size_t)n, out, err, errlen)) {
    raw_table_free(out);
    goto done;
  }
  rc = 0;
done:
  free(rows);
  if (mtype >= 0) H5Tclose(mtype);
  if (space >= 0) H5Sclose(space);
  if (ftype >= 0) H5Tclose(ftype);
  if (dset >= 0) H5Dclose(dset);
  return rc;
}

static int load_in_process(const char *path, uint64_t file_bytes, raw_table *out, char *err, size_t errlen) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our messages replace the library's stack dumps */
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return seterr(err, errlen, "%s: cannot open as HDF5 (damaged or truncated file?)", path);
  int rc = load_open_file(file, path, file_bytes, out, err, errlen);
  H5Fclose(file);
  return rc;
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  while (n > 0) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

/* What the child sends: the result and its message, then the table. */
typedef struct {
  int32_t rc;
  char msg[1024];
  uint64_t rows;
} child_report;

/* libhdf5 1.10 crashes inside its own code on some damaged files that no check of ours
   can see coming (found by fuzz_hdf5: a damaged local-heap size makes it copy from the
   NULL of a failed petabyte malloc). So the file is parsed in a child process; the parent
   receives the table through a pipe, or refuses the file when the child dies. */
int hdf5_load(const char *path, raw_table *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(path, &st) != 0) return seterr(err, errlen, "%s: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return seterr(err, errlen, "%s: not a regular file", path);
  int fds[2];
  if (pipe(fds) != 0) return seterr(err, errlen, "%s: pipe: %s", path, strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return seterr(err, errlen, "%s: fork: %s", path, strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    child_report rep;
    memset(&rep, 0, sizeof rep);
    raw_table t;
    rep.rc = load_in_process(path, (uint64_t)st.st_size, &t, rep.msg, sizeof rep.msg);
    rep.rows = rep.rc == 0 ? t.rows : 0;
    int bad = write_all(fds[1], &rep, sizeof rep) ||
              (rep.rc == 0 && (write_all(fds[1], t.x, t.rows * JSC_N_FEATURES * sizeof(float)) ||
                               write_all(fds[1], t.y, t.rows * sizeof(int32_t))));
    _exit(bad ? 1 : 0); /* no exit handlers: they belong to the parent */
  }
  close(fds[1]);
  child_report rep;
  int rc = -1;
  bool got = read_all(fds[0], &rep, sizeof rep) == 0;
  if (got && rep.rc == 0 && rep.rows > 0 && rep.rows <= (uint64_t)st.st_size * 1032 / sizeof(h5_row)) {
    raw_table_alloc(out, (size_t)rep.rows);
    if (read_all(fds[0], out->x, out->rows * JSC_N_FEATURES * sizeof(float)) == 0 &&
        read_all(fds[0], out->y, out->rows * sizeof(int32_t)) == 0)
      rc = 0;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (out->x) raw_table_free(out);
  memset(out, 0, sizeof *out);
  if (got && rep.rc != 0) {
    rep.msg[sizeof rep.msg - 1] = '\0';
    return seterr(err, errlen, "%s", rep.msg);
  }
  if (WIFSIGNALED(status))
    return seterr(err, errlen, "%s: the HDF5 library crashed reading this file (%s): damaged file?", path,
                  strsignal(WTERMSIG(status)));
  return seterr(err, errlen, "%s: the HDF5 library failed reading this file (exit %d): damaged file?", path,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int hdf5_load_image(const void *image, size_t n, const char *name, raw_table *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return seterr(err, errlen, "%s: cannot create an HDF5 file-access list", name);
  hid_t file = -1;
  /* The core driver reads from the image; no backing store, nothing written. */
  if (H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 && H5Pset_file_image(fapl, (void *)(uintptr_t)image, n) >= 0)
    file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  if (file < 0) return seterr(err, errlen, "%s: cannot open as HDF5 (damaged or truncated file?)", name);
  int rc = load_open_file(file, name, n, out, err, errlen);
  H5Fclose(file);
  return rc;
}

#endif
