"""Shared by the guest micro-benchmarks (bench/hypercall-cycles,
bench/mmu-update-batch): boots one benchmark kernel from
tests/guests/bench/ as dom0 on Mica and on Xen 4.17, the same way in the
same QEMU (TCG), and collects its "BENCH <name> <value>" lines; prints a
table with the ratio Mica/Xen (below 1: Mica is faster).

Under TCG the numbers measure emulated instructions, not silicon; the
ratio still compares the two hypervisors' paths.  Informational only.
"""
import os
import re
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XEN_GZ = "/boot/xen-4.17-amd64.gz"
OPTS = "console=com1 com1=115200,8n1 noreboot dom0_mem=64M dom0_max_vcpus=1"

# Xen 4.17 is booted with the speculative-execution mitigations Mica lacks
# turned off, and with the ones Mica always does turned on, so that no
# ratio comes from one side doing less (docs/spec-ctrl.md, "Benchmarks:
# the same mitigations on both"): eager FPU switching, retpoline thunks
# (bti-thunk=retpoline, Mica's default), the RSB overwrite on entry from
# PV guests (rsb=pv=1, Mica's default) and speculation barriers on
# guest-steered branches (branch-harden=1, Mica's default).
# xpti=0 on Xen while Mica's XPTI is off by default too on this AMD CPU
# model (Xen's own rule: AMD is not affected by Meltdown); a bench run
# that boots Mica with xpti=1 must give Xen xpti=1 as well.
# Left at their defaults on both: pv-l1tf (same rule and default on both),
# smt and tsx (neither changes them on this CPU model).  Compiled into
# both and not switchable: HARDEN_ARRAY and HARDEN_GUEST_ACCESS (index and
# guest-pointer masking on hypercall paths) and RETURN_THUNK (every ret a
# jump to a ret; Mica's since 2026-12-07), so the line below has nothing
# for them.
# Xen cuts an option's value at 127 characters (MAX_PARAM_SIZE), hence two
# spec-ctrl= options; each is applied in turn.
XEN_MITIGATION_PARITY = (
    "spec-ctrl=msr-sc=0,rsb=pv=1,verw=0,ibpb-entry=0,bhb-entry=0,bti-thunk=retpoline,ibrs=0,ibpb=0 "
    "spec-ctrl=ssbd=0,psfd=0,branch-harden=1,gds-mit=0,div-scrub=0,bhi-dis-s=0,"
    "bp-spec-reduce=0,eager-fpu=1 xpti=0")
assert all(len(o) < 128 for o in XEN_MITIGATION_PARITY.split())

XEN_OPTS = OPTS + " " + XEN_MITIGATION_PARITY
CPU = os.environ.get("MICA_QEMU_CPU", "max,-smap,-smep,-pku,-la57")


def kernel_path(name):
    return os.path.join(TOP, "build/tests/guests/bench/%s.elf" % name)


def boot_iso(iso, log, smp=1, timeout=300):
    """Boots iso in QEMU (TCG, smp CPUs) until the kernel's "Test result:"
    line, QEMU's exit or timeout seconds; returns the serial log's text."""
    proc = subprocess.Popen(["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg",
                             "-cpu", CPU, "-smp", str(smp), "-m", "256", "-display", "none",
                             "-monitor", "none", "-serial", "file:" + log, "-no-reboot",
                             "-cdrom", iso],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start, text = time.monotonic(), ""
    while time.monotonic() - start < timeout:
        if os.path.exists(log):
            with open(log, "rb") as f:
                text = f.read().decode(errors="replace")
        if re.search(r"(?m)^Test result: \w+", text) or proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    return text


def run(label, image, name, opts=OPTS):
    tmp = tempfile.mkdtemp()
    iso, log = os.path.join(tmp, "b.iso"), os.path.join(tmp, "serial.log")
    subprocess.run([os.path.join(TOP, "scripts/mkiso"), iso, image, opts, kernel_path(name),
                    "%s test=%s" % (name, name)], check=True, stdout=subprocess.DEVNULL)
    text = boot_iso(iso, log)
    found = dict(re.findall(r"BENCH (\w+) (\d+)", text))
    if not found:
        print("%s: no results (see the log: %s)" % (label, log))
    return {k: int(v) for k, v in found.items()}


def compare(name, keys, unit="guest TSC cycles"):
    """Builds Mica and the kernel, runs both, prints the table; exit status."""
    subprocess.run(["make", "-s", "-C", TOP, "build/mica.gz",
                    os.path.relpath(kernel_path(name), TOP)], check=True)
    mica = run("Mica", os.path.join(TOP, "build/mica.gz"), name)
    xen = run("Xen 4.17", XEN_GZ, name, XEN_OPTS) if os.path.exists(XEN_GZ) else {}
    if not xen:
        print("Xen 4.17 not available (apt-get install xen-hypervisor-4.17-amd64): no ratios")
    print("%-24s %12s %12s %10s" % (unit, "Mica", "Xen 4.17", "Mica/Xen"))
    for key in keys:
        m, x = mica.get(key), xen.get(key)
        ratio = "%.2f" % (m / x) if m and x else "-"
        print("%-24s %12s %12s %10s" % (key, m if m else "-", x if x else "-", ratio))
    return 0 if mica and all(k in mica for k in keys) else 1
