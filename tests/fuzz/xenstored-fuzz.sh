#!/bin/bash
# Runs the xenstored request fuzzer for a fixed time (XENSTORED_FUZZ_SECONDS,
# default 20) from a small seed corpus of well-formed requests.  Any crash,
# sanitizer report or failed store check fails the test.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fuzzer=$top/build/tests/xenstored/fuzz_request
secs=${XENSTORED_FUZZ_SECONDS:-20}
[ -x "$fuzzer" ] || { echo "FAIL: xenstored/fuzz/build $fuzzer not built (needs clang, libclang-rt-14-dev)"; exit 1; }
work=$(mktemp -d /tmp/xenstored-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"

# Seeds: byte 0 picks the caller, byte 1 the chunk size, then messages.
# Little-endian u32 as printf escapes (the header is in host byte order).
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
               $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
seed() {   # seed NAME CALLER TYPE PAYLOAD(printf format)
    local f=$work/corpus/$1 len
    printf "$4" >"$f.body"
    len=$(stat -c %s "$f.body")
    { printf "$(printf '\\x%02x\\x07' "$2")"
      printf "$(le32 "$3")$(le32 1)$(le32 0)$(le32 "$len")"
      cat "$f.body"; } >"$f"
    rm -f "$f.body"
}
seed write 1 11 '/a/b\0value'
seed read 1 2 '/a/b\0'
seed dir 1 1 '/\0'
seed dirpart 1 22 '/\0000\0'
seed perms 1 14 '/a\0n0\0r5\0'
seed watch 10 4 'x/y\0tok\0'
seed txstart 1 6 '\0'
seed introduce 1 8 '5\0001\0002\0'
seed control 1 0 'quota\0'
seed guestwrite 10 11 'data/k\0v'

timeout $((secs + 60)) "$fuzzer" -max_total_time="$secs" -max_len=8192 -timeout=10 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
if [ $rc -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
    echo "PASS: xenstored/fuzz/request_parser ${secs}s, $runs inputs"
else
    echo "FAIL: xenstored/fuzz/request_parser exit $rc after ${runs:-0} inputs"
    tail -n 40 "$work/log"
    ls "$work/artifacts" 2>/dev/null | head
    exit 1
fi
