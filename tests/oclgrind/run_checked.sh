#!/usr/bin/env bash
# Run one command on Oclgrind (the OpenCL device simulator) with every check it has, and fail
# when it reports anything from cltrain's kernels. Used by the oclgrind tests
# (cmake/oclgrind.cmake; scripts/test's oclgrind stage).
#
#   run_checked.sh VENDORS_DIR SHIM_SO LOG -- COMMAND [ARGS...]
#
# VENDORS_DIR holds the oclgrind.icd the build wrote (OCL_ICD_VENDORS: Oclgrind is then the
# only platform, device 0, for this command alone; nothing is registered system-wide).
# SHIM_SO is tests/oclgrind/oclgrind_shim.c built (two Oclgrind faults worked around, see
# there). Checks: invalid memory accesses and work-group divergence (always on), data races,
# uninitialised values, API errors. Reports from a kernel of CLBlast are let through only
# when tests/oclgrind/clblast.supp names the kernel with a reason; every other report fails
# the command. The test shapes are the small ones (CLTRAIN_TEST_SMALL, tests/refops.h).
set -uo pipefail
if [ $# -lt 5 ] || [ "$4" != "--" ]; then
  echo "usage: run_checked.sh VENDORS_DIR SHIM_SO LOG -- COMMAND [ARGS...]" >&2
  exit 2
fi
vendors=$1 shim=$2 log=$3
shift 4
supp="$(dirname "$0")/clblast.supp"
rm -f "$log"
OCL_ICD_VENDORS=$vendors LD_PRELOAD=$shim CLTRAIN_TEST_SMALL=1 \
  OCLGRIND_CHECK_API=1 OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1 OCLGRIND_MAX_ERRORS=200 \
  OCLGRIND_LOG=$log "$@"
rc=$?
times > "$log.times" # in this shell: its second line is the command's CPU time
cpu=$(awk 'NR == 2 {print $1 " user " $2 " system"}' "$log.times")
rm -f "$log.times"
touch "$log"

# One report per blank-line separated block; its kernel is on a "Kernel: NAME" line.
awk -v supp="$supp" -v cpu="$cpu" '
  BEGIN {
    while ((getline line < supp) > 0) {
      sub(/#.*/, "", line); gsub(/[ \t]+/, "", line)
      if (line != "") pattern[line] = 1
    }
    RS = ""; FS = "\n"
  }
  {
    kernel = ""
    if (match($0, /Kernel: [A-Za-z0-9_]+/)) kernel = substr($0, RSTART + 8, RLENGTH - 8)
    quiet = 0
    for (p in pattern) if (kernel != "" && kernel ~ ("^" p "$")) quiet = 1
    if (quiet) { suppressed++; next }
    reports++
    if (reports <= 5) print "oclgrind report:\n" $0 "\n" > "/dev/stderr"
  }
  END {
    printf "oclgrind: %d report(s) from cltrain, %d from CLBlast suppressed (clblast.supp); CPU %s\n", reports, suppressed, cpu
    exit reports > 0
  }' "$log"
reports_rc=$?
if [ "$rc" -ne 0 ]; then
  echo "oclgrind: the command exited $rc: $*" >&2
  exit "$rc"
fi
exit "$reports_rc"
