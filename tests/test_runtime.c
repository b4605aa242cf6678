/* Device enumeration and selection by each spec form; OpenCL and CLBlast failures become
   errors (code, status name, the caller's file:line) recorded in the runtime, and the
   runtime stays failed: later enqueues do nothing and every sync point reports it. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/gemm.h"
#include "cl/launch_probe.h"
#include "cl/runtime.h"
#include "testutil.h"
#include "base/util.h"

static void open_default(cl_runtime *rt) {
  error e = {0};
  if (rt_open(rt, NULL, NULL, &e) != 0) {
    fprintf(stderr, "rt_open: %s\n", e.msg);
    exit(1);
  }
}

/* An error recorded by the runtime, with the named status and file. */
static void expect_failed(const cl_runtime *rt, const char *status, const char *file, const char *what) {
  const error *e = rt_error(rt);
  CHECK(e->code == EXIT_RUNTIME, "%s: code %d", what, e->code);
  CHECK(strstr(e->msg, status) && strstr(e->msg, file), "%s: message '%s' lacks '%s' or '%s'", what, e->msg,
        status, file);
}

/* After a failure nothing runs and the sync points say so, with the first cause. */
static void expect_sticky(cl_runtime *rt, const char *status) {
  char before[sizeof rt->err.msg];
  snprintf(before, sizeof before, "%s", rt->err.msg);
  const unsigned long launches = rt->launches;
  CHECK(rt_alloc(rt, 64) == NULL, "allocation after a failure");
  CHECK(rt_finish(rt) == -1, "rt_finish after a failure");
  float x;
  CHECK(rt_read(rt, NULL, 0, sizeof x, &x) == -1, "rt_read after a failure");
  error e = {0};
  CHECK(rt_status(rt, &e) == -1 && e.code == EXIT_RUNTIME && strstr(e.msg, status), "rt_status: %s", e.msg);
  CHECK(strcmp(rt->err.msg, before) == 0 && rt->launches == launches, "first cause kept: %s", rt->err.msg);
}

static void bad_buffer_size(void) {
  cl_runtime rt;
  open_default(&rt);
  /* A buffer larger than the device allows fails with a named status. */
  cl_mem m = rt_alloc(&rt, (size_t)rt.info.max_alloc * 4 + 4096);
  CHECK(m == NULL, "oversized buffer allocated");
  expect_failed(&rt, "CL_INVALID_BUFFER_SIZE", "runtime.c:", "oversized buffer");
  expect_sticky(&rt, "CL_INVALID_BUFFER_SIZE");
  rt_close(&rt);
}

static void bad_gemm(void) {
  cl_runtime rt;
  open_default(&rt);
  cl_mem small = rt_alloc(&rt, 16);
  /* 8x8 matrices do not fit in 16 bytes: the caller's line is named. */
  gemm(&rt, false, false, 8, 8, 8, 1.0f, small, 0, 8, small, 0, 8, 0.0f, small, 0, 8);
  expect_failed(&rt, "CLBlastInsufficientMemory", "test_runtime.c:", "bad gemm");
  expect_sticky(&rt, "CLBlastInsufficientMemory");
  rt_release(&small);
  rt_close(&rt);
}

/* A kernel launched with a work-group larger than the device allows, and an argument
   index the kernel does not have: both name the kernel and this file. */
static void bad_launch(const char *dir) {
  cl_runtime rt;
  error e = {0};
  CHECK(rt_open(&rt, NULL, dir, &e) == 0, "open with kernels dir: %s", e.msg);
  cl_kernel k = rt_kernel(&rt, rt_program(&rt, "ok.cl", ""), "scale");
  CHECK(k != NULL && !rt_failed(&rt), "ok.cl: %s", rt.err.msg);
  cl_mem buf = rt_alloc(&rt, 16 * sizeof(float));
  karg_cursor a = karg_begin(&rt, k);
  karg_mem(&a, buf);
  karg_int(&a, 16);
  rt_launch1d(&rt, k, 16, 0);
  CHECK(rt_finish(&rt) == 0 && rt.launches == 1, "good launch: %s", rt.err.msg);
  rt_launch1d(&rt, k, 16, rt.info.max_work_group * 2);
  expect_failed(&rt, "CL_INVALID_WORK_GROUP_SIZE", "test_runtime.c:", "oversized work-group");
  CHECK(strstr(rt.err.msg, "scale") != NULL, "launch error does not name the kernel: %s", rt.err.msg);
  expect_sticky(&rt, "CL_INVALID_WORK_GROUP_SIZE");
  rt_release(&buf);
  clReleaseKernel(k);
  rt_close(&rt);

  CHECK(rt_open(&rt, NULL, dir, &e) == 0, "open: %s", e.msg);
  k = rt_kernel(&rt, rt_program(&rt, "ok.cl", ""), "scale");
  a = karg_begin(&rt, k);
  karg_mem(&a, NULL);
  karg_int(&a, 1);
  karg_int(&a, 2); /* scale has two arguments */
  expect_failed(&rt, "CL_INVALID_ARG_INDEX", "test_runtime.c:", "third argument");
  CHECK(strstr(rt.err.msg, "scale, argument 2") != NULL, "argument error: %s", rt.err.msg);
  clReleaseKernel(k);
  rt_close(&rt);
}

