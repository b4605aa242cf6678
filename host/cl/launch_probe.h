/* A device's fixed cost of one kernel launch, measured.

   For the small JSC networks a training step is a handful of launches of a few
   microseconds of work each, so what the OpenCL implementation spends per launch (queueing,
   handing the command to a worker thread, waking it) sets the step time as much as the
   kernels do: on one CPU, PoCL's basic device runs a launch in the enqueuing thread while
   its pthread device hands it to worker threads. cltrain train and compare report this
   figure next to samples/s so that a difference between devices can be read for what it
   is (README "cltrain compare"). */
#ifndef CLTRAIN_LAUNCH_PROBE_H
#define CLTRAIN_LAUNCH_PROBE_H

#include "base/error.h"
#include "cl/runtime.h"

#define LAUNCH_PROBE_LAUNCHES 200 /* per repetition: long enough to time, about 1-5 ms */
#define LAUNCH_PROBE_REPS 7       /* the median of these */

/* Median over LAUNCH_PROBE_REPS repetitions of the wall time of LAUNCH_PROBE_LAUNCHES
   back-to-back launches of a one-work-item kernel on rt's queue and the wait for them,
   divided by the launches: microseconds per launch in *us. The first repetition after an
   untimed one (the kernel's compilation). 0, or -1 with err (the runtime's error). */
int launch_probe_us(cl_runtime *rt, double *us, error *err);

#endif
