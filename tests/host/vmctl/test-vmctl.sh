#!/bin/bash
# vmctl command-line tests: argument handling and help of every command,
# exit statuses, file:line diagnostics, the stored-definition round trip
# in a temporary state directory, duplicate refusal, atomic writes and the
# lock, and the "hypervisor unreachable" behaviour (nothing half-done).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
VMCTL=${VMCTL:-$TOP/build/tests/vmctl/vmctl}

failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1 $2"; failures=$((failures + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MICA_STATE_DIR=$work/state
# The machine running the tests may be a real Xen dom0: point vmctl at a
# path that certainly does not exist unless a test says otherwise.
export MICA_PRIVCMD=$work/no-privcmd
mkdir -p "$work/files"
echo kernel >"$work/files/vmlinuz"
echo initrd >"$work/files/initrd.img"
echo disk >"$work/files/disk.img"

# run NAME: runs vmctl with the remaining arguments; sets $rc, $out, $err.
run() {
    "$VMCTL" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}

# expect NAME RC [stdout|stderr] [TEXT]: checks the last run.
expect() {
    local name=$1 want=$2 stream=${3:-} text=${4:-}
    if [ "$rc" -ne "$want" ]; then
        fail "$name" "exit $rc, wanted $want; stderr: $(head -c 300 "$work/err")"
        return 1
    fi
    if [ -n "$stream" ]; then
        local f=$work/out
        [ "$stream" = stderr ] && f=$work/err
        if ! grep -qF -- "$text" "$f"; then
            fail "$name" "$stream lacks '$text': $(head -c 300 "$f")"
            return 1
        fi
    fi
    pass "$name"
}

write_domain() { # FILE NAME [UUID] [EXTRA-ELEMENTS]
    local uuid=""
    [ -n "${3:-}" ] && uuid="<uuid>$3</uuid>"
    cat >"$1" <<XML
<domain type='xen'>
  <name>$2</name>
  $uuid
  <memory unit='MiB'>64</memory>
  <vcpu>2</vcpu>
  <os>
    <type>linux</type>
    <kernel>$work/files/vmlinuz</kernel>
    <initrd>$work/files/initrd.img</initrd>
  </os>
  <devices>
    <disk type='file'>
      <source file='$work/files/disk.img'/>
      <target dev='xvda'/>
    </disk>
    <console type='pty'/>
  </devices>${4:-}
</domain>
XML
}

