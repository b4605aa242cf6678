#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CLTRAIN_HAVE_MPI
#include <mpi.h>
#include <pthread.h>
#include <time.h>
#endif

#include "base/util.h"

bool dist_built_with_mpi(void) {
#ifdef CLTRAIN_HAVE_MPI
  return true;
#else
  return false;
#endif
}

#ifndef CLTRAIN_HAVE_MPI

/* ---- one process: every call works locally ---------------------------------------- */

void dist_library_version(char *out, size_t n) { snprintf(out, n, "no MPI"); }

int dist_init(int *argc, char ***argv, dist_info *info, error *err) {
  (void)argc, (void)argv, (void)err;
  *info = (dist_info){.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .active = false};
  return 0;
}
void dist_get(dist_info *info) {
  *info = (dist_info){.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .active = false};
}
void dist_finalize(void) {}
void dist_abort(int code) { (void)code; }
bool dist_any(bool flag) { return flag; }
int dist_max_int(int code) { return code; }
void dist_barrier(void) {}
int dist_sum_floats(float *buf, size_t n, error *err) {
  (void)buf, (void)n, (void)err;
  return 0;
}
int dist_bcast_string(char *buf, size_t n, error *err) {
  (void)buf, (void)n, (void)err;
  return 0;
}
int dist_sum_doubles(double *buf, size_t n, error *err) {
  (void)buf, (void)n, (void)err;
  return 0;
}
int dist_agree(int rc, error *err) {
  (void)err;
  return rc != 0 ? -1 : 0;
}
int dist_collect(void *items, size_t n_items, size_t item_size, const bool *mine, error *err) {
  (void)items, (void)n_items, (void)item_size, (void)mine, (void)err;
  return 0;
}

struct dist_queue {
  long next, n;
};
dist_queue *dist_queue_open(long n_items, error *err) {
  (void)err;
  dist_queue *q = xcalloc(1, sizeof *q);
  q->n = n_items;
  return q;
}
long dist_queue_next(dist_queue *q) { return q->next < q->n ? q->next++ : -1; }
void dist_queue_close(dist_queue *q) { free(q); }

#else

/* ---- MPI ---------------------------------------------------------------------------- */

void dist_library_version(char *out, size_t n) {
  char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  if (MPI_Get_library_version(v, &len) != MPI_SUCCESS) len = 0;
  v[len < (int)sizeof v ? len : (int)sizeof v - 1] = '\0';
  char *nl = strpbrk(v, ",\n"); /* Open MPI's string goes on with build details */
  if (nl) *nl = '\0';
  snprintf(out, n, "%s", len ? v : "MPI");
}

/* Set by mpirun/mpiexec (Open MPI, MPICH/Hydra) and by srun with PMI or PMIx. */
static bool launched_by_mpi(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return true;
  }
  return false;
}

static bool mpi_running(void) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

static const char *mpi_error_text(int code, char *buf) {
  int len = 0;
  if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) snprintf(buf, MPI_MAX_ERROR_STRING, "MPI error %d", code);
  return buf;
}

#define MPI_TRY(err, call)                                                                    \
  do {                                                                                        \
    int mpi_try_rc_ = (call);                                                                 \
    if (mpi_try_rc_ != MPI_SUCCESS) {                                                         \
      char mpi_try_buf_[MPI_MAX_ERROR_STRING];                                                \
      return ERR_RUNTIME((err), "%s failed: %s", #call, mpi_error_text(mpi_try_rc_, mpi_try_buf_)); \
    }                                                                                         \
  } while (0)

/* Rank, size and the node-local rank and size of a running MPI job into INFO. */
static int query(dist_info *info, error *err) {
  info->active = true;
  MPI_TRY(err, MPI_Comm_rank(MPI_COMM_WORLD, &info->rank));
  MPI_TRY(err, MPI_Comm_size(MPI_COMM_WORLD, &info->size));
  MPI_Comm local;
  MPI_TRY(err, MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info->rank, MPI_INFO_NULL, &local));
  int rc = MPI_Comm_rank(local, &info->local_rank);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_size(local, &info->local_size);
  MPI_Comm_free(&local);
  MPI_TRY(err, rc);
  return 0;
}

