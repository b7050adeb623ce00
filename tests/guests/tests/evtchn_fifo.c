/*
 * FIFO event channels (EVTCHNOP_init_control, expand_array, set_priority;
 * docs/pv-domains.md): refusals before and during the switch, a port
 * pending under 2-level carried over, and the queues as the guest sees
 * them in its event words and control block: HEAD and READY per
 * priority, LINK from the old tail, masked ports left unqueued until
 * EVTCHNOP_unmask, PENDING cleared by close, and EVTCHNOP_reset going
 * back to 2-level.  Then the port limits (Xen 4.17's): 2-level stops at
 * port 4095 (-ENOSPC); with FIFO, ports past 4096 bind, queue and are
 * delivered (IPI and an interdomain loopback pair), a port raised before
 * its array page exists is queued when the page comes, the array stops at
 * 128 pages (-ENOSPC); a domain made with max_evtchn_port 1023 gets ports
 * up to 1023 only.  Events stay masked for the whole test (the library's
 * upcall speaks 2-level): the test reads the structures itself.
 */
#include "guest.h"
#include <public/domctl.h>

#define PENDING (1u << EVTCHN_FIFO_PENDING)
#define MASKED  (1u << EVTCHN_FIFO_MASKED)
#define LINKED  (1u << EVTCHN_FIFO_LINKED)
#define LINK    EVTCHN_FIFO_LINK_MASK

static uint8_t cb_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint32_t array_page[1024] __attribute__((aligned(4096), section(".bss.page_aligned")));

static struct evtchn_fifo_control_block *cb = (struct evtchn_fifo_control_block *)cb_page;

/* Event array pages 0-5 (ports 0-6143) for the part past 4096, and one page to repeat. */
#define BIG_PAGES 6
static uint32_t big_array[BIG_PAGES][1024] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint32_t filler_page[1024] __attribute__((aligned(4096), section(".bss.page_aligned")));
static struct xen_domctl op;

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits)
{
    struct evtchn_init_control ic = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic);

    if (link_bits)
        *link_bits = ic.link_bits;
    return rc;
}

static long expand(uint64_t gfn)
{
    struct evtchn_expand_array ea = { .array_gfn = gfn };
    return HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea);
}

static long set_priority(uint32_t port, uint32_t prio)
{
    struct evtchn_set_priority sp = { .port = port, .priority = prio };
    return HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp);
}

static uint32_t word(uint32_t port)
{
    return READ_ONCE(array_page[port]);
}

/* What the guest does to take one event off a queue. */
static void consume(uint32_t port)
{
    __atomic_fetch_and(&array_page[port], ~(PENDING | LINKED | LINK), __ATOMIC_SEQ_CST);
}

static void reset_view(void)
{
    memset(cb_page, 0, sizeof(cb_page));
    WRITE_ONCE(vcpu0->evtchn_upcall_pending, 0);
}

static uint32_t big_word(uint32_t port)
{
    return READ_ONCE(big_array[port / 1024][port % 1024]);
}

/* IPIs bound until the last one is port `last`; all below are taken then. */
static void bind_up_to(evtchn_port_t last)
{
    evtchn_port_t p = 0;

    while (p < last) {
        evtchn_port_t prev = p;
        REQUIRE_EQ(evtchn_bind_ipi(0, &p), 0);
        REQUIRE(p > prev, "port %u bound after %u: not the lowest free", p, prev);
    }
    REQUIRE_EQ(p, last);
}

/* 2-level: ports 1-4095 only. */
static void two_level_limit(void)
{
    struct evtchn_reset rs = { .dom = DOMID_SELF };
    evtchn_port_t p = 0, last = 0;
    long rc;

    while ((rc = evtchn_bind_ipi(0, &p)) == 0) {
        REQUIRE(p > last && p < 8192, "2-level bound port %u after %u", p, last);
        last = p;
    }
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(last, EVTCHN_2L_NR_CHANNELS - 1);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs), 0);
}

