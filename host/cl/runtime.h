/* OpenCL runtime: device enumeration and selection, one context and one in-order queue
   per run, program building from the embedded kernels, buffer helpers, kernel launches.

   Errors: the first OpenCL/CLBlast failure of anything that works on a runtime is recorded
   in rt->err ("FILE:LINE: clX failed: CL_NAME (code)") and every later enqueue, argument,
   build or allocation on it is a no-op, like a sticky device error. Code that only enqueues
   returns nothing; the sync points (rt_read, rt_finish, and above them net_take_metrics and
   friends) return -1 once it is set, and rt_error says why. */
#ifndef CLTRAIN_RUNTIME_H
#define CLTRAIN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <CL/cl.h>

#include "base/error.h"
#include "cl/clcheck.h"
#include "cl/gemm_choice.h"

typedef struct {
  int flat;                 /* index over all platforms, from 0 */
  int platform_index, device_index;
  cl_platform_id platform;
  cl_device_id device;
  char name[256];
  char platform_name[256];
  char vendor[128];
  char version[128];        /* CL_DEVICE_VERSION */
  char driver[128];         /* CL_DRIVER_VERSION */
  cl_device_type type;
  cl_uint compute_units;
  cl_ulong global_mem;
  cl_ulong max_alloc;
  size_t max_work_group;
} device_info;

typedef struct {
  device_info *items;
  int count;
} device_list;

/* Enumerate every device of every platform. A machine with no OpenCL platform gives an
   empty list (not an error). 0, or -1 with a runtime error when the driver fails. */
int device_list_get(device_list *out, error *err);
void device_list_free(device_list *list);
const char *device_type_name(cl_device_type type);

/* Resolve SPEC (flat index "1", "P:D" "0:1", or case-insensitive name substring; the
   first match wins). Returns the flat index, or -1 with a usage error naming SPEC. NULL or
   empty SPEC picks the default: env CLTRAIN_DEVICE when set, else device 0. */
int device_select(const device_list *list, const char *spec, error *err);

#define RT_MAX_PROGRAMS 32

typedef struct {
  char key[1280];           /* file name + build options */
  cl_program program;
} rt_program_entry;

typedef struct {
  device_info info;
  cl_context context;
  cl_command_queue queue;
  char kernels_dir[1024];   /* empty: use embedded kernels */
  rt_program_entry programs[RT_MAX_PROGRAMS];
  int n_programs;
  bool tuned;               /* a stored 'cltrain tune' result was applied (tuning.h) */
  gemm_choices gemm_paths;  /* and its per-shape GEMM paths, read by --gemm auto */
  unsigned long launches;   /* kernels enqueued by rt_launch1d (cltrain bench counts them) */
  unsigned long gemm_calls; /* CLBlast calls made through gemm.h */
  error err;                /* the first failure; once set, enqueues are no-ops */
} cl_runtime;

/* Open DEVICE (a spec, see device_select) with a context and an in-order queue.
   kernels_dir may be NULL (then env CLTRAIN_KERNELS_DIR, then the embedded copy).
   0, or -1 with err: a usage error for a bad spec, a runtime error when the driver fails
   (rt is then closed). Stored CLBlast tuning is not applied here: see tuning_apply_stored. */
int rt_open(cl_runtime *rt, const char *device_spec, const char *kernels_dir, error *err);
void rt_close(cl_runtime *rt);

/* The runtime's first failure (code 0: none). */
const error *rt_error(const cl_runtime *rt);
static inline bool rt_failed(const cl_runtime *rt) { return rt->err.code != 0; }
/* 0 when the runtime has not failed; else copy its error into err (NULL: don't) and -1. */
int rt_status(const cl_runtime *rt, error *err);

/* Build (once per run, cached by file+options) the program in kernels/FILE with the
   given -D options. A build failure records the first error line of the compiler log;
   the result is then NULL, as is every kernel of a NULL program. */
cl_program rt_program(cl_runtime *rt, const char *file, const char *options);
cl_kernel rt_kernel(cl_runtime *rt, cl_program program, const char *name);

cl_mem rt_alloc(cl_runtime *rt, size_t bytes);   /* NULL once the runtime has failed */
void rt_write(cl_runtime *rt, cl_mem buf, size_t offset_bytes, size_t bytes, const void *src);
void rt_zero(cl_runtime *rt, cl_mem buf, size_t offset_bytes, size_t bytes);
/* Blocking: 0, or -1 when the runtime has failed (before or now; see rt_error). */
int rt_read(cl_runtime *rt, cl_mem buf, size_t offset_bytes, size_t bytes, void *dst);
int rt_finish(cl_runtime *rt);
void rt_release(cl_mem *buf); /* releases and sets *buf = NULL; NULL is fine */

/* Kernel arguments in order through a cursor, never hand-numbered:
     karg_cursor a = karg_begin(rt, k);
     karg_int(&a, rows); karg_mem(&a, x); ...
   A failure is recorded in rt->err with the file:line of karg_begin and the argument's
   index; after one, the rest are skipped. */
typedef struct {
  cl_runtime *rt;
  cl_kernel kernel;
  cl_uint next;
  const char *file;
  int line;
} karg_cursor;
karg_cursor karg_begin_at(cl_runtime *rt, cl_kernel k, const char *file, int line);
#define karg_begin(rt, k) karg_begin_at((rt), (k), __FILE__, __LINE__)
void karg_raw(karg_cursor *c, size_t size, const void *value);
static inline void karg_mem(karg_cursor *c, cl_mem v) { karg_raw(c, sizeof v, &v); }
static inline void karg_int(karg_cursor *c, cl_int v) { karg_raw(c, sizeof v, &v); }
static inline void karg_uint(karg_cursor *c, cl_uint v) { karg_raw(c, sizeof v, &v); }
static inline void karg_ulong(karg_cursor *c, cl_ulong v) { karg_raw(c, sizeof v, &v); }
static inline void karg_float(karg_cursor *c, cl_float v) { karg_raw(c, sizeof v, &v); }

/* Enqueue a 1-D kernel over n items rounded up to the local size (0 = let the driver pick).
   A failure names the kernel and the caller's file:line. */
void rt_launch1d_at(cl_runtime *rt, cl_kernel k, size_t n, size_t local, const char *file, int line);
#define rt_launch1d(rt, k, n, local) rt_launch1d_at((rt), (k), (n), (local), __FILE__, __LINE__)

#endif
