"""Shared by bench/smp-scaling and bench/smp-overhead: boots a benchmark
kernel from tests/guests/bench/ as dom0 on Mica in QEMU (TCG) with a given
number of CPUs (-smp; QEMU runs one thread per vCPU) and extra Mica
options (sched_smp=1), and collects its "BENCH <name> <value>" lines.

Under TCG the numbers measure emulated instructions on a shared host, not
silicon; compare runs of one invocation, not across machines or days.
"""
import os
import re
import subprocess
import tempfile

from guest_bench import OPTS, TOP, boot_iso, kernel_path


def build(*names):
    subprocess.run(["make", "-s", "-C", TOP, "build/mica.gz"] +
                   [os.path.relpath(kernel_path(n), TOP) for n in names], check=True)


def run(name, smp=1, hv_opts="", args="", initrd_self=False, timeout=900):
    """BENCH values of one boot ({} on failure, with the log's path printed)."""
    tmp = tempfile.mkdtemp()
    iso, log = os.path.join(tmp, "b.iso"), os.path.join(tmp, "serial.log")
    mods = [kernel_path(name), "%s test=%s %s" % (name, name, args)]
    if initrd_self:
        mods += [kernel_path(name), "initrd"]
    subprocess.run([os.path.join(TOP, "scripts/mkiso"), iso, os.path.join(TOP, "build/mica.gz"),
                    (OPTS + " " + hv_opts).strip()] + mods, check=True,
                   stdout=subprocess.DEVNULL)
    text = boot_iso(iso, log, smp, timeout)
    found = dict(re.findall(r"BENCH (\w+) (\d+)", text))
    if not found or not re.search(r"(?m)^Test result: SUCCESS", text):
        print("%s -smp %d %s: no results (see the log: %s)" % (name, smp, hv_opts, log))
        return {}
    return {k: int(v) for k, v in found.items()}
