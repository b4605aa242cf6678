/* Several processes (MPI ranks) working on one command. cltrain never launches itself:
   `mpirun -n N cltrain ...` or Slurm's `srun` starts the ranks, and this module finds out
   who it is. A binary built without MPI, or started without an MPI launcher, is one rank
   of one (every function below then works locally), so callers need no #ifdef.

   MPI is initialised only when an MPI launcher started the process (its environment says
   so): a plain `cltrain train` pays nothing for being MPI-capable. */
#ifndef CLTRAIN_DIST_H
#define CLTRAIN_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef struct {
  int rank, size;              /* in the whole job */
  int local_rank, local_size;  /* among the ranks on this node (shared-memory communicator) */
  bool active;                 /* MPI was initialised (size may still be 1) */
} dist_info;

/* True when the binary was built with MPI. */
bool dist_built_with_mpi(void);
/* "Open MPI v4.1.4 ..." or "no MPI", for --version. */
void dist_library_version(char *out, size_t n);

/* Initialise MPI when an MPI launcher started this process, and fill INFO; otherwise INFO
   is rank 0 of 1. Idempotent. -1 with ERR when MPI fails to start. */
int dist_init(int *argc, char ***argv, dist_info *info, error *err);
/* Who this process is, once dist_init ran (rank 0 of 1 without MPI). */
void dist_get(dist_info *info);
/* Finalise MPI if dist_init started it. */
void dist_finalize(void);
/* End every rank of the job with CODE (one rank found an error the others cannot learn of
   by themselves, e.g. bad input on the command line). Returns only without MPI. */
void dist_abort(int code);

/* Collective: true on every rank when any rank passed true. Without MPI: FLAG. */
bool dist_any(bool flag);
/* Collective: the largest CODE of all ranks. */
int dist_max_int(int code);
/* Collective barrier. */
void dist_barrier(void);

/* Collective: rank 0's NUL-terminated string in BUF (N bytes) copied to every rank, e.g. a
   directory name rank 0 chose. */
int dist_bcast_string(char *buf, size_t n, error *err);

/* Collective: every rank holds an array of N_ITEMS items of ITEM_SIZE bytes and marks in
   MINE the items it filled; afterwards rank 0's item i is the copy of the rank that
   marked it (rank 0's own when none did). Other ranks' arrays are unchanged. For plain
   structs of one binary: the ranks of a job run the same executable. */
int dist_collect(void *items, size_t n_items, size_t item_size, const bool *mine, error *err);

/* In-place sum of N floats over all ranks, in rank order so every rank gets the same bits
   whatever the network does (MPI_Allreduce's order is implementation-defined). */
int dist_sum_floats(float *buf, size_t n, error *err);

/* The same for N doubles (metrics of data-parallel training). */
int dist_sum_doubles(double *buf, size_t n, error *err);

/* Collective: whether any rank failed. RC is this rank's result (0, or -1 with ERR set).
   Returns 0 when every rank passed 0; else -1 on every rank, with ERR holding the error of
   the lowest failing rank (its code and message), so that the job ends everywhere with one
   line from rank 0 instead of ranks waiting for one that stopped. Without MPI: RC. */
int dist_agree(int rc, error *err);

/* A shared queue of work items 0..N-1 handed out one at a time, first come first served,
   so long and short items balance over the ranks. Rank 0 keeps the counter and answers
   requests from a helper thread while it works on items of its own. */
typedef struct dist_queue dist_queue;
/* Collective. NULL with ERR on failure. */
dist_queue *dist_queue_open(long n_items, error *err);
/* The next item for this rank, or -1 when every item has been handed out. */
long dist_queue_next(dist_queue *q);
/* Collective: waits until every rank has asked for its last item, then frees Q. */
void dist_queue_close(dist_queue *q);

#endif
