#include "study/sweep_grid.h"

#include <stdlib.h>
#include <string.h>

void sweep_grid_init(sweep_grid *g) { memset(g, 0, sizeof *g); }

int sweep_option_find(const char *name) {
  static const struct {
    const char *alias, *name;
  } aliases[] = {{"lr", "learning-rate"}, {"epochs", "max-epochs"}, {"batch", "batch-size"}};
  char canon[64];
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof canon) return -1;
  for (size_t i = 0; i <= n; i++) canon[i] = name[i] == '_' ? '-' : name[i];
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(canon, aliases[i].alias) == 0) return train_option_find(aliases[i].name);
  return train_option_find(canon);
}

/* Options that say where or how a run is shown, or that start it from elsewhere: one
   sweep has one value of each. */
static int can_vary(train_option opt) {
  return opt != TOPT_PROJECT_DIR && opt != TOPT_LOAD && opt != TOPT_RESUME && opt != TOPT_QUIET &&
         opt != TOPT_NO_PROGRESS && opt != TOPT_KERNELS_DIR;
}

int sweep_grid_find(const sweep_grid *g, train_option opt) {
  for (int a = 0; a < g->n_axes; a++)
    if (g->axes[a].opt == opt) return a;
  return -1;
}

size_t sweep_grid_size(const sweep_grid *g) {
  size_t n = 1;
  for (int a = 0; a < g->n_axes; a++) n *= (size_t)g->axes[a].n_values;
  return n;
}

int sweep_grid_add(sweep_grid *g, const char *spec, char *err, size_t errlen) {
  const char *eq = strchr(spec, '=');
  if (!eq) return seterr(err, errlen, "--vary '%s': expected NAME=V1,V2,...", spec);
  char name[64];
  size_t len = (size_t)(eq - spec);
  if (len == 0) return seterr(err, errlen, "--vary '%s': no option name before '='", spec);
  if (len >= sizeof name) return seterr(err, errlen, "--vary '%.40s...': option name too long", spec);
  memcpy(name, spec, len);
  name[len] = '\0';
  int opt = sweep_option_find(name);
  if (opt < 0) return seterr(err, errlen, "--vary: unknown training option '%s'", name);
  const char *long_name = train_option_name((train_option)opt);
  if (!can_vary((train_option)opt)) return seterr(err, errlen, "--vary: %s cannot be varied in a sweep", long_name);
  if (sweep_grid_find(g, (train_option)opt) >= 0)
    return seterr(err, errlen, "--vary: %s is varied twice (list all its values in one --vary)", long_name);
  if (g->n_axes == SWEEP_MAX_AXES) return seterr(err, errlen, "--vary: at most %d options can vary", SWEEP_MAX_AXES);

  sweep_axis *ax = &g->axes[g->n_axes];
  memset(ax, 0, sizeof *ax);
  ax->opt = (train_option)opt;
  for (size_t i = 0; long_name[i] && i + 1 < sizeof ax->column; i++)
    ax->column[i] = long_name[i] == '-' ? '_' : long_name[i];
  if (!eq[1]) return seterr(err, errlen, "--vary %s: no values after '='", long_name);
  int n = split_list(eq + 1, ax->values, SWEEP_MAX_VALUES);
  if (n < 0)
    return seterr(err, errlen, "--vary %s: '%s' is not a list of 1 to %d non-empty values (at most %d characters each)",
                  long_name, eq + 1, SWEEP_MAX_VALUES, LIST_ITEM_MAX - 1);
  /* Check each value as the command line would, and compare the values as the run sees
     them, so 1e-3 and 0.001 count as the same value. */
  char (*seen)[TRAIN_PATH_MAX + 64] = xmalloc((size_t)n * sizeof *seen);
  int bad = 0;
  for (int i = 0; i < n && !bad; i++) {
    train_config scratch;
    train_config_default(&scratch);
    char why[512];
    if (train_config_set_opt(&scratch, ax->opt, ax->values[i], why, sizeof why)) {
      /* why reads "--batch-size: 'x' is not ..."; say it once, as --vary NAME. */
      const char *colon = strstr(why, ": ");
      bad = seterr(err, errlen, "--vary %s: %s", long_name, colon ? colon + 2 : why);
      break;
    }
    train_config_value_text(&scratch, ax->opt, seen[i], sizeof seen[i]);
    for (int j = 0; j < i && !bad; j++)
      if (strcmp(seen[i], seen[j]) == 0)
        bad = seterr(err, errlen, "--vary %s: value '%s' is listed twice", long_name, ax->values[i]);
  }
  free(seen);
  if (bad) return -1;
  ax->n_values = n;
  size_t points = sweep_grid_size(g) * (size_t)n;
  if (points > SWEEP_MAX_POINTS)
    return seterr(err, errlen, "--vary: the grid has %zu runs, more than %d", points, SWEEP_MAX_POINTS);
  g->n_axes++;
  return 0;
}

void sweep_grid_indices(const sweep_grid *g, size_t p, int idx[SWEEP_MAX_AXES]) {
  for (int a = g->n_axes - 1; a >= 0; a--) {
    size_t n = (size_t)g->axes[a].n_values;
    idx[a] = (int)(p % n);
    p /= n;
  }
}

int sweep_grid_apply(const sweep_grid *g, size_t p, train_config *cfg, char *err, size_t errlen) {
  int idx[SWEEP_MAX_AXES];
  sweep_grid_indices(g, p, idx);
  for (int a = 0; a < g->n_axes; a++)
    if (train_config_set_opt(cfg, g->axes[a].opt, g->axes[a].values[idx[a]], err, errlen)) return -1;
  return 0;
}
