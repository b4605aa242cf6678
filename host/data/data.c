/* Dataset entry point: options, and dataset_load, which picks the source (generator,
   HDF5, CSV) and the cache. */
#include "data/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/data_sources.h"
#include "base/util.h"

void data_options_default(data_options *opt) {
  opt->split_seed = 42;
  opt->synth_seed = 0;
  opt->test_fraction = 0.2;
  opt->val_fraction = 0.1;
  opt->synth_size = 830000;
  opt->data_path = NULL;
  opt->use_cache = true;
  opt->synth_given = opt->split_given = false;
}

const char data_options_help[] =
    "  --data PATH          the real JSC file (HDF5 or CSV) for DATASET 'jsc'\n"
    "  --val-fraction F     part of the training split held out for validation (0.1)\n"
    "  --split-seed N       seed of the train/validation/test split (42)\n"
    "  --synth-size N       jets generated for jsc-synth (830000)\n"
    "  --synth-seed N       seed of the jsc-synth generator (0)\n"
    "  --no-cache           do not read or write the pre-processed cache of a file\n";

/* The messages of the training options (train_config.c), so both read alike. */
static int bad_integer(error *err, const char *name, const char *value, long lo, long hi) {
  return ERR_USAGE(err, "--%s: '%s' is not an integer in [%ld, %ld]", name, value ? value : "", lo, hi);
}

int data_options_apply(data_options *opt, const char *name, const char *value, error *err) {
  long v;
  double f;
  if (strcmp(name, "val-fraction") == 0) {
    /* As train's: a validation split is needed (best.ckpt and early stopping follow it). */
    if (!parse_double(value, 0.0, DATA_VAL_FRACTION_MAX, &f) || f <= 0)
      return ERR_USAGE(err, "--%s: '%s' is not a number in (0, %g]", name, value ? value : "", DATA_VAL_FRACTION_MAX);
    opt->val_fraction = f;
    opt->split_given = true;
  } else if (strcmp(name, "split-seed") == 0 || strcmp(name, "synth-seed") == 0) {
    if (!parse_long(value, 0, DATA_SEED_MAX, &v)) return bad_integer(err, name, value, 0, DATA_SEED_MAX);
    if (name[1] == 'p') opt->split_seed = (uint64_t)v, opt->split_given = true;
    else opt->synth_seed = (uint64_t)v, opt->synth_given = true;
  } else if (strcmp(name, "synth-size") == 0) {
    if (!parse_long(value, DATA_SYNTH_SIZE_MIN, DATA_SYNTH_SIZE_MAX, &v))
      return bad_integer(err, name, value, DATA_SYNTH_SIZE_MIN, DATA_SYNTH_SIZE_MAX);
    opt->synth_size = (size_t)v;
    opt->synth_given = true;
  } else if (strcmp(name, "data") == 0) {
    if (!value || !*value) return ERR_USAGE(err, "--data needs a file path");
    opt->data_path = value;
  } else if (strcmp(name, "no-cache") == 0) {
    opt->use_cache = false;
  } else {
    return 0;
  }
  return 1;
}

