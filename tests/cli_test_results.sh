#!/usr/bin/env bash
# cltrain test never overwrites the results of the run it tests unless it evaluated that
# run's own test split (issue 14 items 1-2):
#  - `test --load CKPT` alone uses the checkpoint's model and data set and, on the run's
#    own test split, writes confusion.csv and updates summary.json (test_acc equal to the
#    printed accuracy; confusion counts = the test rows);
#  - any other evaluation (another file, --synth-size different from the run's, --split
#    val/train/all) leaves summary.json and confusion.csv byte for byte as they were and
#    writes test-KEY.json / confusion-KEY.csv / roc-KEY.csv, KEY naming data set, split
#    and rows; a different --synth-size warns that its rows may overlap the training rows;
#  - --split all evaluates every row of a file: its accuracy counts the same correct rows
#    as `cltrain predict` on that file (an independent path: no data set, no split), and
#    the sum of the file's train/val/test evaluations (±2 rows for float near-ties);
#  - bad input: one positional, an unknown split, a file without labels with --split all.
set -u
BIN=${1:?usage: cli_test_results.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
json() { sed -n "s/^  \"$2\": \\(.*\\)$/\\1/p" "$1" | sed 's/,$//; s/"//g'; } # FILE KEY
bad() { local p; p=$(bad_input_problem "$@"); [ -z "$p" ] || fail "$*: $p"; }
csum() { awk -F, 'NR > 1 { for (i = 2; i <= 6; i++) s += $i } END { print s + 0 }' "$1"; } # confusion total

"$BIN" train jsc-tiny jsc-synth --synth-size 2000 --max-epochs 2 --learning-rate 1e-3 --quiet \
  --project-dir "$tmp/runs" >/dev/null 2>&1 || fail "train exited $?"
A=$(ls -d "$tmp"/runs/jsc-tiny_jsc-synth_*)
CK="$A/best.ckpt"

# ---- the run's own test split, from --load alone ----
"$BIN" test --load "$CK" >"$tmp/own.out" 2>"$tmp/own.err" || fail "test --load alone exited $?: $(cat "$tmp/own.err")"
acc=$(sed -n 's/^loss [0-9.]*  accuracy \([0-9.]*\) .*/\1/p' "$tmp/own.out")
awk -v a="$acc" -v b="$(json "$A/summary.json" test_acc)" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-4 && d > -1e-4) }' ||
  fail "own test split: printed accuracy '$acc', summary.json test_acc $(json "$A/summary.json" test_acc)"
[ "$(json "$A/summary.json" test_checkpoint)" = best.ckpt ] || fail "test_checkpoint not best.ckpt"
[ "$(csum "$A/confusion.csv")" = 400 ] || fail "confusion.csv counts $(csum "$A/confusion.csv"), want the 400 test rows"
own=$(ls "$A"/test-jsc-synth_test_400_*.json 2>/dev/null)
[ -n "$own" ] && [ "$(json "$own" own_test_split)" = true ] || fail "no test-jsc-synth_test_400_*.json marked own"
cp "$A/summary.json" "$tmp/summary.before"
cp "$A/confusion.csv" "$tmp/confusion.before"
unchanged() { # WHAT
  cmp -s "$A/summary.json" "$tmp/summary.before" || fail "$1 changed summary.json"
  cmp -s "$A/confusion.csv" "$tmp/confusion.before" || fail "$1 changed confusion.csv"
}
record() { # KEY-GLOB ROWS WHAT: the record and confusion of one evaluation
  local f c
  f=$(ls "$A"/test-$1.json 2>/dev/null | head -1)
  c=$(ls "$A"/confusion-$1.csv 2>/dev/null | head -1)
  [ -n "$f" ] && [ -n "$c" ] && [ -f "${c/confusion-/roc-}" ] || { fail "$3: no test-/confusion-/roc-$1 files: $(ls "$A")"; return; }
  [ "$(json "$f" rows)" = "$2" ] && [ "$(csum "$c")" = "$2" ] || fail "$3: record has $(json "$f" rows) rows, confusion $(csum "$c"), want $2"
  [ "$(json "$f" own_test_split)" = false ] || fail "$3: marked as the run's own test split"
  awk -v a="$(json "$f" acc)" -v c="$(json "$f" correct)" -v n="$2" 'BEGIN { d = a - c / n; exit !(d < 1e-6 && d > -1e-6) }' ||
    fail "$3: acc $(json "$f" acc) is not correct/rows"
}

