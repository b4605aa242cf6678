#include "cl/runtime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/embedded.h"
#include "cl/tuning.h"
#include "base/util.h"

static void device_string(cl_device_id d, cl_device_info what, char *buf, size_t n) {
  buf[0] = '\0';
  CL_CHECK(clGetDeviceInfo(d, what, n, buf, NULL));
  buf[n - 1] = '\0';
  /* Some drivers pad names with spaces. */
  size_t len = strlen(buf);
  while (len && isspace((unsigned char)buf[len - 1])) buf[--len] = '\0';
}

void device_list_get(device_list *out) {
  out->items = NULL;
  out->count = 0;
  cl_uint np = 0;
  cl_int st = clGetPlatformIDs(0, NULL, &np);
  if (st == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || np == 0) return;
  CL_CHECK_STATUS(st, "clGetPlatformIDs");
  cl_platform_id *platforms = xcalloc(np, sizeof *platforms);
  CL_CHECK(clGetPlatformIDs(np, platforms, NULL));
  for (cl_uint p = 0; p < np; p++) {
    cl_uint nd = 0;
    st = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (st == CL_DEVICE_NOT_FOUND || nd == 0) continue;
    CL_CHECK_STATUS(st, "clGetDeviceIDs");
    cl_device_id *devs = xcalloc(nd, sizeof *devs);
    CL_CHECK(clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL));
    out->items = xrealloc(out->items, (size_t)(out->count + (int)nd) * sizeof *out->items);
    for (cl_uint d = 0; d < nd; d++) {
      device_info *di = &out->items[out->count];
      memset(di, 0, sizeof *di);
      di->flat = out->count;
      di->platform_index = (int)p;
      di->device_index = (int)d;
      di->platform = platforms[p];
      di->device = devs[d];
      CL_CHECK(clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof di->platform_name,
                                 di->platform_name, NULL));
      di->platform_name[sizeof di->platform_name - 1] = '\0';
      device_string(devs[d], CL_DEVICE_NAME, di->name, sizeof di->name);
      device_string(devs[d], CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
      device_string(devs[d], CL_DEVICE_VERSION, di->version, sizeof di->version);
      device_string(devs[d], CL_DRIVER_VERSION, di->driver, sizeof di->driver);
      CL_CHECK(clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL));
      CL_CHECK(clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof di->compute_units,
                               &di->compute_units, NULL));
      CL_CHECK(clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof di->global_mem,
                               &di->global_mem, NULL));
      CL_CHECK(clGetDeviceInfo(devs[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof di->max_alloc,
                               &di->max_alloc, NULL));
      CL_CHECK(clGetDeviceInfo(devs[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof di->max_work_group,
                               &di->max_work_group, NULL));
      out->count++;
    }
    free(devs);
  }
  free(platforms);
}

void device_list_free(device_list *list) {
  free(list->items);
  list->items = NULL;
  list->count = 0;
}

const char *device_type_name(cl_device_type t) {
  if (t & CL_DEVICE_TYPE_GPU) return "GPU";
  if (t & CL_DEVICE_TYPE_CPU) return "CPU";
  if (t & CL_DEVICE_TYPE_ACCELERATOR) return "ACCELERATOR";
  return "OTHER";
}

static bool contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n) return true;
  }
  return false;
}

