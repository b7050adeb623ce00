/*
 * A privileged caller's refused foreign pin gives the entries back
 * preemptibly too (docs/pv-mm.md, "Refused validations"; Xen 4.17 keeps
 * the refused table in the caller's old_guest_table whoever owns it;
 * XSA-45 class).  dom0, as a builder, writes a tree into a new domain's
 * frames (dom_tree.h: 1 L4, 1 L3, 2 L2s, 1019 L1s) with one bad entry
 * after the last L2's last L1 (a superpage), and pins the L4 with
 * foreigndom naming the domain, an event pending at every call
 * (refused_calls.h counts the calls):
 *
 * 1. continued: the validation continued many times, the release in
 *    Xen's no-list form with -EINVAL carried, at least one call per L1
 *    (1018); the L3 not mappable writable meanwhile; -EINVAL, *pdone 0;
 *    then no frame of the domain typed, and with the bad entry cleared
 *    the tree pins and unpins (0);
 * 2. the tree's L4 as CR3 of the domain's vCPU 0 (domctl setvcpucontext):
 *    the domctl continued many times, then -EINVAL, at once (no release
 *    continuation: Xen 4.17 keeps the refused tables in the caller's
 *    old_guest_table); our next mmuext_op (a local flush) releases them,
 *    continued unchanged at least once per L1, then answers its own 0;
 *    no frame typed;
 * 3. abandoned after 100 release calls, then the domain destroyed: the
 *    refused path is still in our vCPU's slot (a general reference: the
 *    domain may linger); our next mmuext_op lets it go (Mica: only the
 *    reference, the dying domain's teardown releasing the table; Xen:
 *    the release), and the domain goes with every frame back.
 *
 * 4. A dying domain's pinned tree unpinned by dom0 (a fresh domain with
 *    the tree pinned, its destruction stopped at the first call, an event
 *    pending): the unpin must not release the tree in one stretch.  On
 *    Mica the teardown's first stop comes before its unpinning walk
 *    reaches the L4, the unpin answers 0 after a stretch and leaves the
 *    L4 partly de-validated for the teardown, so it is not mappable
 *    writable right after (the Mica before released the whole tree in
 *    the unpin: writable); on Xen 4.17 the first stop of the destruction
 *    has unpinned the L4 already (-EINVAL: the case is not reached there,
 *    and said so).  The destruction then goes on: gone, every frame back.
 *
 * An interrupt between arming and a SYSCALL brings the upcall before the
 * call: the case is made again, up to ATTEMPTS times.
 */
#include "dom_tree.h"
#include "refused_calls.h"

#define ATTEMPTS      3
#define ABANDON_AFTER 100
#define BAD_L2        (2 + NR_L2 - 1)
#define BAD_SLOT      (NR_L1 - (NR_L2 - 1) * 512)

_Static_assert(BAD_SLOT < 512, "room after the last L2's last L1");

/*
 * A writable mapping of the L3 (whose entries are being released on
 * both), by update_va_mapping_otherdomain: unlike mmuext_op it does not
 * go on with our slot's table.  Not the L4: its only entry, 0, was the
 * refused one, so it held nothing of its own, and Xen 4.17 untypes it at
 * once (only a table refused past its first entry is kept), where Mica
 * keeps it partly de-validated at 0, the head of the refused path in the
 * slot, until the release ends (docs/pv-mm.md).
 */
static long probe_release(void)
{
    long rc = hypercall5(__HYPERVISOR_update_va_mapping_otherdomain, (unsigned long)pool[MAP],
                         (m[1] << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, UVMF_INVLPG, id, 0);

    if (!rc)
        pool_rw(MAP);
    return rc;
}

static void set_bad_entry(uint64_t e)
{
    REQUIRE_EQ(ts_map_foreign(MAP, m[BAD_L2], true, id), 0);
    pool_page(MAP)[BAD_SLOT] = e;
    REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
}

/* The domain's frames that cannot be mapped writable (a type left). */
static unsigned typed_frames(void)
{
    unsigned typed = 0;

    for (unsigned f = 0; f < FRAMES; f++) {
        if (ts_map_foreign(MAP, m[f], true, id))
            typed++;
        else
            REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
    }
    return typed;
}

static struct vcpu_guest_context ctx;

static long set_context(void)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = 0;
    ts_op.u.vcpucontext.ctxt = (uint64_t)&ctx;
    return ts_domctl(XEN_DOMCTL_setvcpucontext, id);
}

static long flush_local(void)
{
    static struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };

    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* 2. A refused root of a vCPU context: released by our next mmuext_op. */
