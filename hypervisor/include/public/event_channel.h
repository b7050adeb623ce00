/*
 * Mica guest ABI: event_channel_op (hypercall 32) sub-ops and arguments.
 * Mica implements the 2-level ABI and, for a guest that asks with
 * EVTCHNOP_init_control, the FIFO ABI (common/event_fifo.c).
 */
#ifndef MICA_PUBLIC_EVENT_CHANNEL_H
#define MICA_PUBLIC_EVENT_CHANNEL_H

#include <public/xen.h>

#define EVTCHNOP_bind_interdomain   0
#define EVTCHNOP_bind_virq          1
#define EVTCHNOP_bind_pirq          2
#define EVTCHNOP_close              3
#define EVTCHNOP_send               4
#define EVTCHNOP_status             5
#define EVTCHNOP_alloc_unbound      6
#define EVTCHNOP_bind_ipi           7
#define EVTCHNOP_bind_vcpu          8
#define EVTCHNOP_unmask             9
#define EVTCHNOP_reset             10
#define EVTCHNOP_init_control      11
#define EVTCHNOP_expand_array      12
#define EVTCHNOP_set_priority      13

/* Ports in the 2-level ABI: 64 words of 64 bits. */
#define EVTCHN_2L_NR_CHANNELS  4096

/* alloc_unbound: a port in `dom` that `remote_dom` may later bind to. */
struct evtchn_alloc_unbound {
    domid_t dom;
    domid_t remote_dom;
    evtchn_port_t port;          /* OUT */
};
XEN_ABI_SIZE(struct evtchn_alloc_unbound, 8);
XEN_ABI_OFFSET(struct evtchn_alloc_unbound, dom, 0);
XEN_ABI_OFFSET(struct evtchn_alloc_unbound, remote_dom, 2);
XEN_ABI_OFFSET(struct evtchn_alloc_unbound, port, 4);

/* bind_interdomain: connect to an unbound port of another domain. */
struct evtchn_bind_interdomain {
    domid_t remote_dom;
    uint16_t _pad;
    evtchn_port_t remote_port;
    evtchn_port_t local_port;    /* OUT */
};
XEN_ABI_SIZE(struct evtchn_bind_interdomain, 12);
XEN_ABI_OFFSET(struct evtchn_bind_interdomain, remote_dom, 0);
MICA_ABI_OFFSET(struct evtchn_bind_interdomain, _pad, 2);
XEN_ABI_OFFSET(struct evtchn_bind_interdomain, remote_port, 4);
XEN_ABI_OFFSET(struct evtchn_bind_interdomain, local_port, 8);

struct evtchn_bind_virq {
    uint32_t virq;               /* VIRQ_* */
    uint32_t vcpu;
    evtchn_port_t port;          /* OUT */
};
XEN_ABI_SIZE(struct evtchn_bind_virq, 12);
XEN_ABI_OFFSET(struct evtchn_bind_virq, virq, 0);
XEN_ABI_OFFSET(struct evtchn_bind_virq, vcpu, 4);
XEN_ABI_OFFSET(struct evtchn_bind_virq, port, 8);

#define BIND_PIRQ__WILL_SHARE  1

struct evtchn_bind_pirq {
    uint32_t pirq;
    uint32_t flags;              /* BIND_PIRQ__* */
    evtchn_port_t port;          /* OUT */
};
XEN_ABI_SIZE(struct evtchn_bind_pirq, 12);
XEN_ABI_OFFSET(struct evtchn_bind_pirq, pirq, 0);
XEN_ABI_OFFSET(struct evtchn_bind_pirq, flags, 4);
XEN_ABI_OFFSET(struct evtchn_bind_pirq, port, 8);

struct evtchn_bind_ipi {
    uint32_t vcpu;
    evtchn_port_t port;          /* OUT */
};
XEN_ABI_SIZE(struct evtchn_bind_ipi, 8);
XEN_ABI_OFFSET(struct evtchn_bind_ipi, vcpu, 0);
XEN_ABI_OFFSET(struct evtchn_bind_ipi, port, 4);

struct evtchn_close {
    evtchn_port_t port;
};
XEN_ABI_SIZE(struct evtchn_close, 4);
XEN_ABI_OFFSET(struct evtchn_close, port, 0);

struct evtchn_send {
    evtchn_port_t port;
};
XEN_ABI_SIZE(struct evtchn_send, 4);
XEN_ABI_OFFSET(struct evtchn_send, port, 0);

/* status: what a port is bound to. */
#define EVTCHNSTAT_closed       0
#define EVTCHNSTAT_unbound      1
#define EVTCHNSTAT_interdomain  2
#define EVTCHNSTAT_pirq         3
#define EVTCHNSTAT_virq         4
#define EVTCHNSTAT_ipi          5

