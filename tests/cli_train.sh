#!/bin/bash
# cltrain train / test end to end on a small jsc-synth:
#  - a run writes config.txt, metrics.csv, epochs.csv, summary.json, best.ckpt, last.ckpt with
#    the exact headers, one metrics row every --log-every-n-steps steps, increasing steps;
#  - a run interrupted by SIGINT mid-epoch (and one by SIGTERM at an epoch's last step) and
#    then resumed ends with the same metrics as the uninterrupted run (val loss/acc and
#    every logged step identical; epoch train loss within 1e-6), without duplicated rows;
#  - `test` reproduces the run's test accuracy and best validation accuracy, writes
#    confusion.csv and updates summary.json;
#  - truncated, corrupted and other-model checkpoints are refused (exit 2, one line).
set -u
BIN=$1
. "$(dirname "$0")/bad_input.sh"
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 4000 jets: 2880 train rows = 45 steps of 64 per epoch, 320 val, 800 test rows.
# --gemm clblast, not the default (fused on a CPU): a resumed run must keep the stored path
# to end bit-identical to the uninterrupted one.
COMMON=(jsc-tiny jsc-synth --synth-size 4000 --max-epochs 3 --batch-size 64 --learning-rate 1e-2
        --log-every-n-steps 10 --no-progress --gemm clblast)
STEPS_PER_EPOCH=45

run_dir() { ls -d "$1"/jsc-tiny_jsc-synth_* 2>/dev/null | head -1; }
col() { awk -F, -v c="$2" 'NR > 1 {print $c}' "$1"; }        # FILE COLUMN -> values
json() { sed -n "s/^  \"$2\": \\(.*\\)$/\\1/p" "$1" | sed 's/,$//; s/"//g'; }  # FILE KEY

# ---- an uninterrupted run ----
"$BIN" train "${COMMON[@]}" --project-dir "$tmp/a" > "$tmp/a.out" 2> "$tmp/a.err"; rc=$?
check '[ $rc -eq 0 ]' "uninterrupted run exit $rc: $(cat "$tmp/a.err")"
A=$(run_dir "$tmp/a")
check '[ -n "$A" ]' "no run directory under $tmp/a"
for f in config.txt metrics.csv epochs.csv summary.json best.ckpt last.ckpt; do
  check '[ -s "$A/$f" ]' "run file $f missing"
done
check '[ "$(head -1 "$A/metrics.csv")" = "step,epoch,train_loss,train_acc,lr,elapsed_s" ]' "metrics.csv header"
check '[ "$(head -1 "$A/epochs.csv")" = "epoch,step,train_loss,train_acc,val_loss,val_acc,lr,epoch_s,samples_per_s" ]' \
  "epochs.csv header"
check '[ "$(col "$A/epochs.csv" 1 | tr "\n" " ")" = "0 1 2 " ]' "epochs.csv epochs: $(col "$A/epochs.csv" 1 | tr "\n" " ")"
check '[ "$(col "$A/epochs.csv" 2 | tr "\n" " ")" = "45 90 135 " ]' "epochs.csv steps"
total=$((3 * STEPS_PER_EPOCH))
check '[ $(col "$A/metrics.csv" 1 | wc -l) -eq $((total / 10)) ]' "metrics.csv rows: $(col "$A/metrics.csv" 1 | wc -l)"
check 'col "$A/metrics.csv" 1 | awk "{ if (\$1 != NR * 10) bad = 1 } END { exit bad }"' "metrics.csv steps not 10, 20, ..."
check 'col "$A/metrics.csv" 2 | awk "{ if (\$1 < prev) bad = 1; prev = \$1 } END { exit bad }"' "metrics epochs decrease"
check 'awk -F, "NR > 1 && (\$3 <= 0 || \$4 < 0 || \$4 > 1 || \$5 <= 0) { bad = 1 } END { exit bad }" "$A/metrics.csv"' \
  "metrics.csv values out of range"
# lr: cosine per epoch from 1e-2 (epoch 0), eta_min 1e-6, T_max 3
check '[ "$(col "$A/epochs.csv" 7 | tr "\n" " ")" = "0.01 0.00750025 0.00250075 " ]' "cosine lr: $(col "$A/epochs.csv" 7 | tr "\n" " ")"
check 'grep -Eq "^batch-size +128 +64 +64$" "$A/config.txt"' "config.txt batch-size row"
check 'grep -Eq "^option +default +override +effective$" "$A/config.txt"' "config.txt header"
check 'grep -Eq "^gemm +auto +clblast +clblast$" "$A/config.txt"' "config.txt gemm row"
check '[ "$(json "$A/summary.json" status)" = finished ] && [ "$(json "$A/summary.json" epochs_run)" = 3 ] &&
       [ "$(json "$A/summary.json" params)" = 117 ] && [ "$(json "$A/summary.json" steps)" = 135 ]' "summary.json fields"
