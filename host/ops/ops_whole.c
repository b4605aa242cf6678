/* Builder and launcher of kernels/whole_net.cl (ops_whole.h). */
#include <stdio.h>

#include "ops/ops_whole.h"

cl_kernel op_whole_kernel(cl_runtime *rt, optim_kind kind) {
  const char *name = optim_kind_name(kind);
  if (!name) {
    ERR_RUNTIME(&rt->err, "optimizer kind %d out of range", (int)kind);
    return NULL;
  }
  /* the record layout and the constants, from this side */
  char opts[768];
  size_t len = (size_t)snprintf(opts, sizeof opts, "-DOPT_%s -DWS_WORDS=%d -DWS_NONE=%uu -DWS_LINEAR=%d "
                                "-DWS_BATCHNORM=%d -DACT_ID_NONE=%d",
                                name, WS_WORDS, WS_NONE, WS_LINEAR, WS_BATCHNORM, (int)ACT_NONE);
#define WHOLE_FIELD_OPTION(NAME) \
  if (len < sizeof opts) len += (size_t)snprintf(opts + len, sizeof opts - len, " -DWS_" #NAME "=%d", WS_##NAME);
  WHOLE_FIELDS(WHOLE_FIELD_OPTION)
#undef WHOLE_FIELD_OPTION
  if (len >= sizeof opts) {
    ERR_RUNTIME(&rt->err, "build options of kernels/whole_net.cl exceed %zu bytes", sizeof opts);
    return NULL;
  }
  cl_program p = ops_program(rt, "whole_net.cl", opts);
  return p ? rt_kernel(rt, p, "whole_net_steps") : NULL;
}

void op_whole_steps(cl_runtime *rt, cl_kernel k, const op_whole_net *w, uint32_t n_steps, uint64_t first_step,
                    size_t first_start, int batch, size_t total_rows, cl_mem x_all, cl_mem y_all, cl_mem perm,
                    cl_mem hs, uint32_t hs_at) {
  if (rt_failed(rt) || n_steps == 0) return;
  if (batch < 1 || first_start >= total_rows || total_rows > UINT32_MAX ||
      first_start + (size_t)(n_steps - 1) * (size_t)batch >= total_rows) {
    ERR_RUNTIME(&rt->err, "whole-net steps: %u steps of %d rows from row %zu do not fit %zu rows", n_steps, batch,
                first_start, total_rows);
    return;
  }
  karg_cursor a = karg_begin(rt, k);
  karg_uint(&a, n_steps);
  karg_ulong(&a, first_step);
  karg_uint(&a, (cl_uint)first_start);
  karg_uint(&a, (cl_uint)batch);
  karg_uint(&a, (cl_uint)total_rows);
  karg_mem(&a, x_all);
  karg_mem(&a, y_all);
  karg_mem(&a, perm);
  karg_int(&a, perm != NULL);
  karg_mem(&a, w->plan);
  karg_uint(&a, w->n_stages);
  karg_mem(&a, w->params);
  karg_mem(&a, w->grads);
  karg_mem(&a, w->state);
  karg_uint(&a, w->n_params);
  karg_mem(&a, w->stats);
  karg_mem(&a, w->params_t);
  karg_mem(&a, w->tmap);
  karg_int(&a, w->mirror);
  karg_mem(&a, hs);
  karg_uint(&a, hs_at);
  karg_uint(&a, (cl_uint)w->seed);
  karg_uint(&a, (cl_uint)(w->seed >> 32));
  karg_mem(&a, w->work);
  karg_mem(&a, w->mask);
  karg_mem(&a, w->metrics);
  rt_launch1d(rt, k, 1, 1);
}
