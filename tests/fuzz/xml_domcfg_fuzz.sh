#!/bin/bash
# Runs the domain XML loader's libFuzzer target for a fixed time, seeded
# with the schema test documents and the examples.  PASS when no crash,
# leak, sanitizer report or broken invariant was found in that time.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FUZZER=${FUZZER:-$TOP/build/tests/fuzz/xml_domcfg_fuzz}
SECONDS_TO_RUN=${FUZZ_SECONDS:-20}

if [ ! -x "$FUZZER" ]; then
    echo "FAIL: xml_domcfg_fuzz $FUZZER is not built (make $FUZZER; needs clang-14 and libclang-rt-14-dev)"
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
for f in "$TOP"/tests/host/schema/*/*.xml "$TOP"/xml-schemas/examples/*.xml; do
    cp "$f" "$work/corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
done
"$FUZZER" -max_total_time="$SECONDS_TO_RUN" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -dict="$TOP/tests/fuzz/xml_domcfg.dict" -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 15 "$work/log"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ $rc -ne 0 ]; then
    crash=$(ls "$work/artifacts" 2>/dev/null | head -n1)
    if [ -n "$crash" ]; then
        mkdir -p "$TOP/build/fuzz-artifacts"
        cp "$work/artifacts/$crash" "$TOP/build/fuzz-artifacts/"
    fi
    echo "FAIL: xml_domcfg_fuzz fuzzer exited $rc; input kept as build/fuzz-artifacts/$crash"
    grep -m3 -E 'ERROR|SUMMARY|abort' "$work/log"
    exit 1
fi
if [ -z "$runs" ] || [ "$runs" -lt 1000 ]; then
    echo "FAIL: xml_domcfg_fuzz only ${runs:-0} inputs ran in ${SECONDS_TO_RUN}s"
    exit 1
fi
echo "PASS: xml_domcfg_fuzz $runs inputs in ${SECONDS_TO_RUN}s, no failure"
