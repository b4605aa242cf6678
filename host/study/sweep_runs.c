#include "study/sweep_runs.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "plot/plot.h"
#include "cl/runtime.h"
#include "base/util.h"

bool sweep_status_done(const char *status) {
  return strcmp(status, "finished") == 0 || strcmp(status, "early-stopped") == 0 || strcmp(status, "diverged") == 0;
}

int sweep_device_name(const char *spec, char *name, size_t n, char *err, size_t errlen) {
  device_list list;
  error e = {0};
  if (device_list_get(&list, &e)) return seterr(err, errlen, "%s", e.msg);
  int idx = device_select(&list, spec && spec[0] ? spec : NULL, &e);
  if (idx < 0) seterr(err, errlen, "%s", e.msg);
  if (idx >= 0) snprintf(name, n, "%s", list.items[idx].name);
  device_list_free(&list);
  return idx >= 0 ? 0 : -1;
}

/* Options that do not change what a run computes or logs, and the device (compared by its
   resolved name, since "0", "pthread" and CLTRAIN_DEVICE may all mean one device). */
static bool ignored_option(int opt) {
  return opt == TOPT_PROJECT_DIR || opt == TOPT_LOAD || opt == TOPT_RESUME || opt == TOPT_NO_PROGRESS ||
         opt == TOPT_QUIET || opt == TOPT_KERNELS_DIR || opt == TOPT_DEVICE || opt == TOPT_NAME;
}

bool sweep_same_run(const train_config *cfg, const char *device_name, const char *stored_config_text,
                    const char *stored_device) {
  if (device_name && strcmp(device_name, stored_device) != 0) return false;
  train_config stored;
  train_config_default(&stored);
  char err[512];
  if (train_config_from_text(&stored, stored_config_text, err, sizeof err)) return false;
  char a[TRAIN_PATH_MAX + 64], b[TRAIN_PATH_MAX + 64];
  for (int i = 0; i < TOPT_COUNT; i++) {
    if (ignored_option(i)) continue;
    train_config_value_text(cfg, (train_option)i, a, sizeof a);
    train_config_value_text(&stored, (train_option)i, b, sizeof b);
    if (strcmp(a, b) != 0) return false;
  }
  return true;
}

/* Is candidate C a better choice than the current best B? */
static bool better(const sweep_found *c, const sweep_found *b) {
  bool cd = sweep_status_done(c->status), bd = sweep_status_done(b->status);
  if (cd != bd) return cd;
  if (c->steps != b->steps) return c->steps > b->steps;
  return strcmp(c->dir, b->dir) > 0;
}

bool sweep_find_run(const char *runs_dir, const train_config *cfg, const char *device_name, sweep_found *out) {
  DIR *d = opendir(runs_dir);
  if (!d) return false;
  bool found = false;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    sweep_found c;
    memset(&c, 0, sizeof c);
    char ckpt[RUN_PATH_MAX], err[RUN_PATH_MAX + 256];
    if (snprintf(c.dir, sizeof c.dir, "%s/%s", runs_dir, e->d_name) >= (int)sizeof c.dir) continue;
    if (snprintf(ckpt, sizeof ckpt, "%s/last.ckpt", c.dir) >= (int)sizeof ckpt) continue;
    struct stat st;
    if (stat(ckpt, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (checkpoint_read(ckpt, &c.ckpt, err, sizeof err)) {
      warnf("sweep: ignoring %s: %s", c.dir, err);
      continue;
    }
    c.steps = c.ckpt.progress.step;
    if (!sweep_same_run(cfg, device_name, c.ckpt.config_text, c.ckpt.device_name)) {
      checkpoint_free(&c.ckpt);
      continue;
    }
    if (plot_run_setting(c.dir, "status", c.status, sizeof c.status, err, sizeof err))
      snprintf(c.status, sizeof c.status, "unknown");
    if (found && !better(&c, out)) {
      checkpoint_free(&c.ckpt);
      continue;
    }
    if (found) checkpoint_free(&out->ckpt);
    *out = c;
    found = true;
  }
  closedir(d);
  return found;
}
