#!/usr/bin/env bash
# cltrain data download against a local HTTP server on 127.0.0.1: a good file, a wrong
# checksum, a transfer cut off mid-way and resumed with a Range request, a partial file
# left by an earlier run, a server that ignores Range, a 404, and bad arguments.
set -u
CLTRAIN=${1:?usage: cli_download.sh path/to/cltrain}
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v python3 >/dev/null; then echo "python3 is needed (scripts/bootstrap installs it)"; exit 1; fi
if ! "$CLTRAIN" data --help | grep -q download; then echo "no download action"; exit 1; fi
T=$(mktemp -d /tmp/cltrain_dl_XXXXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

# 3 MiB of pseudo-random bytes as the "data set".
python3 -c "import random; r = random.Random(7); open('$T/src.h5', 'wb').write(bytes(r.getrandbits(8) for _ in range(3 << 20)))"
SUM=$(sha256sum "$T/src.h5" | cut -d' ' -f1)

start_server() { # extra server options...
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -f "$T/port" "$T/log"
  python3 "$HERE/http_range_server.py" "$T/src.h5" "$T/port" "$T/log" "$@" &
  SERVER_PID=$!
  for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
  URL="http://127.0.0.1:$(cat "$T/port")/jsc.h5"
}

# 1. A good file with its checksum: saved, identical, checksum printed.
start_server
"$CLTRAIN" data download jsc --url "$URL" --sha256 "$SUM" --out "$T/a/jsc.h5" >"$T/out" 2>"$T/err"; rc=$?
check "good file: exit 0" "[ $rc -eq 0 ]"
check "good file: identical" "cmp -s '$T/src.h5' '$T/a/jsc.h5'"
check "good file: SHA-256 printed" "grep -q '$SUM' '$T/out'"
check "good file: no partial left" "[ ! -e '$T/a/jsc.h5.part' ]"
check "good file: progress shown" "grep -q 'MiB' '$T/err'"

# 2. Present already: nothing fetched, checksum still printed and checked.
: >"$T/log"
"$CLTRAIN" data download jsc --url "$URL" --sha256 "$SUM" --out "$T/a/jsc.h5" >"$T/out" 2>&1; rc=$?
check "present: exit 0 without a request" "[ $rc -eq 0 ] && [ ! -s '$T/log' ] && grep -q '$SUM' '$T/out'"

# 3. Wrong checksum: failure, nothing kept.
WRONG=$(printf '%064d' 0)
"$CLTRAIN" data download jsc --url "$URL" --sha256 "$WRONG" --out "$T/b/jsc.h5" >"$T/out" 2>"$T/err"; rc=$?
check "wrong checksum: exit 1" "[ $rc -eq 1 ]"
check "wrong checksum: message" "grep -q 'checksum mismatch' '$T/err'"
check "wrong checksum: no file, no partial" "[ ! -e '$T/b/jsc.h5' ] && [ ! -e '$T/b/jsc.h5.part' ]"
check "wrong checksum: actual SHA-256 printed" "grep -q '$SUM' '$T/out'"

# 4. Connection dropped after 1 MiB: retried with Range from where it stopped.
start_server --drop-first 1048576
"$CLTRAIN" data download jsc --url "$URL" --sha256 "$SUM" --out "$T/c/jsc.h5" >"$T/out" 2>"$T/err"; rc=$?
check "interrupted: exit 0" "[ $rc -eq 0 ]"
check "interrupted: identical" "cmp -s '$T/src.h5' '$T/c/jsc.h5'"
check "interrupted: resumed with Range bytes=1048576-" "grep -q 'range=bytes=1048576-' '$T/log'"

# 5. A partial file from an earlier run: only the rest is requested.
start_server
mkdir -p "$T/d"
head -c 1000000 "$T/src.h5" >"$T/d/jsc.h5.part"
"$CLTRAIN" data download jsc --url "$URL" --sha256 "$SUM" --out "$T/d/jsc.h5" >"$T/out" 2>"$T/err"; rc=$?
check "partial on disk: exit 0 and identical" "[ $rc -eq 0 ] && cmp -s '$T/src.h5' '$T/d/jsc.h5'"
check "partial on disk: Range bytes=1000000-" "grep -q 'range=bytes=1000000-' '$T/log'"
check "partial on disk: said it resumed" "grep -q 'resuming' '$T/err'"

# 6. A server that ignores Range: the partial file is discarded, the result still right.
start_server --no-range
mkdir -p "$T/e"
head -c 5000 "$T/src.h5" >"$T/e/jsc.h5.part"
"$CLTRAIN" data download jsc --url "$URL" --sha256 "$SUM" --out "$T/e/jsc.h5" >"$T/out" 2>"$T/err"; rc=$?
check "no-range server: exit 0 and identical" "[ $rc -eq 0 ] && cmp -s '$T/src.h5' '$T/e/jsc.h5'"

# 7. A 404: failure naming the status, nothing saved.
"$CLTRAIN" data download jsc --url "${URL%/jsc.h5}/missing" --out "$T/f/jsc.h5" >"$T/out" 2>"$T/err"; rc=$?
check "404: exit 1 with the status" "[ $rc -eq 1 ] && grep -q 'HTTP 404' '$T/err' && [ ! -e '$T/f/jsc.h5' ]"

# 8. Bad arguments: exit 2, one line.
"$CLTRAIN" data download jsc --url "$URL" --sha256 xyz --out "$T/g/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
check "bad --sha256: exit 2" "[ $rc -eq 2 ] && grep -q 'sha256' '$T/err' && [ \$(wc -l <'$T/err') -eq 1 ]"
"$CLTRAIN" data download other >/dev/null 2>"$T/err"; rc=$?
check "unknown download: exit 2" "[ $rc -eq 2 ] && grep -q \"only 'jsc'\" '$T/err'"

# 9. No --out: the default place of DATASET jsc, where 'jsc' then finds it.
start_server
CLTRAIN_DATA_DIR="$T/default" "$CLTRAIN" data download jsc --url "$URL" >"$T/out" 2>"$T/err"; rc=$?
check "default place: $T/default/jsc.h5" "[ $rc -eq 0 ] && cmp -s '$T/src.h5' '$T/default/jsc.h5'"
check "default place: no --sha256 note" "grep -q 'no --sha256' '$T/err'"

# 10. Hostile servers and destinations (issue 15): bounded, one error line, nothing left.
BASE=${URL%/jsc.h5}
one_line() { [ "$(grep -c 'cltrain: error' "$1")" -eq 1 ]; }
CLTRAIN_DOWNLOAD_MAX_BYTES=5000000 "$CLTRAIN" data download jsc --url "$BASE/endless" --out "$T/h/x/jsc.h5" \
  >/dev/null 2>"$T/err"; rc=$?
check "endless body: exit 1 at the cap, nothing left" "[ $rc -eq 1 ] && grep -q 'larger than the 5000000-byte cap' '$T/err' && one_line '$T/err' && [ ! -e '$T/h' ]"
"$CLTRAIN" data download jsc --url "$BASE/huge" --out "$T/h/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
check "1 TB announced: refused before the body" "[ $rc -eq 1 ] && grep -q 'larger than the' '$T/err' && [ ! -e '$T/h' ]"
: >"$T/log"
"$CLTRAIN" data download jsc --url "$BASE/loop" --out "$T/h/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
check "redirect loop: exit 1 after a few requests" "[ $rc -eq 1 ] && grep -q 'more than 5 redirects' '$T/err' && [ \$(grep -c loop '$T/log') -le 6 ] && [ ! -e '$T/h' ]"
"$CLTRAIN" data download jsc --url "$BASE/500" --out "$T/h/y/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
check "500: exit 1, one line, no .part, no folders" "[ $rc -eq 1 ] && grep -q 'HTTP 500' '$T/err' && one_line '$T/err' && [ ! -e '$T/h' ]"
"$CLTRAIN" data download jsc --url "${URL%/jsc.h5}/missing" --out "$T/h/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
check "404: no .part, no folders" "[ $rc -eq 1 ] && [ ! -e '$T/h' ]"
start=$(date +%s)
"$CLTRAIN" data download jsc --url "$BASE/trickle" --out "$T/h/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
took=$(($(date +%s) - start))
check "trickle (2 B/s): given up after the 30 s window, not retried (${took}s)" "[ $rc -eq 1 ] && grep -q 'stalled' '$T/err' && [ $took -lt 50 ]"
rm -rf "$T/h"
for out in /dev/zero "$T" "$T/new/"; do
  "$CLTRAIN" data download jsc --url "$URL" --out "$out" >/dev/null 2>"$T/err"; rc=$?
  check "--out $out: exit 2, one line" "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ]"
done
mkdir -p "$T/s" && ln -s "$T/victim" "$T/s/jsc.h5.part"
"$CLTRAIN" data download jsc --url "$URL" --out "$T/s/jsc.h5" >/dev/null 2>"$T/err"; rc=$?
check "symlink planted at .part: not followed" "[ $rc -eq 2 ] && [ ! -e '$T/victim' ]"

if [ $fails -ne 0 ]; then echo "$fails download checks failed"; exit 1; fi
echo "all download checks passed"
