#!/bin/bash
# Schema tests: every document under valid/, invalid/ and semantic/ is
# checked twice, with xmllint against xml-schemas/domain.rng and with
# "vmctl validate", and the two must agree with what the directory says:
#   valid/     both accept (vmctl refuses, status 3, only the actions it
#              cannot carry out: rename-restart and coredump-*)
#   invalid/   both reject; vmctl names the line and says why
#   semantic/  the schema accepts (it cannot see the problem), vmctl rejects
# A document's first comment holds "expect: LINE: text" -- the line vmctl
# must point at and the start of its sentence -- and may hold
# "vmctl-option: NAME" to run vmctl validate with --NAME for that document.
#
# Documents write @FIXTURES@ where a real file is needed; each is copied
# to a temp directory with that replaced by a directory of fixture files.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
VMCTL=${VMCTL:-$TOP/build/tests/vmctl/vmctl}
SCHEMA=$TOP/xml-schemas/domain.rng
DOCS=$TOP/tests/host/schema

failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1 $2"; failures=$((failures + 1)); }

for tool in xmllint "$VMCTL"; do
    if ! command -v "$tool" >/dev/null; then
        fail "setup" "$tool is missing (make $VMCTL; apt-get install libxml2-utils)"
        exit 1
    fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures=$work/fixtures
mkdir -p "$fixtures"
for f in vmlinuz initrd.img root.img data.img; do
    echo "fixture $f" >"$fixtures/$f"
done

# Prepares one document; sets $copy (a relative name, so that messages
# start with it), $expect and $options.
prepare() {
    local doc=$1
    copy=$(basename "$doc")
    sed "s#@FIXTURES@#$fixtures#g" "$doc" >"$work/$copy"
    expect=$(sed -n 's/.*expect: \(.*\) -->.*/\1/p' "$work/$copy" | head -n1)
    options=$(sed -n 's/.*vmctl-option: \([a-z-]*\).*/--\1/p' "$work/$copy" | head -n1)
}

check_doc() {
    local kind=$1 doc=$2
    prepare "$doc"
    local name="$kind/$copy"
    (cd "$work" && xmllint --noout --relaxng "$SCHEMA" "$copy") >"$work/xmllint.out" 2>&1
    local xrc=$?
    (cd "$work" && "$VMCTL" validate $options "$copy") >"$work/vmctl.out" 2>"$work/vmctl.err"
    local vrc=$?

    case $kind in
    valid|semantic)
        if [ $xrc -eq 0 ]; then pass "xmllint accepts $name"
        else fail "xmllint accepts $name" "xmllint: $(head -n2 "$work/xmllint.out" | tr '\n' ' ')"; fi ;;
    invalid)
        if [ $xrc -ne 0 ]; then pass "xmllint rejects $name"
        else fail "xmllint rejects $name" "xmllint accepted it"; fi ;;
    esac

    # Valid libvirt that vmctl cannot carry out (rename-restart, coredump-*)
    # is refused with status 3, each such element named, and nothing else.
    if [ "$kind" = valid ] && grep -Eq '>(rename-restart|coredump-destroy|coredump-restart)<' "$work/$copy"; then
        local unsupported
        unsupported=$(grep -Ec '>(rename-restart|coredump-destroy|coredump-restart)<' "$work/$copy")
        if [ $vrc -eq 3 ] &&
           [ "$(grep -c "^$copy: <on_[a-z]*>[a-z-]*</on_[a-z]*> is not carried out by vmctl" "$work/vmctl.err")" = "$unsupported" ] &&
           [ "$(grep -vc 'is not carried out by vmctl\|is not a definition vmctl can run' "$work/vmctl.err")" = 0 ]; then
            pass "vmctl refuses only the unsupported actions of $name"
        else
            fail "vmctl refuses only the unsupported actions of $name" "exit $vrc: $(head -n3 "$work/vmctl.err" | tr '\n' ' ')"
        fi
        return
    fi
    if [ "$kind" = valid ]; then
        if [ $vrc -eq 0 ] && grep -q "valid definition" "$work/vmctl.out"; then
            pass "vmctl accepts $name"
        else
            fail "vmctl accepts $name" "exit $vrc: $(head -n3 "$work/vmctl.err" | tr '\n' ' ')"
        fi
        return
    fi
    if [ -z "$expect" ]; then
        fail "vmctl rejects $name" "the document has no 'expect:' comment"
        return
    fi
    local line=${expect%%: *} text=${expect#*: }
    if [ $vrc -ne 3 ]; then
        fail "vmctl rejects $name" "exit $vrc, wanted 3: $(head -n3 "$work/vmctl.err" | tr '\n' ' ')"
    elif ! grep -qF -- "$copy:$line: $text" "$work/vmctl.err"; then
        fail "vmctl rejects $name" "wanted '$copy:$line: $text', got: $(head -n3 "$work/vmctl.err" | tr '\n' ' ')"
    elif grep -q "Relax-NG\|parser error" "$work/vmctl.err"; then
        fail "vmctl rejects $name" "raw libxml2 output leaked: $(head -n3 "$work/vmctl.err")"
    else
        pass "vmctl rejects $name"
    fi
}

count=0
for kind in valid invalid semantic; do
    for doc in "$DOCS/$kind"/*.xml; do
        check_doc "$kind" "$doc"
        count=$((count + 1))
    done
done

# The shipped examples must satisfy the schema (their files live on a
# real dom0, so vmctl checks them without the file checks).
for doc in "$TOP"/xml-schemas/examples/*.xml; do
    name=examples/$(basename "$doc")
    if xmllint --noout --relaxng "$SCHEMA" "$doc" >/dev/null 2>&1; then pass "xmllint accepts $name"
    else fail "xmllint accepts $name" "$(xmllint --noout --relaxng "$SCHEMA" "$doc" 2>&1 | head -n2)"; fi
    if "$VMCTL" validate --no-file-checks "$doc" >/dev/null 2>&1; then pass "vmctl accepts $name"
    else fail "vmctl accepts $name" "$("$VMCTL" validate --no-file-checks "$doc" 2>&1 | head -n2)"; fi
done

[ "$count" -ge 30 ] || fail "document count" "only $count documents"
[ $failures -eq 0 ]
