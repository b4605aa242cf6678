#include "cl/runtime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/embedded.h"
#include "base/util.h"

static int device_string(cl_device_id d, cl_device_info what, char *buf, size_t n, error *err) {
  buf[0] = '\0';
  if (CL_CHECK(err, clGetDeviceInfo(d, what, n, buf, NULL))) return -1;
  buf[n - 1] = '\0';
  /* Some drivers pad names with spaces. */
  size_t len = strlen(buf);
  while (len && isspace((unsigned char)buf[len - 1])) buf[--len] = '\0';
  return 0;
}

static int device_describe(device_info *di, cl_platform_id platform, cl_device_id dev, error *err) {
  di->platform = platform;
  di->device = dev;
  if (CL_CHECK(err, clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof di->platform_name,
                                      di->platform_name, NULL)))
    return -1;
  di->platform_name[sizeof di->platform_name - 1] = '\0';
  if (device_string(dev, CL_DEVICE_NAME, di->name, sizeof di->name, err) ||
      device_string(dev, CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor, err) ||
      device_string(dev, CL_DEVICE_VERSION, di->version, sizeof di->version, err) ||
      device_string(dev, CL_DRIVER_VERSION, di->driver, sizeof di->driver, err))
    return -1;
  if (CL_CHECK(err, clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL)) ||
      CL_CHECK(err, clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof di->compute_units,
                                    &di->compute_units, NULL)) ||
      CL_CHECK(err, clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof di->global_mem,
                                    &di->global_mem, NULL)) ||
      CL_CHECK(err, clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof di->max_alloc,
                                    &di->max_alloc, NULL)) ||
      CL_CHECK(err, clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof di->max_work_group,
                                    &di->max_work_group, NULL)))
    return -1;
  return 0;
}

/* The devices of platform P appended to out. */
static int platform_devices(device_list *out, cl_platform_id platform, int p, error *err) {
  cl_uint nd = 0;
  cl_int st = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
  if (st == CL_DEVICE_NOT_FOUND || (st == CL_SUCCESS && nd == 0)) return 0;
  if (CL_CHECK_STATUS(err, st, "clGetDeviceIDs")) return -1;
  cl_device_id *devs = xcalloc(nd, sizeof *devs);
  int rc = CL_CHECK(err, clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, nd, devs, NULL));
  out->items = xrealloc(out->items, (size_t)(out->count + (int)nd) * sizeof *out->items);
  for (cl_uint d = 0; d < nd && rc == 0; d++) {
    device_info *di = &out->items[out->count];
    memset(di, 0, sizeof *di);
    di->flat = out->count;
    di->platform_index = p;
    di->device_index = (int)d;
    rc = device_describe(di, platform, devs[d], err);
    if (rc == 0) out->count++;
  }
  free(devs);
  return rc;
}

int device_list_get(device_list *out, error *err) {
  out->items = NULL;
  out->count = 0;
  cl_uint np = 0;
  cl_int st = clGetPlatformIDs(0, NULL, &np);
  if (st == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (st == CL_SUCCESS && np == 0)) return 0;
  if (CL_CHECK_STATUS(err, st, "clGetPlatformIDs")) return -1;
  cl_platform_id *platforms = xcalloc(np, sizeof *platforms);
  int rc = CL_CHECK(err, clGetPlatformIDs(np, platforms, NULL));
  for (cl_uint p = 0; p < np && rc == 0; p++) rc = platform_devices(out, platforms[p], (int)p, err);
  free(platforms);
  if (rc != 0) device_list_free(out);
  return rc;
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

int device_select(const device_list *list, const char *spec, error *err) {
  if (!spec || !*spec) spec = getenv("CLTRAIN_DEVICE");
  if (!spec || !*spec) spec = "0";
  if (list->count == 0)
    return ERR_USAGE(err, "no OpenCL device found (is an ICD such as pocl-opencl-icd installed?)");
  long flat;
  if (parse_long(spec, 0, 1L << 30, &flat)) {
    if (flat >= list->count)
      return ERR_USAGE(err, "device '%s': index out of range, %d device(s) present (see 'cltrain devices')",
                    spec, list->count);
    return (int)flat;
  }
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
        return ERR_USAGE(err, "device '%s': no platform %ld device %ld (see 'cltrain devices')", spec, p, d);
      }
    }
    return ERR_USAGE(err,
                     "device '%s': not a device index (0-%d) or PLATFORM:DEVICE of two indices (see 'cltrain devices')",
                     spec, list->count - 1);
  }
  for (int i = 0; i < list->count; i++)
    if (contains_nocase(list->items[i].name, spec) || contains_nocase(list->items[i].platform_name, spec))
      return i;
  return ERR_USAGE(err, "device '%s' matches no OpenCL device (see 'cltrain devices')", spec);
}

