/* The command side of running over MPI ranks (sweep, lab1): who this rank is, which
   device it trains on, one output directory for the whole job, one line per error. */
#ifndef CLTRAIN_CLI_RANKS_H
#define CLTRAIN_CLI_RANKS_H

#include <stddef.h>

#include "base/error.h"
#include "dist/dist.h"
#include "train/train_config.h"

/* This rank (rank 0 of 1 without MPI). When the job has several ranks and neither
   --device nor CLTRAIN_DEVICE chose a device, CFG's device becomes the node-local rank
   modulo the number of OpenCL devices, so the ranks of a node spread over its GPUs.
   Bad input exits 2 (rank 0 says why). */
void cli_ranks_setup(const char *cmd, train_config *cfg, dist_info *d);

/* The job's output directory: the one rank 0 chose, copied into DIR on every rank. */
void cli_ranks_share_dir(const dist_info *d, char *dir, size_t n);

/* cli_report on rank 0 only (every rank found the same bad input); the exit code on all. */
int cli_ranks_report(const char *cmd, const error *e, const dist_info *d);

#endif
