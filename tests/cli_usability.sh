#!/usr/bin/env bash
# Issue 14 items 3-9, as a new user meets them:
#  3 one epoch numbering for people: console "best ... (epoch K)" = summary.json best_epoch
#    = the 1-based x of the per-epoch figure; epochs.csv keeps Lightning's 0-based epoch;
#  4 a sweep interrupted between two runs says so and names the exact command (with --out
#    when none was given) that continues it; that command trains only what is left;
#  5 sweep prints one line per run by default, the tables with --verbose;
#  6 data export --split all and a CSV split column (predefined splits); --val-fraction 0
#    refused by data as by train; --synth-size with a file refused;
#  8 a class absent from a split is warned about; models warns about an output width
#    that is not the 5 classes; a dropout that is 1 in float is refused;
#  9 --name and a run name without the file extension; "1 epoch"; --monitor; devices
#    never cuts a name; sweep.csv has test_acc and names the best run.
set -u
BIN=${1:?usage: cli_usability.sh path/to/cltrain}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN") # the test changes directory
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
json() { sed -n "s/^  \"$2\": \\(.*\\)$/\\1/p" "$1" | sed 's/,$//; s/"//g'; } # FILE KEY
bad() { local p; p=$(bad_input_problem "$@"); [ -z "$p" ] || fail "$*: $p"; }
TINY=(--synth-size 2000 --learning-rate 1e-3 --no-progress)

# ---- 3: epoch numbering ----
"$BIN" train jsc-tiny jsc-synth "${TINY[@]}" --max-epochs 3 --log-every-n-steps 2 --project-dir "$tmp/p3" \
  >"$tmp/out3" 2>&1 || fail "train exited $?: $(tail -2 "$tmp/out3")"