/* FIFO: ports past 4096 bound, queued and delivered; the array's 128-page bound. */
static void fifo_past_4096(uint64_t cb_mfn)
{
    struct evtchn_reset rs = { .dom = DOMID_SELF };
    struct evtchn_status st;
    evtchn_port_t a, b, late;
    unsigned pages = 0;

    memset(cb_page, 0, sizeof(cb_page));
    WRITE_ONCE(vcpu0->evtchn_upcall_pending, 0);
    cb = (struct evtchn_fifo_control_block *)cb_page;
    REQUIRE_EQ(init_control(cb_mfn, 0, 0, NULL), 0);
    for (; pages < BIG_PAGES - 1; pages++)
        REQUIRE_EQ(expand(va_to_mfn(big_array[pages])), 0);
    /* Xen 4.17 never forgets that a port was raised while it had no event
     * word (struct evtchn's saved pending flag is set, never cleared): port
     * 1, raised across the first switch above, is queued again by every
     * page 0 that comes, bound or not.  Mica queues only bound ports.  Take
     * whatever came off the queues, as the guest would. */
    memset(big_array, 0, sizeof(big_array));
    memset(cb_page, 0, sizeof(cb_page));
    WRITE_ONCE(vcpu0->evtchn_upcall_pending, 0);

    /* Ports 1-4199 IPIs, then an interdomain loopback pair 4200 <-> 4201. */
    bind_up_to(4199);
    REQUIRE_EQ(evtchn_alloc_unbound_self(&a), 0);
    CHECK_EQ(a, 4200);
    struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF, .remote_port = a };
    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), 0);
    b = bi.local_port;
    CHECK_EQ(b, 4201);
    CHECK_EQ(evtchn_status(b, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.port, a);
    /* Binding raises the new local port at once (the ABI): b is queued already. */
    CHECK_EQ(big_word(b), PENDING | LINKED);
    CHECK_EQ(READ_ONCE(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]), b);
    __atomic_fetch_and(&big_array[b / 1024][b % 1024], ~(PENDING | LINKED | LINK), __ATOMIC_SEQ_CST);
    memset(cb_page, 0, sizeof(cb_page));
    WRITE_ONCE(vcpu0->evtchn_upcall_pending, 0);

    /* Priorities and queues past 4096. */
    CHECK_EQ(set_priority(b, 3), 0);
    CHECK_EQ(evtchn_send(a), 0);                    /* raises b */
    CHECK_EQ(big_word(b), PENDING | LINKED);
    CHECK_EQ(READ_ONCE(cb->head[3]), b);
    CHECK_EQ(READ_ONCE(cb->ready), 1u << 3);
    CHECK_EQ(READ_ONCE(vcpu0->evtchn_upcall_pending), 1);
    CHECK_EQ(evtchn_send(b), 0);                    /* raises a */
    CHECK_EQ(big_word(a), PENDING | LINKED);
    CHECK_EQ(READ_ONCE(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]), a);
    CHECK_EQ(evtchn_send(4199), 0);                 /* after a, by LINK */
    CHECK_EQ(big_word(a), PENDING | LINKED | 4199);
    CHECK_EQ(big_word(4199), PENDING | LINKED);

    /* Raised before its array page exists: queued when the page comes. */
    bind_up_to(5125);
    late = 5125;
    CHECK_EQ(evtchn_send(late), 0);
    CHECK_EQ(big_word(4199), PENDING | LINKED);     /* nothing appended yet */
    REQUIRE_EQ(expand(va_to_mfn(big_array[pages])), 0);
    pages++;
    CHECK_EQ(big_word(late), PENDING | LINKED);
    CHECK_EQ(big_word(4199) & LINK, late);

    /* Closing past 4096 clears PENDING as below it. */
    CHECK_EQ(evtchn_close(b), 0);
    CHECK_EQ(big_word(b), LINKED);
    CHECK_EQ(evtchn_status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);

    /* The event array stops at 128 pages (2^17 ports). */
    while (pages < EVTCHN_FIFO_NR_CHANNELS / 1024) {
        REQUIRE_EQ(expand(va_to_mfn(filler_page)), 0);
        pages++;
    }
    CHECK_EQ(expand(va_to_mfn(filler_page)), -XEN_ENOSPC);

    /* Reset: every port closed, 2-level again, ports past 4096 gone. */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs), 0);
    CHECK_EQ(evtchn_status(a, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(set_priority(1, 3), -XEN_ENOSYS);
    REQUIRE_EQ(evtchn_bind_ipi(0, &a), 0);
    CHECK(a < EVTCHN_2L_NR_CHANNELS, "port %u after reset to 2-level", a);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs), 0);
}

/* createdomain's max_evtchn_port (1023 here, as xl's default) caps the ports. */
static void domain_limit(void)
{
    struct evtchn_alloc_unbound ub;
    domid_t id = domain_create_small(&op);
    evtchn_port_t last = 0;
    long rc;

    for (;;) {
        ub = (struct evtchn_alloc_unbound){ .dom = id, .remote_dom = 0 };
        if ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &ub)))
            break;
        REQUIRE(ub.port > last && ub.port < 8192, "port %u after %u", ub.port, last);
        last = ub.port;
    }
    CHECK_EQ(rc, -XEN_ENOSPC);
    CHECK_EQ(last, 1023);
    /* Its 1023 unbound ports are closed by the (preemptible) teardown. */
    CHECK_EQ(domctl_fresh(&op, XEN_DOMCTL_destroydomain, id), 0);
}

enum result test_main(void)
{
    evtchn_port_t p, q, r, s;
    uint8_t bits = 0;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    events_disable();
    uint64_t cb_mfn = va_to_mfn(cb_page), array_mfn = va_to_mfn(array_page);

    /* 2-level: no priorities, no array. */
    REQUIRE_EQ(evtchn_bind_ipi(0, &p), 0);
    CHECK_EQ(set_priority(p, 3), -XEN_ENOSYS);
    CHECK_EQ(expand(array_mfn), -XEN_EOPNOTSUPP);

