/*
 * FIFO event channels (EVTCHNOP_init_control, expand_array, set_priority;
 * docs/pv-domains.md): refusals before and during the switch, a port
 * pending under 2-level carried over, and the queues as the guest sees
 * them in its event words and control block: HEAD and READY per
 * priority, LINK from the old tail, masked ports left unqueued until
 * EVTCHNOP_unmask, PENDING cleared by close, and EVTCHNOP_reset going
 * back to 2-level.  Events stay masked for the whole test (the library's
 * upcall speaks 2-level): the test reads the structures itself.
 */
#include "guest.h"

#define PENDING (1u << EVTCHN_FIFO_PENDING)
#define MASKED  (1u << EVTCHN_FIFO_MASKED)
#define LINKED  (1u << EVTCHN_FIFO_LINKED)
#define LINK    EVTCHN_FIFO_LINK_MASK

static uint8_t cb_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint32_t array_page[1024] __attribute__((aligned(4096), section(".bss.page_aligned")));

static struct evtchn_fifo_control_block *cb = (struct evtchn_fifo_control_block *)cb_page;

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
    return RESULT_SUCCESS;
}
