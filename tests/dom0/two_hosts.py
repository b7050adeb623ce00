#!/usr/bin/env python3
"""Boot two Mica machines joined by one Ethernet segment and judge host A.

    two_hosts.py --name NAME --test-a TEST --test-b TEST [--timeout S]
                 [--mem MiB] [--dom0-mem MiB]

Both machines boot build/mica.gz from a GRUB ISO (dom0_qemu.make_iso) with
the dom0 image; A's dom0 runs mica.test=TEST-A, B's mica.test=TEST-B.  Their
only NIC is a virtio-net on QEMU's socket network in UDP mode (each machine
sends its frames to the other's port on 127.0.0.1: no listener has to be
up first, nothing leaves the build host).  Both get a small read-only
ext2 disk (/dev/vdb) with the ssh keys: root's key pair, each host's key
and a known_hosts naming both (made here once with ssh-keygen, kept in
build/tests/dom0/2host-keys/).

The run ends when both machines have powered off, on a crash marker in
either log, or on the timeout; a machine still running a minute after the
other ended is stopped.  A's PASS/FAIL/SKIP lines are relayed as NAME/...,
B's as NAME-b/...; then one line for the run: PASS only if both machines
exited by themselves, no crash marker showed, A's summary reports no
failure and every required check passed, and B's summary none either.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dom0_qemu as dq  # noqa: E402

KEYS = ["id_ed25519", "id_ed25519.pub", "host-a", "host-a.pub", "host-b", "host-b.pub",
        "known_hosts"]
MACS = {"a": "52:54:00:12:99:01", "b": "52:54:00:12:99:03"}
ADDRS = {"a": ("mica-a", "10.99.0.1"), "b": ("mica-b", "10.99.0.3")}

# Two-host migration: the checks of migrate2-checks, on A's console.
CHECKS_MIGRATE2 = ["daemon-xenstored", "daemon-micaconsoled", "m2-host-a", "m2-ssh", "m2-nbd",
                   "m2-start", "m2-unreachable", "m2-copy-blockdev", "m2-no-memory",
                   "m2-migrate-ab", "m2-pages-ab", "m2-stream-ab", "m2-vif-ab",
                   "m2-migrate-ba", "m2-pages-ba", "m2-stream-ba", "m2-vif-ba",
                   "m2-disk", "m2-evacuate-paused", "m2-evacuate-refused",
                   "m2-migrate-evacuate", "m2-pages-evacuate", "m2-stream-evacuate",
                   "m2-vif-evacuate", "m2-counts", "m2-memory-a", "m2-memory-b",
                   "m2-copy-exists", "m2-copy-storage", "m2-copy-disk"]


def ssh_keygen():
    found = shutil.which("ssh-keygen")
    if found:
        return found
    # The one build-dom0-image unpacked (Debian's openssh-client).
    alt = os.path.join(dq.IMAGE, "unpacked", "ssh", "openssh-client", "usr", "bin", "ssh-keygen")
    return alt if os.path.exists(alt) else None


def keys_disk(out):
    """build/tests/dom0/2host-keys.img: the keys, made once."""
    kdir = os.path.join(out, "2host-keys")
    img = os.path.join(out, "2host-keys.img")
    if all(os.path.exists(os.path.join(kdir, k)) for k in KEYS) and os.path.exists(img):
        return img
    keygen = ssh_keygen()
    if not keygen:
        raise RuntimeError("no ssh-keygen (Debian's openssh-client) on this machine or in "
                           "build/dom0-image/unpacked/ssh/openssh-client")
    shutil.rmtree(kdir, ignore_errors=True)
    os.makedirs(kdir)
    for key, comment in (("id_ed25519", "root@mica-2host"), ("host-a", "mica-a"),
                         ("host-b", "mica-b")):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                        os.path.join(kdir, key)], check=True)
    with open(os.path.join(kdir, "known_hosts"), "w") as f:
        for role in ("a", "b"):
            pub = open(os.path.join(kdir, "host-%s.pub" % role)).read().split()
            f.write("%s,%s %s %s\n" % (ADDRS[role][0], ADDRS[role][1], pub[0], pub[1]))
    tmp = img + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    mke2fs = shutil.which("mke2fs") or "/sbin/mke2fs"
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext2", "-L", "micakeys", "-d", kdir, tmp, "1M"],
                   check=True, stdout=subprocess.DEVNULL)
    os.replace(tmp, img)
    return img


def free_udp_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def qemu_cmd(role, log, disk, keys, iso, mem, cpus, port_here, port_there):
    return ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-cpu", dq.CPU,
            "-m", str(mem), "-smp", str(cpus), "-display", "none", "-monitor", "none",
            "-serial", "file:" + log, "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-drive", "file=%s,if=virtio,format=raw,cache=unsafe" % disk,
            "-drive", "file=%s,if=virtio,format=raw,readonly=on" % keys,
            "-netdev", "socket,id=n1,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" % (port_there,
                                                                                port_here),
            "-device", "virtio-net-pci,netdev=n1,mac=" + MACS[role],
            "-cdrom", iso] + os.environ.get("MICA_QEMU_EXTRA", "").split()


def run(cmds, logs, timeout):
    """Both machines at once.  Returns {role: (end, marker_at)}, total seconds."""
    for log in logs.values():
        if os.path.exists(log):
            os.unlink(log)
    start = time.monotonic()
    procs = {r: subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT) for r, c in cmds.items()}
    ends, marker_at, first_exit = {}, {}, None
    try:
        while len(ends) < len(procs):
            now = time.monotonic() - start
            for r, p in procs.items():
                if r in ends:
                    continue
                text = dq.read_log(logs[r])
                if r not in marker_at and dq.MARKER.search(text):
                    marker_at[r] = now
                if p.poll() is not None:
                    ends[r] = "exit"
                    first_exit = first_exit or now
                elif dq.CRASH.search(text):
                    time.sleep(1.0)
                    ends[r] = "crash"
                elif now > timeout:
                    ends[r] = "timeout"
                elif first_exit is not None and now - first_exit > 60:
                    ends[r] = "left running"
            if any(e == "crash" for e in ends.values()):
                for r in procs:
                    ends.setdefault(r, "stopped (the other crashed)")
            time.sleep(0.05)
    finally:
        outs = {}
        for r, p in procs.items():
            if p.poll() is None:
                p.kill()
            outs[r] = p.communicate()[0].decode(errors="replace")
    for r, p in procs.items():
        if ends[r] == "exit" and p.returncode not in (0, 1):
            with open(logs[r], "a") as f:
                f.write("\n[QEMU exited with status %d: %s]\n" % (p.returncode, outs[r].strip()[-300:]))
    return {r: (ends[r], marker_at.get(r)) for r in procs}, time.monotonic() - start


def judge(name, role, end, marker_at, total, text, require):
    problems = []
    if end != "exit":
        problems.append("machine %s: %s" % (role.upper(), end))
    m = dq.CRASH.search(text)
    if m:
        problems.append("crash marker %r in %s's log" % (m.group(0), role.upper()))
    if marker_at is None:
        problems.append("%s: marker 'mica-dom0: userspace up' never appeared" % role.upper())
    results = {}
    tag = name if role == "a" else name + "-b"
    for m in re.finditer(r"^(PASS|FAIL|SKIP): ([^\s:]+)(.*)$", text, re.M):
        kind, check, rest = m.groups()
        results[check] = kind
        print("%s: %s/%s%s" % (kind, tag, check, rest))
    summary = re.search(r"mica-dom0: test \S+ done: (\d+) passed, (\d+) failed", text)
    if not summary:
        problems.append("no test summary line from %s" % role.upper())
    elif int(summary.group(2)) != 0:
        problems.append("%s checks failed in %s's dom0" % (summary.group(2), role.upper()))
    for check in require:
        if results.get(check) != "PASS":
            problems.append("required check %s: %s" % (check, results.get(check, "missing")))
    if "[QEMU exited with status" in text:
        problems.append("QEMU of %s failed" % role.upper())
    print("   %s (host %s): %s after %.1f s; userspace up after %s" % (
        name, role.upper(), end, total, "%.1f s" % marker_at if marker_at is not None else "never"))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--hypervisor", default=os.path.join(dq.TOP, "build", "mica.gz"))
    ap.add_argument("--test-a", required=True)
    ap.add_argument("--test-b", required=True)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--mem", type=int, default=1024)
    ap.add_argument("--dom0-mem", type=int, default=512)
    ap.add_argument("--cpus", type=int, default=1, help="physical CPUs of each machine")
    ap.add_argument("--out", default=os.path.join(dq.TOP, "build", "tests", "dom0"))
    a = ap.parse_args()
    for f in ("vmlinuz", "initrd.gz", "disk.img"):
        if not os.path.exists(os.path.join(dq.IMAGE, f)):
            print("FAIL: %s: %s missing: run 'make dom0-image'" % (a.name, os.path.join(dq.IMAGE, f)))
            return 1
    os.makedirs(a.out, exist_ok=True)
    try:
        keys = keys_disk(a.out)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print("FAIL: %s: the ssh keys disk: %s" % (a.name, e))
        return 1
    ports = free_udp_ports(2)
    port = {"a": ports[0], "b": ports[1]}
    cmds, logs = {}, {}
    for role, test in (("a", a.test_a), ("b", a.test_b)):
        base = os.path.join(a.out, "%s-%s" % (a.name, role))
        logs[role] = base + ".log"
        disk = base + "-disk.img"
        shutil.copyfile(os.path.join(dq.IMAGE, "disk.img"), disk)
        iso = base + ".iso"
        dq.make_iso(a.hypervisor, iso, a.dom0_mem, test)
        other = "b" if role == "a" else "a"
        cmds[role] = qemu_cmd(role, logs[role], disk, keys, iso, a.mem, a.cpus, port[role],
                              port[other])
    ends, total = run(cmds, logs, a.timeout)
    problems = []
    for role in ("a", "b"):
        text = dq.read_log(logs[role])
        require = CHECKS_MIGRATE2 if role == "a" and a.test_a == "migrate2-a" else []
        problems += judge(a.name, role, ends[role][0], ends[role][1], total, text, require)
    if problems:
        print("FAIL: %s: %s" % (a.name, "; ".join(problems)))
        for role in ("a", "b"):
            print("   --- serial log tail of %s (%s) ---" % (role.upper(), logs[role]))
            for line in dq.read_log(logs[role]).splitlines()[-30:]:
                print("   | " + line)
        return 1
    print("PASS: %s" % a.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
