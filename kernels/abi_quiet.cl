/* clang notes every float16/int16 passed to or returned from a function (vload16, fmax,
   our helpers) when the target lacks AVX-512 ("AVX vector argument of type float16
   without 'avx512f' enabled changes the ABI", -Wpsabi): a warning about linking objects
   compiled for different targets. A program here is compiled and linked as one unit by
   one compiler for one device, so no call crosses such a boundary; PoCL printed these as
   "N warnings generated." on every cold compile (issue 18). Included first by every
   kernel file that uses 16-wide vectors. */
#ifndef ABI_QUIET_CL
#define ABI_QUIET_CL
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#pragma clang diagnostic ignored "-Wpsabi"
#endif
#endif
