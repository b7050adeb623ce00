/*
 * CPU pools (XEN_SYSCTL_cpupool_op) and the pool scheduler's parameters
 * (XEN_SYSCTL_scheduler_op), as Xen 4.17 answers them on a host with one
 * pool: pool 0 holds every CPU Mica runs and every domain, under the
 * credit scheduler.  Mica has no further pools: CREATE is refused with
 * -EOPNOTSUPP, and so is removing a CPU that Xen would let go (any but
 * CPU 0 of pool 0, which Xen refuses itself).  Everything else is Xen's
 * answer, error codes included.  xl/libxl read pool 0 on every create.
 */
#include <asm/current.h>
#include <mica/domain.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <mica/sysctl_ops.h>
#include <public/domctl.h>
#include <public/errno.h>

#define POOL0 0
#define MAX_CPU_MAP_BYTES 64            /* room for 512 CPUs */

static unsigned pool0_domains(void)
{
    unsigned n = 0;

    for (struct domain *d = domain_next_from(0); d; ) {
        n++;
        if (d->domid + 1u >= DOMID_FIRST_RESERVED)
            break;
        d = domain_next_from((domid_t)(d->domid + 1));
    }
    return n;
}

/* Pool 0's CPUs: all of them.  No CPU is free (outside every pool). */
static long write_cpu_map(const struct xenctl_bitmap *map, bool all)
{
    u8 bits[MAX_CPU_MAP_BYTES];
    unsigned n = host_cpu_count();

    memset(bits, 0, sizeof(bits));
    for (unsigned i = 0; all && i < n && i < MAX_CPU_MAP_BYTES * 8; i++)
        bits[i / 8] |= (u8)(1u << (i % 8));
    return xenctl_bitmap_write(map, bits, n);
}

static long move_domain(const struct xen_sysctl_cpupool_op *op)
{
    struct domain *d;

    /* Xen looks the domain up as a remote one: not the caller's own. */
    if (op->domid >= DOMID_FIRST_RESERVED || !(d = domain_by_id((domid_t)op->domid)))
        return -XEN_ESRCH;
    if (d == current_vcpu()->domain)
        return -XEN_EPERM;
    /* Already in pool 0; there is no other pool to move it to. */
    return op->cpupool_id == POOL0 ? 0 : -XEN_ENOENT;
}

static long remove_cpu(const struct xen_sysctl_cpupool_op *op)
{
    u32 cpu = op->cpu;

    if (op->cpupool_id != POOL0)
        return -XEN_ENOENT;
    if (cpu == XEN_SYSCTL_CPUPOOL_PAR_ANY)
        cpu = host_cpu_count() - 1;     /* the pool's last CPU */
    if (cpu >= host_cpu_count() || cpu == 0)
        return -XEN_EINVAL;             /* no such CPU; CPU 0 stays in pool 0 */
    return -XEN_EOPNOTSUPP;             /* a free CPU needs a second pool to go to */
}

long sysctl_cpupool_op(struct xen_sysctl_cpupool_op *op)
{
    switch (op->op) {
    case XEN_SYSCTL_CPUPOOL_OP_CREATE:
        return op->cpupool_id == POOL0 ? -XEN_EEXIST : -XEN_EOPNOTSUPP;
    case XEN_SYSCTL_CPUPOOL_OP_DESTROY:
        /* Pool 0 always has domains (and CPUs). */
        return op->cpupool_id == POOL0 ? -XEN_EBUSY : -XEN_ENOENT;
    case XEN_SYSCTL_CPUPOOL_OP_INFO:
        /* The pool with the lowest id >= cpupool_id. */
        if (op->cpupool_id > POOL0)
            return -XEN_ENOENT;
        op->cpupool_id = POOL0;
        op->sched_id = XEN_SCHEDULER_CREDIT;
        op->n_dom = pool0_domains();
        return write_cpu_map(&op->cpumap, true);
    case XEN_SYSCTL_CPUPOOL_OP_ADDCPU:
        if (op->cpupool_id != POOL0)
            return -XEN_ENOENT;
        if (op->cpu == XEN_SYSCTL_CPUPOOL_PAR_ANY)
            return -XEN_ENODEV;         /* no free CPU to take */
        return op->cpu >= host_cpu_count() ? -XEN_EINVAL : -XEN_ENODEV;
    case XEN_SYSCTL_CPUPOOL_OP_RMCPU:
        return remove_cpu(op);
    case XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN:
        return move_domain(op);
    case XEN_SYSCTL_CPUPOOL_OP_FREEINFO:
        return write_cpu_map(&op->cpumap, false);
    default:
        return -XEN_ENOSYS;             /* Xen's answer to an unknown pool op */
    }
}

/* Xen's credit ranges; the rate limit, when set, must fit in a slice. */
static bool credit_params_valid(const struct xen_sysctl_credit_schedule *c)
{
    if (c->tslice_ms > XEN_SYSCTL_CSCHED_TSLICE_MAX || c->tslice_ms < XEN_SYSCTL_CSCHED_TSLICE_MIN)
        return false;
    if (c->ratelimit_us && (c->ratelimit_us > XEN_SYSCTL_SCHED_RATELIMIT_MAX ||
                            c->ratelimit_us < XEN_SYSCTL_SCHED_RATELIMIT_MIN))
        return false;
    if ((u64)c->ratelimit_us * 1000 > (u64)c->tslice_ms * 1000000)
        return false;
    return c->vcpu_migr_delay_us <= XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US;
}

long sysctl_scheduler_op(struct xen_sysctl_scheduler_op *op)
{
    struct xen_sysctl_credit_schedule *c = &op->u.sched_credit;
    struct sched_credit_params p;

    if (op->cmd != XEN_SYSCTL_SCHEDOP_putinfo && op->cmd != XEN_SYSCTL_SCHEDOP_getinfo)
        return -XEN_EINVAL;
    if (op->cpupool_id != POOL0)
        return -XEN_ESRCH;
    if (op->sched_id != XEN_SCHEDULER_CREDIT)
        return -XEN_EINVAL;
    if (op->cmd == XEN_SYSCTL_SCHEDOP_putinfo) {
        if (!credit_params_valid(c))
            return -XEN_EINVAL;
        p = (struct sched_credit_params){ c->tslice_ms, c->ratelimit_us, c->vcpu_migr_delay_us };
        sched_credit_params_set(&p);
        printk("credit scheduler: time slice %u ms, rate limit %u us\n",
               p.tslice_ms, p.ratelimit_us);
    }
    sched_credit_params_get(&p);
    c->tslice_ms = p.tslice_ms;
    c->ratelimit_us = p.ratelimit_us;
    c->vcpu_migr_delay_us = p.migr_delay_us;
    return 0;
}
