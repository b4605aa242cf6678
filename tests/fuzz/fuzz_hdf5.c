/* libFuzzer target: the HDF5 loader (hdf5_load_image), each input opened as an HDF5 file
   image in memory (the core driver), so no disk I/O per run. A table it accepts must have
   rows, finite features and labels of the five classes; a refusal must carry a message
   that names the file. Either way no HDF5 object may stay open (a leaked file or type id).
   LeakSanitizer is off for this target (cmake/reliability.cmake): libhdf5 1.10 leaks on
   some damaged files inside its own error paths, and a leak check after each such input
   cut the rate from thousands to 3 runs a second; the open-object count covers ours.
   ASan's allocator returns NULL instead of aborting (allocator_may_return_null=1): a
   damaged length makes libhdf5 ask malloc for petabytes, which it checks and refuses
   (regression-libhdf5-huge-malloc.h5; cltrain answers it with exit 2 in 18 MB). */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  raw_table t;
  char err[1024] = "";
  if (hdf5_load_image(data, n, "fuzz.h5", &t, err, sizeof err) == 0) {
    if (t.rows == 0) abort();
    for (size_t i = 0; i < t.rows * JSC_N_FEATURES; i++)
      if (!isfinite(t.x[i])) abort();
    for (size_t r = 0; r < t.rows; r++)
      if (t.y[r] < 0 || t.y[r] >= JSC_N_CLASSES) abort();
    raw_table_free(&t);
  } else if (strncmp(err, "fuzz.h5: ", 9) != 0) {
    abort();
  }
  if (H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) abort();
  return 0;
}
