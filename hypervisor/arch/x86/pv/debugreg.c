/*
 * Debug registers for PV guests (set_debugreg 8, get_debugreg 9).
 *
 * A guest may watch its own addresses only: DR0-DR3 must be guest
 * addresses, and DR7 may not enable general detect or I/O breakpoints
 * (Mica does not set CR4.DE).  The values live in the vCPU and are loaded
 * into the hardware while it runs.  A data breakpoint can fire inside
 * Mica while it copies guest memory, or on the first instruction of an
 * entry when a MOV SS deferred it past a SYSCALL; that #DB is remembered
 * and delivered to the guest on the way out, never treated as Mica's own
 * fault.  #DB has an IST stack, so its handler never runs on a guest's RSP.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/pv.h>
#include <mica/lib.h>
#include <mica/nospec.h>
#include <public/errno.h>

#define DR7_GD          (1ULL << 13)
#define DR7_RW_SHIFT    16
#define DR7_RW_IO       2ULL
#define DR7_ENABLES     0xffULL
#define DR7_RESERVED_1  (1ULL << 10)
#define DR7_ALLOWED     0xffff03ffULL   /* enables, LE/GE, RW/LEN fields */
#define DR6_RESERVED_1  0xffff0ff0ULL
#define DR6_BREAKPOINTS 0xfULL          /* B0-B3 */
#define RFLAGS_TF       (1ULL << 8)

static void write_dr(unsigned n, u64 v)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%db0" :: "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%db1" :: "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%db2" :: "r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%db3" :: "r"(v)); break;
    case 6: __asm__ volatile("mov %0, %%db6" :: "r"(v)); break;
    case 7: __asm__ volatile("mov %0, %%db7" :: "r"(v)); break;
    }
}

static u64 read_dr6(void)
{
    u64 v;
    __asm__ volatile("mov %%db6, %0" : "=r"(v));
    return v;
}

long pv_set_debugreg(struct vcpu *v, unsigned reg, u64 value)
{
    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (!guest_range_ok(value, 8))
            return -XEN_EPERM;
        break;
    case 6:
        if (value >> 32)
            return -XEN_EINVAL;         /* as Xen 4.17; MOV would #GP */
        value = (value & 0xe00f) | DR6_RESERVED_1;
        break;
    case 7:
        if (value >> 32)
            return -XEN_EINVAL;
        if (value & DR7_GD)
            return -XEN_EPERM;
        for (unsigned i = 0; i < 4; i++)
            if (((value >> (DR7_RW_SHIFT + 4 * i)) & 3) == DR7_RW_IO && (value & (3ULL << (2 * i))))
                return -XEN_EPERM;
        value = (value & DR7_ALLOWED) | DR7_RESERVED_1;
        break;
    default:
        return -XEN_ENODEV;
    }
    v->arch.debugreg[reg] = value;
    /* Another vCPU's values reach the hardware when it is switched in. */
    if (v == current_vcpu())
        write_dr(reg, value);
    return 0;
}

/* DR4/DR5 are DR6/DR7: a PV guest never has CR4.DE (Xen 4.17 the same). */
static unsigned dr_alias(unsigned reg)
{
    return reg == 4 || reg == 5 ? reg + 2 : reg;
}

long do_set_debugreg(unsigned reg, u64 value)
{
    return pv_set_debugreg(current_vcpu(), dr_alias(reg), value);
}

long do_get_debugreg(unsigned reg)
{
    struct vcpu *v = current_vcpu();

    if (reg > 7)
        return -XEN_ENODEV;
    return (long)v->arch.debugreg[dr_alias(array_index_nospec(reg, 8u))];
}

void pv_debugreg_switch(const struct vcpu *prev, const struct vcpu *next)
{
    if (prev && (prev->arch.debugreg[7] & DR7_ENABLES) && !(next && (next->arch.debugreg[7] & DR7_ENABLES)))
        write_dr(7, DR7_RESERVED_1);
    if (next && (next->arch.debugreg[7] & DR7_ENABLES)) {
        for (unsigned i = 0; i < 4; i++)
            write_dr(i, next->arch.debugreg[i]);
        write_dr(7, next->arch.debugreg[7]);
    }
}

void pv_debug_in_mica(struct cpu_regs *regs)
{
    static unsigned reported;
    struct vcpu *v = current_vcpu();
    u64 dr6 = read_dr6();
    bool sysenter_step;

    write_dr(6, DR6_RESERVED_1);
    sysenter_step = pv_sysenter_single_step(regs);
    /* DR0-3 hold the running vCPU's guest addresses only: a hit is its own. */
    if ((dr6 & DR6_BREAKPOINTS) && v && (v->arch.debugreg[7] & DR7_ENABLES)) {
        v->arch.debugreg[6] = dr6;
        v->arch.debug_pending = true;
        return;
    }
    if (sysenter_step)
        return;
    /*
     * A single step of Mica's code (a guest's TF carried in) or ICEBP:
     * both are traps, so resuming is safe once TF is gone.  Few reports,
     * as a guest can cause them at will.
     */
    regs->rflags &= ~RFLAGS_TF;
    if (reported < 8) {
        reported++;
        char who[32] = "no vCPU";

        /* Names what this CPU was running: found from the IST stack, not regs->rsp. */
        if (v)
            snprintf(who, sizeof(who), "d%u v%u", v->domain->domid, v->vcpu_id);
        pr_warn("%s: #DB in Mica at %#llx, stack %#llx, DR6 %#llx: ignored\n", who,
                (unsigned long long)regs->rip, (unsigned long long)regs->rsp,
                (unsigned long long)dr6);
    }
}

void pv_deliver_pending_debug(struct vcpu *v, struct cpu_regs *regs)
{
    if (!v->arch.debug_pending)
        return;
    v->arch.debug_pending = false;
    if (v->arch.traps[1].address)
        pv_bounce(v, regs, v->arch.traps[1].address, false, 0,
                  v->arch.traps[1].flags & GUEST_TRAP_MASK_EVENTS);
}