final_val=$(col "$A/epochs.csv" 6 | tail -1)
check '[ "$(json "$A/summary.json" final_val_acc)" = "$final_val" ]' "summary final_val_acc != last epoch row"
check 'awk -v a="$final_val" "BEGIN { exit !(a > 0.3) }"' "jsc-tiny learned nothing: val_acc $final_val"
check 'grep -q "^run .*: finished after 3 epochs" "$tmp/a.out"' "final line"
check 'grep -Eq "^ +2 +5 +linear +16->5 +85 +117$" "$tmp/a.out"' "model summary printed"

# ---- SIGINT in the middle of epoch 1, then --resume ----
CLTRAIN_TEST_SIGNAL_AT_STEP=62 "$BIN" train "${COMMON[@]}" --project-dir "$tmp/b" > "$tmp/b.out" 2> "$tmp/b.err"; rc=$?
check '[ $rc -eq 130 ]' "SIGINT run exit $rc, want 130: $(cat "$tmp/b.err")"
B=$(run_dir "$tmp/b")
check 'grep -q "interrupted by SIGINT at step 62" "$tmp/b.err"' "interrupt message: $(cat "$tmp/b.err")"
check '[ "$(json "$B/summary.json" status)" = interrupted ]' "summary status after SIGINT"
check '[ $(col "$B/metrics.csv" 1 | tail -1) -eq 60 ] && [ $(col "$B/epochs.csv" 1 | wc -l) -eq 1 ]' "rows at interruption"
"$BIN" train --resume "$B/last.ckpt" --no-progress > "$tmp/b2.out" 2> "$tmp/b2.err"; rc=$?
check '[ $rc -eq 0 ]' "resume exit $rc: $(cat "$tmp/b2.err")"
check '[ $(ls -d "$tmp"/b/*/ | wc -l) -eq 1 ]' "resume made a new run directory"

# ---- SIGTERM right after the last step of epoch 1, then --resume ----
CLTRAIN_TEST_SIGNAL_AT_STEP=90:TERM "$BIN" train "${COMMON[@]}" --project-dir "$tmp/c" > /dev/null 2> "$tmp/c.err"; rc=$?
check '[ $rc -eq 143 ]' "SIGTERM run exit $rc, want 143: $(cat "$tmp/c.err")"
C=$(run_dir "$tmp/c")
"$BIN" train jsc-tiny jsc-synth --resume "$C/last.ckpt" --quiet > "$tmp/c2.out" 2> "$tmp/c2.err"; rc=$?
check '[ $rc -eq 0 ]' "resume after SIGTERM exit $rc: $(cat "$tmp/c2.err")"
check '[ $(wc -l < "$tmp/c2.out") -eq 1 ]' "--quiet prints one line: $(cat "$tmp/c2.out")"

# Interrupted + resumed == uninterrupted: same steps, same per-step values, same val metrics.
for R in "$B" "$C"; do
  check 'diff <(cut -d, -f1-5 "$A/metrics.csv") <(cut -d, -f1-5 "$R/metrics.csv") > /dev/null' \
    "metrics.csv of $R differs from the uninterrupted run"
  check 'diff <(cut -d, -f1,2,5,6,7 "$A/epochs.csv") <(cut -d, -f1,2,5,6,7 "$R/epochs.csv") > /dev/null' \
    "epochs.csv val columns of $R differ"
  check 'paste -d, <(col "$A/epochs.csv" 3) <(col "$R/epochs.csv" 3) <(col "$A/epochs.csv" 4) <(col "$R/epochs.csv" 4) |
         awk -F, "{ d = \$1 - \$2; e = \$3 - \$4; if (d > 1e-6 || d < -1e-6 || e > 1e-6 || e < -1e-6) bad = 1 } END { exit bad }"' \
    "epoch train loss/acc of $R differ by more than 1e-6"
  for k in final_val_acc final_val_loss best_val_acc test_acc test_loss steps epochs_run status; do
    check '[ "$(json "$A/summary.json" $k)" = "$(json "$R/summary.json" $k)" ]' \
      "summary $k: $(json "$A/summary.json" $k) vs $(json "$R/summary.json" $k) ($R)"
  done
done

# ---- test reproduces what the run reported ----
out=$("$BIN" test jsc-tiny jsc-synth --load "$A/last.ckpt" --quiet 2> "$tmp/t.err"); rc=$?
check '[ $rc -eq 0 ]' "test exit $rc: $(cat "$tmp/t.err")"
got=$(echo "$out" | awk '{print $2}')
want=$(json "$A/summary.json" test_acc)
check 'awk -v a="$got" -v b="$want" "BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }"' "test_acc $got, run reported $want"
out=$("$BIN" test jsc-tiny jsc-synth --load "$A/best.ckpt" --split val --quiet 2>&1); rc=$?
got=$(echo "$out" | awk '{print $2}')
want=$(json "$A/summary.json" best_val_acc)
check 'awk -v a="$got" -v b="$want" "BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }"' "best val_acc $got, run reported $want"
out=$("$BIN" test jsc-tiny jsc-synth --load "$A/best.ckpt" 2>&1); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "confusion matrix" && echo "$out" | grep -Eq "^W +[0-9]+ +[0-9]+ +0\.[0-9]+$"' \
  "test report: $out"
