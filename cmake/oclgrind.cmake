# Oclgrind tests (issue 13): the kernels on a second OpenCL implementation, an interpreter
# that checks every memory access, barrier, data race and uninitialised value
# (tests/oclgrind/run_checked.sh). Label "oclgrind"; only with -DCLTRAIN_OCLGRIND_TESTS=ON
# (scripts/test's oclgrind stage turns it on), since they take minutes.
#
# Oclgrind is exposed as an OpenCL platform for one command at a time through
# OCL_ICD_VENDORS and an oclgrind.icd written here, in the build directory; nothing is
# registered system-wide, so PoCL stays device 0 of every other test.
# In the main suite: the PyTorch golden replay with the work-group (GPU) kernel forms forced
# on the CPU device (CLTRAIN_KERNEL_FORM), and a bad value of that variable refused.
add_test(NAME test_net_golden_workgroup COMMAND test_net_golden)
set_tests_properties(test_net_golden_workgroup PROPERTIES
  ENVIRONMENT "POCL_CACHE_DIR=${CLTRAIN_TEST_POCL_CACHE};CLTRAIN_KERNEL_FORM=workgroup"
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
add_test(NAME cli_kernel_form_bad COMMAND bash -c
  ". ${CMAKE_SOURCE_DIR}/tests/bad_input.sh; p=$(CLTRAIN_KERNEL_FORM=gpu bad_input_problem \
   \"CLTRAIN_KERNEL_FORM is 'gpu'\" $<TARGET_FILE:cltrain> train jsc-tiny jsc-synth --synth-size 400 \
   --max-epochs 1 --no-cache --project-dir ${CMAKE_BINARY_DIR}/kernel-form-bad); echo \"$p\"; [ -z \"$p\" ]")
set_tests_properties(cli_kernel_form_bad PROPERTIES ENVIRONMENT "POCL_CACHE_DIR=${CLTRAIN_TEST_POCL_CACHE}")

option(CLTRAIN_OCLGRIND_TESTS "Add the Oclgrind tests (label oclgrind; minutes)" OFF)
if(NOT CLTRAIN_OCLGRIND_TESTS)
  return()
endif()
find_file(OCLGRIND_ICD_LIB liboclgrind-rt-icd.so PATHS /usr/lib/oclgrind /usr/local/lib/oclgrind
          /usr/lib/x86_64-linux-gnu/oclgrind NO_DEFAULT_PATH)
if(NOT OCLGRIND_ICD_LIB)
  message(FATAL_ERROR "CLTRAIN_OCLGRIND_TESTS: liboclgrind-rt-icd.so not found (Debian package oclgrind; scripts/bootstrap installs it)")
endif()
set(OCLGRIND_VENDORS ${CMAKE_BINARY_DIR}/oclgrind/vendors)      # Oclgrind alone
set(OCLGRIND_VENDORS_ALL ${CMAKE_BINARY_DIR}/oclgrind/vendors-all) # the system's platforms and Oclgrind
file(WRITE ${OCLGRIND_VENDORS}/oclgrind.icd "${OCLGRIND_ICD_LIB}\n")
file(GLOB SYSTEM_ICDS /etc/OpenCL/vendors/*.icd)
file(REMOVE_RECURSE ${OCLGRIND_VENDORS_ALL})
file(COPY ${SYSTEM_ICDS} DESTINATION ${OCLGRIND_VENDORS_ALL})
file(WRITE ${OCLGRIND_VENDORS_ALL}/oclgrind.icd "${OCLGRIND_ICD_LIB}\n")

add_library(oclgrind_shim MODULE ${CMAKE_SOURCE_DIR}/tests/oclgrind/oclgrind_shim.c)
target_link_libraries(oclgrind_shim PRIVATE OpenCL::OpenCL ${CMAKE_DL_LIBS})
target_compile_options(oclgrind_shim PRIVATE -Wall -Wextra -Werror)
add_dependencies(cltrain oclgrind_shim)

# The oclgrind tests' own CLBlast tuning for the Oclgrind device (oclgrind_tuning.c says
# why), written by the first test (fixture) into the build directory.
add_executable(oclgrind_tuning ${CMAKE_SOURCE_DIR}/tests/oclgrind/oclgrind_tuning.c)
target_link_libraries(oclgrind_tuning PRIVATE cltrain_core)
target_compile_options(oclgrind_tuning PRIVATE ${CLTRAIN_WARNINGS})
add_dependencies(cltrain oclgrind_tuning)
set(OCLGRIND_TUNING ${CMAKE_BINARY_DIR}/oclgrind/tuning)

set(OCLGRIND_RUN bash ${CMAKE_SOURCE_DIR}/tests/oclgrind/run_checked.sh ${OCLGRIND_VENDORS}
    $<TARGET_FILE:oclgrind_shim>)
set(OCLGRIND_LOGS ${CMAKE_BINARY_DIR}/oclgrind/logs)
file(MAKE_DIRECTORY ${OCLGRIND_LOGS})

# Oclgrind reports itself as a GPU, so by default the work-group forms run; with
# CLTRAIN_KERNEL_FORM=vector the device's default becomes the vector (CPU) forms and the
# tests' own forced work-group configurations (col_wg 64, loss_wg 256, the scalar optimizer)
# cover the other form in the same run.
foreach(op pointwise linear batchnorm loss optim gather fused)
  add_test(NAME oclgrind_ops_${op}
           COMMAND ${OCLGRIND_RUN} ${OCLGRIND_LOGS}/ops_${op}.log --
                   env CLTRAIN_KERNEL_FORM=vector $<TARGET_FILE:test_ops_${op}>)
endforeach()
# The whole OpenCL path of training steps against PyTorch (jsc-toy, jsc-trt and the
# every-layer-kind model with dropout) in the work-group form (Oclgrind's own, as a GPU's:
# barriers, local memory and races are what most needs checking; ~100 s of CPU). The vector
# form's net path runs in oclgrind_train_zoo; the op tests run every kernel in both forms.
add_test(NAME oclgrind_net_golden
         COMMAND ${OCLGRIND_RUN} ${OCLGRIND_LOGS}/net_golden.log --
                 env CLTRAIN_KERNEL_FORM=workgroup CLTRAIN_GOLDEN_PATHS=clblast,fused $<TARGET_FILE:test_net_golden>)
# The same replay through the whole-network kernel, as its own test so the two run in
# parallel (the stage's longest).
add_test(NAME oclgrind_net_golden_whole
         COMMAND ${OCLGRIND_RUN} ${OCLGRIND_LOGS}/net_golden_whole.log --
                 env CLTRAIN_KERNEL_FORM=workgroup CLTRAIN_GOLDEN_PATHS=whole $<TARGET_FILE:test_net_golden>)
# The whole-network kernel (one work-item, float16 lanes) against the per-stage vector
# forms, at two batch sizes per model (CLTRAIN_TEST_SMALL).
add_test(NAME oclgrind_net_whole
         COMMAND ${OCLGRIND_RUN} ${OCLGRIND_LOGS}/net_whole.log --
                 env CLTRAIN_KERNEL_FORM=vector $<TARGET_FILE:test_net_whole>)
# The check itself: a kernel made to access out of bounds must fail it.
add_test(NAME oclgrind_selftest
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/oclgrind/selftest.sh $<TARGET_FILE:test_ops_gather>
                 ${OCLGRIND_VENDORS} $<TARGET_FILE:oclgrind_shim> ${OCLGRIND_LOGS}/selftest.log)
# A few training steps of jsc-tiny and jsc-s through the CLI (vector form), and the device
# list and a compare across PoCL and Oclgrind.
add_test(NAME oclgrind_train_zoo
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/oclgrind/train_zoo.sh $<TARGET_FILE:cltrain>
                 ${OCLGRIND_VENDORS} $<TARGET_FILE:oclgrind_shim> ${OCLGRIND_LOGS})
add_test(NAME oclgrind_compare
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/oclgrind/compare.sh $<TARGET_FILE:cltrain>
                 ${OCLGRIND_VENDORS_ALL})

add_test(NAME oclgrind_tuning COMMAND env OCL_ICD_VENDORS=${OCLGRIND_VENDORS} $<TARGET_FILE:oclgrind_tuning>)

get_property(oclgrind_tests DIRECTORY PROPERTY TESTS)
list(FILTER oclgrind_tests INCLUDE REGEX "^oclgrind_")
set_tests_properties(${oclgrind_tests} PROPERTIES LABELS oclgrind
  ENVIRONMENT "POCL_CACHE_DIR=${CLTRAIN_TEST_POCL_CACHE};CLTRAIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};CLTRAIN_TUNING_DIR=${OCLGRIND_TUNING}"
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
list(REMOVE_ITEM oclgrind_tests oclgrind_tuning)
set_tests_properties(oclgrind_tuning PROPERTIES FIXTURES_SETUP oclgrind_tuning)
set_tests_properties(${oclgrind_tests} PROPERTIES FIXTURES_REQUIRED oclgrind_tuning)