int dist_init(int *argc, char ***argv, dist_info *info, error *err) {
  *info = (dist_info){.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .active = false};
  if (!mpi_running()) {
    if (!launched_by_mpi()) return 0;
    int provided = 0;
    /* The work queue's server thread calls MPI while the main thread trains, and the main
       thread makes no MPI call meanwhile: SERIALIZED is enough, MULTIPLE is welcome. */
    MPI_TRY(err, MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
    if (provided < MPI_THREAD_SERIALIZED)
      return ERR_RUNTIME(err, "the MPI library gives thread level %d; cltrain needs MPI_THREAD_SERIALIZED", provided);
    /* Errors come back as codes, reported by name, instead of aborting inside MPI. */
    MPI_TRY(err, MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  }
  return query(info, err);
}

void dist_get(dist_info *info) {
  *info = (dist_info){.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .active = false};
  error ignored = {0};
  if (mpi_running() && query(info, &ignored) != 0)
    *info = (dist_info){.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .active = false};
}

void dist_finalize(void) {
  if (mpi_running()) MPI_Finalize();
}

void dist_abort(int code) {
  if (mpi_running()) MPI_Abort(MPI_COMM_WORLD, code);
}

bool dist_any(bool flag) {
  if (!mpi_running()) return flag;
  int in = flag, out = in;
  if (MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD) != MPI_SUCCESS) return true;
  return out != 0;
}

int dist_max_int(int code) {
  if (!mpi_running()) return code;
  int out = code;
  if (MPI_Allreduce(&code, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) return code ? code : 1;
  return out;
}

void dist_barrier(void) {
  if (mpi_running()) MPI_Barrier(MPI_COMM_WORLD);
}

int dist_sum_floats(float *buf, size_t n, error *err) {
  if (!mpi_running() || n == 0) return 0;
  int size = 1;
  MPI_TRY(err, MPI_Comm_size(MPI_COMM_WORLD, &size));
  if (size == 1) return 0;
  if (n > (size_t)(2147483647 / size)) return ERR_RUNTIME(err, "dist_sum_floats: %zu floats are too many", n);
  /* Everybody gathers every rank's values and sums them in rank order: the same bits on
     every rank and in every run, whatever reduction tree the library would pick. */
  float *all = xmalloc(n * (size_t)size * sizeof *all);
  int rc = MPI_Allgather(buf, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS)
    for (size_t i = 0; i < n; i++) {
      float s = all[i];
      for (int r = 1; r < size; r++) s += all[(size_t)r * n + i];
      buf[i] = s;
    }
  free(all);
  MPI_TRY(err, rc);
  return 0;
}

int dist_sum_doubles(double *buf, size_t n, error *err) {
  if (!mpi_running() || n == 0) return 0;
  int size = 1;
  MPI_TRY(err, MPI_Comm_size(MPI_COMM_WORLD, &size));
  if (size == 1) return 0;
  if (n > (size_t)(2147483647 / size)) return ERR_RUNTIME(err, "dist_sum_doubles: %zu values are too many", n);
  /* as dist_sum_floats: every rank sums everybody's values in rank order */
  double *all = xmalloc(n * (size_t)size * sizeof *all);
  int rc = MPI_Allgather(buf, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS)
    for (size_t i = 0; i < n; i++) {
      double s = all[i];
      for (int r = 1; r < size; r++) s += all[(size_t)r * n + i];
      buf[i] = s;
    }
  free(all);
  MPI_TRY(err, rc);
  return 0;
}

int dist_agree(int rc, error *err) {
  if (!mpi_running()) return rc != 0 ? -1 : 0;
  int size = 1, rank = 0;
  MPI_TRY(err, MPI_Comm_size(MPI_COMM_WORLD, &size));
  MPI_TRY(err, MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  if (size == 1) return rc != 0 ? -1 : 0;
  /* the lowest failing rank (size: none) */
  int mine = rc != 0 ? rank : size, first = size;
  MPI_TRY(err, MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == size) return 0;
  error e = {0};
  if (rank == first) {
    e = *err;
    if (!e.code) error_set(&e, EXIT_RUNTIME, "rank %d failed without a message", rank);
  }
  int code = e.code;
  error local = {0};
  int brc = MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
  if (brc == MPI_SUCCESS) brc = MPI_Bcast(e.msg, (int)sizeof e.msg, MPI_CHAR, first, MPI_COMM_WORLD);
  if (brc != MPI_SUCCESS) {
    char buf[MPI_MAX_ERROR_STRING];
    ERR_RUNTIME(&local, "rank %d failed; telling the others failed too: %s", first, mpi_error_text(brc, buf));
    *err = local;
    return -1;
  }
  e.code = code;
  e.msg[sizeof e.msg - 1] = '\0';
  *err = e;
  return -1;
}

int dist_bcast_string(char *buf, size_t n, error *err) {
  if (!mpi_running() || n == 0) return 0;
  if (n > 2147483647u) return ERR_RUNTIME(err, "dist_bcast_string: %zu bytes are too many", n);
  buf[n - 1] = '\0';
  MPI_TRY(err, MPI_Bcast(buf, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD));
  buf[n - 1] = '\0';
  return 0;
}

int dist_collect(void *items, size_t n_items, size_t item_size, const bool *mine, error *err) {
  if (!mpi_running() || n_items == 0) return 0;
  int rank = 0, size = 1;
  MPI_TRY(err, MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  MPI_TRY(err, MPI_Comm_size(MPI_COMM_WORLD, &size));
  if (size == 1) return 0;
  const size_t bytes = n_items * item_size;
  if (item_size == 0 || bytes / item_size != n_items || bytes > (size_t)(2147483647 / size) ||
      n_items > (size_t)(2147483647 / size))
    return ERR_RUNTIME(err, "dist_collect: %zu items of %zu bytes are too many", n_items, item_size);
  /* Every rank's whole array and marks go to rank 0, which keeps each item from its
     owner. The arrays are small (one entry per sweep point or device). */
  unsigned char *marks = xmalloc(n_items);
  for (size_t i = 0; i < n_items; i++) marks[i] = mine[i] ? 1 : 0;
  unsigned char *all_marks = rank == 0 ? xmalloc(n_items * (size_t)size) : NULL;
  unsigned char *all_items = rank == 0 ? xmalloc(bytes * (size_t)size) : NULL;
  int rc = MPI_Gather(marks, (int)n_items, MPI_UNSIGNED_CHAR, all_marks, (int)n_items, MPI_UNSIGNED_CHAR, 0,
                      MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS)
    rc = MPI_Gather(items, (int)bytes, MPI_BYTE, all_items, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS && rank == 0)
    for (size_t i = 0; i < n_items; i++)
      for (int r = 1; r < size && !mine[i]; r++)
        if (all_marks[(size_t)r * n_items + i]) {
          memcpy((unsigned char *)items + i * item_size, all_items + (size_t)r * bytes + i * item_size, item_size);
          break;
        }
  free(marks);
  free(all_marks);
  free(all_items);
  MPI_TRY(err, rc);
  return 0;
}

/* The queue: rank 0 owns the counter. Other ranks send a request and receive an item
   index (-1: none left); rank 0 takes items directly under the mutex, while its server
   thread answers the others. The server polls with short sleeps instead of blocking in
   MPI_Recv, because Open MPI's blocking receive spins and would take a core away from
   rank 0's own training. */
enum { TAG_REQUEST = 7101, TAG_ITEM = 7102 };

struct dist_queue {
  MPI_Comm comm;        /* a private duplicate: queue traffic never meets other messages */
  int rank, size;
  long n;
  bool done;            /* this rank has been told -1 */
  /* rank 0 only */
  pthread_mutex_t lock;
  long next;
  pthread_t server;
  bool server_running;
};

static long take_item(dist_queue *q) {
  pthread_mutex_lock(&q->lock);
  long item = q->next < q->n ? q->next++ : -1;
  pthread_mutex_unlock(&q->lock);
  return item;
}

static void *serve_requests(void *arg) {
  dist_queue *q = arg;
  int finished = 0; /* ranks that have been told -1 */
  const struct timespec pause = {0, 1000000};
  while (finished < q->size - 1) {
    int dummy = 0;
    MPI_Request req;
    MPI_Status st;
    if (MPI_Irecv(&dummy, 1, MPI_INT, MPI_ANY_SOURCE, TAG_REQUEST, q->comm, &req) != MPI_SUCCESS) break;
    int flag = 0;
    while (MPI_Test(&req, &flag, &st) == MPI_SUCCESS && !flag) nanosleep(&pause, NULL);
    if (!flag) break;
    long item = take_item(q);
    if (MPI_Send(&item, 1, MPI_LONG, st.MPI_SOURCE, TAG_ITEM, q->comm) != MPI_SUCCESS) break;
    if (item < 0) finished++;
  }
  return NULL;
}

dist_queue *dist_queue_open(long n_items, error *err) {
  dist_queue *q = xcalloc(1, sizeof *q);
  q->n = n_items;
  q->size = 1;
  q->comm = MPI_COMM_NULL;
  pthread_mutex_init(&q->lock, NULL);
  if (!mpi_running()) return q;
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &q->comm);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(q->comm, &q->rank);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_size(q->comm, &q->size);
  if (rc != MPI_SUCCESS) {
    char buf[MPI_MAX_ERROR_STRING];
    ERR_RUNTIME(err, "cannot set up the work queue: %s", mpi_error_text(rc, buf));
    if (q->comm != MPI_COMM_NULL) MPI_Comm_free(&q->comm);
    pthread_mutex_destroy(&q->lock);
    free(q);
    return NULL;
  }
  if (q->rank == 0 && q->size > 1) {
    int prc = pthread_create(&q->server, NULL, serve_requests, q);
    if (prc != 0) {
      ERR_RUNTIME(err, "cannot start the work queue's server thread: %s", strerror(prc));
      MPI_Comm_free(&q->comm);
      pthread_mutex_destroy(&q->lock);
      free(q);
      return NULL;
    }
    q->server_running = true;
  }
  return q;
}

long dist_queue_next(dist_queue *q) {
  if (q->done) return -1;
  long item = -1;
  if (q->rank == 0) {
    item = take_item(q);
  } else {
    int dummy = 0;
    if (MPI_Send(&dummy, 1, MPI_INT, 0, TAG_REQUEST, q->comm) != MPI_SUCCESS ||
        MPI_Recv(&item, 1, MPI_LONG, 0, TAG_ITEM, q->comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      item = -1;
  }
  if (item < 0) q->done = true;
  return item;
}

void dist_queue_close(dist_queue *q) {
  if (!q) return;
  /* A rank that stops early (fail-fast, interrupt) still has to be counted as finished by
     the server: ask until told -1. Items handed out now are dropped, so a stopping rank
     takes the rest of the queue with it: the caller only stops early when the whole
     command is ending. */
  if (q->comm != MPI_COMM_NULL)
    while (dist_queue_next(q) >= 0) {
    }
  if (q->server_running) pthread_join(q->server, NULL);
  if (q->comm != MPI_COMM_NULL) {
    MPI_Barrier(q->comm);
    MPI_Comm_free(&q->comm);
  }
  pthread_mutex_destroy(&q->lock);
  free(q);
}

#endif
