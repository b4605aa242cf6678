/* Warming a net up before anything is timed: every program a run will use — cltrain's
   kernels at the work-group sizes they will be launched with, and every CLBlast GEMM
   at every shape and path — is compiled by running the real training step and
   evaluation batch once at each batch size the run will use, then the net's state is
   put back exactly as it was. PoCL compiles a kernel for its local size at its first
   launch and CLBlast compiles a program at its first call of a kind, so building the
   programs alone would leave seconds of compilation inside the first timed epoch. */
#include <stdlib.h>

#include "base/util.h"
#include "net/net.h"

static bool seen(const int *sizes, int i) {
  for (int j = 0; j < i; j++)
    if (sizes[j] == sizes[i]) return true;
  return false;
}

int net_warm_up(net *n, cl_mem x_all, cl_mem y_all, size_t rows, const int *train_batches, int n_train,
                const int *eval_batches, int n_eval, const optim_config *opt, error *err) {
  const size_t P = net_param_count(n), S = net_stats_count(n), O = net_optim_count(n);
  float *params = xmalloc((P ? P : 1) * sizeof *params);
  float *stats = xmalloc((S ? S : 1) * sizeof *stats);
  float *optim = xmalloc((O ? O : 1) * sizeof *optim);
  int rc = net_read_state(n, params, S ? stats : NULL, O ? optim : NULL, err);
  net_metrics m;
  /* Step 1 as in a fresh run: the optimizer's bias correction takes the same path. */
  for (int i = 0; rc == 0 && i < n_train; i++) {
    if (train_batches[i] < 1 || (size_t)train_batches[i] > rows || seen(train_batches, i)) continue;
    /* Rows in order: a batch read through a permutation runs the same kernels. */
    net_train_steps(n, x_all, y_all, NULL, 0, train_batches[i], rows, 1, opt, 1);
  }
  for (int i = 0; rc == 0 && i < n_eval; i++) {
    if (eval_batches[i] < 1 || (size_t)eval_batches[i] > rows || seen(eval_batches, i)) continue;
    net_set_batch(n, x_all, y_all, NULL, 0, eval_batches[i]);
    net_eval_batch(n, eval_batches[i]);
  }
  /* The metrics the warm-up accumulated are dropped with this read (so are any taken
     before it: see net.h); the state goes back bit for bit (parameters, their mirror,
     running statistics, optimizer state). */
  if (rc == 0) rc = net_take_metrics(n, &m, NULL, err);
  if (rc == 0) rc = net_write_state(n, params, S ? stats : NULL, O ? optim : NULL, err);
  free(params);
  free(stats);
  free(optim);
  return rc;
}