int rt_open(cl_runtime *rt, const char *device_spec, const char *kernels_dir, error *err) {
  memset(rt, 0, sizeof *rt);
  device_list list;
  if (device_list_get(&list, err) != 0) return -1;
  int idx = device_select(&list, device_spec, err);
  if (idx < 0) {
    device_list_free(&list);
    return -1;
  }
  rt->info = list.items[idx];
  device_list_free(&list);

  if (!kernels_dir || !*kernels_dir) kernels_dir = getenv("CLTRAIN_KERNELS_DIR");
  if (kernels_dir && *kernels_dir)
    snprintf(rt->kernels_dir, sizeof rt->kernels_dir, "%s", kernels_dir);

  cl_int st;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->info.platform, 0};
  rt->context = clCreateContext(props, 1, &rt->info.device, NULL, NULL, &st);
  if (!CL_CHECK_STATUS(&rt->err, st, "clCreateContext")) {
    rt->queue = clCreateCommandQueue(rt->context, rt->info.device, 0, &st);
    CL_CHECK_STATUS(&rt->err, st, "clCreateCommandQueue");
  }
  if (rt_status(rt, err) != 0) {
    rt_close(rt);
    return -1;
  }
  return 0;
}

void rt_close(cl_runtime *rt) {
  for (int i = 0; i < rt->n_programs; i++) clReleaseProgram(rt->programs[i].program);
  rt->n_programs = 0;
  if (rt->queue) {
    clFinish(rt->queue); /* closing: a failure here has no one left to tell */
    clReleaseCommandQueue(rt->queue);
  }
  if (rt->context) clReleaseContext(rt->context);
  rt->queue = NULL;
  rt->context = NULL;
}

const error *rt_error(const cl_runtime *rt) { return &rt->err; }

int rt_status(const cl_runtime *rt, error *err) {
  if (!rt_failed(rt)) return 0;
  if (err && !error_is_set(err)) *err = rt->err;
  return -1;
}

static char *kernel_source_raw(cl_runtime *rt, const char *file) {
  if (rt->kernels_dir[0]) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", rt->kernels_dir, file);
    char *src = read_file(path, NULL);
    if (!src) ERR_USAGE(&rt->err, "kernel file '%s' cannot be read (--kernels-dir / CLTRAIN_KERNELS_DIR)", path);
    return src;
  }
  char name[512];
  snprintf(name, sizeof name, "kernels/%s", file);
  const embedded_file *f = embedded_find(name);
  if (!f) {
    ERR_RUNTIME(&rt->err, "kernel file '%s' is not embedded in this build", file);
    return NULL;
  }
  return xstrdup(f->data);
}

/* Kernel files share helpers through lines that start with `#include "NAME.cl"`; such a
   line is replaced by kernels/NAME.cl (embedded sources have no directory the OpenCL
   compiler could search). Nesting is allowed up to a small depth. */
