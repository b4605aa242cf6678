/* The grid of a sweep: each `--vary NAME=V1,V2,...` is one axis; several axes make the
   cartesian product. Points are numbered in a stable order: the first --vary is the
   outermost loop, the last one changes fastest (like nested for loops in the order the
   options were given), and values keep the order they were listed in.

   NAME is a training option's long name (batch-size, learning-rate, max-epochs, model,
   optimizer, device, weight-decay, scheduler, seed, ...; '_' may stand for '-', and lr,
   epochs and batch are accepted as short names). Every value is checked with the same
   strict rules as the command line when the axis is added, so a sweep never fails on a
   bad value half-way through. */
#ifndef CLTRAIN_SWEEP_GRID_H
#define CLTRAIN_SWEEP_GRID_H

#include <stddef.h>

#include "train/train_config.h"
#include "base/util.h"

#define SWEEP_MAX_AXES 8
#define SWEEP_MAX_VALUES 64
#define SWEEP_MAX_POINTS 4096

typedef struct {
  train_option opt;                            /* the option this axis varies */
  char column[64];                             /* its sweep.csv column: batch_size */
  int n_values;
  char values[SWEEP_MAX_VALUES][LIST_ITEM_MAX]; /* as the user wrote them ("1e-3") */
} sweep_axis;

typedef struct {
  int n_axes;
  sweep_axis axes[SWEEP_MAX_AXES];
} sweep_grid;

void sweep_grid_init(sweep_grid *g);

/* Add the axis of SPEC "NAME=V1,V2,...". Refuses (returns -1 with one line in err): no '=',
   an unknown option, one that cannot vary (project-dir, load, resume, quiet, no-progress,
   kernels-dir), a name already varied, an empty list or item, a value listed twice, a
   value the option rejects, or a grid larger than SWEEP_MAX_POINTS. */
int sweep_grid_add(sweep_grid *g, const char *spec, char *err, size_t errlen);

/* Number of points (1 when no axis: a sweep of one run). */
size_t sweep_grid_size(const sweep_grid *g);

/* Value index on each axis of point P (idx has n_axes entries). */
void sweep_grid_indices(const sweep_grid *g, size_t p, int idx[SWEEP_MAX_AXES]);

/* Set the varied options of point P in CFG. 0, or -1 with err (values were checked when
   added, so this fails only on a corrupted grid). */
int sweep_grid_apply(const sweep_grid *g, size_t p, train_config *cfg, char *err, size_t errlen);

/* True when AXIS varies OPT; the axis index or -1. */
int sweep_grid_find(const sweep_grid *g, train_option opt);

/* The option named NAME ('_' for '-', short names lr, epochs, batch); -1 when unknown. */
int sweep_option_find(const char *name);

#endif
