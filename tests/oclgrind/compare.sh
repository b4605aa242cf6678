#!/usr/bin/env bash
# Oclgrind as a second OpenCL platform next to the system's (PoCL): `cltrain devices` lists
# it, and `cltrain compare` trains jsc-tiny on both with the same seed. Both implement the
# same float operations, but in different orders (CLBlast tiles, exp/log), so accuracies
# may differ by a few borderline samples: at most 0.05 (a few validation rows).
# Dropout masks and data order are bit-identical by contract (test_ops_pointwise).
#   compare.sh CLTRAIN VENDORS_DIR
set -euo pipefail
bin=$1
export OCL_ICD_VENDORS=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" devices > "$tmp/devices.txt"
cat "$tmp/devices.txt"
grep -q "Oclgrind Simulator" "$tmp/devices.txt" || fail "cltrain devices does not list Oclgrind"
grep -qi "pthread\|cpu" "$tmp/devices.txt" || fail "cltrain devices lists no CPU device next to Oclgrind"

"$bin" compare jsc-tiny jsc-synth --devices pthread,oclgrind --synth-size 1000 --max-epochs 1 \
  --batch-size 256 --learning-rate 1e-2 --no-cache --no-plot --out "$tmp/cmp" --project-dir "$tmp/runs" \
  > "$tmp/out" 2>&1 || { cat "$tmp/out"; fail "compare across PoCL and Oclgrind"; }
cat "$tmp/cmp/compare.csv"
[ "$(wc -l < "$tmp/cmp/compare.csv")" -eq 3 ] || fail "compare.csv should have a header and 2 rows"
grep -q "Oclgrind" "$tmp/cmp/compare.csv" || fail "compare.csv has no Oclgrind row"
# column 8: max_abs_diff_val_acc (after compile_s, launch_us and launches_per_step)
awk -F, 'NR == 3 && !($8 <= 0.05) {exit 1}' "$tmp/cmp/compare.csv" ||
  fail "validation accuracy on Oclgrind strays more than 0.05 from PoCL's"
echo "ok: devices and compare across PoCL and Oclgrind"
