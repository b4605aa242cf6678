#!/bin/bash
# Long-run soak (not part of the suite): 200 epochs of jsc-tiny on a small jsc-synth,
# stopped by SIGINT every 20 epochs and resumed from last.ckpt, ten sessions in all. For
# each session it prints the peak RSS and the RSS sampled at its first and last second;
# memory must stay flat from the first session to the last. It then checks the logs
# (every step and epoch once) and compares the result with one uninterrupted 200-epoch
# run of the same seed (identical per-step metrics and validation accuracy).
#   tests/soak.sh path/to/cltrain [SYNTH_SIZE=4000] [EPOCHS=200] [EVERY=20]
set -u
BIN=$(realpath "$1")
SIZE=${2:-4000} EPOCHS=${3:-200} EVERY=${4:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RUN=(jsc-tiny jsc-synth --synth-size "$SIZE" --max-epochs "$EPOCHS" --batch-size 64 --learning-rate 1e-3
     --log-every-n-steps 10 --no-progress --quiet)
col() { awk -F, -v c="$2" 'NR > 1 {print $c}' "$1"; }
fail=0

# RSS (KiB) of PID every 0.2 s into FILE until it exits.
sample_rss() { while kill -0 "$1" 2> /dev/null; do awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2> /dev/null >> "$2"; sleep 0.2; done; }

session() { # LABEL SIGNAL_STEP(0 = none) ARGS...
  local label=$1 at=$2; shift 2
  local env=()
  [ "$at" -gt 0 ] && env=(CLTRAIN_TEST_SIGNAL_AT_STEP=$at)
  : > "$tmp/rss"
  env "${env[@]}" /usr/bin/time -f "%M" -o "$tmp/peak" "$BIN" "$@" > /dev/null 2> "$tmp/err" &
  local pid=$!
  sleep 0.05
  sample_rss "$(pgrep -P $pid -n || echo $pid)" "$tmp/rss"
  wait $pid; local rc=$?
  printf '%-12s exit %3d  peak %6d KiB  rss first %6s last %6s KiB (%d samples)\n' "$label" $rc \
    "$(tail -1 "$tmp/peak")" "$(head -1 "$tmp/rss")" "$(tail -1 "$tmp/rss")" "$(wc -l < "$tmp/rss")"
  tail -1 "$tmp/peak" >> "$tmp/peaks"
  cp "$tmp/rss" "$tmp/rss.last"
  return $rc
}

# Steps per epoch from a one-epoch probe.
"$BIN" train "${RUN[@]}" --max-epochs 1 --project-dir "$tmp/probe" > /dev/null 2>&1
spe=$(col "$(ls -d "$tmp"/probe/*)/epochs.csv" 2)
echo "soak: $EPOCHS epochs of $spe steps, SIGINT every $EVERY epochs, then --resume"
sessions=$((EPOCHS / EVERY))
for k in $(seq 1 $sessions); do
  at=$((k * EVERY * spe)); [ $k -eq $sessions ] && at=0
  if [ $k -eq 1 ]; then session "session $k" $at train "${RUN[@]}" --project-dir "$tmp/soak"
  else session "session $k" $at train --resume "$S/last.ckpt" --no-progress --quiet; fi
  rc=$?
  S=$(ls -d "$tmp"/soak/*)
  want=130; [ $k -eq $sessions ] && want=0
  [ $rc -eq $want ] || { echo "FAIL: session $k exit $rc, want $want: $(cat "$tmp/err")"; fail=1; break; }
done
session "one run" 0 train "${RUN[@]}" --project-dir "$tmp/ref"
R=$(ls -d "$tmp"/ref/*)
# Within the one long session: RSS at each tenth of its samples (after start-up).
echo "one run, RSS over time (KiB): $(awk '{ v[NR] = $1 } END { for (i = 1; i <= 10; i++) printf "%s ", v[int(NR * i / 10)] }' "$tmp/rss.last")"

[ "$(col "$S/epochs.csv" 1 | tr '\n' ' ')" = "$(seq 0 $((EPOCHS - 1)) | tr '\n' ' ')" ] || { echo "FAIL: epoch rows"; fail=1; }
[ -z "$(col "$S/metrics.csv" 1 | uniq -d)" ] || { echo "FAIL: duplicated steps"; fail=1; }
diff <(cut -d, -f1-5 "$R/metrics.csv") <(cut -d, -f1-5 "$S/metrics.csv") > /dev/null ||
  { echo "FAIL: per-step metrics differ from the uninterrupted run"; fail=1; }
diff <(cut -d, -f1,2,5,6 "$R/epochs.csv") <(cut -d, -f1,2,5,6 "$S/epochs.csv") > /dev/null ||
  { echo "FAIL: validation metrics differ from the uninterrupted run"; fail=1; }
first=$(head -1 "$tmp/peaks") last=$(sed -n "${sessions}p" "$tmp/peaks")
echo "peak RSS: first session $first KiB, last session $last KiB"
# Flat: the last session may not need more than 2% (or 2 MiB) over the first.
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b <= a * 1.02 || b - a <= 2048) }' ||
  { echo "FAIL: peak RSS grew from $first to $last KiB"; fail=1; }
echo "final: $(col "$S/epochs.csv" 6 | tail -1) val_acc (resumed), $(col "$R/epochs.csv" 6 | tail -1) (one run)"
exit $fail
