/*
 * shared_info mapping and the guest side of 2-level event delivery: the
 * upcall handler clears evtchn_upcall_pending, takes the selector word
 * with an exchange, and for every selected word handles the ports that
 * are pending and not masked, clearing their pending bits first.
 */
#include "guest.h"

struct shared_info *shared;
struct vcpu_info *vcpu0;
volatile unsigned evt_counts[EVTCHN_2L_NR_CHANNELS];
evt_handler_t evt_handlers[EVTCHN_2L_NR_CHANNELS];
volatile unsigned upcall_count;

static char shared_info_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));

extern char event_entry[], failsafe_entry[];

struct shared_info *map_shared_info(void)
{
    if (shared)
        return shared;
    long rc = HYPERVISOR_update_va_mapping((unsigned long)shared_info_page,
                                           start_info->shared_info | PTE_P | PTE_RW | PTE_A | PTE_D,
                                           UVMF_INVLPG);
    if (rc)
        error_exit("cannot map shared_info (machine address %#lx): %ld",
                   start_info->shared_info, rc);
    shared = (struct shared_info *)shared_info_page;
    vcpu0 = &shared->vcpu_info[0];
    return shared;
}

long events_init(void)
{
    struct callback_register ev = {
        .type = CALLBACKTYPE_event, .address = (uint64_t)event_entry,
    };
    struct callback_register fs = {
        .type = CALLBACKTYPE_failsafe, .address = (uint64_t)failsafe_entry,
    };
    long rc;

    map_shared_info();
    rc = HYPERVISOR_callback_op(CALLBACKOP_register, &ev);
    if (rc)
        return rc;
    return HYPERVISOR_callback_op(CALLBACKOP_register, &fs);
}

void events_disable(void)
{
    WRITE_ONCE(vcpu0->evtchn_upcall_mask, 1);
    barrier();
}

volatile unsigned armed_upcalls;
volatile uint64_t armed_upcall_rip;

long events_arm_pending(evtchn_port_t ipi)
{
    long rc;

    events_disable();
    armed_upcalls = 0;
    armed_upcall_rip = 0;
    if ((rc = evtchn_send(ipi)))
        return rc;
    if (!READ_ONCE(vcpu0->evtchn_upcall_pending))
        return -1;
    barrier();
    WRITE_ONCE(vcpu0->evtchn_upcall_mask, 0);
    barrier();
    return 0;
}

bool preempt_call(const struct preempt_call *p, long *rc)
{
    for (unsigned a = 1; a <= p->attempts; a++) {
        if (p->prepare)
            p->prepare(p->arg);
        REQUIRE_EQ(events_arm_pending(p->ipi), 0);
        *rc = p->call(p->arg);
        events_disable();
        if (armed_upcalls && rip_on_hypercall_syscall(armed_upcall_rip, p->nr))
            return true;
        if (a == p->attempts)
            break;
        printk("attempt %u: upcall at %#lx, not on %s's SYSCALL: again\n", a,
               (unsigned long)armed_upcall_rip, p->what);
        if (p->missed)
            p->missed(p->arg, *rc);
    }
    return false;
}

void events_enable_on(struct vcpu_info *vi)
{
    barrier();
    WRITE_ONCE(vi->evtchn_upcall_mask, 0);
    barrier();
    /* An event that arrived while masked is only delivered on a kernel exit. */
    if (READ_ONCE(vi->evtchn_upcall_pending))
        HYPERVISOR_xen_version(XENVER_version, NULL);
}

void events_enable(void)
{
    events_enable_on(vcpu0);
}

void evtchn_scan(struct vcpu_info *vi, bool (*mine)(unsigned port),
                 void (*deliver)(unsigned port))
{
    WRITE_ONCE(vi->evtchn_upcall_pending, 0);
    uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned w = (unsigned)__builtin_ctzll(sel);
        sel &= sel - 1;
        uint64_t bits = READ_ONCE(shared->evtchn_pending[w]) & ~READ_ONCE(shared->evtchn_mask[w]);
        while (bits) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            unsigned port = w * 64 + b;
            if (mine && !mine(port))
                continue;
            sync_clear_bit(port, shared->evtchn_pending);
            deliver(port);
        }
    }
}

static void deliver_to_handler(unsigned port)
{
    evt_counts[port]++;
    if (evt_handlers[port])
        evt_handlers[port](port);
}

bool evt_wait_count(evtchn_port_t port, unsigned target, uint64_t limit_ns)
{
    uint64_t end = system_time_ns() + limit_ns;

    while (READ_ONCE(evt_counts[port]) < target) {
        if (system_time_ns() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

void evtchn_do_upcall(struct regs *r);
void evtchn_do_upcall(struct regs *r)
{
    (void)r;
    upcall_count++;
    evtchn_scan(vcpu0, NULL, deliver_to_handler);
}

long evtchn_alloc_unbound_self(evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
    *port = a.port;
    return rc;
}

long evtchn_bind_peer(domid_t dom, evtchn_port_t remote_port, uint64_t limit_ns,
                      evtchn_port_t *port)
{
    struct evtchn_bind_interdomain b = { .remote_dom = dom, .remote_port = remote_port };
    uint64_t end = system_time_ns() + limit_ns;
    long rc;

    /* The peer may not have opened its port yet. */
    while ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b)) == -XEN_EINVAL &&
           system_time_ns() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    if (rc)
        return rc;
    /* Binding raises the local port once; that event is not the peer's. */
    evt_wait_count(b.local_port, 1, 1000000000UL);
    evt_counts[b.local_port] = 0;
    *port = b.local_port;
    return 0;
}

long evtchn_bind_ipi(unsigned vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);
    *port = b.port;
    return rc;
}

long evtchn_bind_virq(unsigned virq, unsigned vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);
    *port = b.port;
    return rc;
}

long evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

long evtchn_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

long evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask u = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}

long evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}
