/*
 * Emulation of the privileged instructions a PV kernel executes.
 *
 * The guest kernel runs in ring 3, so MOV to/from control registers,
 * RDMSR/WRMSR, port I/O, CLI/STI, CLTS and WBINVD raise #GP; Mica decodes
 * the few encodings PV kernels use and carries them out on the virtual
 * CPU.  CPUID is reached through the ABI's forced-emulation prefix
 * (ud2; "xen"; cpuid), which raises #UD, and answers with a view filtered
 * for PV guests plus the hypervisor leaves at 0x40000000.  Anything else
 * is bounced to the guest as the fault it raised.
 */
#include <asm/current.h>
#include <asm/layout.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/cpu_policy.h>
#include <asm/m2p.h>
#include <asm/pci.h>
#include <asm/pit_ch2.h>
#include <asm/pv.h>
#include <asm/pv_msrs.h>
#include <asm/xstate.h>
#include <mica/lib.h>
#include <mica/perfc.h>

#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_SHADOW_GS_BASE  0xc0000102
#define MSR_EFER_           0xc0000080
#define MSR_PAT             0x00000277
#define MSR_MISC_ENABLE     0x000001a0
#define MSR_HYPERCALL_PAGE  0x40000000
#define MAX_INSN 15

#define CPUID_SIG_EBX 0x566e6558   /* "XenV" */
#define CPUID_SIG_ECX 0x65584d4d   /* "MMXe" */
#define CPUID_SIG_EDX 0x4d4d566e   /* "nVMM" */

static u64 *gpr(struct cpu_regs *r, unsigned n)
{
    u64 *const map[16] = {
        &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
        &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
    };
    return map[n & 15];
}


#define CR4_OSXSAVE         (1ULL << 18)
#define CR4_FSGSBASE        (1ULL << 16)
#define CPUID7_FSGSBASE     (1u << 0)
#define CPUID1_FMA          (1u << 12)
#define CPUID1_XSAVE        (1u << 26)
#define CPUID1_OSXSAVE      (1u << 27)
#define CPUID1_AVX          (1u << 28)
#define CPUID1_F16C         (1u << 29)
#define CPUID7_AVX2         (1u << 5)

/*
 * What a PV guest may see of the CPU, without any vCPU state: features
 * that need ring 0, that Mica does not virtualize (AVX-512 and other
 * XSAVE components beyond AVX), or that would mislead the guest about its
 * APIC are hidden.  This is also the PV default and maximum CPU policy
 * (asm/cpu_policy.h).  OSXSAVE is a per-vCPU bit, added by pv_cpuid().
 */
