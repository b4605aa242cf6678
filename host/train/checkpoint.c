#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

static const char MAGIC[8] = {'C', 'L', 'T', 'R', 'C', 'K', 'P', 'T'};
#define PATH_CAP 4096
#define HEADER_BYTES 24u
#define CHECKSUM_BYTES 8u

enum {
  TAG_MODEL_NAME = 1,
  TAG_MODEL_TEXT = 2,
  TAG_CONFIG = 3,
  TAG_DATASET = 4,
  TAG_DEVICE = 5,
  TAG_PROGRESS = 6,
  TAG_PARAMS = 7,
  TAG_STATS = 8,
  TAG_OPTIM = 9,
  TAG_SCALER = 10, /* version 2: mean[16] then std[16] */
};

/* ---- writing: a growable little-endian byte buffer ---- */

typedef struct {
  unsigned char *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *src, size_t n) {
  if (b->n + n > b->cap) {
    while (b->n + n > b->cap) b->cap = b->cap ? 2 * b->cap : 4096;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
}

static void put_u32(bytes *b, uint32_t v) {
  unsigned char x[4];
  for (int i = 0; i < 4; i++) x[i] = (unsigned char)(v >> (8 * i));
  put(b, x, 4);
}

static void put_u64(bytes *b, uint64_t v) {
  unsigned char x[8];
  for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
  put(b, x, 8);
}

static void put_f64(bytes *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  put_u64(b, u);
}

static void put_record(bytes *b, uint32_t tag, const void *data, size_t n) {
  put_u32(b, tag);
  put_u64(b, n);
  put(b, data, n);
}

static void put_string(bytes *b, uint32_t tag, const char *s) { put_record(b, tag, s, strlen(s)); }

static void put_floats(bytes *b, uint32_t tag, const float *v, size_t n) {
  put_u32(b, tag);
  put_u64(b, 8 + 4 * (uint64_t)n);
  put_u64(b, n);
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    put_u32(b, u);
  }
}

static void put_progress(bytes *b, const train_progress *t) {
  bytes r = {0};
  put_u64(&r, t->epoch);
  put_u64(&r, t->step);
  put_u64(&r, t->epoch_batches);
  put_u64(&r, t->samples);
  put_f64(&r, t->epoch_loss_sum);
  put_u64(&r, t->epoch_correct);
  put_u64(&r, t->epoch_count);
  put_f64(&r, t->epoch_seconds);
  put_f64(&r, t->train_seconds);
  put_f64(&r, t->step_seconds);
  put_f64(&r, t->best_val_acc);
  put_u64(&r, t->best_epoch);
  put_f64(&r, t->best_val_loss);
  put_u64(&r, t->stale_epochs);
  put_f64(&r, t->last_train_loss);
  put_f64(&r, t->last_train_acc);
  put_f64(&r, t->last_val_loss);
  put_f64(&r, t->last_val_acc);
  for (int i = 0; i < 4; i++) put_u64(&r, t->shuffle_rng.s[i]);
  put_u64(&r, t->seed);
  put_record(b, TAG_PROGRESS, r.p, r.n);
  free(r.p);
}
#define PROGRESS_BYTES (23 * 8)

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* fsync the directory holding PATH so the rename itself is durable. */
static void sync_parent_dir(const char *path) {
  char dir[PATH_CAP];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == dir) slash[1] = '\0';
  else if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    fsync(fd); /* best effort: some file systems refuse fsync on directories */
    close(fd);
  }
}

