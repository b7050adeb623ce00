/*
 * Hostile: page-table loops.  Tables that reach back to an ancestor
 * (an L3 entry naming its L4 as an L2, an L2 naming itself or its L3
 * as an L1), or that use the same page at two levels, do not validate;
 * every page involved is ordinary writable memory afterwards.
 */
#include "mmu_common.h"

static void reset(void)
{
    for (unsigned i = 0; i < 4; i++) {
        pool_rw(i);
        memset(pool_page(i), 0, 4096);
    }
}

static long pin_tree(unsigned cmd, unsigned top, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (pool_ro(i))
            return -1000;
    long rc = ext1(cmd, pool_mfn(top));
    if (!rc)
        ext1(MMUEXT_UNPIN_TABLE, pool_mfn(top));
    return rc;
}

#define E(i) ((pool_mfn(i) << 12) | PTE_P | PTE_US | PTE_A)

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    const uint64_t *boot = (const uint64_t *)start_info->pt_base;

    /* L4(0) -> L3(1) -> back to L4(0) as an L2. */
    reset();
    pool_page(0)[511] = boot[511];
    pool_page(0)[1] = E(1);
    pool_page(1)[0] = E(0);
    CHECK_EQ(pin_tree(MMUEXT_PIN_L4_TABLE, 0, 2), -XEN_EINVAL);
    /* L4(0) -> L3(1) -> L2(2) -> back to L3(1) as an L1. */
    reset();
    pool_page(0)[1] = E(1);
    pool_page(1)[0] = E(2);
    pool_page(2)[0] = E(1);
    CHECK_EQ(pin_tree(MMUEXT_PIN_L4_TABLE, 0, 3), -XEN_EINVAL);
    /* L3(1) -> L2(2) -> L1(3) whose entry maps the L3 writable. */
    reset();
    pool_page(1)[0] = E(2);
    pool_page(2)[0] = E(3);
    pool_page(3)[0] = E(1) | PTE_RW;
    CHECK(pin_tree(MMUEXT_PIN_L3_TABLE, 1, 4) < 0, "L3 mapped writable by its own L1");
    /* ...read-only it is fine (page tables may be mapped read-only). */
    pool_rw(3);
    pool_page(3)[0] = E(1);
    CHECK_EQ(pin_tree(MMUEXT_PIN_L3_TABLE, 1, 4), 0);
    /* The same page (3) as an L1 under L2 (2) and as an L2 under the L3 (1). */
    reset();
    pool_page(1)[0] = E(2);
    pool_page(1)[1] = E(3);
    pool_page(2)[0] = E(3);
    CHECK_EQ(pin_tree(MMUEXT_PIN_L3_TABLE, 1, 4), -XEN_EINVAL);
    /* An L2 whose entry names the L2 itself as an L1, read-only: a linear
     * entry, accepted; the table is then held by itself until cleared. */
    reset();
    pool_page(2)[0] = E(2);
    for (unsigned i = 0; i < 4; i++)
        REQUIRE_EQ(pool_ro(i), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L2_TABLE, pool_mfn(2)), 0);
    CHECK_EQ(mmu1(pool_mfn(2) << 12, 0), 0);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(2)), 0);

    /* Everything is plain memory again. */
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(pool_rw(i), 0);
    return RESULT_SUCCESS;
}