int device_select(const device_list *list, const char *spec, char *err, size_t errlen) {
  if (!spec || !*spec) spec = getenv("CLTRAIN_DEVICE");
  if (!spec || !*spec) spec = "0";
  if (list->count == 0)
    return seterr(err, errlen, "no OpenCL device found (is an ICD such as pocl-opencl-icd installed?)");
  long flat;
  if (parse_long(spec, 0, 1L << 30, &flat)) {
    if (flat >= list->count)
      return seterr(err, errlen, "device '%s': index out of range, %d device(s) present (see 'cltrain devices')",
                    spec, list->count);
    return (int)flat;
  }
  /* Control characters would split the one-line messages that quote the spec. */
  for (const char *c = spec; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return seterr(err, errlen, "--device: the value contains a control character");
  /* A spec of digits, signs and a colon is a number or PLATFORM:DEVICE, parsed strictly
     (no wrap: 0:4294967296 and -1 are refused), never a name to match. */
  if (strspn(spec, "0123456789+-: ") == strlen(spec)) {
    const char *colon = strchr(spec, ':');
    char left[32];
    long p, d;
    size_t n = colon ? (size_t)(colon - spec) : 0;
    if (colon && n < sizeof left) {
      memcpy(left, spec, n);
      left[n] = '\0';
      if (parse_long(left, 0, 1L << 30, &p) && parse_long(colon + 1, 0, 1L << 30, &d)) {
        for (int i = 0; i < list->count; i++)
          if (list->items[i].platform_index == p && list->items[i].device_index == d) return i;
        return seterr(err, errlen, "device '%s': no platform %ld device %ld (see 'cltrain devices')", spec, p, d);
      }
    }
    return seterr(err, errlen,
                  "device '%s': not a device index (0-%d) or PLATFORM:DEVICE of two indices (see 'cltrain devices')",
                  spec, list->count - 1);
  }
  for (int i = 0; i < list->count; i++)
    if (contains_nocase(list->items[i].name, spec) || contains_nocase(list->items[i].platform_name, spec))
      return i;
  return seterr(err, errlen, "device '%s' matches no OpenCL device (see 'cltrain devices')", spec);
}

void rt_open(cl_runtime *rt, const char *device_spec, const char *kernels_dir) {
  memset(rt, 0, sizeof *rt);
  device_list list;
  device_list_get(&list);
  char err[512];
  int idx = device_select(&list, device_spec, err, sizeof err);
  if (idx < 0) {
    device_list_free(&list);
    die_usage("%s", err);
  }
  rt->info = list.items[idx];
  device_list_free(&list);

  if (!kernels_dir || !*kernels_dir) kernels_dir = getenv("CLTRAIN_KERNELS_DIR");
  if (kernels_dir && *kernels_dir)
    snprintf(rt->kernels_dir, sizeof rt->kernels_dir, "%s", kernels_dir);

  cl_int st;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->info.platform, 0};
  rt->context = clCreateContext(props, 1, &rt->info.device, NULL, NULL, &st);
  CL_CHECK_STATUS(st, "clCreateContext");
  rt->queue = clCreateCommandQueue(rt->context, rt->info.device, 0, &st);
  CL_CHECK_STATUS(st, "clCreateCommandQueue");
  /* Stored CLBlast parameters from 'cltrain tune' take effect before the first GEMM. */
  rt->tuned = tuning_apply_stored(rt) == 1;
}

void rt_close(cl_runtime *rt) {
  for (int i = 0; i < rt->n_programs; i++) clReleaseProgram(rt->programs[i].program);
  rt->n_programs = 0;
  if (rt->queue) {
    clFinish(rt->queue);
    clReleaseCommandQueue(rt->queue);
  }
  if (rt->context) clReleaseContext(rt->context);
  rt->queue = NULL;
  rt->context = NULL;
}

static char *kernel_source_raw(const cl_runtime *rt, const char *file) {
  if (rt->kernels_dir[0]) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", rt->kernels_dir, file);
    char *src = read_file(path, NULL);
    if (!src) die_usage("kernel file '%s' cannot be read (--kernels-dir / CLTRAIN_KERNELS_DIR)", path);
    return src;
  }
  char name[512];
  snprintf(name, sizeof name, "kernels/%s", file);
  const embedded_file *f = embedded_find(name);
  if (!f) DIE("kernel file '%s' is not embedded in this build", file);
  return xstrdup(f->data);
}

/* Kernel files share helpers through lines that start with `#include "NAME.cl"`; such a
   line is replaced by kernels/NAME.cl (embedded sources have no directory the OpenCL
   compiler could search). Nesting is allowed up to a small depth. */
static char *kernel_source_depth(const cl_runtime *rt, const char *file, int depth) {
  if (depth > 4) DIE("kernels/%s: #include nested too deeply", file);
  char *src = kernel_source_raw(rt, file);
  static const char directive[] = "#include \"";
  const size_t dlen = sizeof directive - 1;
  size_t cap = strlen(src) + 1, len = 0;
  char *out = xmalloc(cap);
  for (const char *line = src; *line;) {
    const char *eol = strchr(line, '\n');
    const char *next = eol ? eol + 1 : line + strlen(line);
    const char *piece = line;
    size_t plen = (size_t)(next - line);
    char *body = NULL;
    if (strncmp(line, directive, dlen) == 0) {
      const char *end = memchr(line + dlen, '"', (size_t)(next - line) - dlen);
      if (!end || end - (line + dlen) >= 256) DIE("kernels/%s: malformed #include line", file);
      char inc[256];
      memcpy(inc, line + dlen, (size_t)(end - (line + dlen)));
      inc[end - (line + dlen)] = '\0';
      body = kernel_source_depth(rt, inc, depth + 1);
      piece = body;
      plen = strlen(body);
    }
    if (len + plen + 2 > cap) {
      cap = 2 * (len + plen + 2);
      out = xrealloc(out, cap);
    }
    memcpy(out + len, piece, plen);
    len += plen;
    if (body) out[len++] = '\n';
    free(body);
    line = next;
  }
  out[len] = '\0';
  free(src);
  return out;
}

