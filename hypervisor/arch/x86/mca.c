/*
 * Hypercall 48, `mca` (public/xen_mca.h), for the control domain, with
 * Xen 4.17's checks and errors in Xen's order: not the control domain
 * -EPERM, unreadable argument -EFAULT, another interface version -EACCES.
 *
 *   physcpuinfo  one record per online CPU, from Mica's own CPU data:
 *                number, APIC ID and the package/core/thread it names
 *                (CPUID leaf 0xb, as physinfo), CPUID vendor, family,
 *                model, stepping, brand string, feature words, L2 size,
 *                CLFLUSH line size and MCG_CAP.  With a null info
 *                pointer it says how many CPUs there are (Linux's mcelog
 *                asks that first, then for the records).
 *   fetch        nothing is ever queued, so every fetch (URGENT or
 *                NONURGENT, with a data buffer: -EINVAL without) answers
 *                flags XEN_MC_NODATA, fetch_id 0 (Xen's answer when its
 *                queue is empty), and an ACK has nothing to acknowledge.
 *                Mica recovers from no machine check: every #MC stops the
 *                machine with a report (arch/x86/nmi.c), so no telemetry
 *                outlives one.  VIRQ_MCA is never raised.
 *   notifydomain -EINVAL (Xen 4.17 no longer supports it either)
 *   msrinject, mceinject, inject_v2
 *                -EOPNOTSUPP: Mica cannot inject machine checks (Xen
 *                can); logged once.
 *   other        -EINVAL, as Xen.
 *
 * The CPUID values are read on the CPU that answers; Mica, like
 * platform_op's get_cpu_version, takes every CPU to be the same model.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/mca.h>
#include <asm/smp.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <public/errno.h>
#include <public/xen_mca.h>

#define MSR_IA32_MCG_CAP 0x179
#define CPUID1_EDX_MCA   (1u << 14)

/* Xen's vendor numbers in mc_vendor (its X86_VENDOR_* bits). */
static u32 vendor_number(const char id[12])
{
    static const struct { char id[13]; u32 nr; } vendors[] = {
        { "GenuineIntel", 1u << 0 }, { "AuthenticAMD", 1u << 1 },
        { "CentaurHauls", 1u << 2 }, { "  Shanghai  ", 1u << 3 },
        { "HygonGenuine", 1u << 4 },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(vendors); i++)
        if (!memcmp(id, vendors[i].id, 12))
            return vendors[i].nr;
    return 0;
}

static void fill_cpu(unsigned cpu, struct mcinfo_logical_cpu *r)
{
    u32 a, b, c, d, max_ext, core, socket, threads_per_core, cores_per_socket;
    u32 fam, model;

    memset(r, 0, sizeof(*r));
    r->mc_cpunr = cpu;
    cpu_topology_ids(cpu, &core, &socket);
    smp_topology(&threads_per_core, &cores_per_socket);
    r->mc_chipid = socket;
    r->mc_coreid = (u16)core;
    r->mc_threadid = (u16)cpu_thread_id(cpu);
    r->mc_apicid = cpu_apic_id(cpu);
    r->mc_ncores = cores_per_socket;
    r->mc_ncores_active = cores_per_socket;
    r->mc_nthreads = threads_per_core;

    cpuid(0, 0, &a, &b, &c, &d);
    r->mc_cpuid_level = (s32)a;
    memcpy(r->mc_vendorid, &b, 4);
    memcpy(r->mc_vendorid + 4, &d, 4);
    memcpy(r->mc_vendorid + 8, &c, 4);
    r->mc_vendor = vendor_number(r->mc_vendorid);

    cpuid(1, 0, &a, &b, &c, &d);
    fam = (a >> 8) & 0xf;
    model = (a >> 4) & 0xf;
    if (fam == 0xf)
        fam += (a >> 20) & 0xff;
    if (fam >= 6)
        model |= (a >> 12) & 0xf0;
    r->mc_family = fam;
    r->mc_model = model;
    r->mc_step = a & 0xf;
    r->mc_cpu_caps[MC_CAPS_STD_EDX] = d;
    r->mc_cpu_caps[MC_CAPS_STD_ECX] = c;
    r->mc_cache_alignment = ((b >> 8) & 0xff) * 8;
    if (d & CPUID1_EDX_MCA) {
        r->mc_nmsrvals = 1;
        r->mc_msrvalues[0].reg = MSR_IA32_MCG_CAP;
        r->mc_msrvalues[0].value = rdmsr(MSR_IA32_MCG_CAP);
    }

    cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
    if (max_ext >= 0x80000001 && max_ext < 0x80010000) {
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        r->mc_cpu_caps[MC_CAPS_AMD_EDX] = d;
        r->mc_cpu_caps[MC_CAPS_AMD_ECX] = c;
    }
    if (max_ext >= 0x80000004 && max_ext < 0x80010000) {
        for (u32 i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, 0, &a, &b, &c, &d);
            memcpy(r->mc_brandid + i * 16, &a, 4);
            memcpy(r->mc_brandid + i * 16 + 4, &b, 4);
            memcpy(r->mc_brandid + i * 16 + 8, &c, 4);
            memcpy(r->mc_brandid + i * 16 + 12, &d, 4);
        }
    }
    if (max_ext >= 0x80000006 && max_ext < 0x80010000) {
        cpuid(0x80000006, 0, &a, &b, &c, &d);
        r->mc_cache_size = c >> 16;             /* L2, KiB */
    }
}

