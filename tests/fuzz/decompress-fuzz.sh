#!/bin/bash
# Runs the decompression libFuzzer target for a fixed time, seeded with
# the small decompression fixtures and with fake bzImages wrapping some of
# them.  PASS when no crash, sanitizer report or broken invariant was found.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
FUZZER=${FUZZER:-$TOP/build/tests/fuzz/decompress_fuzz}
FIX=$TOP/build/tests/fixtures/decompress
SECONDS_TO_RUN=${FUZZ_SECONDS:-20}

if [ ! -x "$FUZZER" ]; then
    echo "FAIL: decompress_fuzz $FUZZER is not built (make $FUZZER; needs clang-14 and libclang-rt-14-dev)"
    exit 1
fi
if [ ! -f "$FIX/manifest.txt" ]; then
    echo "FAIL: decompress_fuzz seed fixtures missing (make $FIX/manifest.txt)"
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
# Small seeds mutate fastest: keep the fixtures under 16 KiB.
find "$FIX" -maxdepth 1 -type f \( -name '*.gz' -o -name '*.xz' -o -name '*.lz4' -o -name '*.lzma' -o -name '*.bz2' \) \
    -size -16k -exec cp {} "$work/corpus/" \;
python3 - "$work/corpus" <<'PY'
import os, struct, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not (name.startswith('one.bin') or name.startswith('empty.bin')):
        continue
    payload = open(os.path.join(d, name), 'rb').read()
    hdr = bytearray(0x400)              # setup_sects = 1: code starts at 0x400
    hdr[0x1f1] = 1
    struct.pack_into('<H', hdr, 0x1fe, 0xaa55)
    hdr[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', hdr, 0x206, 0x020f)
    struct.pack_into('<II', hdr, 0x248, 0x10, len(payload) + 4)
    img = bytes(hdr) + bytes(0x10) + payload + struct.pack('<I', 1)
    open(os.path.join(d, 'bz-' + name), 'wb').write(img)
PY
cat > "$work/dict" <<'DICT'
"\xfd7zXZ\x00"
"YZ"
"\x1f\x8b\x08"
"\x02!L\x18"
"HdrS"
"\x55\xaa"
"\x7fELF"
"\x04\x00\x21\x01"
DICT
"$FUZZER" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -dict="$work/dict" -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 12 "$work/log"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ $rc -ne 0 ]; then
    crash=$(ls "$work/artifacts" 2>/dev/null | head -n1)
    if [ -n "$crash" ]; then
        mkdir -p "$TOP/build/fuzz-artifacts"
        cp "$work/artifacts/$crash" "$TOP/build/fuzz-artifacts/decompress-$crash"
    fi
    echo "FAIL: decompress_fuzz fuzzer exited $rc; input kept as build/fuzz-artifacts/decompress-$crash"
    grep -m3 -E 'ERROR|SUMMARY|abort' "$work/log"
    exit 1
fi
if [ -z "$runs" ] || [ "$runs" -lt 1000 ]; then
    echo "FAIL: decompress_fuzz only ${runs:-0} inputs ran in ${SECONDS_TO_RUN}s"
    exit 1
fi
echo "PASS: decompress_fuzz $runs inputs in ${SECONDS_TO_RUN}s, no failure"
