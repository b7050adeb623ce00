/*
 * TSC_AUX for PV vCPUs, and XEN_DOMCTL_{get,set}_vcpu_msrs (asm/pv_msrs.h).
 *
 * A vCPU's TSC_AUX is what RDTSCP returns in ECX (and RDPID): Linux puts
 * its CPU and node number there for vgetcpu.  Mica keeps it per vCPU,
 * writes the hardware MSR at each switch to a vCPU whose value differs
 * from what the CPU holds, and lets the guest read and write it when its
 * CPUID view offers RDTSCP or RDPID (Xen 4.17's guest_rdmsr/guest_wrmsr
 * rule), so the value survives migration between CPUs and save/restore.
 *
 * Locking: v->arch.tsc_aux is written by v itself while it runs (WRMSR
 * emulation) or by the toolstack's domctl while v is not running (paused,
 * under the domctl lock); it is read at switch-in on the CPU that runs v.
 * The per-CPU cache is touched only by its own CPU with interrupts off
 * (context switch) or by the running vCPU's WRMSR on that CPU.
 */
#include <asm/io.h>
#include <asm/guest_access.h>
#include <asm/pv.h>
#include <asm/pv_msrs.h>
#include <mica/lib.h>
#include <mica/percpu.h>
#include <public/errno.h>

/* The MSRs the record may carry, in Xen 4.17's order. */
static const u32 msrs_to_send[] = {
    MSR_SPEC_CTRL,
    MSR_INTEL_MISC_FEATURES_ENABLES,
    MSR_TSC_AUX,
    MSR_AMD64_DR0_ADDRESS_MASK,
    MSR_AMD64_DR1_ADDRESS_MASK,
    MSR_AMD64_DR2_ADDRESS_MASK,
    MSR_AMD64_DR3_ADDRESS_MASK,
};
#define NR_MSRS_TO_SEND (sizeof(msrs_to_send) / sizeof(msrs_to_send[0]))

/* 1 + the TSC_AUX value this CPU holds for a guest, 0 when not known. */
static DEFINE_PER_CPU(u64, tsc_aux_loaded);

/* Whether the CPU has TSC_AUX at all (RDTSCP or RDPID). */
static bool host_has_tsc_aux(void)
{
    static int known = -1;          /* published once, whole: CPUs may race here */

    if (READ_ONCE(known) < 0) {
        u32 a, b, c, d;
        int has = 0;
        cpuid(0x80000000, 0, &a, &b, &c, &d);
        if (a >= 0x80000001) {
            cpuid(0x80000001, 0, &a, &b, &c, &d);
            has |= (d >> 27) & 1;                   /* RDTSCP */
        }
        cpuid(0, 0, &a, &b, &c, &d);
        if (a >= 7) {
            cpuid(7, 0, &a, &b, &c, &d);
            has |= (c >> 22) & 1;                   /* RDPID */
        }
        WRITE_ONCE(known, has);
    }
    return READ_ONCE(known);
}

/* Whether v's CPUID view offers RDTSCP or RDPID (then TSC_AUX is its MSR). */
static bool guest_has_tsc_aux(const struct vcpu *v)
{
    u32 a, b, c, d;
    bool has = false;

    if (!host_has_tsc_aux())
        return false;
    pv_cpuid(v, 0x80000000, 0, &a, &b, &c, &d);
    if (a >= 0x80000001 && a < 0x80010000) {
        pv_cpuid(v, 0x80000001, 0, &a, &b, &c, &d);
        has |= (d >> 27) & 1;
    }
    pv_cpuid(v, 0, 0, &a, &b, &c, &d);
    if (a >= 7) {
        pv_cpuid(v, 7, 0, &a, &b, &c, &d);
        has |= (c >> 22) & 1;
    }
    return has;
}

static void load_tsc_aux(u32 val)
{
    u64 *loaded = &this_cpu(tsc_aux_loaded);

    if (*loaded != (u64)val + 1) {
        wrmsr(MSR_TSC_AUX, val);
        *loaded = (u64)val + 1;
    }
}

void pv_msrs_switch_to(const struct vcpu *next)
{
    if (host_has_tsc_aux())
        load_tsc_aux(next->arch.tsc_aux);
}

bool pv_msr_read(const struct vcpu *v, u32 msr, u64 *val)
{
    switch (msr) {
    case MSR_TSC_AUX:
        if (!guest_has_tsc_aux(v))
            return false;
        *val = v->arch.tsc_aux;
        return true;
    default:
        return false;           /* SPEC_CTRL and the rest: not offered to PV guests */
    }
}

/* v's MSR set to val as the guest's WRMSR would; `running`: v is on this CPU. */
static bool msr_set(struct vcpu *v, u32 msr, u64 val, bool running)
{
    switch (msr) {
    case MSR_TSC_AUX:
        if (!guest_has_tsc_aux(v) || val != (u32)val)
            return false;
        v->arch.tsc_aux = (u32)val;
        if (running)
            load_tsc_aux((u32)val);
        return true;
    default:
        return false;
    }
}

bool pv_msr_write(struct vcpu *v, u32 msr, u64 val)
{
    return msr_set(v, msr, val, true);
}

long pv_get_vcpu_msrs(const struct vcpu *v, struct xen_domctl_vcpu_msrs *op)
{
    struct xen_domctl_vcpu_msr e;
    u32 i = 0;
    long rc = 0;

    /* A null array asks for the most there can be. */
    if (!op->msrs) {
        op->msr_count = NR_MSRS_TO_SEND;
        return 0;
    }
    for (unsigned j = 0; j < NR_MSRS_TO_SEND; j++) {
        u64 val;
        if (!pv_msr_read(v, msrs_to_send[j], &val) || !val)
            continue;           /* not the vCPU's, or empty: not sent */
        if (i < op->msr_count && !rc) {
            e.index = msrs_to_send[j];
            e.reserved = 0;
            e.value = val;
            if (copy_to_guest(op->msrs + (u64)i * sizeof(e), &e, sizeof(e)))
                rc = -XEN_EFAULT;
        }
        i++;
    }
    if (i > op->msr_count && !rc)
        rc = -XEN_ENOBUFS;
    op->msr_count = i;
    return rc;
}

long pv_set_vcpu_msrs(struct vcpu *v, struct xen_domctl_vcpu_msrs *op, bool *copyback)
{
    struct xen_domctl_vcpu_msr e;
    u32 i;
    long rc = 0;

    if (op->msr_count > NR_MSRS_TO_SEND)
        return -XEN_EINVAL;
    /*
     * Entry by entry, as Xen: the ones before a bad entry are taken.  Xen
     * sends an MSR only when the vCPU has it, so a refusal means a state
     * this vCPU cannot hold (SPEC_CTRL from a host that offered it, say).
     */
    for (i = 0; i < op->msr_count; i++) {
        if (copy_from_guest(&e, op->msrs + (u64)i * sizeof(e), sizeof(e))) {
            rc = -XEN_EFAULT;
            break;
        }
        if (e.reserved || !msr_set(v, e.index, e.value, false)) {
            rc = -XEN_EINVAL;
            break;
        }
    }
    if (rc) {
        op->msr_count = i;
        *copyback = true;
    }
    return rc;
}
