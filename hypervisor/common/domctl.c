/*
 * domctl (hypercall 36): domain management for the privileged domain's
 * toolstack, with Xen 4.17's numbers and layouts (public/domctl.h) so
 * that Xen's own toolstack libraries can drive Mica.
 *
 * The argument is read once into a local copy and checked there; results
 * are written back with one copy of the whole structure, as Xen does.
 * What exists, what answers -ENOSYS and where Mica differs from Xen:
 * docs/domctl.md.
 */
#include <asm/cpu_policy.h>
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/smp.h>
#include <asm/io.h>
#include <asm/time.h>
#include <asm/descriptor.h>
#include <asm/pv_ext_context.h>
#include <asm/pv_frame_info.h>
#include <asm/pv_msrs.h>
#include <asm/logdirty.h>
#include <mica/context.h>
#include <mica/domain.h>
#include <mica/domctl_build.h>
#include <mica/domctl_ops.h>
#include <mica/grant_table.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <mica/spinlock.h>
#include <mica/unknown_op.h>
#include <public/domctl.h>
#include <public/errno.h>
#include <public/mica_domctl.h>
#include <public/vcpu.h>

/* Credit weight and cap values that mean "leave as it is" in putinfo. */
#define SCHED_WEIGHT_KEEP 0
#define SCHED_CAP_KEEP    0xffff
/* Xen 4.17 keeps max_pages in 32 bits and clamps max_mem to that. */
#define MAX_PAGES_LIMIT   0xffffffffULL
/*
 * While no shutdown code is recorded Xen 4.17 reports one of all ones,
 * shifted: bits 16-31 of flags set (the code field reads 255).
 */
#define NO_SHUTDOWN_CODE_FLAGS (~0U << XEN_DOMINF_shutdownshift)

static u64 vcpu_running_ns(const struct vcpu *v, u64 now)
{
    u64 t = v->runstate_time[RUNSTATE_running];

    if (v->runstate == RUNSTATE_running && now > v->runstate_entry_ns)
        t += now - v->runstate_entry_ns;
    return t;
}

static u8 host_paddr_bits(void)
{
    u32 a, b, c, d;

    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a < 0x80000008)
        return 36;
    cpuid(0x80000008, 0, &a, &b, &c, &d);
    return (u8)(a & 0xff);
}

void domctl_domain_info(const struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    const struct vcpu *cur = current_vcpu();
    u64 now = now_ns(), cpu_time = 0;
    u32 online = 0, flags = 0;
    bool all_blocked = true, running = false;

    memset(info, 0, sizeof(*info));
    info->domain = d->domid;
    info->max_vcpu_id = d->max_vcpus ? d->max_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        const struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        cpu_time += vcpu_running_ns(v, now);
        if (v->state == VCPU_DOWN)
            continue;
        online++;
        if (v->state != VCPU_BLOCKED)
            all_blocked = false;
        if (v == cur)
            running = true;
    }
    /* blocked and running describe online vCPUs; none online, neither. */
    if (online)
        flags = (all_blocked ? XEN_DOMINF_blocked : 0) | (running ? XEN_DOMINF_running : 0);
    if (d->is_shutdown)
        flags |= XEN_DOMINF_shutdown;
    if (d->controller_pause_count)
        flags |= XEN_DOMINF_paused;
    if (d->is_dying)
        flags |= XEN_DOMINF_dying;
    if (d->shutdown_code_set || d->is_shutdown)
        flags |= (u32)(d->shutdown_code_set ? d->shutdown_code : d->shutdown_reason)
                 << XEN_DOMINF_shutdownshift;
    else
        flags |= NO_SHUTDOWN_CODE_FLAGS;

    info->flags = flags;
    info->tot_pages = d->tot_pages;
    info->max_pages = d->max_pages;
    /* A report: one aligned 64-bit read, without host_frames.lock. */
    info->outstanding_pages = READ_ONCE(d->outstanding_pages);
    info->shared_info_frame = d->shared_info_mfn;   /* PV: GMFN == MFN */
    info->cpu_time = cpu_time;
    info->nr_online_vcpus = online;
    info->ssidref = 0;                               /* no XSM labels */
    memcpy(info->handle, d->handle, sizeof(info->handle));
    info->cpupool = 0;
    info->gpaddr_bits = host_paddr_bits();           /* PV: guest = machine */
}

