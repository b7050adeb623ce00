#!/usr/bin/env python3
"""Boot the dom0 image in QEMU (TCG) and judge its scripted test.

    dom0_qemu.py --name NAME (--hypervisor XEN_OR_MICA.gz | --native)
                 [--test dom0-basic] [--timeout S] [--mem MiB] [--dom0-mem MiB]

--hypervisor boots that image from a GRUB ISO (scripts/mkiso) with the
kernel and initrd of build/dom0-image as multiboot2 modules, the way Xen is
booted; Xen 4.17 and Mica take the same command line.  --native boots the
same kernel and initrd directly (-kernel/-initrd) on the same QEMU.  Both
get a copy of build/dom0-image/disk.img as a virtio disk and a virtio NIC
on QEMU's user network in restricted mode (no traffic leaves QEMU).

The run ends when QEMU exits (dom0 powered off), on a crash marker or on
the timeout, never after a fixed sleep.  The guest's own PASS/FAIL/SKIP
lines are relayed as NAME/<check>; then one line for the run itself:
PASS only if QEMU exited by itself, no crash marker showed, the summary
line reports no failure and every check in --require passed.

boot() is also used by bench/dom0-boot-time.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = os.environ.get("DOM0_IMAGE_DIR") or os.path.join(TOP, "build", "dom0-image")
CPU = os.environ.get("MICA_QEMU_CPU", "max,-smap,-smep,-pku,-la57")
MARKER = re.compile(r"mica-dom0: userspace up")
CRASH = re.compile(r"Kernel panic|Panic on CPU|\(XEN\) \*\*\*\*|MICA PANIC|Mica cannot boot|LOCK VIOLATION|MICA BUG"
                   r"|BUG: |Oops: |general protection fault|Attempted to kill init"
                   r"|Could not construct domain 0")
HV_OPTS = "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot"

CHECKS_COMMON = ["disk-present", "disk-read", "disk-write",
                 "net-present", "net-dhcp", "net-ping-gateway", "msi-virtio"]
CHECKS_XEN = ["xen-capabilities", "xen-devices", "xen-sysfs",
              "module-xenfs", "module-xen_evtchn", "module-xen_gntdev",
              "module-xen_privcmd"]
# domu-tiny: vmctl's life of a test-kernel domU (Mica only).
CHECKS_DOMU_TINY = ["daemon-xenstored", "daemon-micaconsoled",
                    "domu-tiny-create", "domu-tiny-list", "domu-tiny-duplicate",
                    "domu-sched-create", "domu-sched-set", "domu-sched-bad",
                    "domu-tiny-shutdown", "domu-tiny-preserve", "domu-shutdown-twice",
                    "domu-linux-create", "domu-list-both",
                    "domu-linux-console", "domu-linux-log",
                    "domu-linux-reboot-asked", "domu-linux-restarted",
                    "domu-linux-clean-reboot", "domu-linux-second-boot",
                    "domu-linux-info-restarted",
                    "domu-save-disk-full", "domu-save-resumed",
                    "domu-linux-shutdown-wait", "domu-linux-clean-poweroff",
                    "domu-linux-destroyed",
                    "domu-save-timeout", "domu-save", "domu-save-no-temp",
                    "domu-restore-corrupt",
                    "domu-restore-paused", "domu-restore-memory", "domu-restore-twice",
                    "domu-restore-counts", "domu-save-devices", "domu-restore-devices",
                    "domu-restore-disk-written", "domu-save-devices-memory-back",
                    "domu-destroy-tiny", "domu-bad-input",
                    "domu-not-a-kernel", "domu-too-much-memory",
                    "domu-pin-absent-cpu", "domu-too-many-vcpus",
                    "domu-memory-back", "domu-no-leftovers"]
# A Linux domU's PV disks and networks (docs/devices.md, init's
# check_domu_devices): part of domu-tiny, or alone as the domu-devices test.
CHECKS_DEVICES = ["daemon-xenstored", "daemon-micaconsoled",
                  "domu-dev-create", "domu-dev-loops", "domu-dev-vif",
                  "domu-dev-shared-rw", "domu-dev-missing-image", "domu-dev-no-bridge",
                  "domu-dev-duplicate-mac", "domu-dev-bad-target",
                  "domu-dev-xvda-read", "domu-dev-xvdb-read", "domu-dev-readonly",
                  "domu-dev-disk-data", "domu-dev-ping", "domu-dev-net-to-dom0",
                  "domu-dev-net-to-domu", "domu-dev-domstats",
                  "domu-root-mounted", "domu-root-ping",
                  "domu-root-persist", "domu-dev-hotplug-attach", "domu-dev-hotplug-seen",
                  "domu-dev-hotplug-detach", "domu-dev-hotplug-vif",
                  "domu-dev-hotplug-vif-detach", "domu-dev-no-loops", "domu-dev-no-vifs",
                  "domu-dev-written", "domu-dev-disk-write", "domu-dev-repeat"]
CHECKS_DOMU_TINY += CHECKS_DEVICES[2:]
# domu-save: the save/restore checks of domu-tiny alone.
CHECKS_SAVE = ["daemon-xenstored", "daemon-micaconsoled", "domu-save-timeout",
               "domu-save", "domu-save-no-temp",
               "domu-restore-corrupt", "domu-restore-paused", "domu-restore-memory",
               "domu-restore-twice", "domu-restore-counts", "domu-save-devices",
               "domu-restore-devices", "domu-restore-disk-written",
               "domu-save-devices-memory-back", "domu-memory-back"]
# vmctl backup end to end (dom0-tools/image/backup-checks, docs/backups.md):
# part of domu-tiny and of domu-save.
CHECKS_BACKUP = ["domu-backup-full", "domu-backup-incremental", "domu-backup-verify",
                 "domu-backup-restore", "domu-backup-restored-boots"]
CHECKS_DOMU_TINY += CHECKS_BACKUP
CHECKS_SAVE += CHECKS_BACKUP
# The PV front ends of pv-drivers/front in our test kernels, against dom0's
# xenstored, xen-netback and xen-blkback (dom0-tools/image/pvfront-checks):
# part of domu-tiny, or alone as the pvfront test.
PVBLK_HOSTILE = ["badgref", "range", "segs", "flood", "ringidx", "crash"]
CHECKS_PVFRONT = (["daemon-xenstored", "pvfront-xenbus", "pvnet-arp", "pvblk-io"] +
                  ["pvblk-%s%s" % (m, s) for m in PVBLK_HOSTILE
                   for s in ("", "-then-good", "-nothing-left")] +
                  ["pvblk-ringidx-logged", "pvblk-memory-back", "pvblk-loops-released"])
CHECKS_DOMU_TINY += CHECKS_PVFRONT[1:]
# Log-dirty rounds on a busy Linux domU (docs/migration.md): part of
# domu-tiny, or alone as the logdirty test.
CHECKS_LOGDIRTY = ["daemon-xenstored", "daemon-micaconsoled", "domu-logdirty-rounds",
                   "domu-logdirty-fork"]
CHECKS_DOMU_TINY += CHECKS_LOGDIRTY[2:]
# vCPU hot-plug of a running Linux domU (tests/dom0/mica-vcpu-test).
CHECKS_VCPU = ["daemon-xenstored", "daemon-micaconsoled", "domu-vcpu-boot"] + \
    ["domu-vcpu-%s-%s" % (w, how) for how in ("xs", "xl") for w in ("online", "offline")]
# xl save / xl restore of xl1 (part of xl-compat; alone: the xl-saverestore test).
CHECKS_XL_SAVE = ["xl-save", "xl-restore", "xl-restore-counts",
                  "xl-save-2vcpus", "xl-restore-2vcpus", "xl-restore-counts-2vcpus"]
# Snapshots and clones (docs/snapshots.md, dom0-tools/image/snapshot-checks):
# part of domu-tiny, or alone as the domu-snap test.
CHECKS_SNAP = ["daemon-xenstored", "daemon-micaconsoled", "snap-qcow2-served", "snap-create",
               "snap-list", "snap-revert-memory", "snap-revert-disk", "snap-revert-missing",
               "snap-delete-middle", "snap-delete-keeps-others", "snap-undefine-refused",
               "snap-delete-all", "snap-undefine-metadata",
               "snap-nothing-left", "clone-template-refused", "clone-make", "clone-boot",
               "clone-disk-use", "clone-nothing-left", "clone-memory-back"]
# Live migration to the same host (docs/migration.md): part of domu-tiny,
# or alone as the domu-migrate test.
CHECKS_MIGRATE = ["daemon-xenstored", "daemon-micaconsoled", "domu-migrate-not-mica",
                  "domu-migrate-cut", "domu-migrate", "domu-migrate-counts",
                  "domu-migrate-memory", "domu-migrate-memory-back"]
# xl migrate xl1 localhost (part of xl-compat; alone: the xl-migrate test),
# and on Mica the exact free memory after it.
CHECKS_XL_MIGRATE = ["xl-migrate", "xl-migrate-counts"]
# xl-compat: Debian's xl on a Linux domU (tests/dom0/mica-xl-test).
CHECKS_XL = ["bench-xenstored", "bench-xenconsoled", "xl-info", "xl-dmesg", "xl-dmesg-clear",
             "xl-sched-global", "xl-sched-global-range",
             "xl-create-xl1", "xl-boot-xl1", "xl-list", "xl-pause-unpause",
             "xl-sched-credit", "xl-vcpu-list", "xl-vcpu-pin", "xl-vcpu-pin-absent",
             "xl-console", "xl-mem-set-down", "xl-mem-set-up", "xl-reboot",
             "xl-shutdown", "xl-create-xl2", "xl-boot-xl2", "xl-destroy"] + CHECKS_XL_SAVE + \
    CHECKS_XL_MIGRATE
# ... on Mica also: vmctl agrees with xl, and free memory comes back exactly.
CHECKS_XL_MICA = ["xl-vmctl-list", "xl-memory-back", "vmctl-vcpu-list", "vmctl-vcpu-pin",
                  "vmctl-vcpu-pin-refused", "xl-migrate-memory"]
# libvirt: Debian's libvirtd (libxl driver) and virsh (tests/dom0/mica-libvirt-test).
CHECKS_LIBVIRT = ["bench-xenstored", "bench-xenconsoled", "libvirtd-start", "virsh-nodeinfo",
                  "virsh-capabilities", "virsh-define", "virsh-start", "virsh-boot",
                  "virsh-list", "virsh-dominfo", "virsh-xl-vmctl-list", "virsh-suspend-resume",
                  "virsh-vcpuinfo", "virsh-schedinfo", "virsh-shutdown",
                  "virsh-destroy", "virsh-undefine"]
CHECKS_LIBVIRT_MICA = ["virsh-memory-back", "vmctl-dumpxml-virsh", "virsh-xl-vmctl-list-2",
                       "vmctl-dumpxml-devices"]
# ... and the guest's own verdict, which it prints on Mica's console.
DOMU_VERDICT = re.compile(r"^\(d[1-9][0-9]*\) Test result: SUCCESS", re.M)
# Test-kernel domUs (the tiny one, the PV front ends) fail the run with any
# FAIL line or bad verdict of their own, which dom0 cannot always see.
DOMU_BAD = re.compile(r"^\(d[1-9][0-9]*\) (FAIL: .*|Test result: (FAILURE|ERROR).*)$", re.M)


def dom0_cmdline(native, test, extra="", cpus=1):
    words = ["console=ttyS0,115200" if native else "console=hvc0", "panic=-1",
             "mica.cpus=%d" % cpus]
    if test:
        words.append("mica.test=" + test)
    else:
        words.append("mica.shell=0")
    return " ".join(words + ([extra] if extra else []))


def make_iso(hypervisor, out, dom0_mem, test, hv_extra="", vcpus=1):
    opts = "%s dom0_max_vcpus=%d dom0_mem=%dM,max:%dM %s" % (HV_OPTS, vcpus, dom0_mem, dom0_mem,
                                                             hv_extra)
    subprocess.run([os.path.join(TOP, "scripts", "mkiso"), out, hypervisor, opts.strip(),
                    os.path.join(IMAGE, "vmlinuz"), dom0_cmdline(False, test, cpus=vcpus),
                    os.path.join(IMAGE, "initrd.gz"), ""], check=True)


def make_native_iso(out, cmdline):
    """A GRUB ISO that boots the kernel directly (Linux boot protocol), so a
    native boot goes through the same firmware, GRUB and CD-ROM loading as
    a hypervisor boot from scripts/mkiso."""
    work = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(work, "boot", "grub"))
        shutil.copyfile(os.path.join(IMAGE, "vmlinuz"), os.path.join(work, "boot", "vmlinuz"))
        shutil.copyfile(os.path.join(IMAGE, "initrd.gz"), os.path.join(work, "boot", "initrd.gz"))
        with open(os.path.join(work, "boot", "grub", "grub.cfg"), "w") as f:
            f.write("serial --unit=0 --speed=115200\n"
                    "terminal_input serial console\nterminal_output serial console\n"
                    "set timeout=0\nset default=0\n"
                    "menuentry native {\n    linux /boot/vmlinuz %s\n"
                    "    initrd /boot/initrd.gz\n    boot\n}\n" % cmdline)
        r = subprocess.run(["grub-mkrescue", "-o", out, work], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("grub-mkrescue failed: " + r.stderr[-500:])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def qemu_cmd(log, disk, mem, iso=None, test=None, cpus=1, extra_disk=None):
    cmd = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-cpu", CPU,
           "-m", str(mem), "-smp", str(cpus), "-display", "none", "-monitor", "none",
           "-serial", "file:" + log, "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-drive", "file=%s,if=virtio,format=raw,cache=unsafe" % disk,
           "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0"]
    if extra_disk:
        # dom0's /dev/vdb, kept by the caller across boots (writeback: it
        # must survive the QEMU process).
        cmd += ["-drive", "file=%s,if=virtio,format=raw,cache=writeback" % extra_disk]
    # MICA_QEMU_GDB=PORT: QEMU's gdbstub on that TCP port, to look inside a stalled run.
    if os.environ.get("MICA_QEMU_GDB"):
        cmd += ["-gdb", "tcp::" + os.environ["MICA_QEMU_GDB"]]
    # MICA_QEMU_EXTRA="ARG ...": more QEMU arguments, e.g. "-icount shift=0,sleep=off"
    # (guest time counts instructions, so a benchmark's numbers stop
    # depending on the host's load; docs/benchmarks.md).
    cmd += os.environ.get("MICA_QEMU_EXTRA", "").split()
    if iso:
        cmd += ["-cdrom", iso]
    else:
        cmd += ["-kernel", os.path.join(IMAGE, "vmlinuz"),
                "-initrd", os.path.join(IMAGE, "initrd.gz"),
                "-append", dom0_cmdline(True, test, cpus=cpus)]
    return cmd


def read_log(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").replace("\r", "")
    except FileNotFoundError:
        return ""


def boot(cmd, log, timeout, stop_at_marker=False):
    """Run QEMU; return (end, marker_seconds or None, total_seconds, log text).

    end is 'exit', 'crash', 'marker' (stop_at_marker) or 'timeout'."""
    if os.path.exists(log):
        os.unlink(log)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    marker_at = None
    end = None
    try:
        while True:
            done = proc.poll() is not None
            text = read_log(log)
            now = time.monotonic() - start
            if marker_at is None and MARKER.search(text):
                marker_at = now
                if stop_at_marker:
                    end = "marker"
                    break
            if done:
                end = "exit"
                break
            if CRASH.search(text):
                # Give the rest of the report a moment to reach the log,
                # bounded, and stop early if QEMU ends by itself.
                t_end = time.monotonic() + 1.0
                while proc.poll() is None and time.monotonic() < t_end:
                    time.sleep(0.05)
                end = "crash"
                break
            if now > timeout:
                end = "timeout"
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate()[0].decode(errors="replace")
    total = time.monotonic() - start
    text = read_log(log)
    if end == "exit" and proc.returncode not in (0, 1):
        text += "\n[QEMU exited with status %d: %s]\n" % (proc.returncode, out.strip()[-300:])
    return end, marker_at, total, text


def judge(name, end, marker_at, total, text, require, timeout, want_domu_verdict=False):
    problems = []
    if want_domu_verdict and not DOMU_VERDICT.search(text):
        problems.append("no '(dN) Test result: SUCCESS' from the domU on Mica's console")
    for m in DOMU_BAD.finditer(text) if want_domu_verdict else ():
        problems.append("a domU says %r" % m.group(0))
    if end == "timeout":
        problems.append("timed out after %.0f s" % timeout)
    m = CRASH.search(text)
    if m:   # also when panic=-1 rebooted and QEMU exited before we looked
        problems.append("crash marker %r in the log" % m.group(0))
    if marker_at is None:
        problems.append("marker 'mica-dom0: userspace up' never appeared")
    results = {}
    for m in re.finditer(r"^(PASS|FAIL|SKIP): ([^\s:]+)(.*)$", text, re.M):
        kind, check, rest = m.groups()
        results[check] = kind
        print("%s: %s/%s%s" % (kind, name, check, rest))
    summary = re.search(r"mica-dom0: test \S+ done: (\d+) passed, (\d+) failed", text)
    if not summary:
        problems.append("no test summary line")
    elif int(summary.group(2)) != 0:
        problems.append("%s checks failed in dom0" % summary.group(2))
    for check in require:
        if results.get(check) != "PASS":
            problems.append("required check %s: %s" % (check, results.get(check, "missing")))
    if end == "exit" and "[QEMU exited with status" in text:
        problems.append("QEMU failed")
    print("   %s: %s after %.1f s; userspace up after %s" % (
        name, end, total, "%.1f s" % marker_at if marker_at is not None else "never"))
    if problems:
        print("FAIL: %s: %s" % (name, "; ".join(problems)))
        print("   --- serial log tail ---")
        for line in text.splitlines()[-40:]:
            print("   | " + line)
        return 1
    print("PASS: %s" % name)
    return 0


def required_checks(a):
    """The checks a run of section a.test must pass, or None when this
    script has no list for that section (dom0-tools/image/init's cases)."""
    if a.test == "domu-tiny":
        require = CHECKS_XEN + CHECKS_DOMU_TINY
    elif a.test == "pvfront":
        require = CHECKS_XEN + CHECKS_PVFRONT
    elif a.test == "domu-save":
        require = CHECKS_XEN + CHECKS_SAVE
    elif a.test == "xl-save":
        require = ["xl-save"]
    elif a.test == "save-reboot-1":
        require = CHECKS_XEN + ["daemon-xenstored", "reboot-save"]
    elif a.test == "save-reboot-2":
        require = CHECKS_XEN + ["daemon-xenstored", "reboot-restore", "reboot-counts",
                                "reboot-memory-back"]
    elif a.test == "domu-migrate":
        require = CHECKS_XEN + CHECKS_MIGRATE
    elif a.test == "domu-migrate-stress":
        require = CHECKS_XEN + CHECKS_MIGRATE + ["domu-migrate-again-%d" % k for k in range(2, 7)]
    elif a.test == "domu-vcpu":
        require = CHECKS_XEN + CHECKS_VCPU
    elif a.test == "logdirty":
        require = CHECKS_XEN + CHECKS_LOGDIRTY
    elif a.test == "libvirt":
        on_xen = os.path.basename(a.hypervisor).startswith("xen")
        require = CHECKS_LIBVIRT + ([] if on_xen else CHECKS_LIBVIRT_MICA)
    elif a.test == "xl-restore-file":
        require = ["xl-restore-file", "xl-restore-file-counts"]
    elif a.test == "vmctl-save-xlformat":
        require = CHECKS_XEN + ["daemon-xenstored", "daemon-micaconsoled", "vmctl-save-xlformat",
                                "vmctl-save-xlformat-check", "vmctl-save-xlformat-disk"]
    elif a.test == "vmctl-restore-xlfile":
        require = CHECKS_XEN + ["daemon-xenstored", "daemon-micaconsoled",
                                "vmctl-restore-xlfile-cut", "vmctl-restore-xlfile",
                                "vmctl-restore-xlfile-no-checksums", "vmctl-restore-xlfile-memory",
                                "vmctl-restore-xlfile-counts", "vmctl-restore-xlfile-shutdown",
                                "vmctl-restore-xlfile-memory-back"]
    elif a.test == "xl-saverestore":
        require = CHECKS_XL[:2] + ["xl-create-xl1", "xl-boot-xl1", "xl-create-xl2",
                                   "xl-boot-xl2"] + CHECKS_XL_SAVE
    elif a.test == "xl-migrate":
        on_xen = os.path.basename(a.hypervisor).startswith("xen")
        require = CHECKS_XL[:2] + ["xl-create-xl1", "xl-boot-xl1"] + CHECKS_XL_MIGRATE + \
            ([] if on_xen else ["xl-migrate-memory"])
    elif a.test == "domu-snap":
        require = CHECKS_XEN + CHECKS_SNAP
    elif a.test == "xl-compat":
        on_xen = os.path.basename(a.hypervisor).startswith("xen")
        require = CHECKS_XL + ([] if on_xen else CHECKS_XL_MICA)
    elif a.test == "domu-devices":
        require = CHECKS_XEN + CHECKS_DEVICES
    elif a.test in ("dom0-basic", "dom0-xen"):
        # The dom0-xen test leaves devices out: only the Xen checks are owed.
        require = (CHECKS_COMMON if a.test != "dom0-xen" else []) + ([] if a.native else CHECKS_XEN)
        # dom0 uses FIFO event channels, on Xen 4.17 and on Mica (issue 12).
        require += [] if a.native else ["xen-evtchn-fifo"]
        # No W+X kernel mapping left by the start-of-day layout (INIT_P2M).
        require += [] if a.native else ["xen-no-wx"]
        require += ["cpus-online"] + (["cpu-unplug", "cpu-plug"] if a.vcpus > 1 else [])
    else:
        # A section without its own list is an error here, not dom0-basic's
        # list (which would fail a run whose own checks all passed).
        return None
    return require


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--hypervisor", help="xen.gz or mica.gz to boot dom0 on")
    g.add_argument("--native", action="store_true", help="boot the kernel directly")
    ap.add_argument("--test", default="dom0-basic")
    ap.add_argument("--timeout", type=float, default=400)
    ap.add_argument("--mem", type=int, default=1024)
    ap.add_argument("--dom0-mem", type=int, default=512)
    ap.add_argument("--hv-opts", default="", help="more hypervisor options")
    ap.add_argument("--vcpus", type=int, default=1,
                    help="dom0's vCPUs (dom0_max_vcpus=); natively QEMU's CPUs (-smp)")
    ap.add_argument("--cpus", type=int, default=int(os.environ.get("MICA_QEMU_SMP", "1")),
                    help="physical CPUs under a hypervisor (QEMU's -smp; default "
                         "$MICA_QEMU_SMP or 1)")
    ap.add_argument("--out", default=os.path.join(TOP, "build", "tests", "dom0"))
    ap.add_argument("--extra-disk", help="a raw image given to dom0 as /dev/vdb, kept as it is "
                                         "(tests/dom0/mica-save-reboot-test)")
    a = ap.parse_args()
    require = required_checks(a)
    if require is None:
        print("FAIL: %s: no required-check list for --test %s in %s" % (a.name, a.test, __file__))
        return 1
    for f in ("vmlinuz", "initrd.gz", "disk.img"):
        if not os.path.exists(os.path.join(IMAGE, f)):
            print("FAIL: %s: %s missing: run 'make dom0-image'" % (a.name, os.path.join(IMAGE, f)))
            return 1
    os.makedirs(a.out, exist_ok=True)
    log = os.path.join(a.out, a.name + ".log")
    disk = os.path.join(a.out, a.name + "-disk.img")
    shutil.copyfile(os.path.join(IMAGE, "disk.img"), disk)
    iso = None
    if a.hypervisor:
        iso = os.path.join(a.out, a.name + ".iso")
        make_iso(a.hypervisor, iso, a.dom0_mem, a.test, a.hv_opts, a.vcpus)
    cmd = qemu_cmd(log, disk, a.mem, iso=iso, test=a.test, cpus=a.vcpus if a.native else a.cpus,
                   extra_disk=a.extra_disk)
    end, marker_at, total, text = boot(cmd, log, a.timeout)
    return judge(a.name, end, marker_at, total, text, require, a.timeout,
                 want_domu_verdict=a.test in ("domu-tiny", "pvfront"))


if __name__ == "__main__":
    sys.exit(main())
