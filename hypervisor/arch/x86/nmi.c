/*
 * NMIs, as Xen 4.17 handles them (xen/arch/x86/traps.c do_nmi()).
 *
 * `nmi=` says what an NMI from the platform means: `dom0` (the default,
 * as in Xen's release builds) notes the reason in dom0's shared_info
 * (arch.nmi_reason) and raises a virtual NMI on dom0's vCPU 0, delivered
 * to its NMI callback (vector 2 of its virtual IDT) at its next return to
 * the guest; `ignore` drops it; `fatal` stops the machine with a report
 * (Xen's debug-build default).  Only CPU 0 takes platform NMIs and reads
 * the reason (port 0x61: bit 7 PCI SERR, bit 6 I/O check, neither:
 * unknown); an NMI on another CPU that is no crash stop (ipi.c) is
 * dropped, as Xen drops it without a watchdog.
 *
 * The handler runs on this CPU's NMI IST stack (or, from a guest, on the
 * guest frame slot ist_common moved it to) and finds its CPU and vCPU from
 * that RSP, never from the interrupted one: it may have interrupted a
 * guest, Mica, the idle loop, or the SYSCALL entry before it left the
 * guest's stack.  It takes no lock and prints nothing: it keeps a record
 * of what it interrupted and what it did, and sends this CPU a self-IPI
 * (NMI_WORK_VECTOR) whose handler, in ordinary interrupt context, logs
 * the record, notes the reason in dom0's shared_info, marks the vNMI
 * pending and kicks vCPU 0 (Xen defers the kick to a softirq the same
 * way).  The log line is Mica's own (Xen prints nothing for a forwarded
 * NMI); the tests read it to check which CPU, domain and vCPU were found.
 */
#include <asm/current.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/smp.h>
#include <asm/time.h>
#include <asm/traps.h>
#include <mica/context.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/param.h>
#include <mica/percpu.h>
#include <mica/sched.h>
#include <public/callback.h>

#define NMI_CPU 0                       /* the CPU platform NMIs go to (Xen's nmi_cpu) */

static char opt_nmi[10] = "dom0";
string_param("nmi", opt_nmi);

enum nmi_where { NMI_GUEST_KERNEL, NMI_GUEST_USER, NMI_MICA, NMI_MICA_FOREIGN_STACK, NMI_IDLE };

static const char *const where_names[] = {
    [NMI_GUEST_KERNEL] = "in guest kernel mode",
    [NMI_GUEST_USER] = "in guest user mode",
    [NMI_MICA] = "in Mica",
    [NMI_MICA_FOREIGN_STACK] = "in Mica on a stack not its own (a guest's, at the SYSCALL entry)",
    [NMI_IDLE] = "idle",
};

enum nmi_action { NMI_NOT_NMI_CPU, NMI_IGNORED, NMI_FORWARDED };

/*
 * What this CPU's last NMI interrupted and what became of it.  Written
 * only by this CPU's NMI handler, `seen` last; read by this CPU's work
 * handler, which an NMI may interrupt: it retries until `seen` is the
 * same before and after its copy.
 */
struct nmi_record {
    u32 seen;                   /* NMIs taken on this CPU */
    u8 where;                   /* enum nmi_where */
    u8 action;                  /* enum nmi_action */
    u8 reason;                  /* port 0x61 (NMI_CPU only) */
    bool have_vcpu;
    u16 domid;
    u16 vcpu_id;
    u64 rip, rsp;
};

static DEFINE_PER_CPU(struct nmi_record, nmi_record);
static DEFINE_PER_CPU(u32, nmi_reported);       /* this CPU's work handler only */
static DEFINE_PER_CPU(u32, nmi_lines);          /* lines it printed */
/* XEN_NMIREASON_* bits not yet given to dom0; set by NMI_CPU's NMI handler (atomic OR). */
static u64 nmi_forward_bits;
static bool nmi_work_ready;

#define NMI_LOG_LINES 32        /* per CPU; the count of later ones is still kept */

/* MCA banks of the boot CPU (0: no MCA, the MSRs are not read). */
static unsigned mca_banks;

#define MSR_MCG_CAP     0x179
#define MSR_MCG_STATUS  0x17a
#define MSR_MC_STATUS(i) (0x401 + 4 * (i))
#define MSR_MC_ADDR(i)  (0x402 + 4 * (i))
#define MCI_STATUS_VAL  (1ULL << 63)
#define CR4_MCE         (1u << 6)

static bool rsp_in_this_block(u64 rsp)
{
    u64 top = (u64)(uintptr_t)get_cpu_info() + CPU_INFO_SIZE;

    return rsp >= top - STACK_SIZE && rsp < top;
}

