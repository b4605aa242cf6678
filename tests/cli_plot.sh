#!/usr/bin/env bash
# cltrain plot from the command line: figures of fake run, sweep and compare directories,
# the missing-gnuplot path (CSV only, one warning, exit 0), a failing gnuplot (exit 1) and
# bad input (one line on stderr, exit 2).
set -u
BIN=${1:?usage: cli_plot.sh path/to/cltrain}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# A run directory: NAME, batch size, number of logged steps, number of epochs.
make_run() {
  local dir=$1 batch=$2 steps=$3 epochs=$4
  mkdir -p "$dir"
  {
    echo "step,epoch,train_loss,train_acc,lr,elapsed_s"
    for ((i = 1; i <= steps; i++)); do
      printf '%d,%d,%s,%s,0.001,%d\n' $((i * 50)) $((i / 20)) "1.$((60 - i % 50))" "0.$((20 + i % 50))" "$i"
    done
  } >"$dir/metrics.csv"
  {
    echo "epoch,step,train_loss,train_acc,val_loss,val_acc,lr,epoch_s,samples_per_s"
    for ((e = 0; e < epochs; e++)); do
      printf '%d,%d,1.2,0.6,1.%d,0.%d,0.001,3.5,1200\n' "$e" $(((e + 1) * 1000)) $((5 - e)) $((50 + 4 * e))
    done
  } >"$dir/epochs.csv"
  printf 'name default override effective\nbatch-size 128 %s %s\nlearning-rate 1e-05 - 1e-05\n' \
    "$batch" "$batch" >"$dir/config.txt"
  printf '{"model": "jsc-tiny", "dataset": "jsc-synth", "params": 117}\n' >"$dir/summary.json"
}

is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }
is_svg() { [ -s "$1" ] && head -c 5 "$1" | grep -q '^<?xml' && grep -q '<svg' "$1" && grep -q '</svg>' "$1"; }
expect_figure() { # DIR NAME
  is_png "$1/$2.png" || fail "$1/$2.png is not a PNG"
  is_svg "$1/$2.svg" || fail "$1/$2.svg is not an SVG"
  [ -s "$1/$2.csv" ] || fail "$1/$2.csv missing"
}

make_run "$tmp/runs/b32" 32 150 5
make_run "$tmp/runs/b256" 256 40 5
make_run "$tmp/runs/with space" 1024 12 2

# Several runs, labelled from their config.txt.
"$BIN" plot "$tmp/runs/b32" "$tmp/runs/b256" "$tmp/runs/with space" --out "$tmp/out all" \
  --label batch-size >"$tmp/stdout" 2>"$tmp/stderr" || fail "plot of three runs exited $?: $(cat "$tmp/stderr")"
for f in train_acc train_loss val_acc val_loss; do expect_figure "$tmp/out all" $f; done
grep -q '^"\?batch 1024"\?,' "$tmp/out all/train_acc.csv" || fail "--label batch-size did not label the runs"
[ "$(grep -c '^figure ' "$tmp/stdout")" = 4 ] || fail "expected 4 'figure' lines: $(cat "$tmp/stdout")"
[ ! -s "$tmp/stderr" ] || fail "unexpected stderr: $(cat "$tmp/stderr")"

# One run with a confusion matrix: figures land in the run directory.
printf 'class,g,q,W,Z,t\ng,50,10,0,0,3\nq,12,40,1,0,0\nW,0,2,30,9,1\nZ,0,0,11,33,2\nt,1,0,3,2,60\n' \
  >"$tmp/runs/b32/confusion.csv"
"$BIN" plot "$tmp/runs/b32" -q || fail "plot of one run exited $?"
expect_figure "$tmp/runs/b32" train_acc
expect_figure "$tmp/runs/b32" confusion_matrix

# A sweep directory.
mkdir -p "$tmp/sweep"
make_run "$tmp/sweep/r64" 64 60 3
make_run "$tmp/sweep/r512" 512 30 3
printf 'run_dir,batch_size,final_val_acc,best_val_acc,train_s,samples_per_s\nr64,64,0.6,0.62,40.5,9000\nr512,512,0.58,0.6,6.1,61000\n' \
  >"$tmp/sweep/sweep.csv"
"$BIN" plot "$tmp/sweep" -q --prefix batch || fail "plot of a sweep exited $?"
expect_figure "$tmp/sweep" batch_train_acc
expect_figure "$tmp/sweep" batch_time_vs_batch
grep -q '^batch 512,' "$tmp/sweep/batch_train_acc.csv" || fail "sweep runs not labelled by batch size"

# A compare directory.
mkdir -p "$tmp/cmp"
printf 'device,epoch_s,samples_per_s,final_val_acc,max_abs_diff_val_acc\npthread,12.5,47800,0.71,0\nbasic,95.2,6270,0.71,0.0001\n' \
  >"$tmp/cmp/compare.csv"
