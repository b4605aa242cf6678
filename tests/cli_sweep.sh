#!/usr/bin/env bash
# cltrain sweep end to end on a tiny jsc-synth:
#  - a two-run batch-size sweep writes two run directories, sweep.csv in the format
#    plot_sweep reads (values and results match each run's summary.json) and valid
#    PNG/SVG figures, time_vs_batch included;
#  - re-running it with the same --out trains nothing (each run reported as skipped, no
#    run file rewritten); extending the list trains only the new value;
#  - an interrupted sweep (SIGINT inside its first run) exits 130 and, run again,
#    continues that run from its last.ckpt instead of starting over;
#  - a two-option grid makes every combination in nested-loop order;
#  - a point that fails (batch larger than its training split) is recorded as failed
#    in sweep.csv and its summary.json with the error, the other points run, exit 1;
#    --fail-fast stops at it;
#  - bad --vary input exits 2 with one line on stderr and creates nothing.
set -u
BIN=${1:?usage: cli_sweep.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
is_svg() { [ -s "$1" ] && grep -q '<svg' "$1" && grep -q '</svg>' "$1"; }
json() { sed -n "s/^  \"$2\": \\(.*\\)$/\\1/p" "$1" | sed 's/,$//; s/"//g'; } # FILE KEY
# 2000 jets: 1440 training rows, 160 validation rows.
TINY=(jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --learning-rate 1e-3 --log-every-n-steps 5 --no-progress)

# ---- a two-run sweep ----
S="$tmp/s one"
"$BIN" sweep "${TINY[@]}" --vary batch-size=64,256 --out "$S" >"$tmp/out1" 2>"$tmp/err1"
rc=$?
[ $rc -eq 0 ] || fail "sweep exited $rc: $(cat "$tmp/err1")"
[ "$(ls -d "$S"/jsc-tiny_jsc-synth_* 2>/dev/null | wc -l)" = 2 ] || fail "expected 2 run directories in $S"
head -1 "$S/sweep.csv" | grep -qx 'run_dir,batch_size,final_val_acc,best_val_acc,test_acc,train_s,samples_per_s,status,error,best' ||
  fail "sweep.csv header: $(head -1 "$S/sweep.csv")"
[ "$(tail -n +2 "$S/sweep.csv" | wc -l)" = 2 ] || fail "sweep.csv should have 2 rows"
for want in 64 256; do
  row=$(awk -F, -v b=$want 'NR > 1 && $2 == b' "$S/sweep.csv")
  [ -n "$row" ] || { fail "no sweep.csv row for batch $want"; continue; }
  dir="$S/$(echo "$row" | cut -d, -f1)"
  [ -f "$dir/summary.json" ] || { fail "row of batch $want names $dir, which has no summary.json"; continue; }
  [ "$(json "$dir/summary.json" batch_size)" = $want ] || fail "run of row $want has batch $(json "$dir/summary.json" batch_size)"
  [ "$(json "$dir/summary.json" status)" = finished ] || fail "run of batch $want not finished"
  best=$(json "$dir/summary.json" best_val_acc)
  awk -v a="$(echo "$row" | cut -d, -f4)" -v b="$best" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }' ||
    fail "batch $want: best_val_acc $(echo "$row" | cut -d, -f4) in sweep.csv, $best in summary.json"
done
for fig in train_acc train_loss val_acc val_loss time_vs_batch; do
  is_png "$S/$fig.png" || fail "$fig.png missing or not a PNG"
  is_svg "$S/$fig.svg" || fail "$fig.svg missing or not an SVG"
done
grep -q 'batch 256' "$S/train_acc.csv" || fail "train_acc figure not labelled by batch size"

# ---- re-running skips finished runs ----
touch -d '2000-01-01' "$S"/jsc-tiny_jsc-synth_*/metrics.csv "$S"/jsc-tiny_jsc-synth_*/last.ckpt
"$BIN" sweep "${TINY[@]}" --vary batch-size=64,256 --out "$S" >"$tmp/out2" 2>"$tmp/err2" ||
  fail "re-run exited $?: $(cat "$tmp/err2")"
