/* Every OpenCL and CLBlast status is checked and reported by name with file:line. */
#ifndef CLTRAIN_CLCHECK_H
#define CLTRAIN_CLCHECK_H

#include <CL/cl.h>

const char *cl_status_name(cl_int status);      /* "CL_OUT_OF_RESOURCES", ... */
const char *clblast_status_name(int status);    /* "CLBlastInvalidMatrixA", ... */

/* Report "FILE:LINE: WHAT failed: NAME (code)" and exit(EXIT_RUNTIME). */
_Noreturn void cl_fail(cl_int status, const char *what, const char *file, int line);
_Noreturn void clblast_fail(int status, const char *what, const char *file, int line);

/* CL_CHECK(clFinish(q));  -- for calls returning a cl_int status. */
#define CL_CHECK(call)                                                  \
  do {                                                                  \
    cl_int cl_check_status_ = (call);                                   \
    if (cl_check_status_ != CL_SUCCESS)                                 \
      cl_fail(cl_check_status_, #call, __FILE__, __LINE__);             \
  } while (0)

/* For calls that return an object and report through an out-parameter:
   cl_int st; cl_mem m = clCreateBuffer(..., &st); CL_CHECK_STATUS(st, "clCreateBuffer"); */
#define CL_CHECK_STATUS(status, what)                                   \
  do {                                                                  \
    if ((status) != CL_SUCCESS) cl_fail((status), (what), __FILE__, __LINE__); \
  } while (0)

#define CLBLAST_CHECK(call)                                             \
  do {                                                                  \
    int clblast_check_status_ = (int)(call);                            \
    if (clblast_check_status_ != 0)                                     \
      clblast_fail(clblast_check_status_, #call, __FILE__, __LINE__);   \
  } while (0)

#endif
