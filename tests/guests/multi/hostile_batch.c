/*
 * (Mica only: Xen has no way to start a second domain at boot.)
 * A domain in one enormous hypercall must not stop another domain's
 * clock: one kernel, two roles chosen by start_info's flags.
 *
 *   hostile (dom0): builds a list of BATCH mmu_update requests, each a
 *     plain write to one of its pages, without the memory for it: one
 *     page of 256 requests is mapped 512 times by one L1, that L1 512
 *     times by one L2, and that L2 L3_SLOTS times by an L3, so the list
 *     fills L3_SLOTS GiB.  It tells domain 1 "start" and issues the whole
 *     list as ONE mmu_update call, with its events unmasked.
 *   victim (domain 1): after "start", blocks until TIMER_EVENTS of its
 *     own 10 ms single-shot timer events (re-armed after each: a periodic
 *     timer does not wake a blocked vCPU, as on Xen) have arrived, and
 *     answers "done".
 *
 * The victim can only run while the hostile call is in progress if Mica
 * preempts the call.  When "done" arrives, the hostile domain's upcall
 * finds itself on the SYSCALL of a continued mmu_update (the only way it
 * can be delivered mid-call) and, as a guest may, rewrites the count it
 * is about to re-issue to zero (still with the continuation bit), so the
 * call ends at once with *pdone saying how far it got.  The verdict: the
 * call was cut short (done < BATCH) at a continuation.  Without
 * preemption the call would have to finish all 2^29 requests first, far
 * more than any machine does in the victim's 20 timer periods, so no
 * machine speed makes a broken Mica pass; a slow or loaded host only
 * changes how far the call got.
 */
#include "../tests/mmu_common.h"
#include <public/domctl.h>

#define TIMER_EVENTS 20
#define L3_SLOTS 8
#define BATCH ((uint32_t)L3_SLOTS << 26)     /* 2^29 requests */
#define ALIAS_L4_SLOT 2
#define ALIAS_VA ((uint64_t)ALIAS_L4_SLOT << 39)
#define PREEMPTED 0x80000000u
#define P_DATA 0
#define P_L1 1
#define P_L2 2
#define P_L3 3
#define P_SCRATCH 4
#define WAIT_NS 60000000000UL

static volatile bool done_seen, cut_at_syscall;
static unsigned done;
static evtchn_port_t port;

void evtchn_do_upcall(struct regs *r);

/* The hostile domain's upcall: on "done", end the continued call. */
static bool hostile_upcall(struct regs *r)
{
    uint64_t stub = (uint64_t)hypercall_page + __HYPERVISOR_mmu_update * 32;
    unsigned before = evt_counts[port];

    evtchn_do_upcall(r);
    if (evt_counts[port] == before || done_seen)
        return true;
    done_seen = true;
    if (r->rip >= stub && r->rip + 2 <= stub + 32 && ((const uint8_t *)r->rip)[0] == 0x0f &&
        ((const uint8_t *)r->rip)[1] == 0x05 && r->rdi >= ALIAS_VA) {
        r->rsi = PREEMPTED;             /* nothing left: the call returns */
        cut_at_syscall = true;
    }
    return true;
}

static void build_alias_list(void)
{
    uint64_t scratch = pool_mfn(P_SCRATCH) << 12;
    struct mmu_update *list = (struct mmu_update *)pool_page(P_DATA);

    for (unsigned i = 0; i < 4096 / sizeof(*list); i++)
        list[i] = (struct mmu_update){ .ptr = scratch + 8, .val = 42 };
    for (unsigned i = 0; i < 512; i++) {
        pool_page(P_L1)[i] = (pool_mfn(P_DATA) << 12) | PTE_P | PTE_US | PTE_A;
        pool_page(P_L2)[i] = (pool_mfn(P_L1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
        pool_page(P_L3)[i] = i < L3_SLOTS ? (pool_mfn(P_L2) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A
                                          : 0;
    }
    REQUIRE_EQ(pool_ro(P_L1), 0);
    REQUIRE_EQ(pool_ro(P_L2), 0);
    REQUIRE_EQ(pool_ro(P_L3), 0);
    REQUIRE_EQ(mmu1((l4_mfn() << 12) + ALIAS_L4_SLOT * 8,
                    (pool_mfn(P_L3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A), 0);
    /* The last request of the list, read through the alias. */
    const struct mmu_update *last = (const struct mmu_update *)ALIAS_VA + (BATCH - 1);
    REQUIRE_EQ(last->val, 42);
}

static enum result hostile(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 1 };

    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a), 0);
    port = a.port;
    build_alias_list();
    printk("hostile: %u mmu_update requests in %u GiB of aliased list\n", BATCH, L3_SLOTS);
    if (!evt_wait_count(port, 1, WAIT_NS)) {
        printk("hostile: domain 1 never said it was ready\n");
        return RESULT_FAILURE;
    }
    printk("hostile: go\n");
    trap_hooks[VEC_EVENT] = hostile_upcall;
    CHECK_EQ(evtchn_send(port), 0);
    done = 0;
    long rc = HYPERVISOR_mmu_update((struct mmu_update *)ALIAS_VA, BATCH, &done, DOMID_SELF);
    trap_hooks[VEC_EVENT] = NULL;
    printk("hostile: the call returned %ld after %u of %u requests\n", rc, done, BATCH);
    CHECK_EQ(rc, 0);
    CHECK(done_seen, "domain 1's answer never came during the call");
    CHECK(cut_at_syscall, "the answer did not arrive at a continuation of the call");
    CHECK(done > 0 && done < BATCH, "done %u", done);
    CHECK_EQ(pool_page(P_SCRATCH)[1], 42);
    if (check_failures)
        return RESULT_FAILURE;
    printk("hostile: domain 1 had its timers while this domain's call ran\n");
    /*
     * Domain 1 says "done" before it prints its own result; on two CPUs
     * it runs alongside, and dom0's return powers the machine off, which
     * could cut that line.  Wait for it to shut down first.
     */
    struct xen_domctl op;
    domain_wait_shutdown(&op, 1, WAIT_NS);
    return RESULT_SUCCESS;
}

static enum result victim(void)
{
    evtchn_port_t tport;

    REQUIRE_EQ(evtchn_bind_peer(0, 1, 10000000000UL, &port), 0);
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tport), 0);
    CHECK_EQ(evtchn_send(port), 0);                 /* ready */
    printk("victim: ready\n");
    if (!evt_wait_count(port, 1, WAIT_NS)) {
        printk("victim: no start from dom0\n");
        return RESULT_FAILURE;
    }
    printk("victim: start\n");
    unsigned ticks = timer_block_events(tport, TIMER_EVENTS, 10000000, WAIT_NS);
    printk("victim: %u timer events after dom0 started its call\n", ticks);
    CHECK(ticks >= TIMER_EVENTS, "only %u timer events", ticks);
    CHECK_EQ(evtchn_send(port), 0);                 /* done */
    return ticks >= TIMER_EVENTS ? RESULT_SUCCESS : RESULT_FAILURE;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    events_enable();
    return (start_info->flags & SIF_INITDOMAIN) ? hostile() : victim();
}
