#!/usr/bin/env bash
# The oclgrind tests can fail: test_ops_gather on a copy of the kernels whose gather_rows
# lost its bounds check (the items past the last row of the rounded-up launch then read
# and write out of bounds) must make run_checked.sh fail, naming the kernel.
#   selftest.sh TEST_OPS_GATHER VENDORS_DIR SHIM_SO LOG
set -uo pipefail
test_bin=$1 vendors=$2 shim=$3 log=$4
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src"/kernels/*.cl "$tmp/"
sed -i '/if (i >= (uint)rows) return;/d' "$tmp/gather.cl"
! grep -q "i >= (uint)rows" "$tmp/gather.cl" || { echo "FAIL: could not remove the bounds check"; exit 1; }
CLTRAIN_KERNELS_DIR=$tmp bash "$(dirname "$0")/run_checked.sh" "$vendors" "$shim" "$log" -- "$test_bin" \
  > "$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] || { cat "$tmp/out"; echo "FAIL: an out-of-bounds kernel passed the oclgrind check"; exit 1; }
grep -q "Kernel: gather_rows" "$log" || { cat "$tmp/out"; echo "FAIL: no report names gather_rows"; exit 1; }
grep -qi "invalid" "$log" || { cat "$tmp/out"; echo "FAIL: no invalid-access report"; exit 1; }
echo "ok: the broken gather_rows was caught ($(grep -c "Kernel: gather_rows" "$log") report(s))"
