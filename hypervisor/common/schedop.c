/*
 * sched_op, set_timer_op, vcpu_op and vm_assist: a vCPU's control over
 * its own scheduling, timers and ABI options.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <asm/time.h>
#include <mica/context.h>
#include <mica/domain.h>
#include <mica/event.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/sched.h>
#include <mica/unknown_op.h>
#include <public/errno.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/xen.h>

#define POLL_MAX_PORTS 128
_Static_assert(POLL_MAX_PORTS <= sizeof(((struct vcpu *)0)->poll_ports) / sizeof(u32), "poll set");

static long sched_poll(struct vcpu *v, u64 arg)
{
    struct sched_poll p;
    struct domain *d = v->domain;

    if (copy_from_guest(&p, arg, sizeof(p)))
        return -XEN_EFAULT;
    if (p.nr_ports > POLL_MAX_PORTS)
        return -XEN_EINVAL;
    if (copy_from_guest(v->poll_ports, p.ports, (size_t)p.nr_ports * sizeof(u32)))
        return -XEN_EFAULT;
    for (u32 i = 0; i < p.nr_ports; i++)
        if (!evtchn_port_valid(d, v->poll_ports[i]))
            return -XEN_EINVAL;
    if (p.timeout && p.timeout <= now_ns())
        return 0;
    /*
     * Sleep until a polled port becomes pending (deliver() checks, under
     * the event lock, and wakes v) or the deadline passes (sched_tick()
     * checks).  polling is published before the ports are looked at, so a
     * send on another CPU either is seen here or sees polling and wakes v;
     * a wake-up that comes before v blocks clears polling, and then v
     * does not block.  The guest's own timers are left alone.
     */
    v->nr_poll_ports = p.nr_ports;
    v->poll_deadline = p.timeout;
    __atomic_store_n(&v->polling, true, __ATOMIC_SEQ_CST);
    smp_mb();
    for (u32 i = 0; i < p.nr_ports; i++)
        if (evtchn_port_pending(d, v->poll_ports[i])) {
            __atomic_store_n(&v->polling, false, __ATOMIC_SEQ_CST);
            return 0;
        }
    sched_poll_block(v);
    return 0;
}

long do_sched_op(int cmd, u64 arg)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;

    switch (cmd) {
    case SCHEDOP_yield:
        vcpu_yield(v);
        return 0;
    case SCHEDOP_block:
        /* Enabling delivery and blocking are one step: no lost wake-up. */
        v->vcpu_info->evtchn_upcall_mask = 0;
        vcpu_block(v);
        return 0;
    case SCHEDOP_shutdown: {
        struct sched_shutdown s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        if (s.reason > SHUTDOWN_MAX)
            return -XEN_EINVAL;
        domain_shutdown(d, (u8)s.reason);
        return 0;
    }
    case SCHEDOP_shutdown_code: {
        struct sched_shutdown s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        if (s.reason > SHUTDOWN_MAX)
            return -XEN_EINVAL;
        d->shutdown_code = (u8)s.reason;
        d->shutdown_code_set = true;
        return 0;
    }
    case SCHEDOP_poll:
        return sched_poll(v, arg);
    case SCHEDOP_remote_shutdown: {
        struct sched_remote_shutdown r;
        struct domain *t;
        if (!is_control_domain(d))
            return -XEN_EPERM;
        if (copy_from_guest(&r, arg, sizeof(r)))
            return -XEN_EFAULT;
        if (r.reason > SHUTDOWN_MAX)
            return -XEN_EINVAL;
        t = domain_by_id(r.domain_id);
        if (!t)
            return -XEN_ESRCH;
        domain_shutdown(t, (u8)r.reason);
        return 0;
    }
    case SCHEDOP_watchdog:
    case SCHEDOP_pin_override:
        return -XEN_ENOSYS;     /* not implemented yet */
    default:
        return unknown_op(__HYPERVISOR_sched_op, (u32)cmd);
    }
}

long do_set_timer_op(u64 timeout)
{
    struct vcpu *v = current_vcpu();

    /* Absolute system time in ns; 0 cancels.  A time in the past fires at once. */
    v->singleshot_deadline = timeout;
    if (timeout && timeout <= now_ns()) {
        v->singleshot_deadline = 0;
        send_timer_virq(v);
    }
    sched_timers_changed(v);
    return 0;
}

/*
 * Moves v's vcpu_info into a page of the guest's choosing, carrying its
 * contents along.  The page must be the domain's own ordinary memory
 * (never a page-table page), and the 64 bytes must fit in it.
 */
