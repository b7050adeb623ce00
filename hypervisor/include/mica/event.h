/*
 * Event channels, 2-level ABI (Xen PV): ports, their bindings, and the
 * pending/mask bitmaps in shared_info through which guests receive them.
 */
#ifndef MICA_EVENT_H
#define MICA_EVENT_H

#include <mica/domain.h>

#define NR_VIRQS 24

struct evtchn;

/* Per-domain state, allocated on first use of event channels. */
struct evtchn_table;

int evtchn_domain_init(struct domain *d);
/*
 * Closes every port of the dying d and frees its table; preemptible:
 * may stop part-way with HYPERCALL_CONTINUE (call again to go on).
 */
long evtchn_domain_destroy(struct domain *d, bool preemptible);

/* EVTCHNOP_* from the current vCPU; arg is the guest address of the struct. */
long do_event_channel_op(int cmd, u64 arg);

/* Raises a per-vCPU VIRQ (e.g. VIRQ_TIMER) on v, if bound. */
void send_guest_vcpu_virq(struct vcpu *v, unsigned virq);
/* Raises a global VIRQ (e.g. VIRQ_CONSOLE) on the domain, if bound. */
void send_guest_global_virq(struct domain *d, unsigned virq);
static inline void send_timer_virq(struct vcpu *v)
{
    send_guest_vcpu_virq(v, 0 /* VIRQ_TIMER */);
}

/* Raises port of d (an interrupt for a bound pirq, for instance). */
void evtchn_raise(struct domain *d, u32 port);

/* True when v has an event it would take if it unmasked (for blocking). */
bool event_pending(struct vcpu *v);

/* Port p of d is pending (for SCHEDOP_poll). */
bool evtchn_port_pending(struct domain *d, u32 port);
bool evtchn_port_valid(struct domain *d, u32 port);
/* The same with d->event_lock already held. */
bool evtchn_port_valid_locked(struct domain *d, u32 port);
/* Port of d is unbound and waits for remote (the domain builder's check). */
bool evtchn_port_unbound_for(struct domain *d, u32 port, domid_t remote);

#endif
