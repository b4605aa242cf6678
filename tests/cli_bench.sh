#!/usr/bin/env bash
# cltrain bench in its reduced mode (--quick): bench.csv and epoch.csv exist with the
# documented columns and sane values (positive and finite; the launch and CLBlast-call
# counts per step match the model's stages). No timing is asserted: speed is measured, not
# tested. Bad input is refused with one line and exit code 2.
set -u
BIN=${1:?usage: cli_bench.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

out="$tmp/bench out"
"$BIN" bench --quick --breakdown --gemm clblast --models jsc-tiny,jsc-trt --batch-sizes 32,100 --synth-size 4000 --out "$out" \
  >"$tmp/stdout" 2>"$tmp/stderr" || fail "bench exited $?: $(cat "$tmp/stderr")"

csv="$out/bench.csv"
want="model,batch_size,samples_per_s,samples_per_s_min,samples_per_s_max,step_us,reps,steps_per_rep,launches_per_step,gemm_calls_per_step,load_avg,device,tuned,gemm,step_kernel"
[ "$(head -1 "$csv")" = "$want" ] || fail "bench.csv header: $(head -1 "$csv")"
[ "$(tail -n +2 "$csv" | wc -l)" = 4 ] || fail "bench.csv should have 4 rows: $(cat "$csv")"
# jsc-tiny: one Linear after a BatchNorm (3 GEMMs: forward, weight and input gradient);
# jsc-trt: four Linears, each with an input gradient (12 GEMMs).
awk -F, 'NR > 1 {
  med = $3; lo = $4; hi = $5
  if (!(lo > 0 && lo <= med && med <= hi && hi < 1e12)) { print "bad samples/s: " $0; bad = 1 }
  if (!($6 > 0 && $6 < 1e9)) { print "bad step_us: " $0; bad = 1 }
  if (!($7 == 3 && $8 >= 10)) { print "bad reps/steps: " $0; bad = 1 }
  if (!($9 >= 1 && $9 < 100)) { print "bad launches per step: " $0; bad = 1 }
  gemms = ($1 == "jsc-tiny") ? 3 : 12
  if ($10 != gemms) { print "expected " gemms " CLBlast calls per step: " $0; bad = 1 }
  if ($2 != 32 && $2 != 100) { print "bad batch: " $0; bad = 1 }
  if ($14 != "clblast") { print "--gemm clblast: the gemm column says " $14; bad = 1 }
  if ($15 != "stages") { print "--gemm clblast runs stage by stage: " $15; bad = 1 }
} END { exit bad }' "$csv" >"$tmp/awk" || fail "$(cat "$tmp/awk")"

ecsv="$out/epoch.csv"
[ "$(head -1 "$ecsv")" = "model,dataset,train_rows,batch_size,epoch_s,first_epoch_s,samples_per_s,device" ] ||
  fail "epoch.csv header: $(head -1 "$ecsv")"
awk -F, 'NR == 2 {
  if (!($1 == "jsc-tiny" && $2 == "jsc-synth" && $3 > 2000 && $3 < 4000 && $4 == 256)) { print "bad row: " $0; bad = 1 }
  if (!($5 > 0 && $5 < 1e6 && $6 > 0 && $7 > 0 && $7 < 1e12)) { print "bad timing: " $0; bad = 1 }
  rows++
} END { exit bad || rows != 1 }' "$ecsv" >"$tmp/awk" || fail "epoch.csv: $(cat "$tmp/awk") $(cat "$ecsv")"
grep -q 'samples/s' "$tmp/stdout" || fail "no table on stdout"

bcsv="$out/breakdown.csv"
[ "$(head -1 "$bcsv")" = "model,batch_size,gather_us,forward_us,loss_us,backward_us,optimizer_us,step_us,gemm,clblast_us,clblast_calls" ] ||
  fail "breakdown.csv header: $(head -1 "$bcsv")"
awk -F, 'NR > 1 {
  for (i = 3; i <= 7; i++) if (!($i >= 0 && $i < 1e9)) { print "bad phase " i ": " $0; bad = 1 }
  if (!($8 > 0 && $8 < 1e9 && $10 > 0 && $10 < 1e9)) { print "bad step or GEMM time: " $0; bad = 1 }
  if ($9 != "clblast") { print "bad gemm path: " $0; bad = 1 }
  if ($11 != (($1 == "jsc-tiny") ? 3 : 12)) { print "bad GEMM count: " $0; bad = 1 }
  rows++
} END { exit bad || rows != 4 }' "$bcsv" >"$tmp/awk" || fail "breakdown.csv: $(cat "$tmp/awk")"

