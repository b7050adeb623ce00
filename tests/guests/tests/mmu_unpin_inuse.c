/*
 * Hostile: unpinning a table that is still in use.  An L4 that is the
 * running CR3 can be unpinned, but stays a validated page table (never
 * writable) until we switch away from it; its L1 stays typed while the
 * L4 reaches it.  Unpinning twice, or something never pinned, fails.
 */
#include "mmu_common.h"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    const uint64_t *boot = (const uint64_t *)start_info->pt_base;
    uint64_t old = l4_mfn();

    /* New tree: L4 (page 0) with the kernel slot, plus slot 1 -> L3 (1) -> L2 (2) -> L1 (3) -> page 4. */
    memset(pool_page(0), 0, 4 * 4096);
    pool_page(4)[0] = 0x1234;
    pool_page(0)[511] = boot[511];
    pool_page(0)[1] = (pool_mfn(1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    pool_page(1)[0] = (pool_mfn(2) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    pool_page(2)[0] = (pool_mfn(3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    pool_page(3)[0] = (pool_mfn(4) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    for (unsigned i = 0; i < 4; i++)
        REQUIRE_EQ(pool_ro(i), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(0)), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(0)), -XEN_EINVAL);      /* twice */
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(1)), -XEN_EINVAL);       /* never pinned */
    CHECK_EQ(ext1(MMUEXT_NEW_BASEPTR, pool_mfn(0)), 0);
    CHECK_EQ(*(volatile uint64_t *)(1UL << 39), 0x1234);

    /* Unpinned while it is CR3: still a table, still running. */
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(0)), 0);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(0)), -XEN_EINVAL);
    CHECK(pool_rw(0) < 0, "running L4 mapped writable");
    CHECK(pool_rw(3) < 0, "L1 under the running L4 mapped writable");
    CHECK_EQ(*(volatile uint64_t *)(1UL << 39), 0x1234);
    /* Page 4 is mapped writable through the tree: it cannot become a table. */
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(4)), -XEN_EINVAL);

    /* Switch away: the whole tree is released. */
    CHECK_EQ(ext1(MMUEXT_NEW_BASEPTR, old), 0);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(pool_rw(i), 0);
    CHECK_EQ(pool_ro(4), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(4)), 0);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(4)), 0);
    CHECK_EQ(pool_rw(4), 0);
    return RESULT_SUCCESS;
}