int checkpoint_write(const char *path, const checkpoint *c, char *err, size_t errlen) {
  bytes body = {0};
  put_string(&body, TAG_MODEL_NAME, c->model_name);
  put_string(&body, TAG_MODEL_TEXT, c->model_text ? c->model_text : "");
  put_string(&body, TAG_CONFIG, c->config_text ? c->config_text : "");
  put_string(&body, TAG_DATASET, c->dataset_name);
  put_string(&body, TAG_DEVICE, c->device_name);
  put_progress(&body, &c->progress);
  put_floats(&body, TAG_PARAMS, c->params, c->n_params);
  put_floats(&body, TAG_STATS, c->stats, c->n_stats);
  put_floats(&body, TAG_OPTIM, c->optim, c->n_optim);
  unsigned records = 9;
  if (c->has_scaler) {
    float scaler[2 * JSC_N_FEATURES];
    memcpy(scaler, c->mean, sizeof c->mean);
    memcpy(scaler + JSC_N_FEATURES, c->std, sizeof c->std);
    put_floats(&body, TAG_SCALER, scaler, 2 * JSC_N_FEATURES);
    records++;
  }

  bytes file = {0};
  put(&file, MAGIC, 8);
  put_u32(&file, CHECKPOINT_VERSION);
  put_u32(&file, records);
  put_u64(&file, body.n);
  put(&file, body.p, body.n);
  free(body.p);
  put_u64(&file, fnv1a64(file.p, file.n, FNV1A64_INIT));

  char tmp[PATH_CAP + 16];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int rc = 0;
  if (fd < 0) {
    rc = seterr(err, errlen, "cannot write checkpoint %s: %s", tmp, strerror(errno));
  } else {
    if (write_all(fd, file.p, file.n) || fsync(fd))
      rc = seterr(err, errlen, "cannot write checkpoint %s: %s", tmp, strerror(errno));
    if (close(fd) && rc == 0) rc = seterr(err, errlen, "cannot write checkpoint %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path))
      rc = seterr(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc) unlink(tmp);
    else sync_parent_dir(path);
  }
  free(file.p);
  return rc;
}

/* ---- reading: a bounds-checked cursor ---- */

typedef struct {
  const unsigned char *p;
  size_t n, at;
  bool bad;
} cursor;

static uint64_t get_u64(cursor *c) {
  if (c->n - c->at < 8) {
    c->bad = true;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)c->p[c->at + i] << (8 * i);
  c->at += 8;
  return v;
}

static uint32_t get_u32(cursor *c) {
  if (c->n - c->at < 4) {
    c->bad = true;
    return 0;
  }
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)c->p[c->at + i] << (8 * i);
  c->at += 4;
  return v;
}