# The fused path (--gemm fused) stage by stage (--whole-net off): every Linear of both
# models is narrow, so no CLBlast call and one launch forward and one or two backward per
# Linear; jsc-tiny's Linear, the last stage, has one backward launch with the loss and dx
# inside (jsc-tiny 5 kernels a step, jsc-trt 24, as tests/test_net.c counts).
fout="$tmp/fused"
"$BIN" bench --quick --no-epoch --breakdown --gemm fused --whole-net off --models jsc-tiny,jsc-trt --batch-sizes 32 --out "$fout" \
  >"$tmp/stdout" 2>"$tmp/stderr" || fail "bench --gemm fused exited $?: $(cat "$tmp/stderr")"
grep -q -- '--gemm fused' "$tmp/stdout" || fail "bench does not say which GEMM path it ran"
awk -F, 'NR > 1 {
  launches = ($1 == "jsc-tiny") ? 5 : 24
  if ($9 != launches || $10 != 0) { print "expected " launches " launches and no CLBlast call: " $0; bad = 1 }
  if ($14 != "fused" || $15 != "stages") { print "--gemm fused --whole-net off: the columns say " $14 ", " $15; bad = 1 }
  rows++
} END { exit bad || rows != 2 }' "$fout/bench.csv" >"$tmp/awk" || fail "fused bench.csv: $(cat "$tmp/awk")"

# The whole-network kernel (--whole-net on, and auto on this CPU for these narrow nets):
# one launch per 64 steps (NET_WHOLE_MAX_STEPS) and nothing else, so launches per step are
# between 1/64 and 1 (the repetitions' step counts need not be multiples of 64), no
# CLBlast call; the step_kernel column says so.
for mode in on auto; do
  wout="$tmp/whole-$mode"
  "$BIN" bench --quick --no-epoch --whole-net $mode --models jsc-tiny,jsc-trt --batch-sizes 32 --out "$wout" \
    >"$tmp/wstdout" 2>"$tmp/stderr" || fail "bench --whole-net $mode exited $?: $(cat "$tmp/stderr")"
  grep -q -- "--whole-net $mode" "$tmp/wstdout" || fail "bench does not say --whole-net $mode"
  awk -F, 'NR > 1 {
    if (!($9 >= 1 / 64 && $9 < 0.1 && $10 == 0)) { print "expected about 1/64 launches and no CLBlast call: " $0; bad = 1 }
    if ($15 != "whole") { print "the step_kernel column says " $15; bad = 1 }
    rows++
  } END { exit bad || rows != 2 }' "$wout/bench.csv" >"$tmp/awk" || fail "whole bench.csv ($mode): $(cat "$tmp/awk")"
done
# Under the fused path the breakdown times no CLBlast call (it makes none), and says so.
awk -F, 'NR > 1 { if ($9 != "fused" || $10 != 0 || $11 != 0) { print "fused breakdown row: " $0; bad = 1 }; rows++ }
  END { exit bad || rows != 2 }' "$fout/breakdown.csv" >"$tmp/awk" || fail "$(cat "$tmp/awk")"
grep -q "none (all fused)" "$tmp/stdout" || fail "the fused breakdown does not say it makes no CLBlast call"

expect_usage() { # DESCRIPTION ARGS...
  local p
  p=$(bad_input_problem "" "$BIN" bench "${@:2}" --out "$tmp/bad")
  [ -z "$p" ] || fail "$1: $p"
}
expect_usage "unknown model" --quick --models nosuchmodel
expect_usage "bad batch size" --quick --batch-sizes 32,zero
expect_usage "empty list item" --quick --batch-sizes 32,,64
expect_usage "unknown option" --quick --fast
expect_usage "unknown GEMM path" --quick --gemm cublas --no-epoch
expect_usage "unknown whole-net mode" --quick --whole-net maybe --no-epoch
expect_usage "bad device" --quick --device nosuchdevice --no-epoch
[ -e "$tmp/bad/bench.csv" ] && fail "bad input still wrote bench.csv"

[ $failures = 0 ] && echo "cli_bench: all checks passed"
exit $((failures > 0))