/* What an IST handler interrupted, from the frame and this CPU's current vCPU. */
static u8 interrupted(const struct cpu_regs *regs, const struct vcpu *v)
{
    if ((regs->cs & 3) == 3)
        return v && v->arch.kernel_mode ? NMI_GUEST_KERNEL : NMI_GUEST_USER;
    if (!rsp_in_this_block(regs->rsp))
        return NMI_MICA_FOREIGN_STACK;
    return v ? NMI_MICA : NMI_IDLE;
}

void do_nmi(struct cpu_regs *regs)
{
    struct cpu_info *ci = get_cpu_info();      /* from this handler's own RSP */
    unsigned cpu = (unsigned)ci->processor_id;
    struct nmi_record *r = &per_cpu(nmi_record, cpu);
    struct vcpu *v = ci->current;
    u8 reason = 0, where = interrupted(regs, v);
    u64 bits = 0;

    if (cpu == NMI_CPU) {
        reason = inb(0x61);
        if (reason & 0x80) {
            outb((u8)((reason & 0x0f) | 0x04), 0x61);  /* clear and disable PCI SERR */
            bits |= XEN_NMIREASON_pci_serr;
        }
        if (reason & 0x40)
            bits |= XEN_NMIREASON_io_error;
        if (!(reason & 0xc0))
            bits |= XEN_NMIREASON_unknown;
        if (opt_nmi[0] != 'd' && opt_nmi[0] != 'i') {
            char line[200], who[24] = "no vCPU";

            if (v)
                snprintf(who, sizeof(who), "d%u v%u", v->domain->domid, v->vcpu_id);
            snprintf(line, sizeof(line),
                     "NMI on CPU%u (%s; port 0x61 = %#x) while %s %s, with nmi=%s",
                     cpu, reason & 0x80 ? "PCI system error (SERR)" :
                          reason & 0x40 ? "I/O check error" : "unknown reason",
                     reason, who, where_names[where], opt_nmi);
            fatal_trap_report(regs, line);
        }
        if (reason & 0x40) {
            outb((u8)((reason & 0x0f) | 0x08), 0x61);  /* clear and disable IOCK */
            udelay(1000);
            outb((u8)(reason & 0x07), 0x61);           /* enable IOCK */
        }
        if (opt_nmi[0] == 'd')
            __atomic_fetch_or(&nmi_forward_bits, bits, __ATOMIC_RELEASE);
    }

    r->where = where;
    r->action = cpu != NMI_CPU ? NMI_NOT_NMI_CPU : opt_nmi[0] == 'd' ? NMI_FORWARDED : NMI_IGNORED;
    r->reason = reason;
    r->have_vcpu = v != NULL;
    r->domid = v ? v->domain->domid : 0;
    r->vcpu_id = v ? (u16)v->vcpu_id : 0;
    r->rip = regs->rip;
    r->rsp = regs->rsp;
    __atomic_store_n(&r->seen, r->seen + 1, __ATOMIC_RELEASE);

    /* Every LAPIC is mapped and enabled before its CPU can take an NMI that is not a crash stop. */
    if (__atomic_load_n(&nmi_work_ready, __ATOMIC_ACQUIRE))
        lapic_self_ipi_from_nmi(NMI_WORK_VECTOR);
}

/* Gives dom0's vCPU 0 the virtual NMI noted for it (Xen's nmi_hwdom_report + softirq). */
static bool forward_to_dom0(u64 bits)
{
    struct domain *d = domain_by_id(0);

    if (!d || !d->max_vcpus || !d->vcpus[0])
        return false;
    __atomic_fetch_or(&d->shared_info->arch.nmi_reason, bits, __ATOMIC_RELEASE);
    arch_vcpu_send_nmi(d->vcpus[0]);
    return true;
}

