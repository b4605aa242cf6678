/* Binary cache of a pre-processed data file, in the user's cache directory
   ($XDG_CACHE_HOME/cltrain/data, else ~/.cache/cltrain/data) as CONTENTHASH-OPTIONSKEY.cache,
   never next to the source (a data folder may be read-only or shared). It records the source's content hash and the options;
   a cache that does not match, is truncated or fails its checksum is ignored (and then
   rebuilt by the caller). Written to a temporary file and renamed, so never half-written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data_sources.h"
#include "base/safe_file.h"
#include "base/util.h"

#define CACHE_MAGIC "CLTDSET1"
#define CACHE_VERSION 1u

typedef struct {
  char magic[8];
  uint32_t version, header_bytes;
  uint32_t n_features, n_classes;
  uint64_t content_hash, options_key;
  uint64_t raw_rows, duplicates_dropped;
  uint64_t rows[3];  /* train, val, test */
  float mean[JSC_N_FEATURES], std[JSC_N_FEATURES];
  uint64_t payload_hash;
} cache_header;

/* Fast 64-bit hash (four multiply-rotate lanes over 32-byte blocks, a few GB/s), so that
   hashing a large source file costs far less than parsing it. */
typedef struct {
  uint64_t lane[4];
  uint64_t total;
} fast_hash;

static const uint64_t K1 = 0x9E3779B185EBCA87ull, K2 = 0xC2B2AE3D27D4EB4Full;

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static void fast_hash_init(fast_hash *h, uint64_t seed) {
  for (int i = 0; i < 4; i++) h->lane[i] = seed + (uint64_t)(i + 1) * K1;
  h->total = 0;
}

/* Feed N bytes; N must be a multiple of 32 except for the last call. */
static void fast_hash_feed(fast_hash *h, const unsigned char *p, size_t n) {
  size_t blocks = n / 32;
  for (size_t b = 0; b < blocks; b++, p += 32)
    for (int i = 0; i < 4; i++) {
      uint64_t w;
      memcpy(&w, p + 8 * i, 8);
      h->lane[i] = rotl64(h->lane[i] + w * K2, 31) * K1;
    }
  size_t tail = n % 32;
  if (tail) {
    unsigned char last[32] = {0};
    memcpy(last, p, tail);
    last[31] ^= (unsigned char)tail;
    fast_hash_feed(h, last, 32);
    h->total -= 32;
  }
  h->total += n;
}

static uint64_t fast_hash_final(const fast_hash *h) {
  uint64_t v = h->total * K1;
  for (int i = 0; i < 4; i++) v = rotl64(v ^ (h->lane[i] * K2), 27) * K1 + K2;
  v ^= v >> 33;
  v *= K2;
  v ^= v >> 29;
  return v;
}

uint64_t file_content_hash(const char *path, char *err, size_t errlen, int *ok) {
  *ok = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    seterr(err, errlen, "%s: %s", path, strerror(errno));
    return 0;
  }
  enum { CHUNK = 1 << 22 };
  unsigned char *buf = xmalloc(CHUNK);
  fast_hash h;
  fast_hash_init(&h, 0x636c747261696eull);
  size_t got;
  while ((got = fread(buf, 1, CHUNK, f)) > 0) fast_hash_feed(&h, buf, got);
  int failed = ferror(f);
  fclose(f);
  free(buf);
  if (failed) {
    seterr(err, errlen, "%s: read error", path);
    return 0;
  }
  *ok = 1;
  return fast_hash_final(&h);
}

static uint64_t options_key(const data_options *opt) {
  struct {
    uint64_t seed;
    double test, val;
  } k = {opt->split_seed, opt->test_fraction, opt->val_fraction};
  return fnv1a64(&k, sizeof k, FNV1A64_INIT);
}

int data_cache_path(uint64_t content_hash, const data_options *opt, char *out, size_t outlen) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int n;
  /* The XDG base directory rules: a relative $XDG_CACHE_HOME is ignored. */
  if (xdg && xdg[0] == '/')
    n = snprintf(out, outlen, "%s/cltrain/data", xdg);
  else if (home && home[0])
    n = snprintf(out, outlen, "%s/.cache/cltrain/data", home);
  else
    return -1;
  if (n < 0 || (size_t)n >= outlen) return -1;
  char err[512];
  if (make_dirs(out, err, sizeof err)) return -1;
  n = snprintf(out + n, outlen - (size_t)n, "/%016llx-%08llx.cache", (unsigned long long)content_hash,
               (unsigned long long)(options_key(opt) & 0xffffffffull));
  return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static uint64_t payload_hash(const dataset *d) {
  fast_hash h;
  const data_split *s[3] = {&d->train, &d->val, &d->test};
  /* Only the last feed of a hash may be a partial block: hash each array separately. */
  uint64_t v = 0x7061796c6f6164ull;
  for (int i = 0; i < 3; i++) {
    fast_hash_init(&h, v);
    fast_hash_feed(&h, (const unsigned char *)s[i]->x, s[i]->rows * JSC_N_FEATURES * sizeof(float));
    v = fast_hash_final(&h);
    fast_hash_init(&h, v);
    fast_hash_feed(&h, (const unsigned char *)s[i]->y, s[i]->rows * sizeof(int32_t));
    v = fast_hash_final(&h);
  }
  return v;
}

