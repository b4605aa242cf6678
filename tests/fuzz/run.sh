#!/bin/bash
# Run one libFuzzer target for SECONDS from its seed corpus (which holds the regression
# inputs of every crash fixed so far, so those are replayed first). New inputs go to a
# scratch corpus, not the source tree; a crash leaves its input in
# fuzz-artifacts/ of the working directory and fails the test.
#   run.sh FUZZ_BINARY SEED_DIR SECONDS [libFuzzer options...]
set -u
bin=$1 seeds=$2 seconds=$3
shift 3
name=$(basename "$bin")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p fuzz-artifacts
dict=()
[ -f "$seeds.dict" ] && dict=(-dict="$seeds.dict")
# detect_leaks stays on: a leak in a parser's error path is a finding like a crash.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="fuzz-artifacts/$name-" "${dict[@]}" "$@" "$scratch" "$seeds" > "$scratch/log" 2>&1
rc=$?
grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^#[0-9]+ +DONE" "$scratch/log" | sed "s/^/$name: /"
if [ $rc -ne 0 ]; then
  tail -60 "$scratch/log"
  echo "$name: FAILED (exit $rc); the input is in fuzz-artifacts/"
fi
exit $rc