[ "$(grep -c 'skipped' "$tmp/out2")" = 2 ] || fail "re-run should skip 2 runs: $(cat "$tmp/out2")"
[ "$(ls -d "$S"/jsc-tiny_jsc-synth_* | wc -l)" = 2 ] || fail "re-run made new run directories"
[ -z "$(find "$S" -name metrics.csv -newermt '2001-01-01')" ] || fail "re-run rewrote a finished run"
# A new value: only it is trained.
"$BIN" sweep "${TINY[@]}" --vary batch-size=64,128,256 --out "$S" >"$tmp/out3" 2>"$tmp/err3" ||
  fail "extended sweep exited $?: $(cat "$tmp/err3")"
[ "$(grep -c 'skipped' "$tmp/out3")" = 2 ] || fail "extended sweep should skip 2 runs"
[ "$(ls -d "$S"/jsc-tiny_jsc-synth_* | wc -l)" = 3 ] || fail "extended sweep should add one run"
[ "$(tail -n +2 "$S/sweep.csv" | cut -d, -f2 | tr '\n' ' ')" = "64 128 256 " ] || fail "rows not in grid order"

# ---- interrupted, then continued ----
I="$tmp/interrupted"
CLTRAIN_TEST_SIGNAL_AT_STEP=7 "$BIN" sweep "${TINY[@]}" --max-epochs 2 --vary batch-size=64,128 --out "$I" \
  >"$tmp/out4" 2>"$tmp/err4"
rc=$?
[ $rc -eq 130 ] || fail "interrupted sweep exited $rc, want 130"
grep -q "run: cltrain sweep .* --out $I" "$tmp/err4" || fail "no hint how to continue: $(cat "$tmp/err4")"
first=$(ls -d "$I"/jsc-tiny_jsc-synth_* | head -1)
[ "$(json "$first/summary.json" status)" = interrupted ] || fail "first run not marked interrupted"
"$BIN" sweep "${TINY[@]}" --max-epochs 2 --vary batch-size=64,128 --out "$I" >"$tmp/out5" 2>"$tmp/err5" ||
  fail "continued sweep exited $?: $(cat "$tmp/err5")"
grep -q "continuing $first" "$tmp/out5" || fail "the interrupted run was not continued: $(grep run "$tmp/out5")"
[ "$(ls -d "$I"/jsc-tiny_jsc-synth_* | wc -l)" = 2 ] || fail "continuing made an extra run directory"
[ "$(json "$first/summary.json" status)" = finished ] || fail "continued run not finished"
# The continued run logged each step once: steps strictly increase.
awk -F, 'NR > 2 && $1 <= prev { bad = 1 } NR > 1 { prev = $1 } END { exit bad }' "$first/metrics.csv" ||
  fail "continued run has repeated metrics rows"

# ---- a grid ----
G="$tmp/grid"
"$BIN" sweep "${TINY[@]}" --vary lr=1e-3,1e-2 --vary optimizer=adam,sgd --out "$G" --no-plot >"$tmp/out6" 2>&1 ||
  fail "grid sweep exited $?: $(cat "$tmp/out6")"
head -1 "$G/sweep.csv" | grep -q '^run_dir,learning_rate,optimizer,' || fail "grid header: $(head -1 "$G/sweep.csv")"
[ "$(tail -n +2 "$G/sweep.csv" | cut -d, -f2,3 | tr '\n' ' ')" = "1e-3,adam 1e-3,sgd 1e-2,adam 1e-2,sgd " ] ||
  fail "grid order: $(tail -n +2 "$G/sweep.csv" | cut -d, -f2,3 | tr '\n' ' ')"
