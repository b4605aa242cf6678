/* OpenCL runtime: device enumeration and selection, one context and one in-order queue
   per run, program building from the embedded kernels, buffer helpers. */
#ifndef CLTRAIN_RUNTIME_H
#define CLTRAIN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <CL/cl.h>

#include "cl/clcheck.h"

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
   empty list (not an error). */
void device_list_get(device_list *out);
void device_list_free(device_list *list);
const char *device_type_name(cl_device_type type);

/* Resolve SPEC (flat index "1", "P:D" "0:1", or case-insensitive name substring; the
   first match wins). Returns the flat index or -1 with a message in err. NULL or empty
   SPEC picks the default: env CLTRAIN_DEVICE when set, else device 0. */
int device_select(const device_list *list, const char *spec, char *err, size_t errlen);

#define RT_MAX_PROGRAMS 32

typedef struct {
  char key[512];            /* file name + build options */
  cl_program program;
} rt_program_entry;

typedef struct {
  device_info info;
  cl_context context;
  cl_command_queue queue;
  char kernels_dir[1024];   /* empty: use embedded kernels */
  rt_program_entry programs[RT_MAX_PROGRAMS];
  int n_programs;
  bool tuned;               /* a stored 'cltrain tune' result was applied */
  unsigned long launches;   /* kernels enqueued by rt_launch1d/2d (cltrain bench counts them) */
  unsigned long gemm_calls; /* CLBlast calls made through gemm.h */
} cl_runtime;

/* Open DEVICE (a spec, see device_select) with a context and an in-order queue.
   Bad specs exit with a usage error. kernels_dir may be NULL (then env
   CLTRAIN_KERNELS_DIR, then the embedded copy). */
void rt_open(cl_runtime *rt, const char *device_spec, const char *kernels_dir);
void rt_close(cl_runtime *rt);

/* Build (once per run, cached by file+options) the program in kernels/FILE with the
   given -D options. Build failures print the compiler log and exit. */
cl_program rt_program(cl_runtime *rt, const char *file, const char *options);
cl_kernel rt_kernel(cl_runtime *rt, cl_program program, const char *name);

cl_mem rt_alloc(cl_runtime *rt, size_t bytes);
void rt_write(cl_runtime *rt, cl_mem buf, size_t offset_bytes, size_t bytes, const void *src);
void rt_read(cl_runtime *rt, cl_mem buf, size_t offset_bytes, size_t bytes, void *dst);
void rt_zero(cl_runtime *rt, cl_mem buf, size_t offset_bytes, size_t bytes);
void rt_finish(cl_runtime *rt);
void rt_release(cl_mem *buf); /* releases and sets *buf = NULL; NULL is fine */

/* Set kernel argument I to the value V (an lvalue). */
#define KARG(kernel, i, v) CL_CHECK(clSetKernelArg((kernel), (i), sizeof(v), &(v)))

/* Enqueue a 1-D kernel over n items rounded up to the local size (0 = let the driver pick). */
void rt_launch1d(cl_runtime *rt, cl_kernel k, size_t n, size_t local);
void rt_launch2d(cl_runtime *rt, cl_kernel k, size_t n0, size_t n1, size_t l0, size_t l1);

#endif