static void nmi_work_interrupt(struct cpu_regs *regs)
{
    unsigned cpu = smp_processor_id();
    struct nmi_record *r = &per_cpu(nmi_record, cpu), copy;
    u32 seen, missed;
    u64 bits;
    bool no_dom0 = false;

    (void)regs;
    lapic_eoi();
    bits = __atomic_exchange_n(&nmi_forward_bits, 0, __ATOMIC_ACQ_REL);
    if (bits)
        no_dom0 = !forward_to_dom0(bits);

    do {
        seen = __atomic_load_n(&r->seen, __ATOMIC_ACQUIRE);
        copy = *r;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    } while (__atomic_load_n(&r->seen, __ATOMIC_ACQUIRE) != seen);
    if (seen == this_cpu(nmi_reported))
        return;
    missed = seen - this_cpu(nmi_reported) - 1;
    this_cpu(nmi_reported) = seen;
    if (this_cpu(nmi_lines) >= NMI_LOG_LINES)
        return;
    this_cpu(nmi_lines)++;

    char who[24] = "no vCPU", what[96];

    if (copy.have_vcpu)
        snprintf(who, sizeof(who), "d%u v%u", copy.domid, copy.vcpu_id);
    if (copy.action == NMI_NOT_NMI_CPU)
        snprintf(what, sizeof(what), "dropped (platform NMIs are CPU%u's)", NMI_CPU);
    else if (copy.action == NMI_IGNORED)
        snprintf(what, sizeof(what), "port 0x61 = %#x, ignored (nmi=%s)", copy.reason, opt_nmi);
    else if (no_dom0)
        snprintf(what, sizeof(what), "port 0x61 = %#x, no dom0 to send it to (nmi=dom0)", copy.reason);
    else
        snprintf(what, sizeof(what), "port 0x61 = %#x, sent to d0 v0 (nmi=dom0)", copy.reason);
    pr_info("NMI #%u on CPU%u interrupted %s %s at rip %#llx rsp %#llx: %s%s\n", seen, cpu, who,
            where_names[copy.where], (unsigned long long)copy.rip, (unsigned long long)copy.rsp,
            what, missed ? " (and earlier ones not reported)" : "");
    if (this_cpu(nmi_lines) == NMI_LOG_LINES)
        pr_info("CPU%u: further NMIs are not logged\n", cpu);
}

/*
 * A machine check, wherever it struck: Mica recovers from none, so it
 * stops the machine with the CPU and vCPU (found from the #MC IST stack,
 * as for NMIs), MCG_STATUS and the first bank holding a valid error.
 * Xen 4.17 does more (mcheck: corrected errors logged and polled, a
 * recoverable one in a guest's memory handed to it as a vMCE); Mica does
 * not, and says so.
 */
void do_machine_check(struct cpu_regs *regs)
{
    struct cpu_info *ci = get_cpu_info();
    struct vcpu *v = ci->current;
    char line[256], who[24] = "no vCPU";
    u64 mcg = 0, status = 0, addr = 0;
    unsigned bank = 0;

    if (v)
        snprintf(who, sizeof(who), "d%u v%u", v->domain->domid, v->vcpu_id);
    if (mca_banks) {
        mcg = rdmsr(MSR_MCG_STATUS);
        for (bank = 0; bank < mca_banks; bank++) {
            status = rdmsr(MSR_MC_STATUS(bank));
            if (status & MCI_STATUS_VAL)
                break;
        }
        if (bank < mca_banks && (status & (1ULL << 58)))       /* ADDRV */
            addr = rdmsr(MSR_MC_ADDR(bank));
    }
    if (bank < mca_banks)
        snprintf(line, sizeof(line),
                 "machine check on CPU%u while %s %s: MCG_STATUS %#llx, bank %u status %#llx "
                 "addr %#llx; Mica recovers from no machine check", (unsigned)ci->processor_id,
                 who, where_names[interrupted(regs, v)], (unsigned long long)mcg, bank,
                 (unsigned long long)status, (unsigned long long)addr);
    else
        snprintf(line, sizeof(line),
                 "machine check on CPU%u while %s %s: MCG_STATUS %#llx, no bank holds a valid "
                 "error; Mica recovers from no machine check", (unsigned)ci->processor_id, who,
                 where_names[interrupted(regs, v)], (unsigned long long)mcg);
    fatal_trap_report(regs, line);
}

const volatile u32 *nmi_seen_counter(void)
{
    return &this_cpu(nmi_record).seen;
}

void arch_vcpu_send_nmi(struct vcpu *v)
{
    if (!__atomic_exchange_n(&v->arch.nmi_pending, true, __ATOMIC_ACQ_REL))
        vcpu_wake(v);
}

void nmi_init(void)
{
    /* Xen reads the first letter only: d(om0), i(gnore), anything else fatal. */
    if (strcmp(opt_nmi, "dom0") && strcmp(opt_nmi, "ignore") && strcmp(opt_nmi, "fatal"))
        pr_warn("nmi=%s: not dom0, ignore or fatal; taken as %s (its first letter decides, as on Xen)\n",
                opt_nmi, opt_nmi[0] == 'd' ? "dom0" : opt_nmi[0] == 'i' ? "ignore" : "fatal");
    set_irq_handler(NMI_WORK_VECTOR, nmi_work_interrupt);
    /*
     * Machine checks reach do_machine_check() instead of shutting the CPU
     * down (CR4.MCE off); secondary CPUs copy this CR4.  CPUID.1 EDX: MCE
     * bit 7, MCA bit 14.
     */
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (d & (1u << 14))
        mca_banks = (unsigned)(rdmsr(MSR_MCG_CAP) & 0xff);
    if (d & (1u << 7))
        write_cr4(read_cr4() | CR4_MCE);
    __atomic_store_n(&nmi_work_ready, true, __ATOMIC_RELEASE);
}