void pv_cpuid_base(bool privileged, u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    u64 xcr0_max = xstate_guest_xcr0_max();

    cpuid(leaf, sub, a, b, c, d);
    switch (leaf) {
    case 1:
        /* MONITOR VMX SMX EST TM2 FMA PCID x2APIC TSC-deadline XSAVE OSXSAVE AVX F16C */
        *c &= ~((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 12) |
                (1u << 17) | (1u << 21) | (1u << 24) | (1u << 26) | (1u << 27) | (1u << 28) |
                (1u << 29));
        *c |= 1u << 31;                 /* running on a hypervisor */
        if (xcr0_max)
            *c |= CPUID1_XSAVE;
        if (xcr0_max & XSTATE_YMM) {
            u32 ha, hb, hc, hd;
            cpuid(1, 0, &ha, &hb, &hc, &hd);
            *c |= hc & (CPUID1_AVX | CPUID1_FMA | CPUID1_F16C);
        }
        /*
         * VME, PSE, MCE, MTRR, PGE, MCA, PSE36, ACPI, TM, PBE: large and
         * global pages in particular, which PV page tables cannot take, and
         * machine-check banks, whose MSRs Mica does not emulate.
         */
        *d &= ~((1u << 1) | (1u << 3) | (1u << 7) | (1u << 12) | (1u << 13) | (1u << 14) |
                (1u << 17) | (1u << 22) | (1u << 29) | (1u << 31));
        if (!privileged)
            *d &= ~(1u << 9);           /* no local APIC for ordinary guests */
        if (!pv_sysenter_enabled)
            *d &= ~(1u << 11);          /* SEP */
        break;
    case 7:
        if (sub == 0) {
            /*
             * TSC_ADJUST, AVX2, SMEP, INVPCID, AVX-512 (all), SMAP: ring-0
             * features, or state Mica does not switch.  FSGSBASE stays (as
             * on Xen 4.17): the guest enables it in its CR4 view.
             */
            *b &= ~((1u << 1) | (1u << 5) | (1u << 7) | (1u << 10) | (1u << 16) |
                    (1u << 17) | (1u << 20) | (1u << 21) | (1u << 26) | (1u << 27) |
                    (1u << 28) | (1u << 30) | (1u << 31));
            /* AVX-512 VBMI, UMIP, PKU, OSPKE, more AVX-512, LA57 */
            *c &= ~((1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6) | (1u << 11) |
                    (1u << 12) | (1u << 14) | (1u << 16));
            /* Speculation controls: their MSRs are not emulated. */
            *d &= ~((1u << 10) | (0x3fu << 26));
            if (xcr0_max & XSTATE_YMM) {
                u32 ha, hb, hc, hd;
                cpuid(7, 0, &ha, &hb, &hc, &hd);
                *b |= hb & CPUID7_AVX2;
            }
        } else {
            *a = *b = *c = *d = 0;
        }
        break;
    case 0xd:
        xstate_guest_cpuid(sub, a, b, c, d);
        break;
    case 0x80000001:
        *c &= ~(1u << 2);               /* SVM */
        *d &= ~(1u << 26);              /* 1 GiB pages */
        break;
    }
}

/*
 * The CPUID answer of v: Mica's hypervisor leaves at 0x40000000; below
 * and above, the domain's CPU policy once the toolstack has set one, else
 * the base view.  Leaf 0xd stays the base view's either way: its sizes
 * follow the XCR0 loaded now, and its components are what Mica saves.
 *
 * OSXSAVE follows Xen 4.17's PV rule: set when the guest's CR4 view has
 * OSXSAVE, and also, whenever XSAVE is offered, in the answer to the guest
 * kernel's forced (emulated) CPUID: Linux relies on seeing it there
 * before it sets CR4.OSXSAVE.
 */
void pv_cpuid(const struct vcpu *v, u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    const struct domain *dom = v->domain;

    if (leaf >= 0x40000000 && leaf < 0x40000100) {
        *a = *b = *c = *d = 0;
        switch (leaf) {
        case 0x40000000:
            *a = 0x40000002;
            *b = CPUID_SIG_EBX; *c = CPUID_SIG_ECX; *d = CPUID_SIG_EDX;
            break;
        case 0x40000001:
            *a = (4 << 16) | 17;
            break;
        case 0x40000002:
            *a = 1;                     /* hypercall pages */
            *b = MSR_HYPERCALL_PAGE;
            break;
        }
        return;
    }
    if (dom->arch.cpu_policy_set && leaf != 0xd)
        cpu_policy_cpuid(&dom->arch.cpu_policy, leaf, sub, a, b, c, d);
    else
        pv_cpuid_base(dom->is_privileged, leaf, sub, a, b, c, d);
    if (leaf == 1 && (*c & CPUID1_XSAVE) && (v->arch.cr4_osxsave || v->arch.kernel_mode))
        *c |= CPUID1_OSXSAVE;
}

static bool msr_read(struct vcpu *v, u32 msr, u64 *val)
{
    switch (msr) {
    case MSR_FS_BASE: *val = rdmsr(MSR_FS_BASE); return true;
    case MSR_GS_BASE: *val = rdmsr(MSR_GS_BASE); return true;
    case MSR_SHADOW_GS_BASE:
        *val = v->arch.kernel_mode ? v->arch.gs_base_user : v->arch.gs_base_kernel;
        return true;
    case MSR_EFER_: *val = rdmsr(MSR_EFER_); return true;
    case MSR_PAT: *val = rdmsr(MSR_PAT); return true;
    case MSR_MISC_ENABLE: *val = 0; return true;
    default: return pv_msr_read(v, msr, val);
    }
}

