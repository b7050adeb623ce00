/*
 * sysctl (hypercall 35): host-wide queries for the privileged domain's
 * toolstack, with Xen 4.17's numbers and layouts (public/sysctl.h).
 *
 * The argument is read once into a local copy and checked there; results
 * go back with one copy of the whole structure.  See docs/domctl.md.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/smp.h>
#include <asm/cpu_policy.h>
#include <asm/time.h>
#include <mica/console.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <mica/spinlock.h>
#include <mica/sysctl_ops.h>
#include <mica/unknown_op.h>
#include <public/domctl.h>
#include <public/errno.h>
#include <public/sysctl.h>

static void physinfo(struct xen_sysctl_physinfo *pi)
{
    memset(pi, 0, sizeof(*pi));
    /* One NUMA node: Mica does not read the SRAT. */
    smp_topology(&pi->threads_per_core, &pi->cores_per_socket);
    pi->nr_cpus = num_online_cpus();
    pi->max_cpu_id = smp_max_cpu_id();
    pi->nr_nodes = 1;
    pi->max_node_id = 0;
    pi->cpu_khz = (u32)tsc_khz();
    /*
     * Grant tables versions 1 and 2: libxl turns these bits into
     * createdomain's grant_opts (the highest one, by default).
     */
    pi->capabilities = XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_gnttab_v1 |
                       XEN_SYSCTL_PHYSCAP_gnttab_v2;
    pi->total_pages = frame_pool_total_count(&host_frames);
    pi->free_pages = frame_pool_free_count(&host_frames);
    pi->outstanding_pages = READ_ONCE(host_frames.outstanding_claims);   /* a report */
    pi->max_mfn = host_frames.nr_frames ? host_frames.nr_frames - 1 : 0;
    /*
     * Host feature words 0-7 of the featureset: 1.edx, 1.ecx, e1.edx,
     * e1.ecx, 0xd:1.eax, 7:0.ebx, 7:0.ecx, e7.edx (libvirt's libxl driver
     * describes the host CPU from them).
     */
    cpu_policy_host_featureset(pi->hw_cap, 8);
}

static long getdomaininfolist(struct xen_sysctl_getdomaininfolist *l)
{
    struct xen_domctl_getdomaininfo info;
    u32 n = 0;
    u32 first = l->first_domain;

    while (n < l->max_domains && first < DOMID_FIRST_RESERVED) {
        struct domain *d = domain_next_from((domid_t)first);
        if (!d)
            break;
        domctl_domain_info(d, &info);
        if (copy_to_guest(l->buffer + (u64)n * sizeof(info), &info, sizeof(info)))
            return -XEN_EFAULT;
        n++;
        first = (u32)d->domid + 1;
    }
    l->num_domains = n;
    return 0;
}

static long sysctl_locked(u64 arg)
{
    struct xen_sysctl op;
    long rc;

    /* Toolstack only.  Checked before anything is read. */
    if (!is_control_domain(current_vcpu()->domain))
        return -XEN_EPERM;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
        return -XEN_EACCES;

    switch (op.cmd) {
    case XEN_SYSCTL_physinfo:
        physinfo(&op.u.physinfo);
        rc = 0;
        break;
    case XEN_SYSCTL_sched_id:
        op.u.sched_id.sched_id = XEN_SCHEDULER_CREDIT;
        rc = 0;
        break;
    case XEN_SYSCTL_getdomaininfolist:
        rc = getdomaininfolist(&op.u.getdomaininfolist);
        if (rc)
            return rc;
        break;
    case XEN_SYSCTL_readconsole:
        rc = console_ring_read(&op.u.readconsole);
        break;
    case XEN_SYSCTL_cputopoinfo:
        rc = sysctl_cputopoinfo(&op.u.cputopoinfo);
        break;
    case XEN_SYSCTL_numainfo:
        rc = sysctl_numainfo(&op.u.numainfo);
        break;
    case XEN_SYSCTL_cpupool_op:
        rc = sysctl_cpupool_op(&op.u.cpupool_op);
        break;
    case XEN_SYSCTL_scheduler_op:
        rc = sysctl_scheduler_op(&op.u.scheduler_op);
        break;
    case XEN_SYSCTL_get_cpu_featureset:
        rc = cpu_policy_sysctl_featureset(&op.u.cpu_featureset);
        break;
    case XEN_SYSCTL_get_cpu_policy:
        rc = cpu_policy_sysctl_get(&op.u.cpu_policy);
        break;
    default:
        return unknown_op(__HYPERVISOR_sysctl, op.cmd);
    }
    if (copy_to_guest(arg, &op, sizeof(op)))
        return -XEN_EFAULT;
    return rc;
}

/* One sysctl at a time, as Xen's sysctl_lock; unprivileged callers never hold it. */
static DEFINE_SPINLOCK(sysctl_lock, LOCK_ORDER_SYSCTL);

long do_sysctl(u64 arg)
{
    long rc;

    if (!is_control_domain(current_vcpu()->domain))
        return -XEN_EPERM;
    spin_lock(&sysctl_lock);
    rc = sysctl_locked(arg);
    spin_unlock(&sysctl_lock);
    return rc;
}
