/* Every OpenCL and CLBlast status is checked and reported by name with file:line. A failure
   becomes a runtime error (base/error.h) recorded in the caller's error, never an exit. */
#ifndef CLTRAIN_CLCHECK_H
#define CLTRAIN_CLCHECK_H

#include <CL/cl.h>

#include "base/error.h"

const char *cl_status_name(cl_int status);      /* "CL_OUT_OF_RESOURCES", ... */
const char *clblast_status_name(int status);    /* "CLBlastInvalidMatrixA", ... */

/* 0 when STATUS is success; else record "FILE:LINE: WHAT failed: NAME (code)" in E (the
   first failure wins) and return -1. */
int cl_check_at(error *e, cl_int status, const char *what, const char *file, int line);
int clblast_check_at(error *e, int status, const char *what, const char *file, int line);

/* if (CL_CHECK(err, clFinish(q))) return -1;  -- for calls returning a cl_int status. */
#define CL_CHECK(e, call) cl_check_at((e), (call), #call, __FILE__, __LINE__)
/* For calls that report through an out-parameter:
   cl_mem m = clCreateBuffer(..., &st); if (CL_CHECK_STATUS(err, st, "clCreateBuffer")) ... */
#define CL_CHECK_STATUS(e, status, what) cl_check_at((e), (status), (what), __FILE__, __LINE__)
#define CLBLAST_CHECK(e, call) clblast_check_at((e), (int)(call), #call, __FILE__, __LINE__)

#endif
