#!/usr/bin/env python3
"""Boot an ISO in QEMU (TCG) and watch the serial console.

The run ends as soon as one of these happens, never by sleeping a fixed
time:
  * QEMU exits by itself (Mica powered off or rebooted with -no-reboot);
  * a line matches --stop-on (e.g. a crash marker after which Mica halts);
  * --timeout seconds pass.
Then every --expect pattern must have appeared, in order of first
appearance not required, every --reject pattern must not, and the exit
kind must be the --end wanted.  Prints PASS/FAIL for the case (protocol
of scripts/run-tests) and, on failure, the tail of the log.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_CPU = "max,-smap,-smep,-pku,-la57"
# "MICA BUG": a reference, type or tot_pages count gone wrong (reported, not fatal).
CRASH_MARKERS = [r"MICA PANIC", r"Mica cannot boot", r"LOCK VIOLATION", r"MICA BUG"]
# A boot log larger than this means output ran away (a loop printing).
MAX_LOG_BYTES = 4 << 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--iso", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--mem", default="256")
    ap.add_argument("--smp", default="1")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--expect", action="append", default=[],
                    help="regex that must appear in the serial log")
    ap.add_argument("--reject", action="append", default=[],
                    help="regex that must not appear")
    ap.add_argument("--stop-on", action="append", default=[],
                    help="regex after which QEMU is stopped (Mica halts there)")
    ap.add_argument("--end", choices=["exit", "stopped"], default="exit",
                    help="exit: QEMU must end by itself; stopped: a --stop-on line must end it")
    ap.add_argument("--allow-crash", action="store_true",
                    help="crash markers are expected, not failures")
    ap.add_argument("--monitor-on", action="append", default=[], metavar="REGEX=>COMMAND",
                    help="once REGEX appears in the log, send COMMAND to QEMU's monitor")
    ap.add_argument("qemu_args", nargs="*")
    a = ap.parse_args()

    triggers = []
    for t in a.monitor_on:
        if "=>" not in t:
            print("FAIL: %s: --monitor-on wants REGEX=>COMMAND, got %r" % (a.name, t))
            return 1
        r, c = t.split("=>", 1)
        triggers.append([re.compile(r), c, False])
    mondir = tempfile.mkdtemp(prefix="mica-mon-")
    monitor = os.path.join(mondir, "monitor")
    cmd = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg",
           "-cpu", os.environ.get("MICA_QEMU_CPU", DEFAULT_CPU),
           "-m", a.mem, "-smp", a.smp, "-display", "none",
           "-serial", "file:" + a.log,
           "-monitor", ("unix:%s,server=on,wait=off" % monitor) if triggers else "none",
           "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-cdrom", a.iso] + a.qemu_args
    if os.path.exists(a.log):
        os.unlink(a.log)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end_kind = None
    monitor_problems = []
    stop_res = [re.compile(p) for p in a.stop_on]
    if not a.allow_crash:
        stop_res += [re.compile(p) for p in CRASH_MARKERS]
    text = ""
    while True:
        if proc.poll() is not None:
            end_kind = "exit"
            break
        if os.path.exists(a.log) and os.path.getsize(a.log) > MAX_LOG_BYTES:
            end_kind = "runaway output"
            break
        text = read_log(a.log)
        for t in triggers:
            if not t[2] and t[0].search(text):
                t[2] = True
                why = monitor_command(monitor, t[1])
                if why:
                    monitor_problems.append(why)
        if any(r.search(text) for r in stop_res):
            time.sleep(0.3)     # let the rest of the message reach the log
            end_kind = "stopped"
            break
        if time.monotonic() - start > a.timeout:
            end_kind = "timeout"
            break
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    qemu_out = proc.communicate()[0].decode(errors="replace")
    if os.path.exists(monitor):
        os.unlink(monitor)
    os.rmdir(mondir)
    elapsed = time.monotonic() - start
    text = read_log(a.log)

    problems = list(monitor_problems)
    for t in triggers:
        if not t[2]:
            problems.append("never sent %r: %r did not appear" % (t[1], t[0].pattern))
    if end_kind == "timeout":
        problems.append("timed out after %.0f s" % a.timeout)
    elif end_kind != a.end:
        problems.append("run ended by %s, expected %s" % (end_kind, a.end))
    if end_kind == "exit" and proc.returncode not in (0, 1):
        problems.append("QEMU exited with status %d: %s" % (proc.returncode, qemu_out.strip()[-300:]))
    if not a.allow_crash:
        for m in CRASH_MARKERS:
            if re.search(m, text):
                problems.append("crash marker %r in the log" % m)
    for p in a.expect:
        if not re.search(p, text, re.M):
            problems.append("missing: %r" % p)
    for p in a.reject:
        if re.search(p, text, re.M):
            problems.append("present but must not be: %r" % p)

    print("   %s: %s after %.1f s" % (a.name, end_kind, elapsed))
    if problems:
        print("FAIL: %s: %s" % (a.name, "; ".join(problems)))
        print("   --- serial log tail (%s) ---" % a.log)
        for line in text.splitlines()[-40:]:
            print("   | " + (line if len(line) <= 300 else line[:300] + " [...]"))
        return 1
    print("PASS: %s" % a.name)
    return 0


def monitor_command(path, command):
    """Sends one command to QEMU's human monitor at path; '' or why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(path)
            buf = b""
            while b"(qemu)" not in buf:
                data = s.recv(4096)
                if not data:
                    return "the monitor closed before its prompt"
                buf += data
            s.sendall(command.encode() + b"\n")
            buf = b""
            while b"(qemu)" not in buf:
                data = s.recv(4096)
                if not data:
                    break
                buf += data
    except OSError as e:
        return "monitor %s: %s" % (path, e)
    return ""


def read_log(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").replace("\r", "")
    except FileNotFoundError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
