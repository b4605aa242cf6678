#include "cl/launch_probe.h"

#include <math.h>

#include "base/util.h"

/* One repetition: N launches, then the wait for all of them (a launch is only done when
   the device has run it, so the wait belongs to the cost). */
static double timed_launches(cl_runtime *rt, cl_kernel k, int n) {
  const double t0 = now_seconds();
  for (int i = 0; i < n; i++) rt_launch1d(rt, k, 1, 1);
  rt_finish(rt);
  return now_seconds() - t0;
}

int launch_probe_us(cl_runtime *rt, double *us, error *err) {
  *us = NAN;
  cl_program p = rt_program(rt, "launch_probe.cl", "");
  cl_kernel k = rt_kernel(rt, p, "launch_probe");
  cl_mem counter = rt_alloc(rt, sizeof(cl_uint));
  rt_zero(rt, counter, 0, sizeof(cl_uint));
  karg_cursor a = karg_begin(rt, k);
  karg_mem(&a, counter);
  const unsigned long launches_before = rt->launches;
  timed_launches(rt, k, 1); /* compiles the kernel for its local size: not timed */
  double per_launch[LAUNCH_PROBE_REPS];
  for (int r = 0; r < LAUNCH_PROBE_REPS; r++)
    per_launch[r] = timed_launches(rt, k, LAUNCH_PROBE_LAUNCHES) / LAUNCH_PROBE_LAUNCHES * 1e6;
  /* Every launch ran: the counter says how many (a probe that silently did nothing would
     time nothing). */
  cl_uint ran = 0;
  rt_read(rt, counter, 0, sizeof ran, &ran);
  rt_release(&counter);
  if (k) clReleaseKernel(k); /* fails only for an invalid kernel */
  rt->launches = launches_before; /* bench counts a step's launches: the probe is not one */
  if (rt_status(rt, err)) return -1;
  const cl_uint expected = 1 + LAUNCH_PROBE_REPS * LAUNCH_PROBE_LAUNCHES;
  if (ran != expected)
    return ERR_RUNTIME(err, "launch probe on %s: %u of %u launches ran", rt->info.name, ran, expected);
  *us = median_of(per_launch, LAUNCH_PROBE_REPS);
  return 0;
}
