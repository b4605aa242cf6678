/* Device enumeration and selection by each spec form; error paths report by name. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cl/gemm.h"
#include "cl/runtime.h"
#include "testutil.h"
#include "base/util.h"

/* Run fn in a child process; capture its stderr and exit status. */
static int run_child(void (*fn)(void), char *out, size_t outlen) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    fn();
    _exit(0);
  }
  close(fd[1]);
  size_t n = 0;
  ssize_t got;
  while (n + 1 < outlen && (got = read(fd[0], out + n, outlen - n - 1)) > 0) n += (size_t)got;
  out[n] = '\0';
  close(fd[0]);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void bad_buffer_size(void) {
  cl_runtime rt;
  rt_open(&rt, NULL, NULL);
  cl_int st;
  /* A buffer larger than the device allows must fail with a named status. */
  cl_mem m = clCreateBuffer(rt.context, CL_MEM_READ_WRITE, (size_t)rt.info.max_alloc * 4 + 4096, NULL, &st);
  CL_CHECK_STATUS(st, "clCreateBuffer");
  clReleaseMemObject(m);
}

static void bad_gemm(void) {
  cl_runtime rt;
  rt_open(&rt, NULL, NULL);
  cl_mem small = rt_alloc(&rt, 16);
  /* 8x8 matrices do not fit in 16 bytes. */
  gemm(&rt, false, false, 8, 8, 8, 1.0f, small, 0, 8, small, 0, 8, 0.0f, small, 0, 8);
}

static void bad_device(void) {
  cl_runtime rt;
  rt_open(&rt, "no-such-device-xyz", NULL);
}

static void bad_kernel_source(void) {
  cl_runtime rt;
  rt_open(&rt, NULL, NULL);
  const char *src = "__kernel void broken(__global float *x) { x[0] = undefined_symbol; }";
  cl_int st;
  cl_program p = clCreateProgramWithSource(rt.context, 1, &src, NULL, &st);
  CL_CHECK_STATUS(st, "clCreateProgramWithSource");
  CL_CHECK(clBuildProgram(p, 1, &rt.info.device, NULL, NULL, NULL));
}

int main(void) {
  device_list list;
  device_list_get(&list);
  CHECK(list.count >= 1, "enumeration found no device");
  char err[512];
  for (int i = 0; i < list.count; i++) {
    const device_info *d = &list.items[i];
    CHECK(d->flat == i, "flat index %d at position %d", d->flat, i);
    CHECK(d->name[0] != '\0', "device %d has no name", i);
    CHECK(d->compute_units >= 1, "device %d has %u compute units", i, d->compute_units);
    CHECK(d->global_mem > 0, "device %d has no memory", i);
    char spec[32];
    snprintf(spec, sizeof spec, "%d", i);
    CHECK(device_select(&list, spec, err, sizeof err) == i, "flat spec %s: %s", spec, err);
    snprintf(spec, sizeof spec, "%d:%d", d->platform_index, d->device_index);
    CHECK(device_select(&list, spec, err, sizeof err) == i, "P:D spec %s: %s", spec, err);
    /* Name substring, in another case: the whole name selects its first holder. */
    char upper[256];
    snprintf(upper, sizeof upper, "%s", d->name);
    for (char *p = upper; *p; p++) if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    int got = device_select(&list, upper, err, sizeof err);
    CHECK(got >= 0 && got <= i && strcmp(list.items[got].name, d->name) == 0,
          "name spec '%s' gave %d", upper, got);
  }
  CHECK(device_select(&list, "no-such-device-xyz", err, sizeof err) == -1, "bogus name accepted");
  CHECK(strstr(err, "no-such-device-xyz") != NULL, "error does not name the spec: %s", err);
  CHECK(device_select(&list, "999", err, sizeof err) == -1, "index 999 accepted");
  CHECK(strstr(err, "out of range") != NULL, "message: %s", err);
  CHECK(device_select(&list, "7:7", err, sizeof err) == -1, "7:7 accepted");
  setenv("CLTRAIN_DEVICE", "0", 1);
  CHECK(device_select(&list, NULL, err, sizeof err) == 0, "env default");
  unsetenv("CLTRAIN_DEVICE");
  device_list_free(&list);

  char out[8192];
  int rc = run_child(bad_buffer_size, out, sizeof out);
  CHECK(rc == EXIT_RUNTIME, "oversized buffer exit %d", rc);
  CHECK(strstr(out, "CL_INVALID_BUFFER_SIZE") && strstr(out, "test_runtime.c:"),
        "oversized buffer message: %s", out);
  rc = run_child(bad_gemm, out, sizeof out);
  CHECK(rc == EXIT_RUNTIME, "bad gemm exit %d", rc);
  CHECK(strstr(out, "CLBlastInsufficientMemory") && strstr(out, "gemm.c:"), "bad gemm message: %s", out);
  rc = run_child(bad_device, out, sizeof out);
  CHECK(rc == EXIT_USAGE, "bad device exit %d", rc);
  CHECK(strstr(out, "no-such-device-xyz") != NULL, "bad device message: %s", out);
  rc = run_child(bad_kernel_source, out, sizeof out);
  CHECK(rc == EXIT_RUNTIME && strstr(out, "CL_BUILD_PROGRAM_FAILURE"), "build failure: rc %d %s", rc, out);

  CHECK(strcmp(cl_status_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES") == 0, "name table");
  CHECK(strcmp(clblast_status_name(-1017), "CLBlastInvalidDimension") == 0, "clblast name table");
  return test_summary("test_runtime");
}
