/* LD_PRELOAD library for the oclgrind stage of scripts/test (tests/oclgrind/run_checked.sh):
   works around two faults of Oclgrind 21.10's uninitialised-value checker, each of which
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
      the metrics, gradient and statistics buffers. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdlib.h>
#include <string.h>

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