static bool msr_write(struct vcpu *v, u32 msr, u64 val)
{
    switch (msr) {
    case MSR_FS_BASE:
        if (!is_canonical(val)) return false;
        v->arch.fs_base = val;
        wrmsr(MSR_FS_BASE, val);
        return true;
    case MSR_GS_BASE:
        if (!is_canonical(val)) return false;
        if (v->arch.kernel_mode) v->arch.gs_base_kernel = val;
        else v->arch.gs_base_user = val;
        wrmsr(MSR_GS_BASE, val);
        return true;
    case MSR_SHADOW_GS_BASE:
        if (!is_canonical(val)) return false;
        if (v->arch.kernel_mode) v->arch.gs_base_user = val;
        else v->arch.gs_base_kernel = val;
        return true;
    case MSR_EFER_:
    case MSR_PAT:
    case MSR_MISC_ENABLE:
        return true;                    /* accepted and ignored, as harmless */
    default:
        return pv_msr_write(v, msr, val);
    }
}

/* Ports Mica keeps for itself: COM1, PICs, PIT (PCI config: shared, see asm/pci.h). */
static bool port_reserved(u16 port, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        u16 p = (u16)(port + i);
        if ((p >= 0x3f8 && p <= 0x3ff) || p == 0x20 || p == 0x21 || p == 0xa0 || p == 0xa1 ||
            (p >= 0x40 && p <= 0x43) || p == 0x61)
            return true;
    }
    return false;
}

/*
 * Port instructions from the guest kernel, as Xen's guest_io_okay: a
 * virtual IOPL of 1 or more (PV kernels count as ring 1) allows every port,
 * otherwise the TSS-style bitmap from physdev set_iobitmap decides (a clear
 * bit allows); anything else is #GP.  Whether an allowed access reaches the
 * hardware is a separate question (hw_ports_permitted).
 */
static bool io_permitted(const struct vcpu *v, u16 port, unsigned size)
{
    if (v->arch.iopl >= 1)
        return true;
    if (!v->arch.iobmp_va || (u32)port + size > v->arch.iobmp_ports)
        return false;
    for (unsigned i = 0; i < size; i++) {
        u8 byte;
        u32 p = (u32)port + i;
        if (copy_from_guest(&byte, v->arch.iobmp_va + p / 8, 1) || (byte >> (p % 8)) & 1)
            return false;
    }
    return true;
}

/*
 * Only the control domain touches hardware ports.  Other domains' allowed
 * accesses read all ones and write nowhere, as Xen's guest_io_read/write
 * do for ports a domain was not given (Linux PV domUs set IOPL 1 and
 * probe PCI config space through 0xcf8 early in boot).
 */
static bool hw_ports_permitted(const struct vcpu *v)
{
    return is_control_domain(v->domain);
}

/* CLI/STI follow the virtual IOPL alone, as on hardware (and Xen). */
static bool iopl_permitted(const struct vcpu *v)
{
    return v->arch.iopl >= 1;
}

