#!/bin/bash
# Valgrind memcheck on one short `cltrain train` run (jsc-tiny, 200 jets, one epoch of 3
# steps): no invalid access, no use of uninitialised memory and no leak outside the
# OpenCL stack (tests/sanitizers/valgrind.supp says what is suppressed and why).
#   tests/valgrind_train.sh path/to/cltrain
# Not part of the default suite: under valgrind PoCL builds its work-group functions again
# (valgrind's emulated CPU changes the device's cache key), ~5 minutes on 2 cores the first
# time; later runs with the same POCL_CACHE_DIR take ~30 s. Configure with
# -DCLTRAIN_VALGRIND_TEST=ON to have it as the ctest test valgrind_train.
set -u
BIN=$(realpath "$1")
SRC=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind > /dev/null || { echo "valgrind not installed"; exit 1; }
# The basic (single-threaded) PoCL device and a CPU name valgrind can run (it has no
# AVX-512), so the kernels PoCL builds run under valgrind as they do natively.
export POCL_DEVICES=basic POCL_LLVM_CPU_NAME=haswell
RUN=(train jsc-tiny jsc-synth --synth-size 200 --max-epochs 1 --batch-size 64 --quiet --project-dir "$tmp/runs")
valgrind --fair-sched=yes --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect,possible --num-callers=40 \
  --suppressions="$SRC/tests/sanitizers/valgrind.supp" --error-exitcode=99 \
  --log-file="$tmp/memcheck.log" "$BIN" "${RUN[@]}" > "$tmp/out" 2>&1
rc=$?
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$tmp/memcheck.log" | sed 's/^==[0-9]*== *//'
fail=0
if [ $rc -ne 0 ]; then
  echo "FAIL: exit $rc under valgrind: $(tail -3 "$tmp/out")"
  grep -v "^==[0-9]*== *$" "$tmp/memcheck.log" | head -120
  fail=1
fi
grep -q "ERROR SUMMARY: 0 errors" "$tmp/memcheck.log" || { echo "FAIL: memcheck reported errors"; fail=1; }
grep -q ": finished after 1 epochs" "$tmp/out" || { echo "FAIL: the run did not finish: $(cat "$tmp/out")"; fail=1; }
exit $fail
