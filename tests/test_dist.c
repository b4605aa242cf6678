/* The MPI layer (host/dist): run as one process, and by ctest under
   `mpirun -n 3` when the build has MPI. The work queue must hand out every item exactly
   once over all ranks, also when ranks take items at different speeds; the rank-order
   sum must give every rank the same bits; the collectives must agree. */
#include <string.h>
#include <time.h>

#include "dist/dist.h"
#include "testutil.h"

#define N_ITEMS 37

int main(int argc, char **argv) {
  dist_info info;
  error err = {0};
  CHECK(dist_init(&argc, &argv, &info, &err) == 0, "dist_init: %s", err.msg);
  CHECK(info.rank >= 0 && info.rank < info.size, "rank %d of %d", info.rank, info.size);
  CHECK(info.local_rank >= 0 && info.local_rank < info.local_size && info.local_size <= info.size,
        "local rank %d of %d (job %d)", info.local_rank, info.local_size, info.size);
  const char *want = getenv("CLTRAIN_EXPECT_RANKS");
  if (want) CHECK(info.size == atoi(want), "size %d, expected %s ranks", info.size, want);

  /* Every rank marks the items it got; the sum over ranks must be 1 everywhere. Items
     take a rank-dependent time, so a static split would be uneven. */
  float taken[N_ITEMS] = {0};
  dist_queue *q = dist_queue_open(N_ITEMS, &err);
  CHECK(q != NULL, "dist_queue_open: %s", err.msg);
  int mine = 0;
  for (long item; q && (item = dist_queue_next(q)) >= 0;) {
    CHECK(item < N_ITEMS, "item %ld out of range", item);
    if (item >= N_ITEMS) break;
    taken[item] += 1.0f;
    mine++;
    struct timespec t = {0, (long)(1 + (item * 7 + info.rank * 3) % 5) * 2000000L};
    nanosleep(&t, NULL);
  }
  CHECK(!q || dist_queue_next(q) == -1, "a finished queue must stay finished");
  dist_queue_close(q);
  CHECK(dist_sum_floats(taken, N_ITEMS, &err) == 0, "dist_sum_floats: %s", err.msg);
  for (int i = 0; i < N_ITEMS; i++) CHECK(taken[i] == 1.0f, "item %d handed out %g times", i, (double)taken[i]);

  /* Rank-order sum: inexact values whose float sum depends on the order; every rank
     must get exactly the fold in rank order. */
  float v[2] = {1.0f / (float)(info.rank + 3), 1e7f * (float)(info.rank % 2 ? -1 : 1) + 0.3f};
  float want0 = 0, want1 = 0;
  for (int r = 0; r < info.size; r++) {
    want0 += 1.0f / (float)(r + 3);
    want1 += 1e7f * (float)(r % 2 ? -1 : 1) + 0.3f;
  }
  CHECK(dist_sum_floats(v, 2, &err) == 0, "dist_sum_floats: %s", err.msg);
  CHECK(memcmp(&v[0], &want0, sizeof v[0]) == 0, "sum of 1/(r+3): %.9g, want %.9g", (double)v[0], (double)want0);
  CHECK(memcmp(&v[1], &want1, sizeof v[1]) == 0, "alternating sum: %.9g, want %.9g", (double)v[1], (double)want1);

  CHECK(dist_any(info.rank == info.size - 1) == true, "dist_any of the last rank's flag");
  CHECK(dist_any(false) == false, "dist_any of all false");
  CHECK(dist_max_int(info.rank == 0 ? 2 : 1) == 2, "dist_max_int");
  if (info.size > 1) CHECK(mine < N_ITEMS, "rank %d took all %d items: no balancing", info.rank, mine);

  int failed = test_summary("test_dist");
  failed = dist_max_int(failed);
  dist_finalize();
  return failed;
}