static char *kernel_source_depth(cl_runtime *rt, const char *file, int depth) {
  if (depth > 4) {
    ERR_USAGE(&rt->err, "kernels/%s: #include nested too deeply", file);
    return NULL;
  }
  char *src = kernel_source_raw(rt, file);
  if (!src) return NULL;
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
      if (!end || end - (line + dlen) >= 256) {
        ERR_USAGE(&rt->err, "kernels/%s: malformed #include line", file);
        break;
      }
      char inc[256];
      memcpy(inc, line + dlen, (size_t)(end - (line + dlen)));
      inc[end - (line + dlen)] = '\0';
      body = kernel_source_depth(rt, inc, depth + 1);
      if (!body) break;
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
  if (rt_failed(rt)) {
    free(out);
    return NULL;
  }
  return out;
}

static char *kernel_source(cl_runtime *rt, const char *file) {
  return kernel_source_depth(rt, file, 0);
}

/* The first line of the build log that reports an error (else its first line), for a
   one-line message. */
static void build_log_line(cl_runtime *rt, cl_program prog, char *out, size_t n) {
  out[0] = '\0';
  size_t len = 0;
  if (clGetProgramBuildInfo(prog, rt->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) != CL_SUCCESS) return;
  char *log = xcalloc(len + 1, 1);
  if (clGetProgramBuildInfo(prog, rt->info.device, CL_PROGRAM_BUILD_LOG, len, log, NULL) == CL_SUCCESS) {
    const char *line = strstr(log, "error");
    if (line)
      while (line > log && line[-1] != '\n') line--;
    else
      line = log;
    while (*line == '\n' || *line == ' ') line++;
    size_t k = strcspn(line, "\n");
    snprintf(out, n, "%.*s", (int)(k < n ? k : n - 1), line);
  }
  free(log);
}

cl_program rt_program(cl_runtime *rt, const char *file, const char *options) {
  if (rt_failed(rt)) return NULL;
  char key[sizeof rt->programs[0].key];
  if ((size_t)snprintf(key, sizeof key, "%s|%s", file, options ? options : "") >= sizeof key) {
    ERR_RUNTIME(&rt->err, "build options of kernels/%s too long", file);
    return NULL;
  }
  for (int i = 0; i < rt->n_programs; i++)
    if (strcmp(rt->programs[i].key, key) == 0) return rt->programs[i].program;
  if (rt->n_programs == RT_MAX_PROGRAMS) {
    ERR_RUNTIME(&rt->err, "too many distinct OpenCL programs (%d)", RT_MAX_PROGRAMS);
    return NULL;
  }

  char *src = kernel_source(rt, file);
  if (!src) return NULL;
  const char *srcs[] = {src};
  cl_int st;
  cl_program prog = clCreateProgramWithSource(rt->context, 1, srcs, NULL, &st);
  free(src);
  if (CL_CHECK_STATUS(&rt->err, st, "clCreateProgramWithSource")) return NULL;
  char opts[sizeof key + 32];
  snprintf(opts, sizeof opts, "-cl-std=CL1.2 %s", options ? options : "");
  st = clBuildProgram(prog, 1, &rt->info.device, opts, NULL, NULL);
  if (st != CL_SUCCESS) {
    char line[256];
    build_log_line(rt, prog, line, sizeof line);
    ERR_RUNTIME(&rt->err, "clBuildProgram of kernels/%s (%s) failed: %s (%d): %s", file, opts,
                cl_status_name(st), (int)st, line);
    clReleaseProgram(prog);
    return NULL;
  }
  rt_program_entry *e = &rt->programs[rt->n_programs++];
  snprintf(e->key, sizeof e->key, "%s", key);
  e->program = prog;
  return prog;
}

cl_kernel rt_kernel(cl_runtime *rt, cl_program program, const char *name) {
  if (!program || rt_failed(rt)) return NULL;
  cl_int st;
  cl_kernel k = clCreateKernel(program, name, &st);
  char what[256];
  snprintf(what, sizeof what, "clCreateKernel(%s)", name);
  if (CL_CHECK_STATUS(&rt->err, st, what)) return NULL;
  return k;
}

