/* The JSC data set's 16 features and 5 classes: their canonical order, names and the
   lookups the loaders map file columns and labels through. */
#ifndef CLTRAIN_JSC_NAMES_H
#define CLTRAIN_JSC_NAMES_H

#include <stddef.h>

#define JSC_N_FEATURES 16
#define JSC_N_CLASSES 5

/* Canonical order of the 16 features and of the 5 classes (g, q, W, Z, t: the order of
   MASE's one-hot columns j_g j_q j_w j_z j_t). Every loader maps by name into it. */
extern const char *const jsc_feature_names[JSC_N_FEATURES];
extern const char *const jsc_class_names[JSC_N_CLASSES];

/* Canonical class index of a label name (g q w z t, case-insensitive, also j_g ...), or -1. */
int jsc_class_from_name(const char *name, size_t len);
/* Canonical feature index of a column name, or -1. */
int jsc_feature_from_name(const char *name, size_t len);

#endif
