"""What bench/save-restore, bench/migrate and bench/clone-time share: boot
one peer's dom0 with mica.test=state-bench (dom0-tools/image/state-bench)
and collect its "BENCH: state ..." lines.

The image is build/dom0-image-bench (the dom0 image built with
--xen-toolstack, as bench/domu-create-time uses): Debian's 6.1 dom0
kernel, our busybox initramfs, Debian's xl for the Xen 4.17 peer, and the
Linux domU (Debian's cloud kernel, a busybox initramfs with memdirty,
dom0-tools/image/memdirty.c).  Every peer boots it from a GRUB ISO in the
same QEMU (pc, TCG, same -cpu and -m, dom0 with the same memory and one
vCPU); Xen with XEN_MITIGATION_PARITY (docs/spec-ctrl.md).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.path.join(TOP, "build", "dom0-image-bench")
os.environ["DOM0_IMAGE_DIR"] = IMAGE
sys.path.insert(0, os.path.join(TOP, "tests", "dom0"))
import dom0_qemu as dq  # noqa: E402
from guest_bench import XEN_MITIGATION_PARITY  # noqa: E402

DONE = re.compile(r"mica-dom0: test state-bench done: (\d+) passed, (\d+) failed")
BENCH = re.compile(r"^BENCH: state (.*)$", re.M)
XEN = "/boot/xen-4.17-amd64.gz"
MICA = os.path.join(TOP, "build", "mica.gz")


def build(no_build):
    """None, or why the image could not be built."""
    if not no_build:
        r = subprocess.run(["make", "-s", "-C", TOP, "build/mica.gz", "build/vmctl",
                            "build/xenstored", "build/micaconsoled", "build/mica-logdirty"])
        if r.returncode != 0:
            return "make failed"
        r = subprocess.run([os.path.join(TOP, "dom0-tools", "image", "build-dom0-image"),
                            "--out", IMAGE, "--xen-toolstack",
                            "--debs", os.path.join(TOP, "build", "dom0-image", "debs")])
        if r.returncode != 0:
            return "build-dom0-image --xen-toolstack failed"
    for f in ("vmlinuz", "initrd.gz", "disk.img"):
        if not os.path.exists(os.path.join(IMAGE, f)):
            return "%s missing" % os.path.join(IMAGE, f)
    return None


def host_load():
    return open("/proc/loadavg").read().split()[0]


def run_peer(name, hv, extra, mem, dom0_mem, timeout, log_name):
    """(BENCH lines, load at start, load at end) from one boot, or None
    after saying where it stopped.  The serial log is kept in build/bench/."""
    load0 = host_load()
    tmp = tempfile.mkdtemp(prefix="state-bench.")
    try:
        iso = os.path.join(tmp, name + ".iso")
        opts = "%s dom0_max_vcpus=1 dom0_mem=%dM,max:%dM" % (dq.HV_OPTS, dom0_mem, dom0_mem)
        if hv == XEN:
            opts += " " + XEN_MITIGATION_PARITY
        elif os.environ.get("MICA_BENCH_OPTS"):
            opts += " " + os.environ["MICA_BENCH_OPTS"]
        cmdline = dq.dom0_cmdline(False, "state-bench", extra)
        subprocess.run([os.path.join(TOP, "scripts", "mkiso"), iso, hv, opts,
                        os.path.join(IMAGE, "vmlinuz"), cmdline,
                        os.path.join(IMAGE, "initrd.gz"), ""], check=True)
        log = os.path.join(tmp, name + ".log")
        disk = os.path.join(tmp, "disk.img")
        with open(os.path.join(IMAGE, "disk.img"), "rb") as src, open(disk, "wb") as dst:
            dst.write(src.read())
        end, _marker, total, text = dq.boot(dq.qemu_cmd(log, disk, mem, iso=iso), log, timeout)
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    load1 = host_load()
    kept = os.path.join(TOP, "build", "bench", "%s-%s.log" % (log_name, name))
    os.makedirs(os.path.dirname(kept), exist_ok=True)
    with open(kept, "w") as f:
        f.write(text)
    got = BENCH.findall(text)
    for l in text.splitlines():
        if l.startswith("FAIL: ") or l.startswith("SKIP: "):
            print("%-7s %s" % (name, l[:400]))
    if not DONE.search(text):
        tail = [l for l in text.splitlines() if l.strip()][-1:] or ["(no output)"]
        print("%-7s boot ended by %s after %.0f s before state-bench finished; last line: %s" % (
            name, end, total, tail[0][:160]))
    print("%-7s %.0f s in QEMU, host load %s at the start, %s at the end; serial log %s" % (
        name, total, load0, load1, os.path.relpath(kept, TOP)))
    if not got:
        return None
    return got, load0, load1


def fields(line):
    """key=value pairs of a BENCH line."""
    return dict(m.groups() for m in re.finditer(r"(\w+)=(\S+)", line))


def med(values):
    return statistics.median(values) if values else None