"$BIN" plot "$tmp/cmp" -q || fail "plot of a compare directory exited $?"
expect_figure "$tmp/cmp" device_compare

# No gnuplot on PATH: CSVs only, one warning line for all five figures, exit 0.
mkdir -p "$tmp/nobin"
PATH="$tmp/nobin" "$BIN" plot "$tmp/runs/b32" --out "$tmp/out nognuplot" >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
[ $rc = 0 ] || fail "without gnuplot: exit $rc, want 0"
[ "$(wc -l <"$tmp/stderr")" = 1 ] && grep -q 'gnuplot not found' "$tmp/stderr" ||
  fail "without gnuplot: want one warning line, got: $(cat "$tmp/stderr")"
for f in train_acc train_loss val_acc val_loss confusion_matrix; do
  [ -s "$tmp/out nognuplot/$f.csv" ] || fail "without gnuplot: $f.csv missing"
  [ ! -e "$tmp/out nognuplot/$f.png" ] || fail "without gnuplot: $f.png written"
done

# A gnuplot that fails, and one that exits 0 without drawing: exit 1, named.
mkdir -p "$tmp/badbin" "$tmp/liarbin"
printf '#!/bin/sh\ncat >/dev/null\necho "gnuplot: broken" >&2\nexit 3\n' >"$tmp/badbin/gnuplot"
printf '#!/bin/sh\ncat >/dev/null\nexit 0\n' >"$tmp/liarbin/gnuplot"
chmod +x "$tmp/badbin/gnuplot" "$tmp/liarbin/gnuplot"
PATH="$tmp/badbin" "$BIN" plot "$tmp/runs/b256" --out "$tmp/out bad" -q 2>"$tmp/stderr"
rc=$?
[ $rc = 1 ] && grep -q 'failed drawing train_acc: exit status 3' "$tmp/stderr" ||
  fail "failing gnuplot: exit $rc, stderr: $(cat "$tmp/stderr")"
PATH="$tmp/liarbin" "$BIN" plot "$tmp/runs/b256" --out "$tmp/out liar" -q 2>"$tmp/stderr"
rc=$?
[ $rc = 1 ] && grep -q 'not valid' "$tmp/stderr" || fail "silent gnuplot: exit $rc, stderr: $(cat "$tmp/stderr")"

# Bad input: exit 2 and exactly one line on stderr.
mkdir -p "$tmp/norun" "$tmp/badnum" "$tmp/badfields" "$tmp/badsweep" "$tmp/badconf"
make_run "$tmp/badnum" 32 3 1
sed -i '3s/.*/100,0,1.2,zero,0.001,2/' "$tmp/badnum/metrics.csv"
make_run "$tmp/badfields" 32 3 1
echo "150,0,1.2" >>"$tmp/badfields/metrics.csv"
printf 'run_dir,batch_size,final_val_acc,best_val_acc,train_s,samples_per_s\nmissing,64,0.6,0.6,1,1\n' \
  >"$tmp/badsweep/sweep.csv"
make_run "$tmp/badconf" 32 3 1
printf 'class,g,q\ng,1,2\n' >"$tmp/badconf/confusion.csv"
expect_usage() { # DESCRIPTION ARGS...
  local what=$1
  shift
  "$BIN" plot "$@" >/dev/null 2>"$tmp/stderr"
  local rc=$?
  [ $rc = 2 ] || fail "$what: exit $rc, want 2 ($(cat "$tmp/stderr"))"
  [ "$(wc -l <"$tmp/stderr")" = 1 ] || fail "$what: want one stderr line, got: $(cat "$tmp/stderr")"
}
expect_usage "no arguments"
expect_usage "missing directory" "$tmp/does-not-exist"
expect_usage "directory without metrics.csv" "$tmp/norun"
expect_usage "non-numeric metrics.csv" "$tmp/badnum"
grep -q "badnum/metrics.csv:3: column 'train_acc': 'zero' is not a number" "$tmp/stderr" ||
  fail "bad number not located: $(cat "$tmp/stderr")"
expect_usage "short metrics.csv row" "$tmp/badfields"
expect_usage "unknown option" "$tmp/runs/b32" --colour
expect_usage "option without value" "$tmp/runs/b32" --out
expect_usage "--label of an unknown setting" "$tmp/runs/b32" --label no-such-setting
expect_usage "--label on a sweep" "$tmp/sweep" --label batch-size
expect_usage "sweep naming a missing run" "$tmp/badsweep"
expect_usage "non-square confusion.csv" "$tmp/badconf" --out "$tmp/out badconf"

"$BIN" plot --help | grep -q 'usage: cltrain plot' || fail "plot --help"

if [ $failures -gt 0 ]; then
  echo "cli_plot: $failures failure(s)" >&2
  exit 1
fi
echo "cli_plot: all checks passed"
