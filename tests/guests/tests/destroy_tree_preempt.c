/*
 * A domain's teardown is preemptible inside a page-table tree, not only
 * between frames (docs/pv-mm.md "Teardown"; Xen 4.17's relinquish_memory()
 * and vcpu_destroy_pagetables() with -ERESTART, XSA-45 class): dom0, as a
 * builder, writes a tree into a new domain's frames (1 L4, 1 L3, 2 L2,
 * 1019 L1s mapping one data frame read-only, as mmu_pin_preempt_destroy)
 * and destroys the domain with an event pending at every call:
 *
 * 0. the same domain without a tree: the number of calls its destruction
 *    takes (the frame walks' own continuations) is the baseline;
 * 1. the tree's L4 pinned: the teardown's unpin releases the tree;
 * 2. the tree's L4 as vCPU 0's CR3 (a context set, never pinned): the
 *    teardown's drop of the root releases it;
 * 3. the first L2 pinned, then a pin of the L4 stopped part way (an event
 *    pending) and abandoned, then the L2 unpinned: the partly validated
 *    L3 holds the L2's last reference, and the teardown's release of the
 *    partial tables releases the L2's 512 L1s.
 *
 * Each destroydomain stops at its first preemption check (the event is
 * pending); the upcall lands on the domctl's SYSCALL, where the hook
 * skips the re-issue, and this loop re-issues the call itself with the
 * event armed again (a re-issue in the hook would take the upcall again
 * before the SYSCALL).  A teardown that stops between the entries of a
 * tree cuts its release into one stretch per L1 at least: the calls
 * beyond the baseline are at least the L1s less one;
 * one that stops only between frames (Mica before) releases the whole
 * tree inside one call.  Afterwards the domain is gone and every frame is
 * back.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call, which then runs on unhindered: the run is made again, up to
 * ATTEMPTS times.
 */
#include "dom_tree.h"

#define SKIPPED    0x7777UL
#define ATTEMPTS   3
#define MAX_CALLS  100000u

enum shape { PLAIN, PINNED, ROOT, PARTIAL };
static const char *const shape_name[] = { "no tree", "pinned tree", "tree as CR3",
                                          "partly validated tree" };
/* The L1s each shape's teardown releases: one call each at least. */
static const unsigned shape_l1s[] = { 0, NR_L1, NR_L1, 512 };

static evtchn_port_t ipi;
static struct vcpu_guest_context ctx;
static struct { unsigned upcalls; uint64_t rip; } seen;

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_domctl) ||
            rip_on_hypercall_syscall(r->rip, __HYPERVISOR_mmuext_op)) {
            /* Past the SYSCALL: destroy_counting() re-issues a destroy,
               nobody goes on with a pin. */
            r->rip += 2;
            r->rax = SKIPPED;
        }
    }
    evtchn_do_upcall(r);
    return true;
}

/* The upcall came right after the domctl's SYSCALL: the call had finished. */
static bool rip_after_domctl(uint64_t rip)
{
    uint64_t stub = (uint64_t)hypercall_page + __HYPERVISOR_domctl * 32;

    return rip >= stub + 2 && rip <= stub + 32 && ((const uint8_t *)rip)[-2] == 0x0f &&
           ((const uint8_t *)rip)[-1] == 0x05;
}

/* A new domain (id, frames m) of the given shape. */
static void build(enum shape s)
{
    if (s == PLAIN) {
        REQUIRE_EQ(ts_create(), 0);
        id = ts_op.domain;
        REQUIRE_EQ(ts_max_mem(id, FRAMES), 0);
        REQUIRE_EQ(ts_populate(id, m, FRAMES), FRAMES);
        return;
    }
    dom_tree_create();
    if (s == PINNED) {
        REQUIRE_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
        return;
    }
    if (s == PARTIAL) {
        bool stopped = false;

        REQUIRE_EQ(ts_ext(MMUEXT_PIN_L2_TABLE, m[2], id), 0);
        for (unsigned a = 1; a <= ATTEMPTS && !stopped; a++) {
            static struct mmuext_op pin_op;

            pin_op = (struct mmuext_op){ .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = m[0] };
            memset(&seen, 0, sizeof(seen));
            REQUIRE_EQ(events_arm_pending(ipi), 0);
            long rc = HYPERVISOR_mmuext_op(&pin_op, 1, NULL, id);
            events_disable();
            stopped = rc == (long)SKIPPED;
            if (!stopped) {
                printk("attempt %u: upcall at %#lx, not on the pin's SYSCALL: again\n", a,
                       seen.rip);
                CHECK_EQ(rc, 0);
                CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
            }
        }
        CHECK(stopped, "the L4's pin was never continued");
        /* The partial L3's entry 0 now holds the L2's only type reference. */
        REQUIRE_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[2], id), 0);
        return;
    }
    dom_tree_context(&ctx);
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = 0;
    ts_op.u.vcpucontext.ctxt = (uint64_t)&ctx;
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_setvcpucontext, id), 0);
}

/*
 * Destroys id with an event pending at every call: the number of calls
 * it took, or 0 if an upcall came before a call (the count is then
 * short) or the destruction failed.
 */
static unsigned destroy_counting(void)
{
    for (unsigned calls = 1; calls <= MAX_CALLS; calls++) {
        memset(&seen, 0, sizeof(seen));
        REQUIRE_EQ(events_arm_pending(ipi), 0);
        long rc = ts_destroy(id);
        events_disable();
        if (rc == (long)SKIPPED)
            continue;
        if (rc) {
            CHECK_EQ(rc, 0);
            return 0;
        }
        if (!rip_after_domctl(seen.rip)) {
            printk("call %u: upcall at %#lx, not after the domctl's SYSCALL\n", calls, seen.rip);
            return 0;
        }
        return calls;
    }
    CHECK(false, "d%u: destroydomain still continued after %u calls", id, MAX_CALLS);
    return 0;
}

/* Builds and destroys a domain of shape s: the calls its destruction took (0: never measured). */
static unsigned measure(enum shape s, uint64_t before)
{
    unsigned calls = 0;

    for (unsigned a = 1; a <= ATTEMPTS && !calls; a++) {
        build(s);
        calls = destroy_counting();
        CHECK(TS_SETTLE(ts_gone(id)), "d%u (%s) still exists after destroydomain", id,
              shape_name[s]);
        CHECK(ts_memory_back(before), "%s: free pages %lu, before %lu", shape_name[s],
              physinfo_free_pages(), before);
        if (!calls && a < ATTEMPTS)
            printk("%s, attempt %u: not measured, again\n", shape_name[s], a);
    }
    CHECK(calls, "%s: the destruction's calls were never counted", shape_name[s]);
    printk("%s: destroyed in %u calls\n", shape_name[s], calls);
    return calls;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;

    uint64_t before = physinfo_free_pages();
    unsigned base = measure(PLAIN, before);

    for (enum shape s = PINNED; s <= PARTIAL; s++) {
        unsigned calls = measure(s, before);
        if (base && calls)
            /* The calls beyond the baseline cut the release into one more stretch. */
            CHECK((long)calls - (long)base + 1 >= (long)shape_l1s[s],
                  "%s: destroyed in %u calls, %u without the tree: its %u L1s were not "
                  "released one stretch each", shape_name[s], calls, base, shape_l1s[s]);
    }
    return RESULT_SUCCESS;
}
