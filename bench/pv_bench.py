"""What bench/blk-throughput and bench/net-throughput share: build the
bench image, boot one peer's dom0 with mica.test=pv-bench and collect the
"BENCH: ..." lines dom0's /init (dom0-tools/image/init, run_pv_bench)
prints.

The image is build/dom0-image-pvbench: the dom0 image built with
--bench-tools (Debian's fio and iperf3 in /usr/lib/mica/bench/tools.img,
fetched at build time into the .deb cache) and --xen-toolstack (xl for the
Xen 4.17 peer).  Both peers boot it from a GRUB ISO in the same QEMU (pc,
TCG, same -cpu and -m, same dom0 memory).

$MICA_BENCH_OPTS adds options to Mica's command line only (for example
`perfc=5` with a CONFIG_PERF_COUNTERS build: counters every 5 s in the
serial log kept in build/bench/).  $MICA_BENCH_CPUS (default 1) is QEMU's
-smp, the physical CPUs both hypervisors get (dom0 keeps one vCPU, so
with 2 the back end and a front end can run at the same moment).
"""
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.path.join(TOP, "build", "dom0-image-pvbench")
os.environ["DOM0_IMAGE_DIR"] = IMAGE
sys.path.insert(0, os.path.join(TOP, "tests", "dom0"))
import dom0_qemu as dq  # noqa: E402
from guest_bench import XEN_MITIGATION_PARITY  # noqa: E402

DONE = re.compile(r"mica-dom0: test pv-bench done: (\d+) passed, (\d+) failed")
BENCH = re.compile(r"^BENCH: (\S+) (fio|iperf3) (.*)$", re.M)
PEERS = {"xen": "/boot/xen-4.17-amd64.gz", "mica": os.path.join(TOP, "build", "mica.gz")}


def build(no_build):
    """None, or why the image could not be built."""
    if not no_build:
        r = subprocess.run(["make", "-s", "-C", TOP, "build/mica.gz", "build/vmctl",
                            "build/xenstored", "build/micaconsoled"])
        if r.returncode != 0:
            return "make failed"
        r = subprocess.run([os.path.join(TOP, "dom0-tools", "image", "build-dom0-image"),
                            "--out", IMAGE, "--bench-tools", "--xen-toolstack",
                            "--debs", os.path.join(TOP, "build", "dom0-image", "debs")])
        if r.returncode != 0:
            return "build-dom0-image --bench-tools --xen-toolstack failed"
    for f in ("vmlinuz", "initrd.gz", "disk.img"):
        if not os.path.exists(os.path.join(IMAGE, f)):
            return "%s missing" % os.path.join(IMAGE, f)
    return None


def run_peer(name, hv, pv, secs, mib, mem, dom0_mem, timeout, extra=""):
    """[(where, tool, rest of line)] from one boot, or None after saying
    where it stopped.  The serial log is kept in build/bench/."""
    tmp = tempfile.mkdtemp(prefix="pv-bench.")
    try:
        iso = os.path.join(tmp, name + ".iso")
        opts = "%s dom0_max_vcpus=1 dom0_mem=%dM,max:%dM" % (dq.HV_OPTS, dom0_mem, dom0_mem)
        if name == "xen":
            opts += " " + XEN_MITIGATION_PARITY      # docs/spec-ctrl.md
        if name.startswith("mica") and os.environ.get("MICA_BENCH_OPTS"):
            opts += " " + os.environ["MICA_BENCH_OPTS"]
        cmdline = dq.dom0_cmdline(False, "pv-bench", "mica.bench.pv=%s mica.bench.secs=%d "
                                  "mica.bench.mib=%d %s" % (pv, secs, mib, extra))
        subprocess.run([os.path.join(TOP, "scripts", "mkiso"), iso, hv, opts,
                        os.path.join(IMAGE, "vmlinuz"), cmdline,
                        os.path.join(IMAGE, "initrd.gz"), ""], check=True)
        log = os.path.join(tmp, name + ".log")
        disk = os.path.join(tmp, "disk.img")
        with open(os.path.join(IMAGE, "disk.img"), "rb") as src, open(disk, "wb") as dst:
            dst.write(src.read())
        cpus = int(os.environ.get("MICA_BENCH_CPUS", "1"))
        end, _marker, total, text = dq.boot(dq.qemu_cmd(log, disk, mem, iso=iso, cpus=cpus), log,
                                            timeout)
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    kept = os.path.join(TOP, "build", "bench", "pv-%s-%s.log" % (pv, name))
    os.makedirs(os.path.dirname(kept), exist_ok=True)
    with open(kept, "w") as f:
        f.write(text)
    got = [m.groups() for m in BENCH.finditer(text)]
    done = DONE.search(text)
    fails = [l for l in text.splitlines() if l.startswith("FAIL: ")]
    for l in fails:
        print("%-5s %s" % (name, l[:300]))
    if not done:
        tail = [l for l in text.splitlines() if l.strip()][-1:] or ["(no output)"]
        print("%-5s boot ended by %s after %.0f s before pv-bench finished; last line: %s" % (
            name, end, total, tail[0][:160]))
    if not got:
        print("%-5s no results; serial log kept in %s" % (name, os.path.relpath(kept, TOP)))
        return None
    print("%-5s serial log kept in %s" % (name, os.path.relpath(kept, TOP)))
    return got


def host_load():
    return open("/proc/loadavg").read().split()[0]


def cpus():
    return int(os.environ.get("MICA_BENCH_CPUS", "1"))
