/* LD_PRELOAD library for the oclgrind stage of scripts/test (tests/oclgrind/run_checked.sh):
   works around three faults of Oclgrind 21.10's uninitialised-value checker, each of which
   would report values cltrain did initialise. Neither changes what a kernel computes.

   1. clReleaseMemObject keeps the buffer (returns CL_SUCCESS without releasing it). Oclgrind
      gives a new buffer the id of a released one and then reports every byte a kernel
      stores past the old buffer's size as uninitialised when it is read (reproduced: a
      1-byte buffer released, a 5-byte one created, one kernel writing all 5 bytes and a
      second reading them: bytes 1-4 reported). The op tests create and release buffers of
      growing sizes per case. Kept buffers live until the process exits: a few MiB at the
      stage's small shapes.
   2. clEnqueueFillBuffer becomes a blocking clEnqueueWriteBuffer of the same pattern:
      Oclgrind does not record a fill as initialising the buffer (reproduced: a buffer
      filled with zeros, then read by a kernel: every read reported), and rt_zero fills
      the metrics, gradient and statistics buffers.
   3. clEnqueueWriteBuffer at a non-zero offset leaves the bytes it wrote uninitialised and
      makes the rest of the buffer so as well (reproduced: a 16-byte buffer written whole,
      then bytes 8-15 written at offset 8, a kernel reading all four floats: all four
      reported; one write at offset 0 is recorded right). Such a write becomes a read of
      the whole buffer, the new bytes put in place on the host, and one write of the whole
      buffer at offset 0. The bytes around the range are then counted as initialised even
      if they were not: the checker loses that much for buffers written in parts (the
      synchronised batch norm's statistics in test_ops_batchnorm). */
#define _GNU_SOURCE /* RTLD_NEXT */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef cl_int(CL_API_CALL *write_fn)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint,
                                      const cl_event *, cl_event *);

CL_API_ENTRY cl_int CL_API_CALL clEnqueueWriteBuffer(cl_command_queue queue, cl_mem buffer, cl_bool blocking,
                                                     size_t offset, size_t size, const void *ptr, cl_uint num_events,
                                                     const cl_event *wait_list, cl_event *event) {
  write_fn real = (write_fn)dlsym(RTLD_NEXT, "clEnqueueWriteBuffer");
  if (!real) return CL_OUT_OF_HOST_MEMORY;
  size_t whole = 0;
  if (offset == 0 || !ptr ||
      clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof whole, &whole, NULL) != CL_SUCCESS || offset + size > whole)
    return real(queue, buffer, blocking, offset, size, ptr, num_events, wait_list, event); /* its own errors */
  unsigned char *host = malloc(whole);
  if (!host) return CL_OUT_OF_HOST_MEMORY;
  cl_int st = clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, whole, host, num_events, wait_list, NULL);
  if (st == CL_SUCCESS) {
    memcpy(host + offset, ptr, size);
    st = real(queue, buffer, CL_TRUE, 0, whole, host, 0, NULL, event);
  }
  free(host);
  return st;
}

CL_API_ENTRY cl_int CL_API_CALL clReleaseMemObject(cl_mem memobj) {
  return memobj ? CL_SUCCESS : CL_INVALID_MEM_OBJECT;
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueFillBuffer(cl_command_queue queue, cl_mem buffer, const void *pattern,
                                                    size_t pattern_size, size_t offset, size_t size,
                                                    cl_uint num_events, const cl_event *wait_list,
                                                    cl_event *event) {
  if (!pattern || pattern_size == 0 || size % pattern_size != 0) return CL_INVALID_VALUE;
  unsigned char *host = malloc(size ? size : 1);
  if (!host) return CL_OUT_OF_HOST_MEMORY;
  for (size_t i = 0; i < size; i += pattern_size) memcpy(host + i, pattern, pattern_size);
  cl_int st = clEnqueueWriteBuffer(queue, buffer, CL_TRUE, offset, size, host, num_events, wait_list, event);
  free(host);
  return st;
}
