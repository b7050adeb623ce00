"""What the objdump-based checks of tests/host/spec share: the built
hypervisor image's symbols and its code, disassembled in the mode each
part of it runs in, and the PASS:/FAIL: lines of scripts/run-tests.

Not a test itself (no HOST_TESTS entry): check-indirect-branches and
check-return-thunk import it.
"""
import os
import re
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def image_path():
    """The image named on the command line, or the one `make hypervisor` builds."""
    return sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build", "mica-syms")


class Results:
    def __init__(self, prefix):
        self.prefix = prefix
        self.oks = []

    def report(self, name, ok, why=""):
        self.oks.append(ok)
        print("%s: %s/%s%s" % ("PASS" if ok else "FAIL", self.prefix, name,
                               "" if ok else " " + why))

    def exit(self):
        sys.exit(0 if self.oks and all(self.oks) else 1)


def run(args):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout


def symbols(image):
    """{name: address} from nm."""
    syms = {}
    for line in run(["nm", image]).splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def aliases(syms):
    """{address: {names}}: objdump labels an address with one of its symbols
    (trampoline_start is also __rodata_start), an allow-list may name any."""
    out = {}
    for name, addr in syms.items():
        out.setdefault(addr, set()).add(name)
    return out


def disassemble(image, extra):
    """[(symbol, address, instruction text)] from objdump -d with extra args."""
    out, sym = [], None
    for line in run(["objdump", "-d", "-w", "--no-show-raw-insn"] + extra + [image]).splitlines():
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if m:
            sym = m.group(2)
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s+(.*)$", line)
        if m and sym:
            out.append((sym.split("+")[0], int(m.group(1), 16), m.group(2).split("#")[0].strip()))
    return out


# The parts of the image that run before head.S has jumped to the linked
# address (identity-mapped boot code, the AP trampoline copied below 1 MiB):
# nothing in .text is reachable from them by a direct branch.
EARLY = ("32-bit head.S", "64-bit head.S", "16-bit trampoline", "32-bit trampoline",
         "64-bit trampoline")


def code_regions(image, syms):
    """[(label, instructions)]: the image's executable .text as 64-bit code,
    head.S's entry up to start64_low as 32-bit code, and the AP trampoline
    blob (kept in .rodata) in its 16-, 32- and 64-bit parts."""
    rng = lambda a, b: ["--start-address=%#x" % syms[a], "--stop-address=%#x" % syms[b]]
    return [
        ("64-bit .text", disassemble(image, ["-j", ".text"])),
        ("32-bit head.S", disassemble(image, ["-j", ".text.boot", "-M", "i386"] +
                                      rng("start32", "start64_low"))),
        ("64-bit head.S", disassemble(image, ["-j", ".text.boot"] + rng("start64_low", "boot_gdt"))),
        ("16-bit trampoline", disassemble(image, ["-D", "-j", ".rodata", "-M", "i8086"] +
                                          rng("trampoline_start", "tramp32"))),
        ("32-bit trampoline", disassemble(image, ["-D", "-j", ".rodata", "-M", "i386"] +
                                          rng("tramp32", "tramp64"))),
        ("64-bit trampoline", disassemble(image, ["-D", "-j", ".rodata"] + rng("tramp64", "tramp_gdt"))),
    ]