static char *kernel_source(const cl_runtime *rt, const char *file) {
  return kernel_source_depth(rt, file, 0);
}

cl_program rt_program(cl_runtime *rt, const char *file, const char *options) {
  char key[512];
  snprintf(key, sizeof key, "%s|%s", file, options ? options : "");
  for (int i = 0; i < rt->n_programs; i++)
    if (strcmp(rt->programs[i].key, key) == 0) return rt->programs[i].program;
  if (rt->n_programs == RT_MAX_PROGRAMS) DIE("too many distinct OpenCL programs (%d)", RT_MAX_PROGRAMS);

  char *src = kernel_source(rt, file);
  const char *srcs[] = {src};
  cl_int st;
  cl_program prog = clCreateProgramWithSource(rt->context, 1, srcs, NULL, &st);
  CL_CHECK_STATUS(st, "clCreateProgramWithSource");
  free(src);
  char opts[1024];
  snprintf(opts, sizeof opts, "-cl-std=CL1.2 %s", options ? options : "");
  st = clBuildProgram(prog, 1, &rt->info.device, opts, NULL, NULL);
  if (st != CL_SUCCESS) {
    size_t n = 0;
    clGetProgramBuildInfo(prog, rt->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = xcalloc(n + 1, 1);
    clGetProgramBuildInfo(prog, rt->info.device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
    fprintf(stderr, "cltrain: build log of kernels/%s (%s):\n%s\n", file, opts, log);
    free(log);
    cl_fail(st, "clBuildProgram", __FILE__, __LINE__);
  }
  rt_program_entry *e = &rt->programs[rt->n_programs++];
  snprintf(e->key, sizeof e->key, "%s", key);
  e->program = prog;
  return prog;
}

cl_kernel rt_kernel(cl_runtime *rt, cl_program program, const char *name) {
  cl_int st;
  cl_kernel k = clCreateKernel(program, name, &st);
  if (st != CL_SUCCESS) {
    char what[256];
    snprintf(what, sizeof what, "clCreateKernel(%s)", name);
    cl_fail(st, what, __FILE__, __LINE__);
  }
  return k;
}

cl_mem rt_alloc(cl_runtime *rt, size_t bytes) {
  cl_int st;
  cl_mem m = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &st);
  if (st != CL_SUCCESS) {
    char what[128];
    snprintf(what, sizeof what, "clCreateBuffer(%zu bytes)", bytes);
    cl_fail(st, what, __FILE__, __LINE__);
  }
  return m;
}

void rt_write(cl_runtime *rt, cl_mem buf, size_t off, size_t bytes, const void *src) {
  if (bytes) CL_CHECK(clEnqueueWriteBuffer(rt->queue, buf, CL_TRUE, off, bytes, src, 0, NULL, NULL));
}

void rt_read(cl_runtime *rt, cl_mem buf, size_t off, size_t bytes, void *dst) {
  if (bytes) CL_CHECK(clEnqueueReadBuffer(rt->queue, buf, CL_TRUE, off, bytes, dst, 0, NULL, NULL));
}

void rt_zero(cl_runtime *rt, cl_mem buf, size_t off, size_t bytes) {
  if (!bytes) return;
  const cl_uint zero = 0;
  if (off % 4 == 0 && bytes % 4 == 0) {
    CL_CHECK(clEnqueueFillBuffer(rt->queue, buf, &zero, sizeof zero, off, bytes, 0, NULL, NULL));
  } else {
    const cl_uchar zb = 0;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, buf, &zb, 1, off, bytes, 0, NULL, NULL));
  }
}

void rt_finish(cl_runtime *rt) { CL_CHECK(clFinish(rt->queue)); }

void rt_release(cl_mem *buf) {
  if (*buf) CL_CHECK(clReleaseMemObject(*buf));
  *buf = NULL;
}

void rt_launch1d(cl_runtime *rt, cl_kernel k, size_t n, size_t local) {
  if (n == 0) return;
  size_t global = local ? (n + local - 1) / local * local : n;
  CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, local ? &local : NULL, 0, NULL, NULL));
  rt->launches++;
}

void rt_launch2d(cl_runtime *rt, cl_kernel k, size_t n0, size_t n1, size_t l0, size_t l1) {
  if (n0 == 0 || n1 == 0) return;
  size_t global[2] = {n0, n1};
  size_t local[2] = {l0, l1};
  if (l0 && l1) {
    global[0] = (n0 + l0 - 1) / l0 * l0;
    global[1] = (n1 + l1 - 1) / l1 * l1;
  }
  CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 2, NULL, global, (l0 && l1) ? local : NULL, 0, NULL, NULL));
  rt->launches++;
}