int data_cache_load(const char *cache_path, uint64_t content_hash, const data_options *opt, dataset *out) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(cache_path, "rb");
  if (!f) return -1;
  cache_header h;
  bool ok = fread(&h, sizeof h, 1, f) == 1 && memcmp(h.magic, CACHE_MAGIC, 8) == 0 &&
            h.version == CACHE_VERSION && h.header_bytes == sizeof h && h.n_features == JSC_N_FEATURES &&
            h.n_classes == JSC_N_CLASSES && h.content_hash == content_hash &&
            h.options_key == options_key(opt);
  /* Bound the sizes by the file before allocating. */
  if (ok) {
    if (fseek(f, 0, SEEK_END) != 0) ok = false;
    long size = ftell(f);
    uint64_t rows = h.rows[0] + h.rows[1] + h.rows[2];
    uint64_t want = sizeof h + rows * (JSC_N_FEATURES * sizeof(float) + sizeof(int32_t));
    ok = ok && size >= 0 && h.rows[0] <= (uint64_t)size && h.rows[1] <= (uint64_t)size &&
         h.rows[2] <= (uint64_t)size && (uint64_t)size == want && fseek(f, (long)sizeof h, SEEK_SET) == 0;
  }
  data_split *s[3] = {&out->train, &out->val, &out->test};
  for (int i = 0; i < 3 && ok; i++) {
    s[i]->rows = (size_t)h.rows[i];
    s[i]->x = xmalloc((s[i]->rows ? s[i]->rows : 1) * JSC_N_FEATURES * sizeof(float));
    s[i]->y = xmalloc((s[i]->rows ? s[i]->rows : 1) * sizeof(int32_t));
    ok = fread(s[i]->x, sizeof(float) * JSC_N_FEATURES, s[i]->rows, f) == s[i]->rows &&
         fread(s[i]->y, sizeof(int32_t), s[i]->rows, f) == s[i]->rows;
  }
  fclose(f);
  if (ok) ok = payload_hash(out) == h.payload_hash;
  for (int i = 0; i < 3 && ok; i++)
    for (size_t r = 0; r < s[i]->rows; r++)
      if (s[i]->y[r] < 0 || s[i]->y[r] >= JSC_N_CLASSES) ok = false;
  if (!ok) {
    dataset_free(out);
    return -1;
  }
  out->n_features = JSC_N_FEATURES;
  out->n_classes = JSC_N_CLASSES;
  out->raw_rows = (size_t)h.raw_rows;
  out->duplicates_dropped = (size_t)h.duplicates_dropped;
  memcpy(out->mean, h.mean, sizeof h.mean);
  memcpy(out->std, h.std, sizeof h.std);
  return 0;
}

int data_cache_store(const char *cache_path, uint64_t content_hash, const data_options *opt,
                     const dataset *d, char *err, size_t errlen) {
  cache_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, CACHE_MAGIC, 8);
  h.version = CACHE_VERSION;
  h.header_bytes = sizeof h;
  h.n_features = JSC_N_FEATURES;
  h.n_classes = JSC_N_CLASSES;
  h.content_hash = content_hash;
  h.options_key = options_key(opt);
  h.raw_rows = d->raw_rows;
  h.duplicates_dropped = d->duplicates_dropped;
  const data_split *s[3] = {&d->train, &d->val, &d->test};
  for (int i = 0; i < 3; i++) h.rows[i] = s[i]->rows;
  memcpy(h.mean, d->mean, sizeof h.mean);
  memcpy(h.std, d->std, sizeof h.std);
  h.payload_hash = payload_hash(d);

  char tmp[1300];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", cache_path, (long)getpid());
  FILE *f = safe_tmp_fopen(tmp);
  if (!f) return seterr(err, errlen, "%s: %s", tmp, strerror(errno));
  bool ok = fwrite(&h, sizeof h, 1, f) == 1;
  for (int i = 0; i < 3 && ok; i++)
    ok = fwrite(s[i]->x, sizeof(float) * JSC_N_FEATURES, s[i]->rows, f) == s[i]->rows &&
         fwrite(s[i]->y, sizeof(int32_t), s[i]->rows, f) == s[i]->rows;
  ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int saved = errno;
  if (fclose(f) != 0) ok = false;
  if (ok && rename(tmp, cache_path) != 0) {
    saved = errno;
    ok = false;
  }
  if (!ok) {
    remove(tmp);
    return seterr(err, errlen, "%s: %s", cache_path, strerror(saved ? saved : EIO));
  }
  return 0;
}