check '[ "$(head -1 "$A/confusion.csv")" = "class,g,q,W,Z,t" ]' "confusion.csv header"
check '[ "$(col "$A/confusion.csv" 1 | tr "\n" " ")" = "g q W Z t " ]' "confusion.csv rows"
check '[ $(awk -F, "NR > 1 { for (i = 2; i <= 6; i++) s += \$i } END { print s }" "$A/confusion.csv") -eq 800 ]' \
  "confusion.csv does not count the 800 test rows"
check '[ "$(json "$A/summary.json" test_checkpoint)" = best.ckpt ]' "summary.json test_checkpoint not updated"

# ---- early stopping (--monitor val_loss): stops exactly when the validation loss failed to improve for N epochs ----
"$BIN" train jsc-tiny jsc-synth --synth-size 4000 --max-epochs 8 --batch-size 64 --learning-rate 0.05 \
  --early-stopping 1 --monitor val_loss --quiet --project-dir "$tmp/e" > /dev/null 2> "$tmp/e.err"; rc=$?
E=$(ls -d "$tmp"/e/*)
check '[ $rc -eq 0 ] && [ "$(json "$E/summary.json" status)" = early-stopped ]' "early stopping: exit $rc, status $(json "$E/summary.json" status)"
# Reference: the first epoch whose val_loss is not below every earlier one ends the run.
want=$(col "$E/epochs.csv" 5 | awk 'NR == 1 || $1 < best { best = $1; next } { print NR; exit }')
check '[ -n "$want" ] && [ "$(col "$E/epochs.csv" 1 | wc -l)" = "$want" ] && [ "$(json "$E/summary.json" epochs_run)" = "$want" ]' \
  "early stopping after $(col "$E/epochs.csv" 1 | wc -l) epochs, reference $want"

# ---- divergence: NaN stops the run, last.ckpt is kept as it was ----
printf 'input 16\nlinear 64\nlinear 64\nlinear 5\n' > "$tmp/lin.model"
"$BIN" train "$tmp/lin.model" jsc-synth --synth-size 4000 --max-epochs 1 --batch-size 64 --optimizer sgd \
  --learning-rate 1e-3 --log-every-n-steps 10 --quiet --project-dir "$tmp/d" > /dev/null 2>&1
D=$(ls -d "$tmp"/d/*)
cp "$D/last.ckpt" "$tmp/good.ckpt"
"$BIN" train --resume "$D/last.ckpt" --max-epochs 2 --learning-rate 10 --quiet > /dev/null 2> "$tmp/d.err"; rc=$?
check '[ $rc -eq 1 ]' "diverging run exit $rc, want 1"
check 'grep -q "training diverged: the training loss is nan at step [0-9]* (epoch 2 of 2); stopped, keeping the last good checkpoint $D/last.ckpt (after epoch 1, step 45)" "$tmp/d.err"' \
  "divergence message: $(cat "$tmp/d.err")"
check 'cmp -s "$D/last.ckpt" "$tmp/good.ckpt"' "last.ckpt changed by a diverged run"
check '[ "$(json "$D/summary.json" status)" = diverged ] && [ $(col "$D/epochs.csv" 1 | wc -l) -eq 1 ]' "diverged run logs"

# ---- refused checkpoints ----
expect_usage() { # needle, then the command
  local p
  p=$(bad_input_problem "$1" "$BIN" "${@:2}")
  check '[ -z "$p" ]' "'${*:2}': $p"
}
size=$(wc -c < "$A/last.ckpt")
head -c $((size - 100)) "$A/last.ckpt" > "$tmp/trunc.ckpt"
expect_usage "truncated" train --resume "$tmp/trunc.ckpt"
expect_usage "truncated" test jsc-tiny jsc-synth --load "$tmp/trunc.ckpt"
cp "$A/last.ckpt" "$tmp/corrupt.ckpt"
printf '\x7f' | dd of="$tmp/corrupt.ckpt" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
expect_usage "corrupted (checksum mismatch)" test jsc-tiny jsc-synth --load "$tmp/corrupt.ckpt" --synth-size 4000
expect_usage "corrupted (checksum mismatch)" train --resume "$tmp/corrupt.ckpt"
expect_usage "holds model 'jsc-tiny' (117 parameters), not 'jsc-toy' (327 parameters)" \
  test jsc-toy jsc-synth --load "$A/last.ckpt"
expect_usage "holds model 'jsc-tiny' (117 parameters), not 'jsc-toy' (327 parameters)" \
  train jsc-toy jsc-synth --synth-size 4000 --load "$A/last.ckpt" --project-dir "$tmp/x"
expect_usage "not a cltrain checkpoint" test jsc-tiny jsc-synth --load "$A/config.txt"
expect_usage "cannot continue with '32'" train --resume "$A/last.ckpt" --batch-size 32
check '[ ! -e "$tmp/x" ]' "a refused run left a project directory"
exit $fail
