/*
 * FIFO event channels (Xen's EVTCHNOP_init_control ABI): the ports of a
 * domain that asked for it are raised through event words in guest
 * pages and per-vCPU queues instead of shared_info's 2-level bitmaps.
 * event_channel.c keeps the ports and their bindings and calls these
 * for everything that touches pending and mask state.
 */
#ifndef MICA_EVENT_FIFO_H
#define MICA_EVENT_FIFO_H

#include <mica/domain.h>
#include <public/event_channel.h>

/* Per-domain FIFO state (d->evtchn_fifo; NULL while d uses 2-level). */
struct evtchn_fifo;

/*
 * Per-port FIFO state, kept in the port's struct evtchn (the port
 * table's buckets, event_channel.c), guarded by d->event_lock like the
 * rest of the port.  It outlives a close: a closed port may still be the
 * tail of the queue it was last appended to.
 */
struct evtchn_fifo_port {
    u8 priority;                /* for the next time it is queued */
    u8 last_vcpu;               /* the queue it was last appended to */
    u8 last_priority;
    u8 saved_pending;           /* raised before its event word existed */
};

/* EVTCHNOP_init_control from d; sets ic->link_bits.  Xen 4.17's errors. */
long evtchn_fifo_init_control(struct domain *d, struct evtchn_init_control *ic);
/* EVTCHNOP_expand_array: one more page of 1024 event words. */
long evtchn_fifo_expand_array(struct domain *d, u64 array_gfn);
/* EVTCHNOP_set_priority of a port of d (FIFO domains only). */
long evtchn_fifo_set_priority(struct domain *d, u32 port, u32 priority);

/*
 * Marks port pending for vCPU v and queues it if unmasked and not queued
 * yet; returns whether it was pending already.
 */
bool evtchn_fifo_set_pending(struct domain *d, struct vcpu *v, u32 port);
void evtchn_fifo_clear_pending(struct domain *d, u32 port);
bool evtchn_fifo_is_pending(struct domain *d, u32 port);
/* EVTCHNOP_unmask: clears MASKED and queues the port again if pending. */
void evtchn_fifo_unmask(struct domain *d, struct vcpu *v, u32 port);

/* Back to 2-level (EVTCHNOP_reset, domain death): drops the guest pages. */
void evtchn_fifo_destroy(struct domain *d);

/* From event_channel.c, for the FIFO code. */
struct vcpu *evtchn_notify_vcpu(struct domain *d, u32 port);
/* The FIFO state of port of d; NULL outside d's port table.  event_lock held. */
struct evtchn_fifo_port *evtchn_fifo_port(struct domain *d, u32 port);
/* Ports with a bucket in d's table (all below it are in the table).  event_lock held. */
u32 evtchn_table_ports(struct domain *d);
void evtchn_mark_events_pending(struct vcpu *v);

#endif