# ---- other evaluations leave the run's results alone ----
"$BIN" test --load "$CK" --synth-size 3000 --quiet >/dev/null 2>"$tmp/s.err" || fail "--synth-size 3000 exited $?"
grep -q "warning: test: the test split of jsc-synth with these data options is not the run's" "$tmp/s.err" ||
  fail "no overlap warning: $(cat "$tmp/s.err")"
unchanged "--synth-size 3000"
record 'jsc-synth_test_600_*' 600 "--synth-size 3000"
"$BIN" test --load "$CK" --split val --quiet >/dev/null 2>&1 || fail "--split val exited $?"
unchanged "--split val"
record 'jsc-synth_val_160_*' 160 "--split val"
[ "$(csum "$A/confusion_val.csv")" = 160 ] || fail "confusion_val.csv of the run's own validation split"
"$BIN" test --load "$CK" --split train --quiet >/dev/null 2>&1 || fail "--split train exited $?"
record 'jsc-synth_train_1440_*' 1440 "--split train"
"$BIN" test --load "$CK" --split all --quiet >/dev/null 2>&1 || fail "--split all of jsc-synth exited $?"
record 'jsc-synth_all_2000_*' 2000 "--split all of jsc-synth"
unchanged "--split train/all"

# Another file: 500 jets of another seed, with a split column.
"$BIN" data export jsc-synth --synth-size 500 --synth-seed 9 --split all --raw --out "$tmp/other.csv" 2>/dev/null
"$BIN" test jsc-tiny "$tmp/other.csv" --load "$CK" --split all --quiet >"$tmp/all.out" 2>&1 || fail "other --split all exited $?"
unchanged "another file"
record 'other_all_500_*' 500 "another file, --split all"
"$BIN" test jsc-tiny "$tmp/other.csv" --load "$CK" >"$tmp/o.out" 2>&1 || fail "other test split exited $?"
grep -q "note: .*other.csv is not the run's data set; this evaluates its test split (100 rows); --split all" "$tmp/o.out" ||
  fail "no note that only the test split of another file is evaluated: $(grep -i note "$tmp/o.out")"
unchanged "another file's test split"
# Reference: predict on the same file (every row, no data set, no split).
"$BIN" predict "$CK" "$tmp/other.csv" --out "$tmp/pred.csv" >"$tmp/pred.out" 2>&1 || fail "predict exited $?"
pc=$(awk -F, 'NR > 1 && $7 == $8 { n++ } END { print n + 0 }' "$tmp/pred.csv")
f=$(ls "$A"/test-other_all_500_*.json)
[ "$(json "$f" correct)" = "$pc" ] || fail "--split all counts $(json "$f" correct) correct rows, predict $pc"
sum=0
for s in train val test; do
  "$BIN" test jsc-tiny "$tmp/other.csv" --load "$CK" --split $s --quiet >/dev/null 2>&1 || fail "other --split $s exited $?"
  g=$(ls "$A"/test-other_${s}_*.json | head -1)
  sum=$((sum + $(json "$g" correct)))
done
[ $((sum - pc)) -le 2 ] && [ $((pc - sum)) -le 2 ] || fail "train+val+test of the split file count $sum correct, all $pc"

# ---- bad input ----
bad "give MODEL and DATASET, or neither" "$BIN" test jsc-tiny --load "$CK"
bad "--split: 'dev' is not test, val, train or all" "$BIN" test --load "$CK" --split dev
cut -d, -f1-16 "$tmp/other.csv" >"$tmp/nolabel.csv"
bad "has no label column" "$BIN" test jsc-tiny "$tmp/nolabel.csv" --load "$CK" --split all
bad "no-such.ckpt" "$BIN" test --load "$tmp/no-such.ckpt"
unchanged "bad input"

[ $failures -eq 0 ] && echo "cli_test_results: all checks passed"
exit $((failures > 0))
