# Reliability tests (issue 8): fault injection helpers for the shell tests.
#
# enospc_shim: an LD_PRELOAD library that fails a checkpoint's writes with ENOSPC, the
# stand-in for a full disk where a small tmpfs cannot be mounted (tests/cli_faults.sh).
add_library(enospc_shim MODULE ${CMAKE_SOURCE_DIR}/tests/enospc_shim.c)
target_link_libraries(enospc_shim PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(enospc_shim PRIVATE -Wall -Wextra -Werror)
if(TEST cli_faults)
  add_dependencies(cltrain enospc_shim)
  set_property(TEST cli_faults APPEND PROPERTY ENVIRONMENT "CLTRAIN_ENOSPC_SHIM=$<TARGET_FILE:enospc_shim>")
endif()
