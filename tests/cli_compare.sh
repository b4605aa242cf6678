#!/usr/bin/env bash
# cltrain compare on two PoCL devices of one CPU (POCL_DEVICES="pthread basic"): the table,
# compare.csv (the header plot_device.c reads), the device_compare figure, the same metrics on
# both devices, and refusals of bad input.
#
# Tolerance: both devices run the same kernels with the same seed on the same CPU (no stored
# CLBlast tuning: CLTRAIN_TUNING_DIR points at an empty directory), so their validation
# accuracy may differ only through float rounding in code paths the drivers choose
# differently; we allow 0.01 (one percentage point) per epoch, and expect 0 in practice.
set -u
BIN=${1:?usage: cli_compare.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
export POCL_DEVICES="pthread basic" CLTRAIN_TUNING_DIR="$tmp/no-tuning"
unset CLTRAIN_DEVICE

n_dev=$("$BIN" devices | grep -c -E '^[0-9]+ ')
if [ "$n_dev" -lt 2 ]; then
  echo "SKIP: POCL_DEVICES=\"pthread basic\" gives $n_dev device(s); need PoCL with two devices" >&2
  exit 0
fi

out="$tmp/cmp dir"
"$BIN" compare jsc-tiny jsc-synth --devices all --synth-size 6000 --max-epochs 2 --batch-size 128 \
  --learning-rate 1e-3 --quiet --out "$out" >"$tmp/stdout" 2>"$tmp/stderr" ||
  fail "compare exited $?: $(cat "$tmp/stderr")"

csv="$out/compare.csv"
[ "$(head -1 "$csv")" = "device,epoch_s,samples_per_s,compile_s,launch_us,launches_per_step,final_val_acc,max_abs_diff_val_acc,status,error" ] ||
  fail "compare.csv header: $(head -1 "$csv")"
[ "$(tail -n +2 "$csv" | wc -l)" = 2 ] || fail "compare.csv should list 2 devices: $(cat "$csv")"
grep -q '^basic' "$csv" && grep -q '^pthread' "$csv" || fail "compare.csv does not name both devices: $(cat "$csv")"
# Every number positive and finite (the first device's difference is 0), compilation
# measured on its own (compile_s > 0), a launch cost measured (launch_us: above 0.01 us, a
# launch no OpenCL implementation does faster, and below 10 ms), the launches of a jsc-tiny
# step counted (on these CPU devices the whole-network kernel: one launch per at most 64
# steps, ended early by a metrics row or the epoch's end: an epoch of 34 steps takes one or
# two; stage by stage it would be 3-20), accuracies
# in (0.2, 1], the second device within the tolerance of the first.
awk -F, 'NR > 1 {
  if (!($2 > 0 && $2 < 1e6 && $3 > 0 && $3 < 1e12)) { print "bad time or rate: " $0; bad = 1 }
  if (!($4 > 0 && $4 < 1e5)) { print "bad compile time: " $0; bad = 1 }
  if (!($5 > 0.01 && $5 < 1e4)) { print "bad launch cost: " $0; bad = 1 }
  if (!($6 >= 1 / 64 && $6 <= 0.1)) { print "bad launches per step: " $0; bad = 1 }
  if (!($7 > 0.2 && $7 <= 1)) { print "bad accuracy: " $0; bad = 1 }
  if (NR == 2 && $8 != 0) { print "first device difference not 0: " $0; bad = 1 }
  if (!($8 >= 0 && $8 <= 0.01)) { print "devices differ by more than 0.01: " $0; bad = 1 }
} END { exit bad }' "$csv" >"$tmp/awk" || fail "$(cat "$tmp/awk")"
acc1=$(awk -F, 'NR == 2 { print $7 }' "$csv")
acc2=$(awk -F, 'NR == 3 { print $7 }' "$csv")
awk -v a="$acc1" -v b="$acc2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.01) }' ||
  fail "final val acc differs: $acc1 vs $acc2"

# The table on stdout and one run directory per device.
grep -q 'samples/s' "$tmp/stdout" || fail "no table on stdout: $(cat "$tmp/stdout")"
[ "$(find "$out" -name epochs.csv | wc -l)" = 2 ] || fail "expected two run directories in $out"

# The figure: its CSV always, PNG and SVG when gnuplot is installed.
[ -s "$out/device_compare.csv" ] || fail "device_compare.csv missing"
if command -v gnuplot >/dev/null; then
  [ "$(head -c 8 "$out/device_compare.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
    fail "device_compare.png is not a PNG"
  grep -q '</svg>' "$out/device_compare.svg" || fail "device_compare.svg is not an SVG"
fi

# Bad input: one line on stderr, exit 2, nothing trained.
expect_usage() { # DESCRIPTION ARGS...
  local p
  p=$(bad_input_problem "" "$BIN" compare "${@:2}")
  [ -z "$p" ] || fail "$1: $p"
}
expect_usage "no --devices" jsc-tiny jsc-synth
expect_usage "unknown device" jsc-tiny jsc-synth --devices 0,nosuchdevice
expect_usage "--device instead of --devices" jsc-tiny jsc-synth --devices all --device 0
expect_usage "unknown model" nosuchmodel jsc-synth --devices all
expect_usage "missing dataset" jsc-tiny --devices all
expect_usage "bad option value" jsc-tiny jsc-synth --devices all --batch-size zero

[ $failures = 0 ] && echo "cli_compare: all checks passed"
exit $((failures > 0))
