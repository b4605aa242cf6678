#include "cli/cli_ranks.h"

#include <stdio.h>
#include <stdlib.h>

#include "cl/runtime.h"
#include "cli/cli_args.h"

static void say_where(const char *cmd, const dist_info *d, const char *device, const char *why) {
  printf("%s: rank %d of %d (node-local %d of %d) on device %s (%s)\n", cmd, d->rank, d->size, d->local_rank,
         d->local_size, device && *device ? device : "0", why);
  fflush(stdout);
}

void cli_ranks_setup(const char *cmd, train_config *cfg, dist_info *d) {
  dist_get(d);
  if (d->size < 2) return;
  const char *env = getenv("CLTRAIN_DEVICE");
  if (cfg->given[TOPT_DEVICE]) {
    say_where(cmd, d, cfg->device, "--device");
    return;
  }
  if (env && *env) {
    say_where(cmd, d, env, "CLTRAIN_DEVICE");
    return;
  }
  device_list list;
  error e = {0};
  if (device_list_get(&list, &e)) exit(cli_ranks_report(cmd, &e, d));
  int count = list.count;
  device_list_free(&list);
  if (count < 1) {
    error_set(&e, EXIT_USAGE, "no OpenCL device on this node");
    exit(cli_ranks_report(cmd, &e, d));
  }
  char spec[32], msg[256];
  snprintf(spec, sizeof spec, "%d", d->local_rank % count);
  /* Set like an explicit --device, so a run this rank continues (--resume of a point
     another rank began) trains on this rank's device. */
  if (train_config_set_opt(cfg, TOPT_DEVICE, spec, msg, sizeof msg)) cli_usage_exit("%s: %s", cmd, msg);
  say_where(cmd, d, spec, "node-local rank mod devices");
}

void cli_ranks_share_dir(const dist_info *d, char *dir, size_t n) {
  error e = {0};
  if (d->size > 1 && dist_bcast_string(dir, n, &e)) exit(cli_report("mpi", &e));
}

int cli_ranks_report(const char *cmd, const error *e, const dist_info *d) {
  if (d->rank == 0) return cli_report(cmd, e);
  return e->code ? e->code : EXIT_RUNTIME;
}
