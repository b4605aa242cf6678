/* Test helper: writes small HDF5 files in the JSC layout, correct or with one piece of
   metadata damaged the way a hostile or corrupt file would be, for tests/cli_faults.sh
   and tests/test_data_hdf5.c:
     hdf5_craft KIND OUT
   KIND: ok (100 rows), ok-chunked (the same, chunked and deflated), rows-wrap (a row count whose product with the row size wraps
   64 bits), rows-25m (25,000,000 rows declared in a 3 KB file), bad-offset (field j_w
   placed far outside the row), bad-precision (field j_g of 16928 bits instead of 32).
   The damage is a patch of the bytes the library wrote, found by their pattern; the
   helper fails (exit 1) when a pattern is not found, so a test never runs on an
   undamaged file by mistake. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 100
#define FEATURES 16

static const char *const feature_names[FEATURES] = {
    "j_zlogz", "j_c1_b0_mmdt", "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt", "j_m2_b2_mmdt",
    "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_mmdt", "j_multiplicity"};
static const char *const labels[5] = {"j_g", "j_q", "j_w", "j_z", "j_t"};

typedef struct {
  float f[FEATURES];
  int32_t onehot[5];
} row;

static int write_ok(const char *path, int chunked) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return -1;
  hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(row));
  for (int j = 0; j < FEATURES; j++) H5Tinsert(type, feature_names[j], (size_t)j * 4, H5T_IEEE_F32LE);
  for (int k = 0; k < 5; k++) H5Tinsert(type, labels[k], offsetof(row, onehot) + (size_t)k * 4, H5T_STD_I32LE);
  row rows[ROWS];
  memset(rows, 0, sizeof rows);
  for (int r = 0; r < ROWS; r++) {
    for (int j = 0; j < FEATURES; j++) rows[r].f[j] = (float)(r * 0.37 + j);
    rows[r].onehot[r % 5] = 1;
  }
  hsize_t n = ROWS;
  hid_t space = H5Screate_simple(1, &n, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hsize_t chunk = 32;
  if (chunked) {
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_deflate(dcpl, 6);
  }
  hid_t dset = H5Dcreate2(file, "t_allpar_new", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  herr_t w = dset >= 0 ? H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : -1;
  if (dset >= 0) H5Dclose(dset);
  H5Sclose(space);
  H5Tclose(type);
  return H5Fclose(file) < 0 || w < 0 ? -1 : 0;
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = malloc(1 << 20);
  *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
  fclose(f);
  return buf;
}

static const unsigned char *find(const unsigned char *hay, size_t n, const void *needle, size_t m) {
  for (size_t i = 0; i + m <= n; i++)
    if (memcmp(hay + i, needle, m) == 0) return hay + i;
  return NULL;
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Dataspace message (version 1, rank 1): 01 01 FLAGS 00*5 then dims (and max dims). */
static int patch_rows(unsigned char *b, size_t n, uint64_t rows) {
  for (size_t i = 0; i + 24 <= n; i++) {
    unsigned char *p = b + i;
    if (p[0] != 1 || p[1] != 1 || p[2] > 1 || memcmp(p + 3, "\0\0\0\0\0", 5) != 0) continue;
    uint64_t d = 0;
    for (int k = 0; k < 8; k++) d |= (uint64_t)p[8 + k] << (8 * k);
    if (d != ROWS) continue;
    put_u64(p + 8, rows);
    if (p[2] & 1) put_u64(p + 16, rows);
    return 0;
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: hdf5_craft ok|ok-chunked|rows-wrap|rows-25m|bad-offset|bad-precision OUT\n");
    return 2;
  }
  const char *kind = argv[1], *out = argv[2];
  if (write_ok(out, strcmp(kind, "ok-chunked") == 0) != 0) {
    fprintf(stderr, "hdf5_craft: cannot write %s\n", out);
    return 1;
  }
  if (strcmp(kind, "ok") == 0 || strcmp(kind, "ok-chunked") == 0) return 0;
  size_t n;
  unsigned char *b = slurp(out, &n);
  if (!b) return 1;
  int rc = -1;
  if (strcmp(kind, "rows-wrap") == 0) {
    /* rows x 84 (the loader's row in memory) = 2^64 + 68: a 68-byte buffer if unchecked. */
    rc = patch_rows(b, n, UINT64_MAX / 84 + 1);
  } else if (strcmp(kind, "rows-25m") == 0) {
    rc = patch_rows(b, n, 25000000);
  } else if (strcmp(kind, "bad-offset") == 0) {
    /* Compound member: name padded to 8 bytes, then its 4-byte offset. */
    unsigned char *p = (unsigned char *)find(b, n, "j_w\0\0\0\0\0", 8);
    if (p) {
      p[8] = 0xf0, p[9] = 0xff, p[10] = 0x0f, p[11] = 0;
      rc = 0;
    }
  } else if (strcmp(kind, "bad-precision") == 0) {
    /* j_g's type follows its name: size 4, bit offset 0, precision 32 -> 16928. */
    const unsigned char *name = find(b, n, "j_g\0", 4);
    static const unsigned char int32_props[] = {4, 0, 0, 0, 0, 0, 32, 0};
    unsigned char *p = name ? (unsigned char *)find(name, (size_t)(b + n - name) < 96 ? (size_t)(b + n - name) : 96,
                                                   int32_props, sizeof int32_props)
                            : NULL;
    if (p) {
      p[7] = 0x42;
      rc = 0;
    }
  }
  if (rc != 0) {
    fprintf(stderr, "hdf5_craft: unknown kind '%s' or its bytes not found in %s\n", kind, out);
    free(b);
    return 1;
  }
  FILE *f = fopen(out, "wb");
  size_t w = f ? fwrite(b, 1, n, f) : 0;
  if (!f || fclose(f) != 0 || w != n) rc = 1;
  free(b);
  return rc ? 1 : 0;
}
