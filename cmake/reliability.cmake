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

# libFuzzer targets (tests/fuzz/): the model-file parser, the dataset CSV loader (and the
# reader of cltrain's own CSV files), the checkpoint reader, the tuning-file reader and
# the HDF5 loader.
# clang only: -DCLTRAIN_FUZZ=ON in a build directory configured with CC=clang (scripts/test
# uses build-fuzz). The host sources are compiled a second time, into cltrain_fuzz_core,
# with coverage instrumentation, AddressSanitizer and UndefinedBehaviorSanitizer; the
# other targets of that build directory are left as they are. Each target gets a ctest
# smoke run (label "fuzz") of CLTRAIN_FUZZ_SECONDS from its seed corpus tests/fuzz/NAME/.
option(CLTRAIN_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
set(CLTRAIN_FUZZ_SECONDS 20 CACHE STRING "Length of each fuzz target's smoke run in ctest")
if(CLTRAIN_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CLTRAIN_FUZZ needs clang (configure with CC=clang), not ${CMAKE_C_COMPILER_ID}")
  endif()
  set(FUZZ_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_library(cltrain_fuzz_core STATIC ${CORE_SOURCES} ${EMBEDDED_C})
  target_include_directories(cltrain_fuzz_core PUBLIC ${CMAKE_SOURCE_DIR}/host
                             $<TARGET_PROPERTY:cltrain_core,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(cltrain_fuzz_core PUBLIC
                             $<TARGET_PROPERTY:cltrain_core,INTERFACE_COMPILE_DEFINITIONS>)
  target_link_libraries(cltrain_fuzz_core PUBLIC $<TARGET_PROPERTY:cltrain_core,INTERFACE_LINK_LIBRARIES>)
  target_compile_options(cltrain_fuzz_core PRIVATE ${CLTRAIN_WARNINGS})
  target_compile_options(cltrain_fuzz_core PUBLIC -fsanitize=fuzzer-no-link ${FUZZ_SANITIZERS})
  add_custom_target(fuzz_all)
  set(fuzz_targets model csv checkpoint tuning)
  if(HDF5_FOUND)
    list(APPEND fuzz_targets hdf5)  # the HDF5 loader from an in-memory file image
  endif()
  foreach(name ${fuzz_targets})
    add_executable(fuzz_${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_${name}.c)
    target_link_libraries(fuzz_${name} PRIVATE cltrain_fuzz_core)
    target_compile_options(fuzz_${name} PRIVATE ${CLTRAIN_WARNINGS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer ${FUZZ_SANITIZERS})
    add_dependencies(fuzz_all fuzz_${name})
    set(fuzz_extra "")
    if(name STREQUAL "hdf5")
      set(fuzz_extra -fork=1 -ignore_crashes=1)  # see FUZZ_LIBRARY_CRASHES below
    endif()
    add_test(NAME fuzz_${name}_smoke
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh $<TARGET_FILE:fuzz_${name}>
                     ${CMAKE_SOURCE_DIR}/tests/fuzz/${name} ${CLTRAIN_FUZZ_SECONDS} ${fuzz_extra})
    set_tests_properties(fuzz_${name}_smoke PROPERTIES LABELS fuzz WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  endforeach()
  if(HDF5_FOUND)
    # libhdf5 leaks inside its own error paths on damaged files, and asks malloc for
    # petabytes when a length in the metadata is damaged (it checks for NULL and fails
    # cleanly; ASan would abort instead): tests/fuzz/fuzz_hdf5.c.
    # libhdf5 also crashes on some damaged files inside its own code (cltrain parses HDF5
    # in a child process for that reason): the run goes on past crashes and fails only
    # on one whose innermost frame is not in libhdf5 (tests/fuzz/run.sh).
    set_property(TEST fuzz_hdf5_smoke PROPERTY ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1" "FUZZ_LIBRARY_CRASHES=libhdf5")

  endif()
endif()

# Sanitized build (CLTRAIN_SANITIZE, scripts/test uses build-asan): every test runs with
# the suppressions of tests/sanitizers/lsan.supp (leaks inside PoCL/LLVM only) and stops
# at the first UndefinedBehaviorSanitizer report.
if(CLTRAIN_SANITIZE)
  get_property(all_tests DIRECTORY PROPERTY TESTS)
  set_property(TEST ${all_tests} APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/sanitizers/lsan.supp:print_suppressions=0"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0")
  set_property(TEST ${all_tests} APPEND PROPERTY LABELS asan)
endif()

# Valgrind memcheck on one short training run (tests/valgrind_train.sh). Off by default:
# the first run with a given PoCL cache takes ~5 minutes on 2 cores (see the script).
option(CLTRAIN_VALGRIND_TEST "Add the ctest test valgrind_train (slow the first time)" OFF)
if(CLTRAIN_VALGRIND_TEST)
  add_test(NAME valgrind_train COMMAND bash ${CMAKE_SOURCE_DIR}/tests/valgrind_train.sh $<TARGET_FILE:cltrain>)
  set_tests_properties(valgrind_train PROPERTIES LABELS valgrind TIMEOUT 900
    ENVIRONMENT "POCL_CACHE_DIR=${CLTRAIN_TEST_POCL_CACHE}" WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endif()

# hdf5_craft: small HDF5 files in the JSC layout with damaged metadata (a wrapping or
# oversized row count, a member outside its row, an impossible precision), for
# tests/cli_faults.sh.
if(HDF5_FOUND)
  add_executable(hdf5_craft ${CMAKE_SOURCE_DIR}/tests/hdf5_craft.c)
  target_include_directories(hdf5_craft PRIVATE ${HDF5_INCLUDE_DIRS})
  target_link_libraries(hdf5_craft PRIVATE ${HDF5_C_LIBRARIES})
  target_compile_options(hdf5_craft PRIVATE -Wall -Wextra -Werror)
  if(TEST cli_faults)
    add_dependencies(cltrain hdf5_craft)
    set_property(TEST cli_faults APPEND PROPERTY ENVIRONMENT "CLTRAIN_HDF5_CRAFT=$<TARGET_FILE:hdf5_craft>")
  endif()
endif()