cl_mem rt_alloc(cl_runtime *rt, size_t bytes) {
  if (rt_failed(rt)) return NULL;
  cl_int st;
  cl_mem m = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &st);
  char what[128];
  snprintf(what, sizeof what, "clCreateBuffer(%zu bytes)", bytes);
  if (CL_CHECK_STATUS(&rt->err, st, what)) return NULL;
  return m;
}

void rt_write(cl_runtime *rt, cl_mem buf, size_t off, size_t bytes, const void *src) {
  if (bytes && !rt_failed(rt))
    CL_CHECK(&rt->err, clEnqueueWriteBuffer(rt->queue, buf, CL_TRUE, off, bytes, src, 0, NULL, NULL));
}

int rt_read(cl_runtime *rt, cl_mem buf, size_t off, size_t bytes, void *dst) {
  if (bytes && !rt_failed(rt))
    CL_CHECK(&rt->err, clEnqueueReadBuffer(rt->queue, buf, CL_TRUE, off, bytes, dst, 0, NULL, NULL));
  return rt_failed(rt) ? -1 : 0;
}

void rt_zero(cl_runtime *rt, cl_mem buf, size_t off, size_t bytes) {
  if (!bytes || rt_failed(rt)) return;
  const cl_uint zero = 0;
  if (off % 4 == 0 && bytes % 4 == 0) {
    CL_CHECK(&rt->err, clEnqueueFillBuffer(rt->queue, buf, &zero, sizeof zero, off, bytes, 0, NULL, NULL));
  } else {
    const cl_uchar zb = 0;
    CL_CHECK(&rt->err, clEnqueueFillBuffer(rt->queue, buf, &zb, 1, off, bytes, 0, NULL, NULL));
  }
}

int rt_finish(cl_runtime *rt) {
  if (!rt_failed(rt)) CL_CHECK(&rt->err, clFinish(rt->queue));
  return rt_failed(rt) ? -1 : 0;
}

void rt_release(cl_mem *buf) {
  /* Release fails only for an invalid object, which would be a bug here; nothing to do. */
  if (*buf) clReleaseMemObject(*buf);
  *buf = NULL;
}

/* "NAME(index)" of a kernel for messages. */
static void kernel_what(cl_kernel k, const char *call, long arg, char *out, size_t n) {
  char name[128] = "?";
  if (clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) != CL_SUCCESS) snprintf(name, sizeof name, "?");
  name[sizeof name - 1] = '\0';
  if (arg >= 0) snprintf(out, n, "%s(%s, argument %ld)", call, name, arg);
  else snprintf(out, n, "%s(%s)", call, name);
}

karg_cursor karg_begin_at(cl_runtime *rt, cl_kernel k, const char *file, int line) {
  karg_cursor c = {.rt = rt, .kernel = k, .next = 0, .file = file, .line = line};
  return c;
}

void karg_raw(karg_cursor *c, size_t size, const void *value) {
  const cl_uint i = c->next++;
  if (rt_failed(c->rt)) return;
  cl_int st = c->kernel ? clSetKernelArg(c->kernel, i, size, value) : CL_INVALID_KERNEL;
  if (st == CL_SUCCESS) return;
  char what[200];
  kernel_what(c->kernel, "clSetKernelArg", (long)i, what, sizeof what);
  cl_check_at(&c->rt->err, st, what, c->file, c->line);
}

void rt_launch1d_at(cl_runtime *rt, cl_kernel k, size_t n, size_t local, const char *file, int line) {
  if (n == 0 || rt_failed(rt)) return;
  size_t global = local ? (n + local - 1) / local * local : n;
  cl_int st = clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, local ? &local : NULL, 0, NULL, NULL);
  if (st != CL_SUCCESS) {
    char what[200];
    kernel_what(k, "clEnqueueNDRangeKernel", -1, what, sizeof what);
    cl_check_at(&rt->err, st, what, file, line);
    return;
  }
  rt->launches++;
}