/* The id Xen would pick for createdomain when none is asked for. */
static domid_t choose_domid(void)
{
    static domid_t rover;           /* guarded by domctl_lock */
    domid_t id = rover;

    for (u32 tries = 0; tries < DOMID_FIRST_RESERVED - 1; tries++) {
        id++;
        if (id >= DOMID_FIRST_RESERVED)
            id = 1;
        if (!domain_by_id_any(id)) {
            rover = id;
            return id;
        }
    }
    return DOMID_INVALID;
}

static long domctl_createdomain(struct xen_domctl *op)
{
    const struct xen_domctl_createdomain *c = &op->u.createdomain;
    struct domain *d;
    domid_t id = op->domain;

    /* Mica runs PV guests only, without IOMMU, vPMU, trace buffers or pools. */
    if (c->flags & ~(XEN_DOMCTL_CDF_MAX * 2 - 1))
        return -XEN_EINVAL;         /* not a flag at all */
    if (c->flags & XEN_DOMCTL_CDF_hvm)
        return -XEN_EOPNOTSUPP;     /* a valid request Mica cannot do */
    if (c->flags & ~XEN_DOMCTL_CDF_oos_off)
        return -XEN_EINVAL;
    if (c->iommu_opts || c->vmtrace_size || c->cpupool_id)
        return -XEN_EINVAL;
    if (c->max_vcpus == 0 || c->max_vcpus > MAX_VIRT_CPUS)
        return -XEN_EINVAL;
    /* A max grant version of 1 or 2 and no other option; sizes as Xen 4.17 bounds them. */
    if (c->grant_opts & ~XEN_DOMCTL_GRANT_version_mask)
        return -XEN_EINVAL;
    if (grant_table_set_limits(NULL, c->max_grant_frames, c->max_maptrack_frames,
                               c->grant_opts & XEN_DOMCTL_GRANT_version_mask))
        return -XEN_EINVAL;
    if (c->arch.emulation_flags || (c->arch.misc_flags & ~XEN_X86_MSR_RELAXED))
        return -XEN_EINVAL;

    if (id > 0 && id < DOMID_FIRST_RESERVED) {
        if (domain_by_id_any(id))
            return -XEN_EEXIST;
    } else {
        id = choose_domid();
        if (id == DOMID_INVALID)
            return -XEN_ENOMEM;
    }
    d = domain_create(id, false, c->max_vcpus);
    if (!d)
        return -XEN_ENOMEM;
    /*
     * The per-domain area (GDT/LDT views) exists before the toolstack
     * types the domain's first L4, which must carry it, and before
     * setvcpucontext gives a vCPU a GDT.
     */
    if (pv_gdt_domain_init(d)) {
        domain_destroy(d);
        return -XEN_ENOMEM;
    }
    memcpy(d->handle, c->handle, sizeof(d->handle));
    d->max_evtchn_port = c->max_evtchn_port;
    grant_table_set_limits(d, c->max_grant_frames, c->max_maptrack_frames,
                           c->grant_opts & XEN_DOMCTL_GRANT_version_mask);
    /* Born paused: the toolstack unpauses once it has built the domain. */
    domain_pause_by_controller(d);
    printk("Domain %u created (%u vCPUs)\n", id, c->max_vcpus);
    op->domain = id;
    return 0;
}

