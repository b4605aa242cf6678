#!/usr/bin/env bash
# scripts/gpu-check without a GPU: its argument handling (bad input: exit 2 and one stderr
# line naming the problem; --help) and its no-GPU path (exit 3, said on stderr and in
# summary.txt, devices.json written, nothing measured). The OpenCL platforms are pinned to
# PoCL's CPU device through OCL_ICD_VENDORS, so the test means the same on a GPU machine.
#   cli_gpu_check.sh CLTRAIN
set -uo pipefail
bin=$1
src=${CLTRAIN_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
check=$src/scripts/gpu-check
build=$(dirname "$bin")
. "$src/tests/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
bad() { # NEEDLE ARGS...: gpu-check ARGS must be a usage error naming NEEDLE
  local needle=$1 p
  shift
  p=$(bad_input_problem "$needle" "$check" "$@")
  [ -z "$p" ] || fail "gpu-check $*: $p"
}

"$check" --help > "$tmp/help" 2>&1 || fail "--help exits $?"
grep -q "scripts/gpu-check \[--device SPEC\]" "$tmp/help" || fail "--help lacks the usage line"
grep -q "no GPU" "$tmp/help" || fail "--help does not document the no-GPU exit status"

touch "$tmp/afile"
bad "--bogus" --bogus
bad "'$tmp/a' and '$tmp/b'" "$tmp/a" "$tmp/b"
bad "--device needs" --device
bad "--build-dir needs" --build-dir
bad "exists and is not a directory" --no-build --build-dir "$build" "$tmp/afile"
bad "$tmp/nowhere/cltrain" --no-build --build-dir "$tmp/nowhere" "$tmp/out0"

# no GPU: PoCL's CPU device alone
mkdir -p "$tmp/vendors"
cp /etc/OpenCL/vendors/pocl*.icd "$tmp/vendors/" 2>/dev/null || fail "no PoCL ICD file in /etc/OpenCL/vendors"
out=$tmp/results
OCL_ICD_VENDORS=$tmp/vendors POCL_DEVICES=pthread "$check" --no-build --build-dir "$build" "$out" \
  > "$tmp/stdout" 2> "$tmp/stderr"
rc=$?
[ $rc -eq 3 ] || fail "no GPU: exit $rc, want 3 ($(cat "$tmp/stderr"))"
grep -q "no GPU OpenCL device found" "$tmp/stderr" || fail "no GPU: stderr does not say so: $(cat "$tmp/stderr")"
grep -q "result: no GPU OpenCL device found" "$out/summary.txt" || fail "summary.txt lacks the no-GPU result"
grep -Eq "^  0 CPU " "$out/summary.txt" || fail "summary.txt does not list the CPU device"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d and d[0]["type"] == "CPU" else 1)' \
  "$out/devices.json" || fail "devices.json is not the device list"
for step in tests tune bench-gpu compare torch; do
  ! grep -q "^$step " "$out/summary.txt" || fail "no GPU, yet step $step ran"
done

if [ $failures -ne 0 ]; then
  echo "cli_gpu_check: $failures failure(s)"
  exit 1
fi
echo "cli_gpu_check: all checks passed"