state_snapshot() { (cd "$work" && find state -type f ! -name .lock 2>/dev/null | sort; cat state/domains/*.xml 2>/dev/null) | md5sum; }

commands="create define undefine start autostart start-autostart list info domstats hostinfo dumpxml shutdown reboot destroy pause unpause console sched vcpu-list vcpu-pin setmem setmaxmem setvcpus attach-disk detach-disk attach-interface detach-interface snapshot-create snapshot-list snapshot-revert snapshot-delete snapshot-dumpxml clone evacuate validate"

# --- help and usage -----------------------------------------------------
run --help;          expect "vmctl --help" 0 stdout "Usage: vmctl COMMAND"
run help;            expect "vmctl help lists commands" 0 stdout "dumpxml"
run;                 expect "no command is a usage error" 2 stderr "Usage: vmctl COMMAND"
run frobnicate;      expect "unknown command" 2 stderr "unknown command 'frobnicate'"
run help frobnicate; expect "help for unknown command" 2 stderr "unknown command 'frobnicate'"
for c in $commands; do
    run help "$c";   expect "vmctl help $c" 0 stdout "Usage: vmctl $c"
    run "$c" --help; expect "vmctl $c --help" 0 stdout "Usage: vmctl $c"
    run "$c" -h;     expect "vmctl $c -h" 0 stdout "Usage: vmctl $c"
    run "$c" --bogus-option x
    expect "vmctl $c unknown option" 2 stderr "unknown option '--bogus-option'"
    case $c in
    list|hostinfo|start-autostart)
        run $c extra;    expect "vmctl $c extra argument" 2 stderr "unexpected argument 'extra'" ;;
    attach-disk)
        run "$c" a b;    expect "vmctl $c with two arguments" 2 stderr "missing TARGET argument"
        run "$c" a /b xvdb d; expect "vmctl $c with four arguments" 2 stderr "unexpected argument 'd'" ;;
    vcpu-list|domstats)
        run "$c" a b;    expect "vmctl $c with two arguments" 2 stderr "unexpected argument 'b'" ;;
    vcpu-pin)
        run "$c" a b;    expect "vmctl $c with two arguments" 2 stderr "missing CPULIST argument"
        run "$c" a 0 1 d; expect "vmctl $c with four arguments" 2 stderr "unexpected argument 'd'" ;;
    setmem|setmaxmem)
        run "$c" a;      expect "vmctl $c with one argument" 2 stderr "missing SIZE argument"
        run "$c" a 64M c; expect "vmctl $c with three arguments" 2 stderr "unexpected argument 'c'" ;;
    setvcpus)
        run "$c" a;      expect "vmctl $c with one argument" 2 stderr "missing COUNT argument"
        run "$c" a 1 c;  expect "vmctl $c with three arguments" 2 stderr "unexpected argument 'c'" ;;
    snapshot-create)
        run "$c";        expect "vmctl $c without argument" 2 stderr "missing NAME"
        run "$c" a b c;  expect "vmctl $c with three arguments" 2 stderr "unexpected argument 'c'" ;;
    detach-disk|detach-interface|snapshot-revert|snapshot-delete|snapshot-dumpxml|clone)
        run "$c" a;      expect "vmctl $c with one argument" 2 stderr "missing"
        run "$c" a b c;  expect "vmctl $c with three arguments" 2 stderr "unexpected argument 'c'" ;;
    *)
        run "$c";        expect "vmctl $c without argument" 2 stderr "missing"
        run "$c" a b;    expect "vmctl $c with two arguments" 2 stderr "unexpected argument 'b'" ;;
    esac
done
run list --all --inactive; expect "list --all --inactive conflict" 2 stderr "give one of them"
# Options with values, short names, and their checks (before any hypervisor).
for c in shutdown reboot; do
    run $c --timeout 5 dom;     expect "$c --timeout without --wait" 2 stderr "give --wait too"
    run $c -w --timeout 0 dom;  expect "$c --timeout 0" 2 stderr "--timeout wants a whole number from 1 to 86400, not '0'"
    run $c -w --timeout=-3 dom; expect "$c --timeout negative" 2 stderr "not '-3'"
    run $c -w --timeout dom;    expect "$c --timeout swallows NAME" 2 stderr "missing NAME"
    run $c --wait --timeout;    expect "$c --timeout without value" 2 stderr "--timeout needs a value"
    run $c --wait=yes dom;      expect "$c --wait takes no value" 2 stderr "--wait takes no value"
    run $c -x dom;              expect "$c unknown short option" 2 stderr "unknown option '-x'"
    run $c -w -F --timeout=30 dom; expect "$c -w -F --timeout=30 parsed" 5 stderr "cannot reach the Mica hypervisor"
done
run sched --weight 0 dom;      expect "sched --weight 0" 2 stderr "--weight wants a whole number from 1 to 65535"
run sched --weight 65536 dom;  expect "sched --weight too big" 2 stderr "not '65536'"
run sched --cap 51201 dom;     expect "sched --cap too big" 2 stderr "--cap wants a whole number from 0 to 51200"
run sched --cap ' 5' dom;      expect "sched --cap with a space" 2 stderr "not ' 5'"
run sched --weight 12x dom;    expect "sched --weight not a number" 2 stderr "not '12x'"
run sched --weight=512 --cap 0 dom; expect "sched values parsed" 5 stderr "vmctl sched: cannot reach the Mica hypervisor"
run sched dom;                 expect "sched read-only parsed" 5 stderr "cannot reach the Mica hypervisor"
# vcpu-pin: the CPU list (libvirt/xl syntax) and the vCPU are checked before the hypervisor.
run vcpu-pin dom 0 '^1';        expect "vcpu-pin refuses an empty affinity" 2 stderr "CPULIST '^1' selects no CPU"
run vcpu-pin dom 0 '0,^0';      expect "vcpu-pin refuses a list that cancels out" 2 stderr "selects no CPU"
run vcpu-pin dom 0 '';          expect "vcpu-pin refuses a blank list" 2 stderr "CPULIST must not be empty"
run vcpu-pin dom 0 '2-1';       expect "vcpu-pin refuses a backwards range" 2 stderr "runs backwards"
run vcpu-pin dom 0 '0-x';       expect "vcpu-pin refuses garbage" 2 stderr "expected a CPU number at 'x'"
run vcpu-pin dom 0 5000;        expect "vcpu-pin refuses a CPU number past 4095" 2 stderr "CPU numbers go up to 4095"
run vcpu-pin dom x 0;           expect "vcpu-pin refuses a VCPU that is not a number" 2 stderr "not 'x'"
run vcpu-pin dom 512 0;         expect "vcpu-pin refuses a VCPU past 511" 2 stderr "from 0 to 511"
run vcpu-pin dom 0;             expect "vcpu-pin needs three arguments" 2 stderr "Usage: vmctl vcpu-pin"
run vcpu-pin dom all '0-3,^1';  expect "vcpu-pin all parsed" 5 stderr "vmctl vcpu-pin: cannot reach the Mica hypervisor"
run vcpu-pin dom 1 all;         expect "vcpu-pin CPU list all parsed" 5 stderr "cannot reach the Mica hypervisor"
run vcpu-list;                  expect "vcpu-list without a name parsed" 5 stderr "vmctl vcpu-list: cannot reach the Mica hypervisor"
run vcpu-list dom extra;        expect "vcpu-list takes one name" 2 stderr "Usage: vmctl vcpu-list"
run domstats;                   expect "domstats without a name parsed" 5 stderr "vmctl domstats: cannot reach the Mica hypervisor"
run domstats --block --interface --json dom; expect "domstats groups and a name parsed" 5 stderr "cannot reach the Mica hypervisor"
run domstats --block=1 dom;     expect "domstats group options take no value" 2 stderr "--block takes no value"
run domstats -- --odd;          expect "domstats takes a name after --" 5 stderr "cannot reach the Mica hypervisor"
run define --help "$work/never.xml"
[ ! -e "$MICA_STATE_DIR" ] && pass "--help never acts" || fail "--help never acts" "state dir created"

# --- validate -----------------------------------------------------------
write_domain "$work/good.xml" good
run validate "$work/good.xml";    expect "validate good" 0 stdout "valid definition of domain 'good'"
# Valid libvirt, but not something vmctl's monitor carries out.
write_domain "$work/rename.xml" rename "" "
  <on_reboot>rename-restart</on_reboot>
  <on_crash>coredump-destroy</on_crash>"
run validate "$work/rename.xml"
expect "validate refuses rename-restart" 3 stderr "rename.xml: <on_reboot>rename-restart</on_reboot> is not carried out by vmctl"
expect "validate refuses coredump-destroy" 3 stderr "rename.xml: <on_crash>coredump-destroy</on_crash> is not carried out by vmctl"
expect "validate counts unsupported actions" 3 stderr "not a definition vmctl can run (2 unsupported actions)"
run define "$work/rename.xml"; expect "define refuses unsupported actions" 3 stderr "is not carried out by vmctl"
[ ! -e "$MICA_STATE_DIR/domains/rename.xml" ] && pass "unsupported actions not stored" || fail "unsupported actions not stored" "file exists"
run create "$work/rename.xml"; expect "create refuses unsupported actions before the hypervisor" 3 stderr "is not carried out by vmctl"
write_domain "$work/actions.xml" actions "" "
  <on_poweroff>preserve</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>restart</on_crash>"
run validate "$work/actions.xml"; expect "validate takes destroy/restart/preserve" 0 stdout "valid definition of domain 'actions'"
run validate "$work/missing.xml"; expect "validate missing file" 1 stderr "missing.xml: no such file"
printf "<domain type='xen'>\n  <name>bad</name>\n  <memory unit='XB'>64</memory>\n</domain>\n" >"$work/bad.xml"
run validate "$work/bad.xml"
expect "validate invalid gives file:line" 3 stderr "$work/bad.xml:3: <memory> has unit 'XB'; use one of KiB, MiB, GiB"
grep -q "Relax-NG" "$work/err" && fail "no raw libxml2 output" "$err" || pass "no raw libxml2 output"
printf "<domain type='xen'>\n  <name>x</name>\n" >"$work/truncated.xml"
run validate "$work/truncated.xml"; expect "validate truncated XML" 3 stderr "truncated.xml:3: the file ends before <domain> is closed"
: >"$work/empty.xml"
run validate "$work/empty.xml"; expect "validate empty file" 3 stderr "the file is empty"
run validate "$work";           expect "validate a directory" 1 stderr "not a regular file"
sed "s#$work/files/vmlinuz#$work/files/gone#" "$work/good.xml" >"$work/gone.xml"
run validate "$work/gone.xml";  expect "validate missing kernel" 3 stderr "gone does not exist"
run validate --no-file-checks "$work/gone.xml"; expect "validate --no-file-checks" 0 stdout "valid"

# --- define / dumpxml / undefine round trip ------------------------------
run dumpxml good;               expect "dumpxml before define" 4 stderr "no domain named 'good'"
run define "$work/good.xml";    expect "define" 0 stdout "Domain 'good' defined (UUID "
uuid=$(sed -n 's/.*(UUID \(.*\))/\1/p' "$work/out")
[ -f "$MICA_STATE_DIR/domains/good.xml" ] && pass "definition stored" || fail "definition stored" "no file"
run dumpxml good;               expect "dumpxml" 0 stdout "<uuid>$uuid</uuid>"
cp "$work/out" "$work/dump1.xml"
xmllint --noout --relaxng "$TOP/xml-schemas/domain.rng" "$work/dump1.xml" 2>/dev/null \
    && pass "dumpxml output matches the schema" || fail "dumpxml output matches the schema" "xmllint rejects it"
run dumpxml "$uuid";            expect "dumpxml by UUID" 0 stdout "<name>good</name>"
run info good;                  expect "info (offline)" 0 stdout "vCPUs:          2 (maximum 2)"
grep -q "State:          unknown" "$work/out" && grep -q "cannot reach the Mica hypervisor" "$work/err" \
    && pass "info says state unknown" || fail "info says state unknown" "$out / $err"
run info good --json;           expect "info --json" 0 stdout "\"uuid\": \"$uuid\""
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" 2>/dev/null \
    && pass "info --json parses" || fail "info --json parses" "$out"
run info nosuch;                expect "info unknown domain" 4 stderr "no domain named 'nosuch'"
run list --inactive;            expect "list --inactive" 0 stdout "good"
head -n1 "$work/out" | grep -qE '^Name +ID +Mem +VCPUs +State +Time\(s\)$' \
    && pass "list header as xl list" || fail "list header as xl list" "$(head -n1 "$work/out")"
grep -qE '^good +- +64 +2 +shut-off +-$' "$work/out" \
    && pass "list row for a stored domain" || fail "list row for a stored domain" "$out"
run list --inactive --json;     expect "list --json" 0 stdout "\"name\": \"good\""
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["mem_mib"]==64 and d[0]["id"] is None' "$work/out" 2>/dev/null \
    && pass "list --json content" || fail "list --json content" "$out"

# autostart marks a stored domain as libvirt does, without the hypervisor.
run autostart nosuch;           expect "autostart unknown domain" 4 stderr "no domain named 'nosuch'"
run autostart good;             expect "autostart" 0 stdout "Domain 'good' marked as autostarted"
[ "$(readlink "$MICA_STATE_DIR/autostart/good.xml")" = ../domains/good.xml ] \
    && pass "autostart mark is a link to the definition" || fail "autostart mark is a link to the definition" "$(ls -l "$MICA_STATE_DIR/autostart" 2>&1)"
run info good;                  expect "info shows autostart" 0 stdout "Autostart:      yes"
run autostart good;             expect "autostart twice" 0 stdout "marked as autostarted"
run autostart good --disable;   expect "autostart --disable" 0 stdout "Domain 'good' unmarked as autostarted"
[ ! -e "$MICA_STATE_DIR/autostart/good.xml" ] && pass "autostart --disable removes the mark" || fail "autostart --disable removes the mark" "still there"
run autostart good --disable;   expect "autostart --disable twice" 0 stdout "unmarked"
run start-autostart;            expect "start-autostart with nothing marked" 0 stdout "No domain is marked for autostart"
run autostart good
run start-autostart;            expect "start-autostart without the hypervisor" 5 stderr "cannot reach the Mica hypervisor"

# Round trip: the dump defines the same domain again, byte for byte.
run undefine good;              expect "undefine" 0 stdout "Domain 'good' undefined"
[ ! -e "$MICA_STATE_DIR/domains/good.xml" ] && pass "undefine removes the file" || fail "undefine removes the file" "still there"
[ ! -e "$MICA_STATE_DIR/autostart/good.xml" ] && pass "undefine drops the autostart mark" || fail "undefine drops the autostart mark" "still there"
run undefine good;              expect "undefine twice" 4 stderr "no domain named 'good'"
run define "$work/dump1.xml";   expect "define the dump" 0 stdout "(UUID $uuid)"
run dumpxml good
cmp -s "$work/out" "$work/dump1.xml" && pass "dumpxml round trip is stable" || fail "dumpxml round trip is stable" "$(diff "$work/dump1.xml" "$work/out" | head -5)"

# undefine as virsh undefine: refused while the domain has snapshots,
# unless --snapshots-metadata, which removes the snapshot directory too.
sd=$MICA_STATE_DIR/snapshots/good
mkdir -p "$sd"
printf '%s' "<domainsnapshot><name>s1</name><state>disk-snapshot</state><creationTime>1</creationTime><memory snapshot='no'/><disks><disk name='xvda' snapshot='no'/></disks><domain><name>good</name><uuid>$uuid</uuid></domain></domainsnapshot>" > "$sd/s1.xml"
run undefine good;              expect "undefine with a snapshot refused" 1 stderr "cannot undefine 'good': it has 1 snapshot (s1)"
[ -e "$MICA_STATE_DIR/domains/good.xml" ] && [ -e "$sd/s1.xml" ] && pass "refused undefine changes nothing" || fail "refused undefine changes nothing" "$(ls -R "$MICA_STATE_DIR")"
run undefine --snapshots-metadata good; expect "undefine --snapshots-metadata" 0 stdout "Domain 'good' undefined"
[ ! -e "$MICA_STATE_DIR/domains/good.xml" ] && [ ! -e "$sd" ] && pass "undefine --snapshots-metadata removes the snapshot directory" || fail "undefine --snapshots-metadata removes the snapshot directory" "$(ls -R "$MICA_STATE_DIR")"
run define "$work/dump1.xml";   expect "define again after undefine --snapshots-metadata" 0 stdout "(UUID $uuid)"
mkdir -p "$sd"; : > "$sd/.lock"; echo s9 > "$sd/current"
run undefine good;              expect "undefine with an empty snapshot directory" 0 stdout "Domain 'good' undefined"
[ ! -e "$sd" ] && pass "an empty snapshot directory goes with the definition" || fail "an empty snapshot directory goes with the definition" "$(ls -A "$sd")"
run define "$work/dump1.xml";   expect "define again" 0 stdout "(UUID $uuid)"

# Files from Xen's xl save (docs/state-files.md, "Xen 4.17's files"): a
# small synthetic one laid out as Xen 4.17 writes them (xl's header and
# JSON configuration, libxc image version 3 with a CPU policy, no
# checksums) is read whole by --check, which prints the definition made
# from the JSON and creates nothing; a truncated xl header, optional data
# past the end, JSON that is not JSON or lacks a name, and a stream cut
# short are refused (status 3) naming what and the offset.
make_xl_file() {   # make_xl_file OUT [JSON]
    python3 - "$@" <<'EOF'
import os, struct, sys
out = sys.argv[1]
files = os.environ["XL_FILES"]
cfg = sys.argv[2] if len(sys.argv) > 2 else (
    '{"c_info": {"type": "pv", "name": "xlguest", "uuid": "2ac017f2-5f6f-4b88-bc03-9ff4bfa5aa5e"},'
    ' "b_info": {"max_vcpus": 2, "avail_vcpus": [0], "max_memkb": 16384, "target_memkb": 8192,'
    ' "kernel": "' + files + '/vmlinuz", "cmdline": "console=hvc0 ro", "sched_params": {"weight": 512}},'
    ' "disks": [{"pdev_path": "' + files + '/xl guest.img", "vdev": "xvda", "format": "raw", "readwrite": 1}],'
    ' "nics": [{"mac": "00:16:3e:01:02:03", "bridge": "xenbr0"}], "on_reboot": "restart"}\n')
cfg = cfg.encode() + b"\0"
def rec(t, body):
    return struct.pack("<II", t, len(body)) + body + b"\0" * (-len(body) % 8)
opt = struct.pack("<I", len(cfg)) + cfg
f = b"Xen saved domain, xl format\n \0 \r" + struct.pack("<IIII", 0x01020304, 3, 0, len(opt)) + opt
f += b"LibxlFmt" + struct.pack(">II", 2, 0) + rec(1, b"")
f += struct.pack(">QIIH6x", 2**64 - 1, 0x58454e46, 3, 0) + struct.pack("<IHHII", 1, 12, 0, 4, 17)
f += rec(2, struct.pack("<BB6x", 8, 4))
f += rec(0x11, struct.pack("<IIIIII", 0, 0xffffffff, 0xd, 0, 0, 0))
f += rec(0x12, b"") + rec(0x10, b"")
f += rec(3, struct.pack("<IIQ", 0, 3, 0))
f += rec(1, struct.pack("<II", 4, 0) + b"".join(struct.pack("<Q", p) for p in range(4)) + b"\0" * 4 * 4096)
f += rec(8, b"\0" * 24) + rec(7, b"\0" * 4096)
f += rec(4, struct.pack("<II", 0, 0) + b"\0" * 5168)
f += rec(0, b"") + rec(0, b"")
open(out, "wb").write(f)
EOF
}
export XL_FILES=$work/files
echo disk > "$work/files/xl guest.img"
make_xl_file "$work/xl.save"
run restore --check "$work/xl.save"
expect "restore --check of an xl save file" 0 stderr "'xlguest' (UUID 2ac017f2-5f6f-4b88-bc03-9ff4bfa5aa5e), 4 pages of 4 PFNs, 2 vCPUs, libxc image version 3 from Xen 4.17, no checksums, a saved CPU policy; checked, nothing was restored" &&
    expect "an xl save file says it has no checksums" 0 stderr "carries no checksums (written by Xen's 'xl save'" &&
    expect "the definition from xl's JSON" 0 stdout "<source file='$work/files/xl guest.img'/>" &&
    expect "the definition from xl's JSON: memory" 0 stdout "<currentMemory unit='KiB'>8192</currentMemory>" &&
    expect "the definition from xl's JSON: vif" 0 stdout "<mac address='00:16:3e:01:02:03'/>" &&
    cp "$work/out" "$work/fromxl.xml" && run define "$work/fromxl.xml" &&
    expect "the definition --check printed defines" 0 stdout "Domain 'xlguest' defined"
run undefine xlguest >/dev/null
head -c 40 "$work/xl.save" > "$work/xl-cut.save"
run restore "$work/xl-cut.save";   expect "restore of a truncated xl header" 3 stderr "xl's header is truncated: the file ends at offset 40"
head -c 200 "$work/xl.save" > "$work/xl-cut.save"
run restore "$work/xl-cut.save";   expect "restore: xl's optional data past the end" 3 stderr "optional data length"
head -c 20000 "$work/xl.save" > "$work/xl-cut.save"
run restore "$work/xl-cut.save";   expect "restore of an xl file cut short" 3 stderr "truncated: the file ends at offset 20000 inside record"
make_xl_file "$work/xl-bad.save" '{"c_info": {"name": "a"}, "b_info": {"max_memkb": 1024,}}'
run restore "$work/xl-bad.save";   expect "restore: xl's JSON not valid" 3 stderr "xl's configuration is not valid JSON: JSON at offset 107 (line 1, column 56)"
make_xl_file "$work/xl-bad.save" '{"c_info": {"type": "pv"}, "b_info": {"max_memkb": 1024}}'
run restore "$work/xl-bad.save";   expect "restore: xl's JSON without a name" 3 stderr "has no c_info.name"

# vCPU pins (<vcpu cpuset>, <cputune><vcpupin>): kept by define, shown by
# info, written back by dumpxml as given, and the dump defines again.
write_domain "$work/pins.xml" pins "" "
  <cputune>
    <vcpupin vcpu='1' cpuset='2-3,^3'/>
  </cputune>"
sed -i "s|<vcpu>2</vcpu>|<vcpu cpuset='0-3,^2'>2</vcpu>|" "$work/pins.xml"
run define "$work/pins.xml";    expect "define with vCPU pins" 0 stdout "Domain 'pins' defined"
run info pins;                  expect "info shows the pins" 0 stdout "vCPU pins:      every vCPU: 0-1,3; vCPU 1: 2"
run dumpxml pins;               expect "dumpxml keeps <vcpu cpuset>" 0 stdout '<vcpu cpuset="0-3,^2">2</vcpu>'
grep -qF '<vcpupin vcpu="1" cpuset="2-3,^3"/>' "$work/out" && pass "dumpxml keeps <vcpupin>" || fail "dumpxml keeps <vcpupin>" "$out"
cp "$work/out" "$work/pins-dump.xml"
run undefine pins;              expect "undefine pins" 0
run define "$work/pins-dump.xml"; expect "define the pins dump" 0 stdout "Domain 'pins' defined"
run dumpxml pins
cmp -s "$work/out" "$work/pins-dump.xml" && pass "pins round trip is stable" || fail "pins round trip is stable" "$(diff "$work/pins-dump.xml" "$work/out" | head -5)"
run undefine pins;              expect "undefine pins again" 0
write_domain "$work/badpin.xml" badpin "" "
  <cputune>
    <vcpupin vcpu='2' cpuset='0'/>
  </cputune>"
run define "$work/badpin.xml";  expect "define refuses a pin of an absent vCPU" 3 stderr "badpin.xml:19: <vcpupin vcpu='2'> pins a vCPU the domain does not have"

# --- setmem, setmaxmem, setvcpus ---------------------------------------------
# SIZE as virsh reads it (KiB without a unit; k/M/G/T and KiB/MiB/... powers
# of 1024, KB/MB/... powers of 1000, b; any case), checked before anything
# else; --config changes the stored definition without the hypervisor.
write_domain "$work/rs.xml" rs
run define "$work/rs.xml";        expect "define rs" 0 stdout "Domain 'rs' defined"
stored() { sed -n "s/^ *<$1[ >]//p" "$MICA_STATE_DIR/domains/rs.xml"; }
for size in "49152:49152" "48M:49152" "48m:49152" "48MiB:49152" "48mib:49152" "0.05G:" \
            "50331648b:49152" "50331648bytes:49152" "50MB:48829" "1G:" "65536k:65536" \
            "64KiB:" "12x:" "M:" " 48M:" "48 M:" "18446744073709551615G:"; do
    text=${size%%:*} want=${size#*:}
    run setmem rs "$text" --config
    case $text in
    64KiB) expect "setmem $text is below the floor" 1 stderr "64KiB is 64 KiB, below Mica's floor of 32768 KiB (32 MiB)" ;;
    1G)    expect "setmem $text is above <memory>" 1 stderr "1048576 KiB is more than the stored definition of 'rs' allows, <memory> 65536 KiB; raise that first with 'vmctl setmaxmem rs SIZE --config'" ;;
    12x)   expect "setmem $text: unknown unit" 2 stderr "SIZE '12x' has an unknown unit 'x'" ;;
    18446744073709551615G) expect "setmem $text: too large" 2 stderr "is too large" ;;
    0.05G|M|" 48M"|"48 M") expect "setmem '$text' is not a size" 2 stderr "SIZE '" ;;
    *)     expect "setmem $text --config" 0 stdout "stored <currentMemory> $want KiB" &&
           { [ "$(stored currentMemory)" = "unit=\"KiB\">$want</currentMemory>" ] && pass "setmem $text stored" || fail "setmem $text stored" "$(stored currentMemory)"; } ;;
    esac
done
run setmem --config rs -- -48M;   expect "setmem -48M after --" 2 stderr "SIZE '-48M' is not a size"
before=$(state_snapshot)
run setmem rs 48M;                expect "setmem without the hypervisor needs --config" 5 stderr "cannot reach the Mica hypervisor to tell whether 'rs' runs"
run setmem rs 48M --live;         expect "setmem --live without the hypervisor" 5 stderr "vmctl setmem: cannot reach the Mica hypervisor"
run setmem rs 48M --current --config; expect "setmem --current with --config" 2 stderr "give it alone"
run setmem rs 48M --config --wait; expect "setmem --wait with --config alone" 2 stderr "nothing to wait for"
run setmem rs 48M --timeout 5 --live; expect "setmem --timeout without --wait" 2 stderr "give --wait too"
run setmem rs 48M --wait --timeout 0 --live; expect "setmem --timeout 0" 2 stderr "--timeout wants a whole number from 1 to 86400"
run setmaxmem rs 48M --wait;      expect "setmaxmem has no --wait" 2 stderr "unknown option '--wait'"
run setmem nosuch 48M --config;   expect "setmem unknown domain" 4 stderr "no domain named 'nosuch' is defined"
run setvcpus rs 0 --config;       expect "setvcpus 0" 2 stderr "COUNT wants a whole number from 1 to 32 (a Mica PV domain's most), not '0'"
run setvcpus rs 33 --config;      expect "setvcpus 33" 2 stderr "not '33'"
run setvcpus rs 2x --config;      expect "setvcpus 2x" 2 stderr "not '2x'"
run setvcpus rs 3 --config;       expect "setvcpus above the maximum" 1 stderr "the stored definition of 'rs' has at most 2 vCPUs (<vcpu>); 'vmctl setvcpus rs 3 --config --maximum' raises that"
run setvcpus rs 3 --maximum --live; expect "setvcpus --maximum --live" 2 stderr "use it with --config or alone"
[ "$(state_snapshot)" = "$before" ] && pass "refused resizes change nothing" || fail "refused resizes change nothing" "state changed"
run setmaxmem rs 40M --config;    expect "setmaxmem --config lowers <memory>" 0 stdout "stored <memory> 40960 KiB (was 65536 KiB), <currentMemory> lowered to it"
[ "$(stored memory) $(stored currentMemory)" = 'unit="KiB">40960</memory> unit="KiB">40960</currentMemory>' ] \
    && pass "setmaxmem stored both" || fail "setmaxmem stored both" "$(stored memory) $(stored currentMemory)"
run setmaxmem rs 96M --config;    expect "setmaxmem --config raises <memory>" 0 stdout "stored <memory> 98304 KiB (was 40960 KiB), used"
run setvcpus rs 1 --config;       expect "setvcpus --config" 0 stdout "stored <vcpu> current 1 of 2 (was 2)"
[ "$(stored vcpu)" = 'current="1">2</vcpu>' ] && pass "setvcpus stored current=" || fail "setvcpus stored current=" "$(stored vcpu)"
run setvcpus rs 4 --maximum;      expect "setvcpus --maximum" 0 stdout "stored <vcpu> maximum 4 (was 2), used"
run setvcpus rs 4 --config;       expect "setvcpus up to the new maximum" 0 stdout "current 4 of 4"
[ "$(stored vcpu)" = '4</vcpu>' ] && pass "current= left out when all are current" || fail "current= left out when all are current" "$(stored vcpu)"
run setvcpus rs 3 --config --maximum; expect "setvcpus --maximum lowers the current count" 0 stdout "maximum 3 (was 4), current lowered to it"
run info rs;                      expect "info shows the changes" 0 stdout "vCPUs:          3 (maximum 3)"
grep -q "^Memory:         98304 KiB" "$work/out" && grep -q "^Current memory: 40960 KiB" "$work/out" \
    && pass "info shows the memory changes" || fail "info shows the memory changes" "$out"
xmllint --noout --relaxng "$TOP/xml-schemas/domain.rng" "$MICA_STATE_DIR/domains/rs.xml" 2>/dev/null \
    && pass "the changed definition matches the schema" || fail "the changed definition matches the schema" "xmllint rejects it"
[ -z "$(ls -A "$MICA_STATE_DIR/domains" | grep '^\.')" ] && pass "resize leaves no temp files" || fail "resize leaves no temp files" "$(ls -A "$MICA_STATE_DIR/domains")"
# A change the definition's other rules forbid is refused whole: a pinned
# vCPU cannot go, <memory> cannot pass <maxMemory>.
write_domain "$work/rspin.xml" rspin "" "
  <cputune>
    <vcpupin vcpu='1' cpuset='0'/>
  </cputune>"
sed -i "s|<memory unit='MiB'>64</memory>|<maxMemory slots='2' unit='MiB'>96</maxMemory>\n  <memory unit='MiB'>64</memory>|" "$work/rspin.xml"
run define "$work/rspin.xml";     expect "define rspin" 0
before=$(state_snapshot)
run setvcpus rspin 1 --maximum;   expect "setvcpus --maximum below a pinned vCPU" 3 stderr "the changed definition of rspin:"
expect "setvcpus --maximum below a pinned vCPU: why" 3 stderr "<vcpupin vcpu='1'> pins a vCPU the domain does not have"
run setmaxmem rspin 128M --config; expect "setmaxmem past <maxMemory>" 3 stderr "is larger than <maxMemory>"
[ "$(state_snapshot)" = "$before" ] && pass "invalid resizes change nothing" || fail "invalid resizes change nothing" "state changed"
run undefine rspin;               expect "undefine rspin" 0
run undefine rs;                  expect "undefine rs" 0

# --- duplicates -----------------------------------------------------------
before=$(state_snapshot)
run define "$work/good.xml";    expect "duplicate name refused" 6 stderr "a domain named 'good' is already defined"
write_domain "$work/same-uuid.xml" other "$uuid"
run define "$work/same-uuid.xml"; expect "duplicate UUID refused" 6 stderr "UUID $uuid is already used by domain 'good'"
[ "$(state_snapshot)" = "$before" ] && pass "refusals change nothing" || fail "refusals change nothing" "state changed"
run define "$work/bad.xml";     expect "define invalid" 3 stderr "bad.xml:3:"
[ "$(state_snapshot)" = "$before" ] && pass "invalid define changes nothing" || fail "invalid define changes nothing" "state changed"

# --- atomic writes ----------------------------------------------------------
# A write that fails half-way (file size limit) must leave neither a
# partial definition nor a temp file behind.
big_desc=$(head -c 6000 /dev/zero | tr '\0' 'x')
write_domain "$work/big.xml" big "" "
  <description>$big_desc</description>"
before=$(state_snapshot)
( trap '' XFSZ; ulimit -f 4; exec "$VMCTL" define "$work/big.xml" ) >"$work/out" 2>"$work/err"
rc=$?
expect "failed write reported" 1 stderr "cannot write"
[ ! -e "$MICA_STATE_DIR/domains/big.xml" ] && [ -z "$(ls -A "$MICA_STATE_DIR/domains" | grep -v '^good.xml$')" ] \
    && pass "failed write leaves nothing behind" || fail "failed write leaves nothing behind" "$(ls -A "$MICA_STATE_DIR/domains")"
[ "$(state_snapshot)" = "$before" ] && pass "failed write changes nothing" || fail "failed write changes nothing" "state changed"
run define "$work/big.xml";     expect "same definition defines without the limit" 0 stdout "Domain 'big' defined"
run undefine big;               expect "undefine big" 0

# A read-only state directory: clear error, nothing written.
if [ "$(id -u)" -ne 0 ]; then
    chmod a-w "$MICA_STATE_DIR/domains"
    write_domain "$work/ro.xml" ro
    run define "$work/ro.xml";  expect "read-only state dir" 1 stderr "cannot create a file"
    chmod u+w "$MICA_STATE_DIR/domains"
fi

# --- lock -------------------------------------------------------------------
# Many concurrent defines: each must see the others' results, so exactly
# one of those sharing a name succeeds and every file is complete.
for i in $(seq 1 8); do write_domain "$work/c$i.xml" "c$i"; write_domain "$work/d$i.xml" same; done
pids=()
for i in $(seq 1 8); do
    "$VMCTL" define "$work/c$i.xml" >"$work/c$i.out" 2>&1 & pids+=($!)
    "$VMCTL" define "$work/d$i.xml" >"$work/d$i.out" 2>&1 & pids+=($!)
done
ok=0 dup=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}"; r=$?
    [ $r -eq 0 ] && ok=$((ok + 1))
    [ $r -eq 6 ] && dup=$((dup + 1))
done
[ $ok -eq 9 ] && [ $dup -eq 7 ] && pass "concurrent defines serialised" || fail "concurrent defines serialised" "$ok ok, $dup duplicates"
bad=0
for f in "$MICA_STATE_DIR"/domains/*.xml; do
    xmllint --noout --relaxng "$TOP/xml-schemas/domain.rng" "$f" 2>/dev/null || bad=$((bad + 1))
done
[ $bad -eq 0 ] && pass "every stored file complete" || fail "every stored file complete" "$bad broken"
[ -z "$(ls -A "$MICA_STATE_DIR/domains" | grep '^\.')" ] && pass "no temp files left" || fail "no temp files left" "$(ls -A "$MICA_STATE_DIR/domains")"
# A held lock makes a writer wait, then give up with a clear message.
exec 9>"$MICA_STATE_DIR/.lock"
flock 9
write_domain "$work/locked.xml" locked
start=$(date +%s)
run define "$work/locked.xml"
expect "held lock reported" 1 stderr "another vmctl has held"
exec 9>&-
[ $(( $(date +%s) - start )) -ge 5 ] && pass "writer waited for the lock" || fail "writer waited for the lock" "gave up at once"
[ ! -e "$MICA_STATE_DIR/domains/locked.xml" ] && pass "nothing written without the lock" || fail "nothing written without the lock" "file exists"

# --- hypervisor unreachable ---------------------------------------------------
before=$(state_snapshot)
run create "$work/good.xml"
expect "create without hypervisor" 5 stderr "vmctl create: cannot reach the Mica hypervisor: $work/no-privcmd does not exist (vmctl runs in dom0 on Mica)"
run create "$work/bad.xml";    expect "create checks the definition first" 3 stderr "bad.xml:3:"
run start good;                expect "start without hypervisor" 5 stderr "cannot reach the Mica hypervisor"
run start nosuch;              expect "start unknown domain" 4 stderr "no domain named 'nosuch'"
for c in shutdown reboot destroy pause unpause console sched; do
    run "$c" good;             expect "$c without hypervisor" 5 stderr "vmctl $c: cannot reach the Mica hypervisor"
done
run list;                      expect "list without hypervisor" 5 stderr "list --inactive"
run hostinfo;                  expect "hostinfo without hypervisor" 5 stderr "vmctl hostinfo: cannot reach the Mica hypervisor"
run list --all;                expect "list --all without hypervisor" 5 stderr "cannot reach the Mica hypervisor"
[ "$(state_snapshot)" = "$before" ] && pass "unreachable hypervisor leaves state alone" || fail "unreachable hypervisor leaves state alone" "state changed"
# A file in privcmd's place answers no hypercall: still unreachable, nothing done.
: >"$work/fake-privcmd"
MICA_PRIVCMD=$work/fake-privcmd run create "$work/good.xml"
expect "privcmd present, no hypervisor answers" 5 stderr "is present, but the hypervisor does not answer through it"
unset MICA_PRIVCMD
[ -e /dev/xen/privcmd ] || { run list; expect "default privcmd path named" 5 stderr "/dev/xen/privcmd does not exist"; }
export MICA_PRIVCMD=$work/no-privcmd

# --- hot-plug arguments (checked before the hypervisor is asked) -------------
run attach-disk dom /img.raw hda
expect "attach-disk refuses a target that is not xvdX" 2 stderr "TARGET 'hda' is not a Xen PV disk name"
run attach-disk dom img.raw xvdb
expect "attach-disk wants an absolute source" 2 stderr "SOURCE must be an absolute path"
run attach-disk dom /img.raw xvdb --mode rw
expect "attach-disk --mode takes readonly" 2 stderr "--mode takes 'readonly'"
run attach-interface dom
expect "attach-interface needs --bridge" 2 stderr "--bridge BR is required"
run attach-interface dom --bridge br0 --mac 01:16:3e:00:00:01
expect "attach-interface refuses a multicast MAC" 2 stderr "--mac wants a unicast address"
run detach-interface dom 00:16:3e:00:00
expect "detach-interface refuses a short MAC" 2 stderr "is not a unicast address"
run detach-disk dom xvd1
expect "detach-disk refuses a bad target" 2 stderr "is not a Xen PV disk name"
run attach-disk dom /img.raw xvdb --mode readonly
expect "attach-disk without the hypervisor" 5 stderr "cannot reach the Mica hypervisor"

# --- evacuate: its arguments are checked before anything moves ----------------
run evacuate
expect "evacuate needs a destination" 2 stderr "missing DESTINATION argument"
run evacuate 'host;reboot'
expect "evacuate refuses shell text as a host" 2 stderr "is not a host name ssh can take"
run evacuate --max-downtime 0 host
expect "evacuate checks --max-downtime first" 2 stderr "--max-downtime wants a whole number"
run evacuate --live --offline host
expect "evacuate: --live and --offline" 2 stderr "exclude each other"
run evacuate host
expect "evacuate without the hypervisor" 5 stderr "cannot reach the Mica hypervisor"
run evacuate --copy-storage --dry-run host
expect "evacuate takes --copy-storage" 5 stderr "cannot reach the Mica hypervisor"
run evacuate --copy-storage --live --offline host
expect "evacuate --copy-storage: --live and --offline" 2 stderr "exclude each other"
run help evacuate
expect "evacuate's help names --copy-storage" 0 stdout "--copy-storage  each domain's disk image files move with it"

# --- man page and completion -------------------------------------------------
if command -v man >/dev/null; then
    page=$(MANWIDTH=80 man -l "$TOP/dom0-tools/vmctl/vmctl.1" 2>"$work/man.err")
    if [ -s "$work/man.err" ]; then fail "man page renders" "$(head -3 "$work/man.err")"
    else
        missing=""
        for c in $commands; do grep -q "^ *$c" <<<"$page" || missing="$missing $c"; done
        [ -z "$missing" ] && grep -q "EXIT STATUS" <<<"$page" && pass "man page renders and covers every command" \
            || fail "man page renders and covers every command" "missing:$missing"
    fi
else
    fail "man page renders" "man is not installed (apt-get install man-db)"
fi
bash -n "$TOP/dom0-tools/vmctl/vmctl.bash-completion" && pass "completion script parses" || fail "completion script parses" "syntax error"
complete_words() { # prints the completions of the words given
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _vmctl; printf "%s\n" "${COMPREPLY[@]}"' _ \
        "$TOP/dom0-tools/vmctl/vmctl.bash-completion" "$@"
}
[ "$(complete_words vmctl und)" = undefine ] && pass "completion of commands" || fail "completion of commands" "$(complete_words vmctl und)"
[ "$(PATH=$(dirname "$VMCTL"):$PATH complete_words vmctl dumpxml go)" = good ] && pass "completion of domain names" \
    || fail "completion of domain names" "$(PATH=$(dirname "$VMCTL"):$PATH complete_words vmctl dumpxml go)"
[ "$(complete_words vmctl list --ina)" = --inactive ] && pass "completion of options" || fail "completion of options" "$(complete_words vmctl list --ina)"
[ "$(complete_words vmctl shutdown --w)" = --wait ] && pass "completion of shutdown options" || fail "completion of shutdown options" "$(complete_words vmctl shutdown --w)"
[ "$(complete_words vmctl sched --weight '')" = "" ] && pass "no completion after --weight" || fail "no completion after --weight" "$(complete_words vmctl sched --weight '')"
[ "$(complete_words vmctl attach-disk --m)" = --mode ] && pass "completion of attach-disk options" || fail "completion of attach-disk options" "$(complete_words vmctl attach-disk --m)"
[ "$(complete_words vmctl setmem --w)" = --wait ] && pass "completion of setmem options" || fail "completion of setmem options" "$(complete_words vmctl setmem --w)"
[ "$(complete_words vmctl setvcpus --m)" = --maximum ] && pass "completion of setvcpus options" || fail "completion of setvcpus options" "$(complete_words vmctl setvcpus --m)"
[ "$(complete_words vmctl sch)" = sched ] && pass "completion of sched" || fail "completion of sched" "$(complete_words vmctl sch)"

[ $failures -eq 0 ]
