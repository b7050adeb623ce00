/*
 * A domain destroyed while a page-table tree of its is partly validated
 * (docs/pv-mm.md, "Partly validated tables"): dom0, as a builder, writes a
 * tree into a new domain's frames (1 L4, 1 L3, 2 L2, the rest L1s mapping
 * one data frame read-only), pins the L4 with an event left pending and
 * unmasked behind the hypervisor's back, and on the pin's continuation
 * (the upcall on mmuext_op's SYSCALL) skips the re-issue.  The L4, the L3
 * and the L2 it stopped in are left partly validated, nobody going on
 * with them.  Then the domain is destroyed: it must go (the domctl answers
 * 0, the id is free) and every frame must come back (Mica: exactly; Xen
 * keeps a few in its caches, toolstack.h).
 *
 * Then again, destroyed with an event pending so that the teardown itself
 * is continued (tests/destroy_continued.c): in the upcall on the domctl's
 * SYSCALL, before the teardown has reached its partial tables, dom0 pins
 * the partly validated L2 and L4 once more (the dying domain's validation
 * must give back what the partial tables held, whatever the pins answer), and
 * the destruction goes on: the domain goes, every frame comes back.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call (then the pin finishes); it is unpinned and made again, up to
 * ATTEMPTS times.
 */
#include "dom_tree.h"

#define PREEMPTED  0x80000000u
#define SKIPPED    0x7777UL
#define ATTEMPTS   4

static evtchn_port_t ipi;
static struct mmuext_op pin_op;
static struct { unsigned upcalls; uint64_t rip, rsi; long map_rc, pin_rc, pin_rc4; } seen;
static bool pin_in_destroy;

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        seen.rsi = r->rsi;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_mmuext_op)) {
            /* Partly validated: no writable mapping of the L4. */
            seen.map_rc = ts_map_foreign(MAP, m[0], true, id);
            r->rip += 2;                /* past the SYSCALL: nobody goes on */
            r->rax = SKIPPED;
        } else if (pin_in_destroy && rip_on_hypercall_syscall(r->rip, __HYPERVISOR_domctl)) {
            /* The teardown is part way: take the partial tables over again
               (the L2 first: it stopped after its first entry, so it holds
               a validated L1 that must be given back). */
            seen.pin_rc = ts_ext(MMUEXT_PIN_L2_TABLE, m[2], id);
            seen.pin_rc4 = ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id);
        }
    }
    evtchn_do_upcall(r);
    return true;
}

static void pin_prepare(void *arg)
{
    (void)arg;
    pin_op = (struct mmuext_op){ .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = m[0] };
    memset(&seen, 0, sizeof(seen));
}

static long pin_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_mmuext_op(&pin_op, 1, NULL, id);
}

/* The pin ran to its end before anything was armed: undone for another try. */
static void pin_missed(void *arg, long rc)
{
    (void)arg;
    CHECK_EQ(rc, 0);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
}

/* A new domain whose L4 pin was abandoned part way; false if it never was. */
static bool abandoned_tree(void)
{
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_mmuext_op, .what = "the pin",
                               .attempts = ATTEMPTS, .prepare = pin_prepare, .call = pin_call,
                               .missed = pin_missed };
    long rc = 0;

    dom_tree_create();
    bool at_syscall = preempt_call(&pc, &rc);
    CHECK(at_syscall, "the pin of %u tables was never continued (upcall at %#lx)", FRAMES - 1,
          seen.rip);
    if (at_syscall) {
        CHECK_EQ(rc, (long)SKIPPED);
        CHECK_EQ((uint32_t)seen.rsi, 1 | PREEMPTED);
        CHECK(seen.map_rc != 0, "a writable mapping of the partly validated L4 succeeded");
        CHECK(ts_map_foreign(MAP, m[0], true, id) != 0,
              "a writable mapping of the abandoned partly validated L4 succeeded");
        REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
    }
    return at_syscall;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;

    uint64_t before = physinfo_free_pages();

    /* Destroyed with its tree partly validated: it goes, and so does every frame. */
    abandoned_tree();
    CHECK_EQ(ts_destroy(id), 0);
    CHECK(ts_gone(id), "d%u still exists after destroydomain", id);
    CHECK(ts_memory_back(before), "free pages %lu, before %lu", physinfo_free_pages(), before);

    /* The same, the partial L4 pinned again while the teardown is part way. */
    if (abandoned_tree()) {
        pin_in_destroy = true;
        memset(&seen, 0, sizeof(seen));
        REQUIRE_EQ(events_arm_pending(ipi), 0);
        long rc = ts_destroy(id);
        events_disable();
        pin_in_destroy = false;
        CHECK_EQ(rc, 0);
        if (!rip_on_hypercall_syscall(seen.rip, __HYPERVISOR_domctl))
            printk("the upcall came at %#lx, not on the domctl's SYSCALL: no pin during the "
                   "teardown this time\n", seen.rip);
        else
            printk("pins of the partial L2 and L4 during the teardown answered %ld, %ld\n",
                   seen.pin_rc, seen.pin_rc4);
        CHECK(ts_gone(id), "d%u still exists after destroydomain", id);
        CHECK(ts_memory_back(before), "free pages %lu, before %lu", physinfo_free_pages(),
              before);
    }
    return RESULT_SUCCESS;
}