static void bad_kernel_source(const char *dir) {
  cl_runtime rt;
  error e = {0};
  CHECK(rt_open(&rt, NULL, dir, &e) == 0, "open: %s", e.msg);
  CHECK(rt_program(&rt, "broken.cl", "") == NULL, "broken kernel built");
  expect_failed(&rt, "CL_BUILD_PROGRAM_FAILURE", "broken.cl", "build failure");
  CHECK(strstr(rt.err.msg, "undefined_symbol") != NULL, "build message lacks the log line: %s", rt.err.msg);
  CHECK(strchr(rt.err.msg, '\n') == NULL, "build message is not one line");
  CHECK(rt_kernel(&rt, NULL, "broken") == NULL, "kernel of a failed program");
  rt_close(&rt);

  CHECK(rt_open(&rt, NULL, dir, &e) == 0, "open: %s", e.msg);
  CHECK(rt_program(&rt, "missing.cl", "") == NULL, "missing kernel file built");
  CHECK(rt.err.code == EXIT_USAGE && strstr(rt.err.msg, "missing.cl"), "missing file: %s", rt.err.msg);
  rt_close(&rt);
}

static void selection(void) {
  device_list list;
  error e = {0};
  CHECK(device_list_get(&list, &e) == 0, "enumeration: %s", e.msg);
  CHECK(list.count >= 1, "enumeration found no device");
  for (int i = 0; i < list.count; i++) {
    const device_info *d = &list.items[i];
    CHECK(d->flat == i, "flat index %d at position %d", d->flat, i);
    CHECK(d->name[0] != '\0', "device %d has no name", i);
    CHECK(d->compute_units >= 1, "device %d has %u compute units", i, d->compute_units);
    CHECK(d->global_mem > 0, "device %d has no memory", i);
    char spec[32];
    snprintf(spec, sizeof spec, "%d", i);
    CHECK(device_select(&list, spec, &e) == i, "flat spec %s: %s", spec, e.msg);
    snprintf(spec, sizeof spec, "%d:%d", d->platform_index, d->device_index);
    CHECK(device_select(&list, spec, &e) == i, "P:D spec %s: %s", spec, e.msg);
    /* Name substring, in another case: the whole name selects its first holder. */
    char upper[256];
    snprintf(upper, sizeof upper, "%s", d->name);
    for (char *p = upper; *p; p++) if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    int got = device_select(&list, upper, &e);
    CHECK(got >= 0 && got <= i && strcmp(list.items[got].name, d->name) == 0,
          "name spec '%s' gave %d", upper, got);
  }
  CHECK(device_select(&list, "no-such-device-xyz", &e) == -1, "bogus name accepted");
  CHECK(e.code == EXIT_USAGE && strstr(e.msg, "no-such-device-xyz") != NULL, "error does not name the spec: %s", e.msg);
  error_clear(&e);
  CHECK(device_select(&list, "999", &e) == -1, "index 999 accepted");
  CHECK(strstr(e.msg, "out of range") != NULL, "message: %s", e.msg);
  CHECK(device_select(&list, "7:7", &e) == -1, "7:7 accepted");
  setenv("CLTRAIN_DEVICE", "0", 1);
  CHECK(device_select(&list, NULL, &e) == 0, "env default");
  unsetenv("CLTRAIN_DEVICE");
  device_list_free(&list);

  cl_runtime rt;
  error_clear(&e);
  CHECK(rt_open(&rt, "no-such-device-xyz", NULL, &e) == -1, "bad device opened");
  CHECK(e.code == EXIT_USAGE && strstr(e.msg, "no-such-device-xyz"), "bad device: %d %s", e.code, e.msg);
}

/* The launch probe: every one of its launches ran (it checks a device counter itself and
   fails otherwise), the figure is a time per launch (above 0.01 us, which no OpenCL
   implementation reaches, and below 10 ms), the runtime's launch count is left as it was
   (bench divides it by steps), and a failed runtime gives its error, not a figure. */
static void launch_probe(void) {
  cl_runtime rt;
  open_default(&rt);
  const unsigned long before = rt.launches;
  double us = -1;
  error e = {0};
  CHECK(launch_probe_us(&rt, &us, &e) == 0, "launch probe: %s", e.msg);
  CHECK(us > 0.01 && us < 1e4, "launch probe: %g us per launch", us);
  CHECK(rt.launches == before, "launch probe counted %lu launches", rt.launches - before);
  ERR_RUNTIME(&rt.err, "made to fail");
  CHECK(launch_probe_us(&rt, &us, &e) == -1 && strstr(e.msg, "made to fail") && isnan(us),
        "launch probe on a failed runtime: %s", e.msg);
  rt_close(&rt);
}

int main(void) {
  selection();
  launch_probe();
  char dir[64];
  snprintf(dir, sizeof dir, "/tmp/cltrain-test-rt-%d", (int)getpid());
  mkdir(dir, 0755);
  test_write_file(dir, "broken.cl", "__kernel void broken(__global float *x) { x[0] = undefined_symbol; }\n");
  test_write_file(dir, "ok.cl", "__kernel void scale(__global float *x, const int n) {\n"
                                "  const int i = get_global_id(0);\n  if (i < n) x[i] *= 2.0f;\n}\n");
  bad_buffer_size();
  bad_gemm();
  bad_launch(dir);
  bad_kernel_source(dir);
  char path[128];
  snprintf(path, sizeof path, "%s/broken.cl", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/ok.cl", dir);
  unlink(path);
  rmdir(dir);

  CHECK(strcmp(cl_status_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES") == 0, "name table");
  CHECK(strcmp(clblast_status_name(-1017), "CLBlastInvalidDimension") == 0, "clblast name table");
  return test_summary("test_runtime");
}