    /* Refusals, in Xen's order; none switches the domain over. */
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_init_control, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(init_control(cb_mfn, 0, 99, &bits), -XEN_ENOENT);
    CHECK_EQ(bits, 0);                              /* nothing written back */
    CHECK_EQ(init_control(cb_mfn, 4096 - 72 + 8, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(init_control(cb_mfn, 4, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(init_control(va_to_mfn((void *)start_info->pt_base), 0, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(init_control(1UL << 40, 0, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(expand(array_mfn), -XEN_EOPNOTSUPP);

    /* A port pending under 2-level... */
    CHECK_EQ(evtchn_send(p), 0);
    CHECK(test_bit(p, shared->evtchn_pending), "port %u not pending in 2-level", p);

    /* ...switch... */
    reset_view();
    bits = 0;
    CHECK_EQ(init_control(cb_mfn, 0, 0, &bits), 0);
    CHECK_EQ(bits, EVTCHN_FIFO_LINK_BITS);
    CHECK_EQ(init_control(cb_mfn, 0, 0, NULL), -XEN_EINVAL);        /* twice */
    CHECK_EQ(set_priority(p, 16), -XEN_EINVAL);
    CHECK_EQ(set_priority(100000, 3), -XEN_EINVAL);
    CHECK_EQ(READ_ONCE(cb->ready), 0);

    /* ...is raised when its event word arrives. */
    CHECK_EQ(expand(array_mfn), 0);
    CHECK_EQ(word(p), PENDING | LINKED);
    CHECK_EQ(READ_ONCE(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]), p);
    CHECK_EQ(READ_ONCE(cb->ready), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    CHECK_EQ(READ_ONCE(vcpu0->evtchn_upcall_pending), 1);
    consume(p);
    reset_view();

    /* Queues by priority: HEAD and READY for the first, LINK from the tail after. */
    REQUIRE_EQ(evtchn_bind_ipi(0, &q), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &r), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &s), 0);
    CHECK_EQ(set_priority(q, 3), 0);
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(evtchn_send(q), 0);
    CHECK_EQ(evtchn_send(p), 0);                    /* already pending: nothing more */
    CHECK_EQ(word(p), PENDING | LINKED);
    CHECK_EQ(word(q), PENDING | LINKED);
    CHECK_EQ(READ_ONCE(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]), p);
    CHECK_EQ(READ_ONCE(cb->head[3]), q);
    CHECK_EQ(READ_ONCE(cb->ready), (1u << EVTCHN_FIFO_PRIORITY_DEFAULT) | (1u << 3));
    CHECK_EQ(READ_ONCE(vcpu0->evtchn_upcall_pending), 1);
    CHECK_EQ(evtchn_send(r), 0);
    CHECK_EQ(word(p), PENDING | LINKED | r);         /* appended after p */
    CHECK_EQ(READ_ONCE(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]), p);

    /* The guest takes p off its queue; raised again, p goes after the tail, r. */
    consume(p);
    CHECK_EQ(evtchn_send(p), 0);                    /* queued again, after r */
    CHECK_EQ(word(r), PENDING | LINKED | p);

    /* A masked port is pending but not queued until EVTCHNOP_unmask. */
    __atomic_fetch_or(&array_page[s], MASKED, __ATOMIC_SEQ_CST);
    CHECK_EQ(evtchn_send(s), 0);
    CHECK_EQ(word(s), PENDING | MASKED);
    struct evtchn_unmask um = { .port = s };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &um), 0);
    CHECK_EQ(word(s), PENDING | LINKED);
    CHECK_EQ(word(p) & LINK, s);                     /* after the tail, p */

    /* Closing clears PENDING (the guest unlinks it later). */
    CHECK_EQ(evtchn_close(q), 0);
    CHECK_EQ(word(q), LINKED);

    /* Reset: back to 2-level, all ports closed; FIFO may be set up again. */
    struct evtchn_reset rs = { .dom = DOMID_SELF };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs), 0);
    CHECK_EQ(expand(array_mfn), -XEN_EOPNOTSUPP);
    REQUIRE_EQ(evtchn_bind_ipi(0, &p), 0);
    CHECK_EQ(set_priority(p, 3), -XEN_ENOSYS);
    memset(array_page, 0, sizeof(array_page));
    reset_view();
    CHECK_EQ(init_control(cb_mfn, 64, 0, NULL), 0);
    CHECK_EQ(expand(array_mfn), 0);
    cb = (struct evtchn_fifo_control_block *)(cb_page + 64);
    CHECK_EQ(evtchn_send(p), 0);
    CHECK_EQ(word(p), PENDING | LINKED);
    CHECK_EQ(READ_ONCE(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT]), p);
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs), 0);

    two_level_limit();
    fifo_past_4096(cb_mfn);
    domain_limit();
    return RESULT_SUCCESS;
}