ls "$G"/*.png >/dev/null 2>&1 && fail "--no-plot drew figures"

# ---- a failed point is recorded, the others run; --fail-fast stops ----
F="$tmp/failing"
"$BIN" sweep "${TINY[@]}" --vary batch-size=5000,64 --out "$F" --no-plot >"$tmp/out7" 2>"$tmp/err7"
rc=$?
[ $rc -eq 1 ] || fail "sweep with a failing point exited $rc, want 1"
[ "$(grep -c 'cltrain: error:' "$tmp/err7")" = 1 ] || fail "want one error line: $(cat "$tmp/err7")"
grep -q 'larger than the training split' "$tmp/err7" || fail "the error does not name the problem: $(cat "$tmp/err7")"
row() { awk -F, -v b="$2" 'NR > 1 && $2 == b' "$1"; } # SWEEP_CSV BATCH
[ "$(tail -n +2 "$F/sweep.csv" | wc -l)" = 2 ] || fail "sweep.csv should list the failed and the finished run"
echo "$(row "$F/sweep.csv" 5000)" | grep -q ',failed,.*larger than the training split' ||
  fail "failed row: $(row "$F/sweep.csv" 5000)"
echo "$(row "$F/sweep.csv" 64)" | grep -q ',finished,,[01]$' || fail "the other point did not finish: $(row "$F/sweep.csv" 64)"
fdir="$F/$(row "$F/sweep.csv" 5000 | cut -d, -f1)"
[ "$(json "$fdir/summary.json" status)" = failed ] || fail "failed run's summary.json: $(cat "$fdir/summary.json")"
json "$fdir/summary.json" error | grep -q 'larger than the training split' || fail "summary.json lacks the error"
# --fail-fast: the first point fails, the second never starts.
FF="$tmp/failfast"
"$BIN" sweep "${TINY[@]}" --vary batch-size=5000,64 --out "$FF" --no-plot --fail-fast >"$tmp/out8" 2>"$tmp/err8"
rc=$?
[ $rc -eq 1 ] || fail "--fail-fast sweep exited $rc, want 1"
[ "$(tail -n +2 "$FF/sweep.csv" | wc -l)" = 1 ] || fail "--fail-fast went on: $(cat "$FF/sweep.csv")"
grep -q 'fail-fast' "$tmp/err8" || fail "--fail-fast does not say it stopped: $(cat "$tmp/err8")"
[ "$(ls -d "$FF"/jsc-tiny_jsc-synth_* | wc -l)" = 1 ] || fail "--fail-fast trained the second point"

# ---- bad input: exit 2, one line, nothing created ----
bad() { # EXPECTED-TEXT ARGS...
  local p
  p=$(bad_input_problem "$1" "$BIN" sweep "${@:2}")
  [ -z "$p" ] || fail "sweep ${*:2}: $p"
}
P=(--project-dir "$tmp/badruns")
bad "needs at least one --vary" "${TINY[@]}" "${P[@]}"
bad "NAME=V1,V2" "${TINY[@]}" "${P[@]}" --vary batch-size
bad "unknown training option 'colour'" "${TINY[@]}" "${P[@]}" --vary colour=1,2
bad "'abc' is not an integer" "${TINY[@]}" "${P[@]}" --vary batch-size=64,abc
bad "listed twice" "${TINY[@]}" "${P[@]}" --vary lr=1e-3,0.001
bad "varied twice" "${TINY[@]}" "${P[@]}" --vary lr=1e-3 --vary learning-rate=1e-2
bad "cannot be varied" "${TINY[@]}" "${P[@]}" --vary project-dir=a,b
bad "not-a-model" "${TINY[@]}" "${P[@]}" --vary model=jsc-tiny,not-a-model
bad "no-such-device" "${TINY[@]}" "${P[@]}" --vary device=no-such-device
bad "needs a value" "${TINY[@]}" "${P[@]}" --vary
bad "unknown option" "${TINY[@]}" "${P[@]}" --vary seed=1,2 --frobnicate
bad "needs MODEL and DATASET" --vary seed=1,2
[ ! -e "$tmp/badruns" ] || fail "bad input created $(ls -R "$tmp/badruns" | head -3)"

"$BIN" sweep --help | grep -q -- '--vary NAME=V1,V2' || fail "sweep --help lacks --vary"

if [ $failures -ne 0 ]; then
  echo "cli_sweep: $failures failures" >&2
  exit 1
fi
echo "cli_sweep: all checks passed"
