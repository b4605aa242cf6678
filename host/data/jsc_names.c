/* The JSC feature and class names, in canonical order (jsc_names.h). */
#include "data/jsc_names.h"

#include <ctype.h>
#include <string.h>

const char *const jsc_feature_names[JSC_N_FEATURES] = {
    "j_zlogz",        "j_c1_b0_mmdt",   "j_c1_b1_mmdt",    "j_c1_b2_mmdt",
    "j_c2_b1_mmdt",   "j_c2_b2_mmdt",   "j_d2_b1_mmdt",    "j_d2_b2_mmdt",
    "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",  "j_m2_b2_mmdt",
    "j_n2_b1_mmdt",   "j_n2_b2_mmdt",   "j_mass_mmdt",     "j_multiplicity"};

const char *const jsc_class_names[JSC_N_CLASSES] = {"g", "q", "W", "Z", "t"};

int jsc_feature_from_name(const char *name, size_t len) {
  for (int i = 0; i < JSC_N_FEATURES; i++)
    if (strlen(jsc_feature_names[i]) == len && memcmp(jsc_feature_names[i], name, len) == 0) return i;
  return -1;
}

int jsc_class_from_name(const char *name, size_t len) {
  if (len == 3 && (name[0] == 'j' || name[0] == 'J') && name[1] == '_') {
    name += 2;
    len = 1;
  }
  if (len != 1) return -1;
  switch (tolower((unsigned char)name[0])) {
    case 'g': return 0;
    case 'q': return 1;
    case 'w': return 2;
    case 'z': return 3;
    case 't': return 4;
    default: return -1;
  }
}