static long register_vcpu_info(struct vcpu *v, u64 arg)
{
    struct vcpu_register_vcpu_info r;
    struct vcpu_info *nvi;
    long rc;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return -XEN_EFAULT;
    /* Once only: a second move would strand a guest still using the first. */
    if (v->vcpu_info_registered)
        return -XEN_EINVAL;
    if (r.offset > PAGE_SIZE - sizeof(struct vcpu_info))
        return -XEN_ENXIO;
    if ((rc = domain_writable_frame(v->domain, r.mfn)))
        return rc;
    nvi = (struct vcpu_info *)((u8 *)maddr_to_virt(r.mfn << PAGE_SHIFT) + r.offset);
    memcpy(nvi, v->vcpu_info, sizeof(*nvi));
    v->vcpu_info = nvi;
    v->vcpu_info_registered = true;
    /* Make the guest rescan: events may have been raised in the old place. */
    nvi->evtchn_upcall_pending = 1;
    nvi->evtchn_pending_sel = ~0ULL;
    return 0;
}

/* Shortest periodic timer a guest may ask for (as Xen: 1 ms). */
#define MIN_PERIOD_NS 1000000ULL

long do_vcpu_op(int cmd, unsigned vcpuid, u64 arg)
{
    struct vcpu *cur = current_vcpu();
    struct domain *d = cur->domain;
    struct vcpu *v;

    if (!(v = domain_vcpu(d, vcpuid)))
        return -XEN_ENOENT;

    switch (cmd) {
    case VCPUOP_is_up:
        return v->state != VCPU_DOWN;
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info r;
        if (v == cur)
            vcpu_runstate_change(v, RUNSTATE_running, now_ns());
        memset(&r, 0, sizeof(r));
        r.state = v->runstate;
        r.state_entry_time = v->runstate_entry_ns;
        memcpy(r.time, v->runstate_time, sizeof(r.time));
        return copy_to_guest(arg, &r, sizeof(r)) ? -XEN_EFAULT : 0;
    }
    case VCPUOP_register_runstate_memory_area: {
        struct vcpu_register_runstate_memory_area a;
        if (copy_from_guest(&a, arg, sizeof(a)))
            return -XEN_EFAULT;
        if (a.addr.v && !guest_range_ok(a.addr.v, sizeof(struct vcpu_runstate_info)))
            return -XEN_EINVAL;
        v->runstate_guest_va = a.addr.v;
        if (v == cur)
            vcpu_runstate_change(v, RUNSTATE_running, now_ns());
        if (v == cur)
            vcpu_runstate_publish(v);
        return 0;
    }
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(v, arg);
    case VCPUOP_initialise:
        return arch_initialise_vcpu(v, arg);
    case VCPUOP_up:
        if (!v->initialised)
            return -XEN_EINVAL;
        /* A reset left unfinished: Xen 4.17 answers 0 and keeps v paused. */
        if (v->state == VCPU_DOWN && !v->in_reset) {
            /* Back where it went down (or where its context says). */
            v->state = VCPU_RUNNABLE;
            sched_add_vcpu(v);
            sched_request_resched();
        }
        return 0;
    case VCPUOP_down: {
        /* As on Xen, the last vCPU going down powers the domain off. */
        bool others_up = false;
        for (unsigned i = 0; i < d->max_vcpus; i++)
            if (i != vcpuid && d->vcpus[i]->state != VCPU_DOWN)
                others_up = true;
        if (!others_up) {
            domain_shutdown(d, SHUTDOWN_poweroff);
            return 0;
        }
        if (v->state != VCPU_DOWN)
            sched_vcpu_down(v);
        return 0;
    }
    case VCPUOP_get_physid:
        return -XEN_EINVAL;     /* only meaningful for a dom0 that manages physical CPUs */
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer t;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -XEN_EFAULT;
        if (t.period_ns < MIN_PERIOD_NS)
            return -XEN_EINVAL;
        sched_set_periodic(v, t.period_ns);
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        sched_set_periodic(v, 0);
        return 0;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (v != cur)
            return -XEN_EINVAL;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -XEN_EFAULT;
        if ((t.flags & VCPU_SSHOTTMR_future) && t.timeout_abs_ns < now_ns())
            return -XEN_ETIME;
        return do_set_timer_op(t.timeout_abs_ns ? t.timeout_abs_ns : 1);
    }
    case VCPUOP_stop_singleshot_timer:
        if (v != cur)
            return -XEN_EINVAL;
        v->singleshot_deadline = 0;
        return 0;
    case VCPUOP_send_nmi:
        /* Any vCPU of the caller's domain, no argument (Xen: -EINVAL otherwise). */
        if (arg)
            return -XEN_EINVAL;
        arch_vcpu_send_nmi(v);
        return 0;
    case VCPUOP_register_vcpu_time_memory_area:
        return -XEN_ENOSYS;     /* not implemented yet */
    default:
        return unknown_op(__HYPERVISOR_vcpu_op, (u32)cmd);
    }
}

long do_vm_assist(unsigned cmd, unsigned type)
{
    struct domain *d = current_vcpu()->domain;
    const u64 known = VMASST_KNOWN_MASK;

    if (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable)
        return -XEN_ENOSYS;
    if (type >= 64 || !(known & (1ULL << type)))
        return -XEN_EINVAL;
    switch (cmd) {
    case VMASST_CMD_enable:
        d->arch.vm_assist |= 1ULL << type;
        return 0;
    case VMASST_CMD_disable:
        d->arch.vm_assist &= ~(1ULL << type);
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}