static double get_f64(cursor *c) {
  uint64_t u = get_u64(c);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

static void get_progress(cursor *r, train_progress *t) {
  t->epoch = get_u64(r);
  t->step = get_u64(r);
  t->epoch_batches = get_u64(r);
  t->samples = get_u64(r);
  t->epoch_loss_sum = get_f64(r);
  t->epoch_correct = get_u64(r);
  t->epoch_count = get_u64(r);
  t->epoch_seconds = get_f64(r);
  t->train_seconds = get_f64(r);
  t->step_seconds = get_f64(r);
  t->best_val_acc = get_f64(r);
  t->best_epoch = get_u64(r);
  t->best_val_loss = get_f64(r);
  t->stale_epochs = get_u64(r);
  t->last_train_loss = get_f64(r);
  t->last_train_acc = get_f64(r);
  t->last_val_loss = get_f64(r);
  t->last_val_acc = get_f64(r);
  for (int i = 0; i < 4; i++) t->shuffle_rng.s[i] = get_u64(r);
  t->seed = get_u64(r);
}

static char *dup_text(const unsigned char *p, size_t n) {
  char *s = xmalloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static void copy_text(char *dst, size_t cap, const unsigned char *p, size_t n) {
  if (n >= cap) n = cap - 1;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

static int get_floats(cursor *r, float **out, size_t *count) {
  uint64_t n = get_u64(r);
  if (r->bad || n != (r->n - r->at) / 4 || (r->n - r->at) % 4) return -1;
  free(*out);
  *out = xmalloc(n ? n * 4 : 1);
  for (uint64_t i = 0; i < n; i++) {
    uint32_t u = get_u32(r);
    memcpy(&(*out)[i], &u, 4);
  }
  *count = (size_t)n;
  return 0;
}

static int get_scaler(cursor *r, checkpoint *c) {
  float *v = NULL;
  size_t n = 0;
  int bad = get_floats(r, &v, &n) || n != 2 * JSC_N_FEATURES;
  if (!bad) {
    memcpy(c->mean, v, sizeof c->mean);
    memcpy(c->std, v + JSC_N_FEATURES, sizeof c->std);
    c->has_scaler = true;
  }
  free(v);
  return bad;
}

/* Parse the records of a verified body. */
static int parse_body(const char *path, const unsigned char *p, size_t n, checkpoint *c, char *err, size_t errlen) {
  cursor body = {p, n, 0, false};
  unsigned seen = 0;
  while (body.at < body.n) {
    uint32_t tag = get_u32(&body);
    uint64_t len = get_u64(&body);
    if (body.bad || len > body.n - body.at) return seterr(err, errlen, "checkpoint %s: malformed record", path);
    const unsigned char *data = body.p + body.at;
    cursor r = {data, (size_t)len, 0, false};
    body.at += (size_t)len;
    int bad = 0;
    switch (tag) {
      case TAG_MODEL_NAME: copy_text(c->model_name, sizeof c->model_name, data, len); break;
      case TAG_MODEL_TEXT: free(c->model_text); c->model_text = dup_text(data, len); break;
      case TAG_CONFIG: free(c->config_text); c->config_text = dup_text(data, len); break;
      case TAG_DATASET: copy_text(c->dataset_name, sizeof c->dataset_name, data, len); break;
      case TAG_DEVICE: copy_text(c->device_name, sizeof c->device_name, data, len); break;
      case TAG_PROGRESS:
        bad = len != PROGRESS_BYTES;
        if (!bad) get_progress(&r, &c->progress);
        break;
      case TAG_PARAMS: bad = get_floats(&r, &c->params, &c->n_params); break;
      case TAG_STATS: bad = get_floats(&r, &c->stats, &c->n_stats); break;
      case TAG_OPTIM: bad = get_floats(&r, &c->optim, &c->n_optim); break;
      case TAG_SCALER: bad = get_scaler(&r, c); break;
      default: continue; /* a record of a later version */
    }
    if (bad || r.bad) return seterr(err, errlen, "checkpoint %s: malformed record %u", path, tag);
    seen |= 1u << tag;
  }
  for (uint32_t tag = TAG_MODEL_NAME; tag <= TAG_OPTIM; tag++)
    if (!(seen & (1u << tag))) return seterr(err, errlen, "checkpoint %s: record %u missing", path, tag);
  return 0;
}

int checkpoint_read(const char *path, checkpoint *c, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  size_t n;
  unsigned char *file = (unsigned char *)read_file(path, &n);
  if (!file) return seterr(err, errlen, "checkpoint %s: %s", path, strerror(errno));
  int rc = -1;
  cursor h = {file, n, 0, false};
  if (n < 8 || memcmp(file, MAGIC, 8) != 0) {
    seterr(err, errlen, "%s is not a cltrain checkpoint (bad magic)", path);
    goto done;
  }
  h.at = 8;
  uint32_t version = get_u32(&h);
  get_u32(&h); /* record count: informative */
  uint64_t body_len = get_u64(&h);
  if (h.bad) {
    seterr(err, errlen, "checkpoint %s is truncated (%zu bytes, header incomplete)", path, n);
    goto done;
  }
  if (version < 1 || version > CHECKPOINT_VERSION) {
    seterr(err, errlen, "checkpoint %s has version %u; this build reads versions 1 to %d", path, version,
           CHECKPOINT_VERSION);
    goto done;
  }
  if (n < HEADER_BYTES + CHECKSUM_BYTES || n - HEADER_BYTES - CHECKSUM_BYTES < body_len) {
    seterr(err, errlen, "checkpoint %s is truncated (%zu of %llu bytes)", path, n,
           (unsigned long long)(body_len + HEADER_BYTES + CHECKSUM_BYTES));
    goto done;
  }
  if (n != HEADER_BYTES + body_len + CHECKSUM_BYTES) {
    seterr(err, errlen, "checkpoint %s has %zu bytes after its end", path,
           n - (size_t)(HEADER_BYTES + body_len + CHECKSUM_BYTES));
    goto done;
  }
  cursor tail = {file, n, HEADER_BYTES + (size_t)body_len, false};
  uint64_t stored = get_u64(&tail);
  if (stored != fnv1a64(file, HEADER_BYTES + (size_t)body_len, FNV1A64_INIT)) {
    seterr(err, errlen, "checkpoint %s is corrupted (checksum mismatch)", path);
    goto done;
  }
  rc = parse_body(path, file + HEADER_BYTES, (size_t)body_len, c, err, errlen);
done:
  free(file);
  if (rc) checkpoint_free(c);
  return rc;
}

void checkpoint_free(checkpoint *c) {
  free(c->model_text);
  free(c->config_text);
  free(c->params);
  free(c->stats);
  free(c->optim);
  c->model_text = c->config_text = NULL;
  c->params = c->stats = c->optim = NULL;
}

int checkpoint_check_model(const checkpoint *c, const model_spec *m, const char *path, char *err, size_t errlen) {
  model_spec cm;
  error perr = {0};
  if (model_parse(c->model_text, "checkpoint", c->model_name, &cm, &perr))
    return seterr(err, errlen, "checkpoint %s: stored model does not parse: %s", path, perr.msg);
  bool same = cm.n_layers == m->n_layers && cm.input_width == m->input_width && cm.n_params == m->n_params &&
              cm.n_stats == m->n_stats;
  for (int i = 0; same && i < m->n_layers; i++) {
    const layer_spec *a = &cm.layers[i], *b = &m->layers[i];
    same = a->kind == b->kind && a->act == b->act && a->in == b->in && a->out == b->out && a->arg == b->arg;
  }
  int rc = 0;
  if (!same)
    rc = seterr(err, errlen, "checkpoint %s holds model '%s' (%zu parameters), not '%s' (%zu parameters)", path,
                cm.name, cm.n_params, m->name, m->n_params);
  else if (c->n_params != m->n_params || c->n_stats != m->n_stats)
    rc = seterr(err, errlen, "checkpoint %s: %zu parameters and %zu statistics stored, model '%s' needs %zu and %zu",
                path, c->n_params, c->n_stats, m->name, m->n_params, m->n_stats);
  model_free(&cm);
  return rc;
}