static long mc_physcpuinfo(struct xen_mc *op, u64 arg)
{
    struct xen_mc_physcpuinfo *p = &op->u.mc_physcpuinfo;
    u32 n = num_online_cpus();
    long rc = 0;

    if (p->info) {
        u32 done = 0;

        if (!p->ncpus)
            return -XEN_EINVAL;
        if (n > p->ncpus)
            n = p->ncpus;
        for (unsigned cpu = 0; cpu < NR_CPUS && done < n; cpu++) {
            struct mcinfo_logical_cpu r;

            if (!cpu_online(cpu))
                continue;
            fill_cpu(cpu, &r);
            if (copy_to_guest(p->info + (u64)done * sizeof(r), &r, sizeof(r))) {
                rc = -XEN_EFAULT;
                break;
            }
            done++;
        }
    }
    p->ncpus = n;
    if (copy_to_guest(arg, op, sizeof(*op)))
        return -XEN_EFAULT;
    return rc;
}

static long mc_fetch(struct xen_mc *op, u64 arg)
{
    struct xen_mc_fetch *f = &op->u.mc_fetch;

    switch (f->flags & (XEN_MC_URGENT | XEN_MC_NONURGENT)) {
    case XEN_MC_URGENT:
    case XEN_MC_NONURGENT:
        break;
    default:
        return -XEN_EINVAL;
    }
    if (f->flags & XEN_MC_ACK)
        return 0;               /* nothing was handed out, so nothing to take back */
    if (!f->data)
        return -XEN_EINVAL;     /* Xen: "guest buffer is NULL" */
    f->flags = XEN_MC_OK | XEN_MC_NODATA;
    f->fetch_id = 0;
    return copy_to_guest(arg, op, sizeof(*op)) ? -XEN_EFAULT : 0;
}

long do_mca(u64 arg)
{
    static bool injection_logged;
    struct xen_mc op;

    if (!is_control_domain(current_vcpu()->domain))
        return -XEN_EPERM;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_MCA_INTERFACE_VERSION)
        return -XEN_EACCES;
    switch (op.cmd) {
    case XEN_MC_fetch:
        return mc_fetch(&op, arg);
    case XEN_MC_physcpuinfo:
        return mc_physcpuinfo(&op, arg);
    case XEN_MC_msrinject:
    case XEN_MC_mceinject:
    case XEN_MC_inject_v2:
        if (!__atomic_exchange_n(&injection_logged, true, __ATOMIC_RELAXED))
            pr_info("mca: machine-check injection (command %u) is not available: Mica has "
                    "no machine-check recovery to exercise (docs/pv-domains.md)\n", op.cmd);
        return -XEN_EOPNOTSUPP;
    case XEN_MC_notifydomain:
    default:
        return -XEN_EINVAL;
    }
}
