/*
 * A refused validation gives its entries back preemptibly (docs/pv-mm.md,
 * "Refused validations"; Xen 4.17 keeps the refused table in the vCPU's
 * old_guest_table with PGT_partial and releases it in the call's
 * continuation; XSA-45 class).  Our own 1024 frames past the bootstrap
 * region become one tree (mmu_tree.h: 1 L4, 1 L3, 2 L2s, 1020 L1s), with
 * one bad entry near the end: after the last L2's last L1 comes a
 * superpage entry, which no PV L2 may hold.  Pinning the L4 validates
 * every L1 (continued many times with an event pending at every call),
 * then meets the bad entry: the last L2, the L3 and the L4 are refused,
 * with the whole tree below them to give back.
 *
 * 1. Continued (refused_calls.h counts the calls): the validation is
 *    continued at least 510 times, then the release is continued in
 *    Xen's no-list form with -EINVAL carried in foreigndom, one stretch
 *    per L1 at most (at least 1019 release calls; with the release run
 *    to the end, as Mica did before, it took 511); the L4 is neither
 *    writable nor mappable meanwhile; the pin answers -EINVAL, *pdone 0,
 *    and afterwards no frame of the tree has a type left.
 * 2. Abandoned after 100 release calls: the L4 still cannot be mapped
 *    writable; our next mmuext_op (a local flush) finishes the release
 *    first and answers its own 0; no frame typed.
 * 3. The frames are ours to use again: with the bad entry cleared the
 *    tree pins (0), works as CR3, unpins, nothing typed; free pages as
 *    before.
 *
 * An interrupt between arming and a SYSCALL brings the upcall before the
 * call, whose work then runs on uncounted: the case is made again, up to
 * ATTEMPTS times.
 */
#define MMU_POOL_PAGES 4
#include "mmu_tree.h"
#include "refused_calls.h"

#define MAX_TABLES    1024
#define ATTEMPTS      3
#define ABANDON_AFTER 100

static uint64_t bad_l2, bad_slot;

static long probe_release(void)
{
    long rc = map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A);

    if (!rc)
        pool_rw(WINDOW);
    return rc;
}

/* The entry after the last L2's last L1: e (0 for none). */
static void set_bad_entry(uint64_t e)
{
    REQUIRE_EQ(map_mfn(pool_page(WINDOW), l2(bad_l2), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    pool_page(WINDOW)[bad_slot] = e;
    REQUIRE_EQ(pool_rw(WINDOW), 0);
}

static void continued_case(void)
{
    struct rc_counts c;
    long rc = 0;

    for (unsigned a = 1; a <= ATTEMPTS; a++) {
        rc = call_counting(l4(), DOMID_SELF, 0, &c);
        if (!c.unmeasured)
            break;
        printk("attempt %u not measured (result %ld): again\n", a, rc);
        CHECK_EQ(rc, -XEN_EINVAL_);
        CHECK_EQ(tree_typed_frames(), 0);
    }
    CHECK(!c.unmeasured, "the refused pin was never measured");
    check_counts("own tree", rc, &c, (unsigned)nr_l1);
    CHECK_EQ(tree_typed_frames(), 0);
}

static void abandoned_case(void)
{
    struct rc_counts c;
    long rc = 0;

    for (unsigned a = 1; a <= ATTEMPTS; a++) {
        rc = call_counting(l4(), DOMID_SELF, ABANDON_AFTER, &c);
        if (rc == (long)SKIPPED)
            break;
        printk("attempt %u: the release was not reached counted (result %ld): again\n", a, rc);
        CHECK_EQ(tree_typed_frames(), 0);
    }
    REQUIRE_EQ(rc, (long)SKIPPED);
    CHECK_EQ(c.release, ABANDON_AFTER);
    /* Nobody goes on with it: the L4 is still no memory of ours. */
    CHECK(map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A) != 0,
          "the abandoned refused L4 could be mapped writable");
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    /* Our next mmuext_op lets go of it first, then answers for itself. */
    CHECK_EQ(ext1(MMUEXT_TLB_FLUSH_LOCAL, 0), 0);
    CHECK_EQ(tree_typed_frames(), 0);
}

static void reuse_case(void)
{
    set_bad_entry(0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, l4()), 0);
    tree_use(l4_mfn());
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
    CHECK_EQ(tree_typed_frames(), 0);
}

enum result test_main(void)
{
    rc_init();

    uint64_t before = physinfo_free_pages();

    tree_init(MAX_TABLES);
    bad_l2 = nr_l2 - 1;
    bad_slot = nr_l1 - bad_l2 * 512;
    REQUIRE(bad_slot < 512, "the last L2 is full (%lu L1s)", (unsigned long)nr_l1);
    /* A 2 MiB superpage: refused in any PV L2 (Xen: "Bad L2 flags"). */
    set_bad_entry((pool_mfn(DATA) << 12) | PTE_P | PTE_PS | PTE_US | PTE_A);

    continued_case();
    abandoned_case();
    reuse_case();
    CHECK_EQ(physinfo_free_pages(), before);
    return RESULT_SUCCESS;
}
