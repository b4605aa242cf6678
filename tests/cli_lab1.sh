#!/usr/bin/env bash
# cltrain lab1 end to end at the test-only --smoke size (2000 jets, 1-3 epochs):
#  - four experiment directories with sweep.csv (5, 2, 4 and 3 rows) and figures, 12
#    distinct runs (runs shared between experiments are trained once), the confusion
#    matrix of the best run over the whole test split, report.md embedding figures 1-9
#    (every embedded PNG exists) and a table row per run;
#  - running it again with the same --out trains nothing and rewrites the report;
#  - bad input exits 2 with one line.
set -u
BIN=${1:?usage: cli_lab1.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }

O="$tmp/lab"
"$BIN" lab1 --smoke --out "$O" >"$tmp/out1" 2>"$tmp/err1"
rc=$?
[ $rc -eq 0 ] || fail "lab1 --smoke exited $rc: $(tail -3 "$tmp/err1")"
grep -q "report: $O/report.md" "$tmp/out1" || fail "lab1 does not say where report.md is"

rows() { tail -n +2 "$1" | wc -l; }
[ "$(rows "$O/batch_size/sweep.csv")" = 5 ] || fail "batch_size/sweep.csv rows"
[ "$(rows "$O/max_epochs/sweep.csv")" = 2 ] || fail "max_epochs/sweep.csv rows"
[ "$(rows "$O/learning_rate/sweep.csv")" = 4 ] || fail "learning_rate/sweep.csv rows"
[ "$(rows "$O/models/sweep.csv")" = 3 ] || fail "models/sweep.csv rows"
[ "$(ls -d "$O"/runs/*/ | wc -l)" = 12 ] || fail "expected 12 distinct runs, found $(ls -d "$O"/runs/*/ | wc -l)"
head -1 "$O/learning_rate/sweep.csv" | grep -qx 'run_dir,learning_rate,final_val_acc,best_val_acc,test_acc,train_s,samples_per_s,status,error,best' ||
  fail "learning_rate/sweep.csv header"
# The batch-256 run of the batch sweep is the lr-1e-5 run of the lr sweep.
b256=$(awk -F, '$2 == 256 {print $1}' "$O/batch_size/sweep.csv")
lr5=$(awk -F, '$2 == "1e-5" {print $1}' "$O/learning_rate/sweep.csv")
[ -n "$b256" ] && [ "$b256" = "$lr5" ] || fail "shared run not reused: '$b256' vs '$lr5'"
is_png "$O/batch_size/time_vs_batch.png" || fail "no time_vs_batch figure"

# Confusion matrix: 5 classes, every test row counted once (2000 jets -> 400 test rows).
C="$O/confusion/confusion.csv"
head -1 "$C" | grep -qx 'class,g,q,W,Z,t' || fail "confusion.csv header"
[ "$(awk -F, 'NR > 1 { for (i = 2; i <= NF; i++) s += $i } END { print s }' "$C")" = 400 ] ||
  fail "confusion.csv does not count the 400 test rows"
is_png "$O/confusion/confusion_matrix.png" || fail "no confusion matrix figure"
# ROC of the best run: five curves, each from (0,0) to (1,1); the figure; the AUC table.
head -1 "$O/confusion/roc.csv" | grep -qx 'class,threshold,signal_efficiency,background_efficiency,auc' ||
  fail "roc.csv header"
[ "$(awk -F, 'NR > 1 && $3 == 1 && $4 == 1 { n++ } END { print n }' "$O/confusion/roc.csv")" = 5 ] ||
  fail "roc.csv: not five curves ending at (1,1)"
is_png "$O/confusion/roc.png" || fail "no ROC figure"
grep -q '^| best run | 0\.[0-9]* |' "$O/report.md" || fail "report.md has no AUC row"

R="$O/report.md"
for n in 1 2 3 4 5 6 7 8 9 10; do
  grep -q "^!\[Figure $n\](" "$R" || fail "report.md does not embed figure $n"
done
for png in $(sed -n 's/^!\[Figure [0-9]*\](\(.*\))$/\1/p' "$R"); do
  is_png "$O/$png" || fail "report.md embeds $png, which is not a PNG"
done
grep -q '^12 distinct runs (12 trained by this call' "$R" || fail "report.md run count"
[ "$(grep -c '^| `runs/' "$R")" = 12 ] || fail "the all-runs table should have 12 rows"
grep -q '^- Batch .* trained fastest' "$R" || fail "no batch-size observation"
grep -q '^- lr 1e-2: ' "$R" || grep -q 'lr 1e-2 diverged' "$R" || fail "no observation on lr 1e-2"

# Again: everything is skipped, nothing retrained, the report is rewritten.
touch -d '2000-01-01' "$R"
"$BIN" lab1 --smoke --out "$O" >"$tmp/out2" 2>"$tmp/err2" || fail "second lab1 exited $?: $(cat "$tmp/err2")"
[ "$(grep -c 'skipped' "$tmp/out2")" = 14 ] || fail "second lab1 should skip all 14 points: $(grep -c skipped "$tmp/out2")"
[ "$(ls -d "$O"/runs/*/ | wc -l)" = 12 ] || fail "second lab1 made new runs"
[ -n "$(find "$R" -newermt '2001-01-01')" ] || fail "report.md not rewritten"
grep -q '^12 distinct runs (0 trained by this call, 12 found done' "$R" || fail "report.md does not count reused runs"

bad() { # EXPECTED-TEXT ARGS...
  local p
  p=$(bad_input_problem "$1" "$BIN" lab1 "${@:2}")
  [ -z "$p" ] || fail "lab1 ${*:2}: $p"
}
bad "unknown option" --quick --frobnicate --out "$tmp/bad"
bad "unexpected argument 'extra'" --quick extra --out "$tmp/bad"
bad "no-such-device" --quick --device no-such-device --out "$tmp/bad"
bad "synth-size" --quick --synth-size 3 --out "$tmp/bad"
bad "no-such-file" --quick --data "$tmp/no-such-file.h5" --out "$tmp/bad"
"$BIN" lab1 --help | grep -q 'minutes' || fail "lab1 --help does not state the expected time"

if [ $failures -ne 0 ]; then
  echo "cli_lab1: $failures failures" >&2
  exit 1
fi
echo "cli_lab1: all checks passed"