static u32 port_in(struct domain *d, u16 port, unsigned size)
{
    if (pci_port(port, size))
        return pci_dom0_port_in(d, port, size);
    if (pit_ch2_port(port, size))
        return pit_ch2_in(port);
    if (port_reserved(port, size))
        return ~0u;
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(struct domain *d, u16 port, unsigned size, u32 val)
{
    if (pci_port(port, size)) {
        pci_dom0_port_out(d, port, size, val);
        return;
    }
    if (pit_ch2_port(port, size)) {
        pit_ch2_out(port, (u8)val);
        return;
    }
    if (port_reserved(port, size))
        return;
    if (size == 1) outb(port, (u8)val);
    else if (size == 2) outw(port, (u16)val);
    else outl(port, val);
}

static void merge_result(u64 *reg, unsigned size, u32 val)
{
    if (size == 4) *reg = val;
    else if (size == 2) *reg = (*reg & ~0xffffULL) | (val & 0xffff);
    else *reg = (*reg & ~0xffULL) | (val & 0xff);
}

/*
 * INS and OUTS, with or without REP, as Xen emulates them for a PV kernel:
 * Linux's ioread*_rep/iowrite*_rep use them (QEMU's fw_cfg driver, which
 * udev loads in a Debian dom0; ata_piix's PIO transfers).  Each element
 * goes through the same port rules as IN/OUT; guest memory is at RDI
 * (INS) or RSI (OUTS), flat in 64-bit mode, through copy_to/from_guest;
 * RFLAGS.DF picks the direction.  A REP does at most STRING_IO_BATCH
 * elements per trap: with RCX left, RIP stays on the instruction, the
 * guest traps again and the rest follows, so a huge RCX cannot hold Mica.
 * A bad guest address stops it there (registers say how far it got) and
 * the guest gets #GP.
 */
#define STRING_IO_BATCH 1024u
#define RFLAGS_DF (1ULL << 10)

static bool emulate_string_io(struct vcpu *v, struct cpu_regs *r, u8 op, bool opsize16, bool rep,
                              unsigned len)
{
    unsigned size = (op & 1) ? (opsize16 ? 2 : 4) : 1;
    bool out = (op & 2) != 0;
    u16 port = (u16)r->rdx;
    u64 step = (r->rflags & RFLAGS_DF) ? (u64)-(s64)size : size;
    u64 left = rep ? r->rcx : 1;

    if (!io_permitted(v, port, size))
        return false;
    for (unsigned n = 0; left && n < STRING_IO_BATCH; n++) {
        u32 val = 0;
        if (out) {
            if (copy_from_guest(&val, r->rsi, size))
                return false;
            if (hw_ports_permitted(v))
                port_out(v->domain, port, size, val);
            r->rsi += step;
        } else {
            val = hw_ports_permitted(v) ? port_in(v->domain, port, size) : ~0u;
            if (copy_to_guest(r->rdi, &val, size))
                return false;
            r->rdi += step;
        }
        left--;
        if (rep)
            r->rcx = left;
    }
    if (!left)
        r->rip += len;
    return true;
}

/* MOV to/from CRn: register operands only (ModRM mod 11), REX extends both. */
u64 pv_guest_cr0(const struct vcpu *v)
{
    return (read_cr0() & ~CR0_TS) | (v->arch.fpu_ts ? CR0_TS : 0);
}

/*
 * The host's CR4 less PGE, SMEP and SMAP (Mica's own business); OSXSAVE
 * and FSGSBASE are the guest's view.
 */
u64 pv_guest_cr4(const struct vcpu *v)
{
    return (read_cr4() & ~((1ULL << 7) | (1ULL << 20) | (1ULL << 21) | CR4_OSXSAVE |
                           CR4_FSGSBASE)) |
           (v->arch.cr4_osxsave ? CR4_OSXSAVE : 0) | (v->arch.cr4_fsgsbase ? CR4_FSGSBASE : 0);
}

bool pv_guest_has_fsgsbase(const struct vcpu *v)
{
    u32 a, b, c, d;

    pv_cpuid(v, 0, 0, &a, &b, &c, &d);
    if (a < 7)
        return false;
    pv_cpuid(v, 7, 0, &a, &b, &c, &d);
    return b & CPUID7_FSGSBASE;
}

/* Whether the CPU has FSGSBASE (CR4.FSGSBASE may be set). */
static bool host_has_fsgsbase(void)
{
    static int known = -1;          /* published once, whole: CPUs may race here */

    if (READ_ONCE(known) < 0) {
        u32 a, b, c, d;
        int has = 0;
        cpuid(0, 0, &a, &b, &c, &d);
        if (a >= 7) {
            cpuid(7, 0, &a, &b, &c, &d);
            has = (b & CPUID7_FSGSBASE) != 0;
        }
        WRITE_ONCE(known, has);
    }
    return READ_ONCE(known);
}

void pv_fsgsbase_load(const struct vcpu *v)
{
    if (!host_has_fsgsbase())
        return;
    u64 cr4 = read_cr4(), want = v->arch.cr4_fsgsbase ? cr4 | CR4_FSGSBASE : cr4 & ~CR4_FSGSBASE;
    if (want != cr4)
        write_cr4(want);
}

static bool decode_cr_operands(struct cpu_regs *r, u8 modrm, unsigned rex, unsigned *cr, u64 **reg)
{
    if ((modrm >> 6) != 3)
        return false;
    *cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
    *reg = gpr(r, (modrm & 7) | ((rex & 1) ? 8 : 0));
    return true;
}

/* Returns true when the instruction at regs->rip was emulated. */
static bool emulate_privileged(struct vcpu *v, struct cpu_regs *r)
{
    u8 insn[MAX_INSN];
    unsigned i = 0, rex = 0;
    bool opsize16 = false, rep = false;
    u64 *reg;

    if (copy_from_guest(insn, r->rip, sizeof(insn)) &&
        copy_from_guest(insn, r->rip, 4))
        return false;
    /* Operand-size prefixes, then at most one REX, which must come last. */
    for (; i < 4; i++) {
        if (insn[i] == 0x66) {
            opsize16 = true;
        } else if (insn[i] == 0xf3 || insn[i] == 0xf2) {
            rep = true;                 /* only INS/OUTS take it, below */
        } else if ((insn[i] & 0xf0) == 0x40) {
            rex = insn[i++];
            break;
        } else {
            break;
        }
    }

    if (rep && (insn[i] < 0x6c || insn[i] > 0x6f))
        return false;
    perfc_inc_idx(emulate_insn, insn[i] == 0x0f ? 256u + insn[i + 1] : insn[i]);
    switch (insn[i]) {
    case 0x6c: case 0x6d:               /* ins: port DX -> [rdi] */
    case 0x6e: case 0x6f:               /* outs: [rsi] -> port DX */
        return emulate_string_io(v, r, insn[i], opsize16, rep, i + 1);
    case 0xfa:                          /* cli: virtual IF is the event mask */
    case 0xfb:                          /* sti */
        if (!iopl_permitted(v))
            return false;
        v->vcpu_info->evtchn_upcall_mask = insn[i] == 0xfa;
        r->rip += i + 1;
        return true;
    case 0xe4: case 0xe5: case 0xec: case 0xed:     /* in */
    case 0xe6: case 0xe7: case 0xee: case 0xef: {   /* out */
        /* Bit 0: byte or word/dword; bit 1: out; bit 3: port in DX, else imm8. */
        unsigned size = (insn[i] & 1) ? (opsize16 ? 2 : 4) : 1;
        u16 port = (insn[i] & 8) ? (u16)r->rdx : insn[i + 1];
        if (!io_permitted(v, port, size))
            return false;
        perfc_inc_idx(emulate_port, port);
        if (insn[i] & 2) {
            if (hw_ports_permitted(v))
                port_out(v->domain, port, size, (u32)r->rax);
        } else {
            merge_result(&r->rax, size,
                         hw_ports_permitted(v) ? port_in(v->domain, port, size) : ~0u);
        }
        r->rip += i + ((insn[i] & 8) ? 1 : 2);
        return true;
    }
    case 0x0f:
        break;
    default:
        return false;
    }

    switch (insn[i + 1]) {
    case 0x06:                          /* clts */
        v->arch.fpu_ts = false;
        write_cr0_ts(false);
        r->rip += i + 2;
        return true;
    case 0x01:                          /* xsetbv (0f 01 d1) */
        if (insn[i + 2] != 0xd1)
            return false;
        if (opsize16 || !v->arch.cr4_osxsave) {
            r->vector = 6;              /* as hardware: #UD without CR4.OSXSAVE */
            return false;
        }
        if (xstate_guest_xsetbv(v, (u32)r->rcx, ((r->rdx & 0xffffffffULL) << 32) | (u32)r->rax))
            return false;               /* #GP(0), as hardware */
        r->rip += i + 3;
        return true;
    case 0x09:                          /* wbinvd: harmless to skip on a PV guest */
        r->rip += i + 2;
        return true;
    case 0x20: {                        /* mov %crN, %reg */
        unsigned cr;
        if (!decode_cr_operands(r, insn[i + 2], rex, &cr, &reg))
            return false;
        switch (cr) {
        case 0: *reg = pv_guest_cr0(v); break;
        case 2: *reg = v->arch.cr2; break;
        case 3: *reg = (v->arch.kernel_mode ? v->arch.guest_table : v->arch.guest_table_user)
                       << PAGE_SHIFT; break;
        case 4: *reg = pv_guest_cr4(v); break;
        default: return false;
        }
        r->rip += i + 3;
        return true;
    }
    case 0x22: {                        /* mov %reg, %crN */
        unsigned cr;
        if (!decode_cr_operands(r, insn[i + 2], rex, &cr, &reg))
            return false;
        switch (cr) {
        case 0:                         /* only TS may change */
            v->arch.fpu_ts = (*reg & CR0_TS) != 0;
            write_cr0_ts(v->arch.fpu_ts);
            break;
        case 2:
            v->arch.cr2 = *reg;
            break;
        case 4:                         /* only OSXSAVE and FSGSBASE are the guest's to choose */
            v->arch.cr4_osxsave = (*reg & CR4_OSXSAVE) && xstate_guest_xcr0_max();
            v->arch.cr4_fsgsbase = (*reg & CR4_FSGSBASE) && pv_guest_has_fsgsbase(v);
            pv_fsgsbase_load(v);
            break;
        default:
            return false;               /* CR3 changes go through mmuext_op */
        }
        r->rip += i + 3;
        return true;
    }
    case 0x21:                          /* mov %drN, %reg */
    case 0x23: {                        /* mov %reg, %drN */
        unsigned dr;
        if (!decode_cr_operands(r, insn[i + 2], rex, &dr, &reg))
            return false;
        if (dr > 7) {
            r->vector = 6;              /* DR8-15 do not exist: #UD, as hardware */
            return false;
        }
        if (dr == 4 || dr == 5)
            dr += 2;                    /* DR6/DR7 aliases: the guest never has CR4.DE */
        if (insn[i + 1] == 0x21)
            *reg = v->arch.debugreg[dr];
        else if (pv_set_debugreg(v, dr, *reg))
            return false;               /* set_debugreg's refusals are #GP(0) */
        r->rip += i + 3;
        return true;
    }
    case 0x32: {                        /* rdmsr */
        u64 val;
        if (!msr_read(v, (u32)r->rcx, &val))
            return false;
        r->rax = (u32)val;
        r->rdx = val >> 32;
        r->rip += i + 2;
        return true;
    }
    case 0x30:                          /* wrmsr */
        if (!msr_write(v, (u32)r->rcx, ((r->rdx & 0xffffffffULL) << 32) | (u32)r->rax))
            return false;
        r->rip += i + 2;
        return true;
    default:
        return false;
    }
}

/* The forced-emulation prefix: ud2; .ascii "xen"; cpuid. */
static bool emulate_forced_cpuid(struct vcpu *v, struct cpu_regs *r)
{
    static const u8 sig[] = { 0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2 };
    u8 insn[sizeof(sig)];
    u32 a, b, c, d;

    if (copy_from_guest(insn, r->rip, sizeof(insn)) || memcmp(insn, sig, sizeof(sig)))
        return false;
    pv_cpuid(v, (u32)r->rax, (u32)r->rcx, &a, &b, &c, &d);
    r->rax = a; r->rbx = b; r->rcx = c; r->rdx = d;
    r->rip += sizeof(sig);
    return true;
}

bool pv_emulate(struct vcpu *v, struct cpu_regs *regs)
{
    if (regs->vector == 6)
        return emulate_forced_cpuid(v, regs);
    if (regs->vector == 13 && regs->error_code == 0 && v->arch.kernel_mode)
        return emulate_privileged(v, regs);
    return false;
}