struct evtchn_status {
    domid_t dom;
    uint16_t _pad;
    evtchn_port_t port;
    uint32_t status;             /* OUT: EVTCHNSTAT_* */
    uint32_t vcpu;               /* OUT: vCPU notified */
    union {                      /* OUT */
        struct {
            domid_t dom;
        } unbound;
        struct {
            domid_t dom;
            uint16_t _pad;
            evtchn_port_t port;
        } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;
};
XEN_ABI_SIZE(struct evtchn_status, 24);
XEN_ABI_OFFSET(struct evtchn_status, dom, 0);
MICA_ABI_OFFSET(struct evtchn_status, _pad, 2);
XEN_ABI_OFFSET(struct evtchn_status, port, 4);
XEN_ABI_OFFSET(struct evtchn_status, status, 8);
XEN_ABI_OFFSET(struct evtchn_status, vcpu, 12);
XEN_ABI_OFFSET(struct evtchn_status, u, 16);
XEN_ABI_OFFSET(struct evtchn_status, u.unbound.dom, 16);
XEN_ABI_OFFSET(struct evtchn_status, u.interdomain.dom, 16);
XEN_ABI_OFFSET(struct evtchn_status, u.interdomain.port, 20);
XEN_ABI_OFFSET(struct evtchn_status, u.pirq, 16);
XEN_ABI_OFFSET(struct evtchn_status, u.virq, 16);

struct evtchn_bind_vcpu {
    evtchn_port_t port;
    uint32_t vcpu;
};
XEN_ABI_SIZE(struct evtchn_bind_vcpu, 8);
XEN_ABI_OFFSET(struct evtchn_bind_vcpu, port, 0);
XEN_ABI_OFFSET(struct evtchn_bind_vcpu, vcpu, 4);

struct evtchn_unmask {
    evtchn_port_t port;
};
XEN_ABI_SIZE(struct evtchn_unmask, 4);
XEN_ABI_OFFSET(struct evtchn_unmask, port, 0);

struct evtchn_reset {
    domid_t dom;
};
XEN_ABI_SIZE(struct evtchn_reset, 2);
XEN_ABI_OFFSET(struct evtchn_reset, dom, 0);

/* FIFO ABI. */
struct evtchn_init_control {
    uint64_t control_gfn;
    uint32_t offset;
    uint32_t vcpu;
    uint8_t  link_bits;          /* OUT */
    uint8_t  _pad[7];
};
XEN_ABI_SIZE(struct evtchn_init_control, 24);
XEN_ABI_OFFSET(struct evtchn_init_control, control_gfn, 0);
XEN_ABI_OFFSET(struct evtchn_init_control, offset, 8);
XEN_ABI_OFFSET(struct evtchn_init_control, vcpu, 12);
XEN_ABI_OFFSET(struct evtchn_init_control, link_bits, 16);
XEN_ABI_OFFSET(struct evtchn_init_control, _pad, 17);

struct evtchn_expand_array {
    uint64_t array_gfn;
};
XEN_ABI_SIZE(struct evtchn_expand_array, 8);
XEN_ABI_OFFSET(struct evtchn_expand_array, array_gfn, 0);

struct evtchn_set_priority {
    evtchn_port_t port;
    uint32_t priority;
};
XEN_ABI_SIZE(struct evtchn_set_priority, 8);
XEN_ABI_OFFSET(struct evtchn_set_priority, port, 0);
XEN_ABI_OFFSET(struct evtchn_set_priority, priority, 4);

#define EVTCHN_FIFO_PRIORITY_MAX      0
#define EVTCHN_FIFO_PRIORITY_DEFAULT  7
#define EVTCHN_FIFO_PRIORITY_MIN     15
#define EVTCHN_FIFO_MAX_QUEUES       16
#define EVTCHN_FIFO_PENDING          31
#define EVTCHN_FIFO_MASKED           30
#define EVTCHN_FIFO_LINKED           29
#define EVTCHN_FIFO_BUSY             28
#define EVTCHN_FIFO_LINK_BITS        17
#define EVTCHN_FIFO_LINK_MASK        ((1 << 17) - 1)
#define EVTCHN_FIFO_NR_CHANNELS      (1 << 17)

struct evtchn_fifo_control_block {
    uint32_t ready;
    uint32_t _rsvd;
    uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};
XEN_ABI_SIZE(struct evtchn_fifo_control_block, 72);
XEN_ABI_OFFSET(struct evtchn_fifo_control_block, ready, 0);
XEN_ABI_OFFSET(struct evtchn_fifo_control_block, _rsvd, 4);
XEN_ABI_OFFSET(struct evtchn_fifo_control_block, head, 8);

/* Legacy hypercall 16 takes the command and its argument in one block. */
struct evtchn_op {
    uint32_t cmd;                /* EVTCHNOP_* */
    union {
        struct evtchn_alloc_unbound    alloc_unbound;
        struct evtchn_bind_interdomain bind_interdomain;
        struct evtchn_bind_virq        bind_virq;
        struct evtchn_bind_pirq        bind_pirq;
        struct evtchn_bind_ipi         bind_ipi;
        struct evtchn_close            close;
        struct evtchn_send             send;
        struct evtchn_status           status;
        struct evtchn_bind_vcpu        bind_vcpu;
        struct evtchn_unmask           unmask;
    } u;
};
XEN_ABI_SIZE(struct evtchn_op, 28);
XEN_ABI_OFFSET(struct evtchn_op, cmd, 0);
XEN_ABI_OFFSET(struct evtchn_op, u, 4);

#endif /* MICA_PUBLIC_EVENT_CHANNEL_H */