static void context_case(void)
{
    unsigned calls = 0, release = 0;
    long rc = 0;

    dom_tree_context(&ctx);
    for (unsigned a = 1; a <= ATTEMPTS && !(calls && release); a++) {
        calls = count_unchanged(__HYPERVISOR_domctl, set_context, &rc);
        CHECK_EQ(rc, -XEN_EINVAL_);
        release = count_unchanged(__HYPERVISOR_mmuext_op, flush_local, &rc);
        CHECK_EQ(rc, 0);
        if (!(calls && release))
            printk("attempt %u not measured: again\n", a);
    }
    printk("context: %u setvcpucontext calls, then %u calls of the next mmuext_op\n", calls,
           release);
    CHECK(calls + 1 >= NR_L1 / 2, "the context's root validation continued only %u times",
          calls);
    CHECK(release >= NR_L1, "the refused root's %u L1 tables were released in %u calls: "
          "not one stretch per L1", NR_L1, release);
    CHECK_EQ(typed_frames(), 0);
}

/* 4. dom0's unpin of a dying domain's tree, before its teardown got to it. */
static void dying_unpin_case(uint64_t before)
{
    bool reached = false;
    long rc;

    dom_tree_create();
    REQUIRE_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    memset(&rc_seen, 0, sizeof(rc_seen));
    REQUIRE_EQ(events_arm_pending(ipi), 0);
    rc = ts_destroy(id);
    events_disable();
    if (rc != (long)SKIPPED) {
        printk("dying unpin: the destruction went in one call (%ld): not reached\n", rc);
    } else {
        memset(&rc_seen, 0, sizeof(rc_seen));
        REQUIRE_EQ(events_arm_pending(ipi), 0);
        rc = ts_ext(MMUEXT_UNPIN_TABLE, m[0], id);
        events_disable();
        if (rc == -XEN_EINVAL_) {
            printk("dying unpin: the teardown had unpinned the L4: not reached\n");
        } else {
            /* 0 (Mica: done, the rest left to the teardown) or SKIPPED (continued). */
            reached = true;
            printk("dying unpin: %s\n", rc == (long)SKIPPED ? "continued" : "answered at once");
            CHECK(rc == 0 || rc == (long)SKIPPED, "dom0's unpin of the dying domain's L4: %ld", rc);
            long map = hypercall5(__HYPERVISOR_update_va_mapping_otherdomain,
                                  (unsigned long)pool[MAP],
                                  (m[0] << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D,
                                  UVMF_INVLPG, id, 0);
            if (!map)
                pool_rw(MAP);
            CHECK(map != 0, "dom0's unpin of the dying domain's 1019-L1 tree released it in one "
                  "stretch (the L4 writable right after)");
        }
    }
    /* Mica's teardown stops first between frames, before this L4: the case must be reached. */
    CHECK(reached || !ts_exact_memory(), "dying unpin: not reached on Mica");
    CHECK_EQ(ts_destroy(id), 0);
    CHECK_EQ(ts_ext(MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_SELF), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still exists after destroydomain", id);
    CHECK(ts_memory_back(before), "free pages %lu, before %lu", physinfo_free_pages(), before);
}

enum result test_main(void)
{
    struct rc_counts c;
    long rc = 0;

    rc_init();

    uint64_t before = physinfo_free_pages();

    dom_tree_create();
    set_bad_entry((m[DATA] << 12) | PTE_P | PTE_PS | PTE_US | PTE_A);

    /* 1. Continued to the end. */
    for (unsigned a = 1; a <= ATTEMPTS; a++) {
        rc = call_counting(m[0], id, 0, &c);
        if (!c.unmeasured)
            break;
        printk("attempt %u not measured (result %ld): again\n", a, rc);
        CHECK_EQ(rc, -XEN_EINVAL_);
    }
    CHECK(!c.unmeasured, "the refused pin was never measured");
    check_counts("domain's tree", rc, &c, NR_L1);
    CHECK_EQ(typed_frames(), 0);
    set_bad_entry(0);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK_EQ(typed_frames(), 0);

    set_bad_entry((m[DATA] << 12) | PTE_P | PTE_PS | PTE_US | PTE_A);
    context_case();

    /* 3. Abandoned, then the domain destroyed. */
    for (unsigned a = 1; a <= ATTEMPTS; a++) {
        rc = call_counting(m[0], id, ABANDON_AFTER, &c);
        if (rc == (long)SKIPPED)
            break;
        printk("attempt %u: the release was not reached counted (result %ld): again\n", a, rc);
    }
    CHECK_EQ(rc, (long)SKIPPED);
    CHECK(probe_release() != 0, "the abandoned refused L3 could be mapped writable");
    CHECK_EQ(ts_destroy(id), 0);
    /* Our next mmuext_op lets go of the dying domain's table. */
    CHECK_EQ(ts_ext(MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_SELF), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still exists after destroydomain", id);
    CHECK(ts_memory_back(before), "free pages %lu, before %lu", physinfo_free_pages(), before);

    dying_unpin_case(before);
    return RESULT_SUCCESS;
}