int data_jsc_default_paths(char paths[][1024], int max) {
  char dir[1024];
  const char *env = getenv("CLTRAIN_DATA_DIR");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (env && *env) snprintf(dir, sizeof dir, "%s", env);
  else if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/cltrain", xdg);
  else snprintf(dir, sizeof dir, "%s/.cache/cltrain", home && *home ? home : ".");
  static const char *const names[DATA_JSC_MAX_PATHS] = {"jsc.h5", "jsc.csv"};
  int n = 0;
  for (; n < max && n < DATA_JSC_MAX_PATHS; n++) {
    int w = snprintf(paths[n], 1024, "%s/%s", dir, names[n]);
    if (w < 0 || w >= 1024) paths[n][1023] = '\0';
  }
  return n;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Load one real file (HDF5 or CSV, told apart by content), through the cache. */
static int load_file(const char *path, const char *name, const data_options *opt, dataset *out,
                     char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) return seterr(err, errlen, "%s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) return seterr(err, errlen, "%s: is a directory, not a data file", path);
  if (st.st_size == 0) return seterr(err, errlen, "%s: empty file", path);

  uint64_t content_hash = 0;
  char cache_path[1200] = "";
  if (opt->use_cache) {
    int ok = 0;
    content_hash = file_content_hash(path, err, errlen, &ok);
    if (!ok) return -1;
    if (data_cache_path(content_hash, opt, cache_path, sizeof cache_path)) cache_path[0] = '\0';
    if (cache_path[0] && data_cache_load(cache_path, content_hash, opt, out) == 0) {
      snprintf(out->name, sizeof out->name, "%s", name);
      snprintf(out->source, sizeof out->source, "%s", path);
      return 0;
    }
  }

  raw_table t;
  int is_hdf5 = file_is_hdf5(path);
  if (is_hdf5 < 0) return seterr(err, errlen, "%s: %s", path, strerror(errno));
  int rc = is_hdf5 ? hdf5_load(path, &t, err, errlen) : csv_load(path, &t, err, errlen);
  if (rc) return -1;
  char perr[512];
  if (preprocess(&t, opt, out, perr, sizeof perr)) return seterr(err, errlen, "%s: %s", path, perr);
  snprintf(out->name, sizeof out->name, "%s", name);
  snprintf(out->source, sizeof out->source, "%s", path);
  if (opt->use_cache && cache_path[0]) {
    char cerr[512];
    if (data_cache_store(cache_path, content_hash, opt, out, cerr, sizeof cerr))
      warnf("not caching the pre-processed data set: %s", cerr);
  }
  return 0;
}

int dataset_load(const char *spec, const data_options *opt, dataset *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (strcmp(spec, "jsc-synth") == 0) {
    if (opt->data_path)
      return seterr(err, errlen, "--data names the file of DATASET 'jsc'; jsc-synth is generated");
    raw_table t;
    synth_generate(opt->synth_size, opt->synth_seed, &t);
    char perr[512];
    if (preprocess(&t, opt, out, perr, sizeof perr)) return seterr(err, errlen, "jsc-synth: %s", perr);
    snprintf(out->name, sizeof out->name, "jsc-synth");
    snprintf(out->source, sizeof out->source, "jsc-synth generator: %zu jets, seed %llu",
             opt->synth_size, (unsigned long long)opt->synth_seed);
    return 0;
  }
  /* An option that would be ignored is refused, as --data is for jsc-synth. */
  if (opt->synth_given)
    return seterr(err, errlen, "--synth-size and --synth-seed apply to DATASET jsc-synth only, not '%s'", spec);
  if (strcmp(spec, "jsc") == 0) {
    if (opt->data_path) return load_file(opt->data_path, "jsc", opt, out, err, errlen);
    char paths[DATA_JSC_MAX_PATHS][1024];
    int n = data_jsc_default_paths(paths, DATA_JSC_MAX_PATHS);
    for (int i = 0; i < n; i++)
      if (access(paths[i], R_OK) == 0) return load_file(paths[i], "jsc", opt, out, err, errlen);
    return seterr(err, errlen,
                  "dataset 'jsc': no data file at %s or %s; fetch it with 'cltrain data download jsc' "
                  "or give the HDF5 (MASE) or CSV (OpenML 42468) file with --data PATH",
                  paths[0], paths[1]);
  }
  if (opt->data_path)
    return seterr(err, errlen, "--data names the file of DATASET 'jsc'; got DATASET '%s' as well", spec);
  if (access(spec, F_OK) != 0 && errno == ENOENT)
    return seterr(err, errlen,
                  "%s: no such dataset or file (datasets: jsc-synth, jsc, or a path to an HDF5 or CSV file)",
                  spec);
  return load_file(spec, base_name(spec), opt, out, err, errlen);
}
