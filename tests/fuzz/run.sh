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
grep -E "^#[0-9]+: cov: " "$scratch/log" | tail -1 | sed "s/^/$name: (fork mode) /"
# FUZZ_LIBRARY_CRASHES=LIB (with -fork=1 -ignore_crashes=1 among the options): crashes
# whose innermost frame outside libc and the sanitizer runtime lies in library LIB are
# the library's own bugs (cltrain isolates them, see host/data/hdf5_loader.c) and are
# counted; any other crash fails the run.
if [ -n "${FUZZ_LIBRARY_CRASHES:-}" ]; then
  lib=0 ours=0
  for art in fuzz-artifacts/"$name"-crash-*; do
    [ -e "$art" ] || continue
    top=$(ASAN_OPTIONS=${ASAN_OPTIONS:-} "$bin" "$art" 2>&1 | grep -E "^ +#[0-9]+ " |
          grep -vE "libc\.so|/sysdeps/|__interceptor_|__asan|compiler-rt|in (mem(cpy|move|set)|str[a-z]*) " | head -1)
    if printf '%s' "$top" | grep -q "$FUZZ_LIBRARY_CRASHES"; then lib=$((lib + 1)); rm -f "$art"
    else ours=$((ours + 1)); echo "$name: crash outside $FUZZ_LIBRARY_CRASHES: $art: $top"; fi
  done
  echo "$name: $lib crash(es) inside $FUZZ_LIBRARY_CRASHES (its own bugs), $ours elsewhere"
  [ $ours -eq 0 ] && rc=0 || rc=1
fi
if [ $rc -ne 0 ]; then
  tail -60 "$scratch/log"
  echo "$name: FAILED (exit $rc); the input is in fuzz-artifacts/"
fi
exit $rc