static long domctl_getdomaininfo(struct xen_domctl *op)
{
    struct domain *d;

    /* Not an exact lookup: the next domain at or above the id answers. */
    if (op->domain >= DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    d = domain_next_from(op->domain);
    if (!d)
        return -XEN_ESRCH;
    domctl_domain_info(d, &op->u.getdomaininfo);
    op->domain = d->domid;
    return 0;
}

static long domctl_scheduler_op(struct domain *d, struct xen_domctl_scheduler_op *s)
{
    if (s->sched_id != XEN_SCHEDULER_CREDIT)
        return -XEN_EINVAL;
    switch (s->cmd) {
    case XEN_DOMCTL_SCHEDOP_getinfo:
        s->u.credit.weight = (u16)d->sched_weight;
        s->u.credit.cap = (u16)d->sched_cap;
        return 0;
    case XEN_DOMCTL_SCHEDOP_putinfo:
        if (s->u.credit.weight != SCHED_WEIGHT_KEEP)
            d->sched_weight = s->u.credit.weight;
        if (s->u.credit.cap != SCHED_CAP_KEEP)
            d->sched_cap = s->u.credit.cap;
        return 0;
    default:
        /* Credit has no per-vCPU parameters (put/getvcpuinfo). */
        return -XEN_EINVAL;
    }
}

static long domctl_getvcpuinfo(struct domain *d, struct xen_domctl_getvcpuinfo *g)
{
    const struct vcpu *v;

    if (g->vcpu >= d->max_vcpus)
        return -XEN_EINVAL;
    v = domain_vcpu(d, g->vcpu);
    if (!v)
        return -XEN_ESRCH;
    g->online = v->state != VCPU_DOWN;
    g->blocked = v->state == VCPU_BLOCKED;
    g->running = sched_vcpu_where(v, &g->cpu);
    g->_pad = 0;
    g->cpu_time = vcpu_running_ns(v, now_ns());
    g->_pad2 = 0;
    return 0;
}

/*
 * Xen's byte bitmaps <-> cpumask_t, over the CPU numbers Mica gives out
 * (Xen's nr_cpu_ids): reading takes what the caller's nr_bits covers (the
 * bits past it cleared), writing fills the caller's whole bitmap, zeros
 * past Mica's CPUs.
 */
static unsigned nr_cpu_ids(void)
{
    return smp_max_cpu_id() + 1;
}

static long bitmap_from_guest(cpumask_t *mask, const struct xenctl_bitmap *b)
{
    u8 bytes[(NR_CPUS + 7) / 8] = { 0 };
    u32 guest_bytes = (u32)(((u64)b->nr_bits + 7) / 8), mine = (nr_cpu_ids() + 7) / 8;
    u32 copy = MIN(guest_bytes, mine);

    if (copy && copy_from_guest(bytes, b->bitmap, copy))
        return -XEN_EFAULT;
    if (copy && (b->nr_bits & 7) && guest_bytes == copy)
        bytes[copy - 1] &= (u8)~(0xff << (b->nr_bits & 7));
    cpumask_clear(mask);
    for (unsigned cpu = 0; cpu < nr_cpu_ids(); cpu++)
        if (bytes[cpu / 8] & (1u << (cpu % 8)))
            __cpumask_set_cpu(cpu, mask);
    return 0;
}

static long bitmap_to_guest(const struct xenctl_bitmap *b, const cpumask_t *mask)
{
    u8 bytes[(NR_CPUS + 7) / 8] = { 0 }, zero = 0;
    u32 guest_bytes = (u32)(((u64)b->nr_bits + 7) / 8), mine = (nr_cpu_ids() + 7) / 8;
    u32 copy = MIN(guest_bytes, mine);

    for (unsigned cpu = 0; cpu < nr_cpu_ids(); cpu++)
        if (cpumask_test_cpu(cpu, mask))
            bytes[cpu / 8] |= (u8)(1u << (cpu % 8));
    if (copy && copy_to_guest(b->bitmap, bytes, copy))
        return -XEN_EFAULT;
    for (u32 i = copy; i < guest_bytes; i++)
        if (copy_to_guest(b->bitmap + i, &zero, 1))
            return -XEN_EFAULT;
    return 0;
}

/* XEN_DOMCTL_setvcpuaffinity / getvcpuaffinity, with Xen 4.17's checks and results. */
static long domctl_vcpuaffinity(struct domain *d, u32 cmd, const struct xen_domctl_vcpuaffinity *a)
{
    struct vcpu *v;
    cpumask_t mask, old_hard;
    long rc;

    if (a->vcpu >= d->max_vcpus)
        return -XEN_EINVAL;
    v = domain_vcpu(d, a->vcpu);
    if (!v)
        return -XEN_ESRCH;
    if (a->flags == 0 ||
        ((a->flags & XEN_VCPUAFFINITY_HARD) && !a->cpumap_hard.bitmap) ||
        ((a->flags & XEN_VCPUAFFINITY_SOFT) && !a->cpumap_soft.bitmap))
        return -XEN_EINVAL;

    if (cmd == XEN_DOMCTL_getvcpuaffinity) {
        rc = 0;
        if (a->flags & XEN_VCPUAFFINITY_HARD)
            rc = bitmap_to_guest(&a->cpumap_hard, &v->cpu_hard_affinity);
        if (a->flags & XEN_VCPUAFFINITY_SOFT)
            rc = bitmap_to_guest(&a->cpumap_soft, &v->cpu_soft_affinity);
        return rc;
    }
    /* XEN_VCPUAFFINITY_FORCE undoes SCHEDOP_pin_override, which Mica never grants. */
    old_hard = v->cpu_hard_affinity;
    rc = 0;
    if (a->flags & XEN_VCPUAFFINITY_HARD) {
        rc = bitmap_from_guest(&mask, &a->cpumap_hard);
        if (!rc)
            rc = sched_set_hard_affinity(v, &mask);
        if (rc)
            return rc;
        /* What the scheduler uses: the new mask's online CPUs. */
        cpumask_and(&mask, &cpu_online_map, &v->cpu_hard_affinity);
        rc = bitmap_to_guest(&a->cpumap_hard, &mask);
    }
    if (a->flags & XEN_VCPUAFFINITY_SOFT) {
        rc = bitmap_from_guest(&mask, &a->cpumap_soft);
        if (rc) {
            /* An error means nothing changed: the hard part goes back too. */
            if (a->flags & XEN_VCPUAFFINITY_HARD)
                sched_set_hard_affinity(v, &old_hard);
            return rc;
        }
        v->cpu_soft_affinity = mask;
        cpumask_and(&mask, &mask, &cpu_online_map);
        cpumask_and(&mask, &mask, &v->cpu_hard_affinity);
        rc = bitmap_to_guest(&a->cpumap_soft, &mask);
    }
    return rc;
}

/*
 * Another domain's vCPU only (Xen 4.17: never the caller's domain, which
 * it could not pause).  With one physical CPU for guests the target is
 * never running meanwhile; its registers are the saved ones.
 */
static long domctl_setvcpucontext(struct domain *self, struct domain *d,
                                  const struct xen_domctl_vcpucontext *vc)
{
    struct vcpu *v;

    if (d == self || !(v = domain_vcpu(d, vc->vcpu)))
        return -XEN_EINVAL;
    if (!vc->ctxt) {
        /* No context: a reset, the vCPU down and without one (Xen's vcpu_reset). */
        return arch_reset_vcpu(v);
    }
    return arch_set_vcpu_context(v, vc->ctxt);
}

/* Any vCPU but the caller's own running one; -ENODATA before it has a context. */
static long domctl_getvcpucontext(struct domain *d, const struct xen_domctl_vcpucontext *vc,
                                  bool *copyback)
{
    /* 5 KiB: on the 32 KiB hypercall stack rather than in shared state. */
    struct vcpu_guest_context c;
    struct vcpu *v;

    if (!(v = domain_vcpu(d, vc->vcpu)) || v == current_vcpu())
        return -XEN_EINVAL;
    if (!v->initialised)
        return -XEN_ENODATA;
    arch_get_vcpu_context(v, &c);
    /* As Xen, the (unchanged) domctl goes back whether or not the context did. */
    *copyback = true;
    return copy_to_guest(vc->ctxt, &c, sizeof(c)) ? -XEN_EFAULT : 0;
}

/* As Xen 4.17: -ESRCH for a bad vCPU, our own running vCPU (get) and our
   own domain (set); set is refused whole or taken whole. */
static long domctl_ext_vcpucontext(struct domain *self, struct domain *d,
                                   struct xen_domctl *op, bool *copyback)
{
    struct xen_domctl_ext_vcpucontext *evc = &op->u.ext_vcpucontext;
    struct vcpu *v;

    if (!(v = domain_vcpu(d, evc->vcpu)))
        return -XEN_ESRCH;
    if (op->cmd == XEN_DOMCTL_get_ext_vcpucontext) {
        if (v == current_vcpu())
            return -XEN_ESRCH;
        *copyback = true;
        return pv_get_ext_vcpucontext(v, evc);
    }
    if (d == self)
        return -XEN_ESRCH;
    return pv_set_ext_vcpucontext(v, evc);
}

/*
 * As Xen 4.17: -ESRCH for a bad vCPU, -EINVAL for the caller's own running
 * vCPU; get goes back whatever the result.  The target is paused around
 * the copy when guests run on several CPUs, as for getvcpucontext.
 */
static long domctl_vcpuextstate(struct domain *self, struct domain *d, struct xen_domctl *op,
                                bool *copyback)
{
    struct xen_domctl_vcpuextstate *evc = &op->u.vcpuextstate;
    struct vcpu *v;
    long rc;

    if (op->cmd == XEN_DOMCTL_getvcpuextstate)
        *copyback = true;
    if (!(v = domain_vcpu(d, evc->vcpu)))
        return -XEN_ESRCH;
    if (v == current_vcpu())
        return -XEN_EINVAL;
    bool paused = sched_guests_on_several_cpus() && d != self &&
                  domain_pause_by_controller(d) == 0;
    rc = op->cmd == XEN_DOMCTL_getvcpuextstate ? pv_get_vcpuextstate(v, evc)
                                               : pv_set_vcpuextstate(v, evc);
    if (paused)
        domain_unpause_by_controller(d);
    return rc;
}

/*
 * As Xen 4.17: -ESRCH for a bad vCPU, -EINVAL for the caller's own running
 * vCPU; get goes back on success and on -ENOBUFS/-EFAULT alike (the count
 * is what the caller learns).  The target is paused around the access when
 * guests run on several CPUs, as for vcpuextstate.
 */
static long domctl_vcpu_msrs(struct domain *self, struct domain *d, struct xen_domctl *op,
                             bool *copyback)
{
    struct xen_domctl_vcpu_msrs *m = &op->u.vcpu_msrs;
    struct vcpu *v;
    long rc;

    if (!(v = domain_vcpu(d, m->vcpu)))
        return -XEN_ESRCH;
    if (v == current_vcpu())
        return -XEN_EINVAL;
    bool paused = sched_guests_on_several_cpus() && d != self &&
                  domain_pause_by_controller(d) == 0;
    if (op->cmd == XEN_DOMCTL_get_vcpu_msrs) {
        *copyback = true;
        rc = pv_get_vcpu_msrs(v, m);
    } else {
        rc = pv_set_vcpu_msrs(v, m, copyback);
    }
    if (paused)
        domain_unpause_by_controller(d);
    return rc;
}

/* Operations on an existing domain d; *copyback says whether op goes back. */
static long domctl_on_domain(struct domain *self, struct domain *d,
                             struct xen_domctl *op, bool *copyback)
{
    switch (op->cmd) {
    case XEN_DOMCTL_destroydomain:
        if (d == self)
            return -XEN_EINVAL;
        /* Long on a large host: continued like Xen's -ERESTART from domain_kill. */
        if (domain_kill(d, true) == HYPERCALL_CONTINUE) {
            hypercall_continue_unchanged();
            return HYPERCALL_CONTINUE;
        }
        return 0;
    case XEN_DOMCTL_pausedomain:
        if (d == self)
            return -XEN_EINVAL;
        return domain_pause_by_controller(d);
    case XEN_DOMCTL_unpausedomain:
        return domain_unpause_by_controller(d);
    case XEN_DOMCTL_max_mem: {
        u64 pages = op->u.max_mem.max_memkb >> (PAGE_SHIFT - 10);
        d->max_pages = pages < MAX_PAGES_LIMIT ? pages : MAX_PAGES_LIMIT;
        return 0;
    }
    case XEN_DOMCTL_max_vcpus:
        /* vCPUs are made at creation; this only confirms the count. */
        if (d == self || op->u.max_vcpus.max != d->max_vcpus)
            return -XEN_EINVAL;
        return 0;
    case XEN_DOMCTL_scheduler_op:
        *copyback = true;       /* written back whatever the result, as on Xen */
        return domctl_scheduler_op(d, &op->u.scheduler_op);
    case XEN_DOMCTL_getvcpuinfo: {
        long rc = domctl_getvcpuinfo(d, &op->u.getvcpuinfo);
        *copyback = rc == 0;
        return rc;
    }
    case XEN_DOMCTL_setvcpucontext:
    case XEN_DOMCTL_getvcpucontext: {
        /*
         * As Xen pauses the target around these: with guests on several
         * CPUs a vCPU of d may be running elsewhere, its saved state stale.
         * (Pausing the caller's own domain is refused; its other vCPUs share
         * the caller's CPU and are not running.)
         */
        bool paused = sched_guests_on_several_cpus() && d != self &&
                      domain_pause_by_controller(d) == 0;
        long rc = op->cmd == XEN_DOMCTL_setvcpucontext
                      ? domctl_setvcpucontext(self, d, &op->u.vcpucontext)
                      : domctl_getvcpucontext(d, &op->u.vcpucontext, copyback);
        if (paused)
            domain_unpause_by_controller(d);
        return rc;
    }
    case XEN_DOMCTL_setvcpuaffinity:
    case XEN_DOMCTL_getvcpuaffinity:
        return domctl_vcpuaffinity(d, op->cmd, &op->u.vcpuaffinity);
    case XEN_DOMCTL_resumedomain:
        if (d == self)
            return -XEN_EINVAL;
        domain_resume(d);
        return 0;
    case XEN_DOMCTL_get_ext_vcpucontext:
    case XEN_DOMCTL_set_ext_vcpucontext:
        return domctl_ext_vcpucontext(self, d, op, copyback);
    case XEN_DOMCTL_getvcpuextstate:
    case XEN_DOMCTL_setvcpuextstate:
        return domctl_vcpuextstate(self, d, op, copyback);
    case XEN_DOMCTL_get_vcpu_msrs:
    case XEN_DOMCTL_set_vcpu_msrs:
        return domctl_vcpu_msrs(self, d, op, copyback);
    case XEN_DOMCTL_getpageframeinfo3:
        return pv_getpageframeinfo3(d, op->u.getpageframeinfo3.num,
                                    op->u.getpageframeinfo3.array);
    case MICA_DOMCTL_copy_frames: {
        struct mica_domctl_copy_frames c;
        long rc;

        _Static_assert(sizeof(c) <= sizeof(op->u.pad), "copy_frames fits the union");
        memcpy(&c, op->u.pad, sizeof(c));
        rc = pv_copy_frames(self, d, &c);
        /* done goes back on success, error and continuation alike. */
        memcpy(op->u.pad, &c, sizeof(c));
        *copyback = true;
        return rc;
    }
    case MICA_DOMCTL_logdirty_final: {
        struct mica_domctl_logdirty_final f;
        long rc;

        _Static_assert(sizeof(f) <= sizeof(op->u.pad), "logdirty_final fits the union");
        memcpy(&f, op->u.pad, sizeof(f));
        rc = pv_logdirty_final(self, d, &f);
        memcpy(op->u.pad, &f, sizeof(f));
        *copyback = true;
        return rc;
    }
    case MICA_DOMCTL_list_tables: {
        struct mica_domctl_list_tables l;
        long rc;

        _Static_assert(sizeof(l) <= sizeof(op->u.pad), "list_tables fits the union");
        memcpy(&l, op->u.pad, sizeof(l));
        rc = pv_list_tables(self, d, &l);
        /* nr goes back with -ENOSPC too: the room to ask for. */
        memcpy(op->u.pad, &l, sizeof(l));
        *copyback = true;
        return rc;
    }
    case XEN_DOMCTL_set_address_size:
    case XEN_DOMCTL_get_address_size:
    case XEN_DOMCTL_settscinfo:
    case XEN_DOMCTL_gettscinfo:
    case XEN_DOMCTL_setnodeaffinity:
    case XEN_DOMCTL_getnodeaffinity:
        return domctl_pv_setup(self, d, op, copyback);
    case XEN_DOMCTL_shadow_op:
        return pv_shadow_op(self, d, &op->u.shadow_op, copyback);
    case XEN_DOMCTL_get_cpu_policy:
        return cpu_policy_domctl_get(d, &op->u.cpu_policy, copyback);
    case XEN_DOMCTL_set_cpu_policy:
        return cpu_policy_domctl_set(self, d, &op->u.cpu_policy, copyback);
    default:
        return unknown_op(__HYPERVISOR_domctl, op->cmd);
    }
}

static long domctl_locked(u64 arg)
{
    struct domain *self = current_vcpu()->domain;
    struct xen_domctl op;
    struct domain *d;
    bool copyback = false;
    long rc;

    /* Toolstack only.  Checked before anything is read. */
    if (!is_control_domain(self))
        return -XEN_EPERM;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
        return -XEN_EACCES;

    switch (op.cmd) {
    case XEN_DOMCTL_createdomain:
        rc = domctl_createdomain(&op);
        if (rc)
            return rc;
        if (copy_to_guest(arg, &op, sizeof(op))) {
            /* The caller cannot learn the new id: do not leave it behind. */
            d = domain_by_id(op.domain);
            if (d)
                domain_destroy(d);
            return -XEN_EFAULT;
        }
        return 0;
    case XEN_DOMCTL_getdomaininfo:
        rc = domctl_getdomaininfo(&op);
        copyback = rc == 0;
        break;
    case MICA_DOMCTL_build_pv:
        d = domain_by_id(op.domain);
        if (!d)
            return -XEN_ESRCH;
        rc = domctl_build_pv(self, d, &op);
        if (rc)
            return rc;
        if (copy_to_guest(arg, &op, sizeof(op))) {
            /* Without the ring frames the domain is of no use: do not leave it. */
            domain_destroy(d);
            return -XEN_EFAULT;
        }
        return 0;
    default:
        /* Real ids only: DOMID_SELF and the other reserved ids name no domain here. */
        d = domain_by_id(op.domain);
        /* A destroydomain continued part way finds its dying domain again. */
        if (!d && op.cmd == XEN_DOMCTL_destroydomain) {
            d = domain_by_id_any(op.domain);
            if (d && !d->kill_in_progress)
                d = NULL;
        }
        if (!d)
            return -XEN_ESRCH;
        rc = domctl_on_domain(self, d, &op, &copyback);
        break;
    }
    if (copyback && copy_to_guest(arg, &op, sizeof(op)))
        rc = -XEN_EFAULT;
    return rc;
}

/*
 * One domctl at a time, as Xen's domctl_lock: building, pausing and
 * destroying domains assume nobody else changes them meanwhile.  Guests
 * that may not call it are turned away before they can hold the lock.
 */
static DEFINE_SPINLOCK(domctl_lock, LOCK_ORDER_DOMCTL);

long do_domctl(u64 arg)
{
    long rc;

    if (!is_control_domain(current_vcpu()->domain))
        return -XEN_EPERM;
    spin_lock(&domctl_lock);
    rc = domctl_locked(arg);
    spin_unlock(&domctl_lock);
    return rc;
}