R=$(ls -d "$tmp"/p3/jsc-tiny_jsc-synth_*)
console=$(sed -n 's/.*best [0-9.]* (epoch \([0-9]*\)).*/\1/p' "$tmp/out3")
summary=$(json "$R/summary.json" best_epoch)
[ -n "$console" ] && [ "$console" = "$summary" ] || fail "console best epoch '$console', summary.json '$summary'"
grep -q '^epoch 1/3 ' "$tmp/out3" || fail "the first epoch line is not 'epoch 1/3'"
best=$(json "$R/summary.json" best_val_acc)
# best_val_acc is the largest val_acc; its first 0-based row in epochs.csv is summary - 1
row=$(awk -F, -v b="$best" 'NR > 1 && ($6 - b) < 1e-6 && (b - $6) < 1e-6 { print $1; exit }' "$R/epochs.csv")
[ "$row" = "$((summary - 1))" ] || fail "epochs.csv row of the best epoch is '$row', want $((summary - 1)) (0-based)"
[ "$(cut -d, -f1 "$R/epochs.csv" | tail -n +2 | tr '\n' ' ')" = "0 1 2 " ] || fail "epochs.csv epoch column is not 0-based"
"$BIN" plot "$R" --out "$tmp/fig3" --quiet >/dev/null 2>&1 || fail "plot exited $?"
[ "$(cut -d, -f2 "$tmp/fig3/val_acc.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 " ] ||
  fail "val_acc figure x is not 1-based: $(cat "$tmp/fig3/val_acc.csv")"

# ---- 9: "1 epoch", --name, run name without extension, --monitor ----
"$BIN" train jsc-tiny jsc-synth "${TINY[@]}" --max-epochs 1 --name my-first --project-dir "$tmp/p9" \
  >"$tmp/out9" 2>&1 || fail "train --name exited $?"
grep -q 'after 1 epoch (' "$tmp/out9" || fail "'after 1 epoch' expected: $(tail -1 "$tmp/out9")"
ls -d "$tmp"/p9/my-first_2* >/dev/null 2>&1 || fail "--name: no run directory my-first_<time>: $(ls "$tmp/p9")"
bad "--name" "$BIN" train jsc-tiny jsc-synth --name a/b
bad "--monitor" "$BIN" train jsc-tiny jsc-synth --monitor accuracy
"$BIN" data export jsc-synth --synth-size 2000 --split all --raw --out "$tmp/mine.csv" 2>/dev/null ||
  fail "data export --split all exited $?"
"$BIN" train jsc-tiny "$tmp/mine.csv" --learning-rate 1e-3 --no-progress --max-epochs 1 --quiet \
  --project-dir "$tmp/p9" >/dev/null 2>&1 || fail "train on a CSV exited $?"
ls -d "$tmp"/p9/jsc-tiny_mine_2* >/dev/null 2>&1 || fail "run name keeps the extension: $(ls "$tmp/p9")"
# --monitor val_loss: best.ckpt is the epoch of the lowest validation loss, and early
# stopping counts epochs without a lower one (lr 1e-2 makes the loss go up and down).
"$BIN" train jsc-tiny jsc-synth --synth-size 2000 --learning-rate 0.5 --scheduler none --no-progress \
  --max-epochs 6 --monitor val_loss --project-dir "$tmp/pm" >"$tmp/outm" 2>&1 || fail "--monitor val_loss exited $?"
M=$(ls -d "$tmp"/pm/*)
lowest=$(awk -F, 'NR > 1 && (min == "" || $5 < min) { min = $5; e = $1 } END { print e + 1 }' "$M/epochs.csv")
[ "$(json "$M/summary.json" best_epoch)" = "$lowest" ] ||
  fail "--monitor val_loss: best_epoch $(json "$M/summary.json" best_epoch), lowest val_loss in epoch $lowest"
"$BIN" train jsc-tiny jsc-synth --synth-size 2000 --learning-rate 1e-3 --no-progress --max-epochs 50 \
  --early-stopping 1 --monitor val_acc --project-dir "$tmp/pe" >"$tmp/oute" 2>&1
grep -q 'early stopping: val_acc did not improve for 1 epoch$' "$tmp/oute" ||
  fail "early stopping should name the monitor: $(grep -i early "$tmp/oute")"
E=$(ls -d "$tmp"/pe/*)
n=$(($(wc -l <"$E/epochs.csv") - 1))
# It stopped at the first epoch whose val_acc was not above the best before it.
awk -F, -v n="$n" 'NR > 1 { e = $1 + 0; if (e > 0 && $6 <= best) { exit !(e + 1 == n) } if (e == 0 || $6 > best) best = $6 }
  END { }' "$E/epochs.csv" || fail "early stopping on val_acc stopped after $n epochs: $(cat "$E/epochs.csv")"
# devices: the name column holds whole names
"$BIN" devices >"$tmp/dev" 2>&1 || fail "devices exited $?"
"$BIN" devices --json | sed -n 's/.*"name": "\([^"]*\)".*/\1/p' | while read -r name; do
  grep -qF -- "$name" "$tmp/dev" || echo "devices cuts '$name'"
done | grep -q . && fail "devices cut a name: $(cat "$tmp/dev")"

# ---- 8: warnings and a float dropout of 1 ----
head -9 "$tmp/mine.csv" | cut -d, -f1-17 >"$tmp/eight.csv"  # 8 rows, no split column
"$BIN" train jsc-tiny "$tmp/eight.csv" --batch-size 2 --max-epochs 1 --no-progress --quiet --val-fraction 0.2 \
  --project-dir "$tmp/p8" >/dev/null 2>"$tmp/err8"
grep -q "warning: the validation split of eight.csv ([0-9]* rows) has no row of class" "$tmp/err8" ||
  fail "no warning about classes absent from the validation split: $(cat "$tmp/err8")"
printf 'input 16\nlinear 4\n' >"$tmp/four.model"
"$BIN" models "$tmp/four.model" >/dev/null 2>"$tmp/err8m" || fail "models four.model exited $?"
grep -q "output width is 4 but the dataset has 5 classes" "$tmp/err8m" ||
  fail "models does not warn about the output width: $(cat "$tmp/err8m")"
printf 'input 16\ndropout 0.999999999\nlinear 5\n' >"$tmp/one.model"
bad "one.model:2: 'dropout' probability '0.999999999' is 1 in single precision" "$BIN" models "$tmp/one.model"
printf 'input 16\ndropout 0.99999988\nlinear 5\n' >"$tmp/almost.model"
"$BIN" models "$tmp/almost.model" | grep -q 'dropout 0.9999999 ' || fail "dropout 0.99999988 (float) not printed as 0.9999999"

# ---- 6: data ----
[ "$(($(wc -l <"$tmp/mine.csv") - 1))" = 2000 ] || fail "--split all should write 2000 rows"
head -1 "$tmp/mine.csv" | grep -q ',label,split$' || fail "--split all has no split column"
for s in train val test; do
  "$BIN" data export jsc-synth --synth-size 2000 --split $s --raw --out "$tmp/a_$s.csv" 2>/dev/null
  "$BIN" data export "$tmp/mine.csv" --split $s --raw --out "$tmp/b_$s.csv" 2>/dev/null
  # The same rows in the same order (labels), values equal to float rounding.
  [ "$(cut -d, -f17 "$tmp/a_$s.csv")" = "$(cut -d, -f17 "$tmp/b_$s.csv")" ] ||
    fail "split $s of the file with a split column differs from the original's"
  paste -d, "$tmp/a_$s.csv" "$tmp/b_$s.csv" | awk -F, 'NR > 1 { for (j = 1; j <= 16; j++) { d = $j - $(j + 17); if (d < 0) d = -d; a = $j < 0 ? -$j : $j; if (d > 1e-5 * (a + 1)) { print "row " NR " col " j; exit 1 } } }' ||
    fail "split $s values differ beyond float rounding"
done
"$BIN" data info "$tmp/mine.csv" --split-seed 7 >/dev/null 2>"$tmp/err6" || fail "data info of the split file exited $?"
grep -q 'split column decides the splits' "$tmp/err6" || echo "note: warning only on an uncached load" >/dev/null
printf '%s\n' "$(head -1 "$tmp/mine.csv")" "$(sed -n 2p "$tmp/mine.csv" | sed 's/,train$/,dev/')" >"$tmp/badsplit.csv"
bad "split 'dev' is not train, val or test" "$BIN" data info "$tmp/badsplit.csv"
bad "--val-fraction: '0' is not a number in (0, 0.9]" "$BIN" data info jsc-synth --val-fraction 0
bad "--val-fraction: '0' is not a number in (0, 0.9]" "$BIN" train jsc-tiny jsc-synth --val-fraction 0
bad "--synth-size and --synth-seed apply to DATASET jsc-synth only" "$BIN" data info "$tmp/mine.csv" --synth-size 500
bad "--synth-size and --synth-seed apply to DATASET jsc-synth only" \
  "$BIN" train jsc-tiny "$tmp/mine.csv" --synth-size 500 --project-dir "$tmp/p6"
bad "--split: 'every' is not train, val, test or all" "$BIN" data export jsc-synth --split every --out -

# ---- 5 and 4: sweep output, interruption between runs ----
cd "$tmp" || exit 1
"$BIN" sweep jsc-tiny jsc-synth "${TINY[@]}" --max-epochs 1 --vary batch-size=64,128,256 --project-dir sw \
  >"$tmp/out5" 2>"$tmp/err5" || fail "sweep exited $?: $(cat "$tmp/err5")"
grep -q 'effective' "$tmp/out5" && fail "sweep printed a configuration table by default"
[ "$(grep -c '^sweep: run [0-9] of 3' "$tmp/out5")" = 3 ] || fail "sweep: one line per run expected: $(cat "$tmp/out5")"
[ "$(wc -l <"$tmp/out5")" -le 10 ] || fail "sweep printed $(wc -l <"$tmp/out5") lines for 3 runs"
S=$(ls -d sw/sweep_*)
head -1 "$S/sweep.csv" | grep -q ',test_acc,.*,best$' || fail "sweep.csv header: $(head -1 "$S/sweep.csv")"
[ "$(awk -F, 'NR > 1 && $NF == 1' "$S/sweep.csv" | wc -l)" = 1 ] || fail "sweep.csv should mark one best run"
top=$(awk -F, 'NR > 1 { print $4 }' "$S/sweep.csv" | sort -g | tail -1)
[ "$(awk -F, 'NR > 1 && $NF == 1 { print $4 }' "$S/sweep.csv")" = "$top" ] || fail "best is not the highest best_val_acc"
awk -F, 'NR > 1 && $5 !~ /^0\.[0-9]/ { exit 1 }' "$S/sweep.csv" || fail "sweep.csv test_acc missing"
"$BIN" sweep jsc-tiny jsc-synth "${TINY[@]}" --max-epochs 1 --vary batch-size=64 --verbose --out "$tmp/swv" \
  >"$tmp/out5v" 2>&1 || fail "sweep --verbose exited $?"
grep -q 'effective' "$tmp/out5v" || fail "sweep --verbose shows no configuration table"
bad "--verbose and --quiet" "$BIN" sweep jsc-tiny jsc-synth --vary batch-size=64 --verbose --quiet

CLTRAIN_TEST_SIGNAL_BEFORE_RUN=2 "$BIN" sweep jsc-tiny jsc-synth "${TINY[@]}" --max-epochs 1 \
  --vary batch-size=64,128 --project-dir si >"$tmp/out4" 2>"$tmp/err4"
rc=$?
[ $rc -eq 130 ] || fail "sweep interrupted between runs exited $rc, want 130"
grep -q '^cltrain: sweep: interrupted by SIGINT; 1 of 2 runs done; to continue where it left off, run: cltrain sweep .* --out si/sweep_' \
  "$tmp/err4" || fail "interrupt message: $(cat "$tmp/err4")"
[ "$(wc -l <"$tmp/err4")" = 1 ] || fail "interrupt: one stderr line expected: $(cat "$tmp/err4")"
again=$(sed -n 's/.*run: cltrain //p' "$tmp/err4")
eval "\"\$BIN\" $again" >"$tmp/out4b" 2>&1 || fail "the printed command exited $?: $again"
grep -q 'run 1 of 2 .*already in' "$tmp/out4b" && grep -q '^sweep: run 2 of 2' "$tmp/out4b" ||
  fail "the printed command should skip run 1 and train run 2: $(cat "$tmp/out4b")"
[ "$(ls -d si/sweep_* | wc -l)" = 1 ] || fail "the printed command made another sweep directory"

[ $failures -eq 0 ] && echo "cli_usability: all checks passed"
exit $((failures > 0))
