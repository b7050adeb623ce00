/*
 * Hostile: giving a page a page-table type while it is mapped writable,
 * and the reverse.  A writable mapping (ours, or a second alias) blocks
 * pinning at every level and use as a base pointer; once every writable
 * mapping is gone the page can be pinned, and while pinned it cannot be
 * mapped writable, nor written through mmu_update as plain memory.
 */
#include "mmu_common.h"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    memset(pool_page(0), 0, 4096);
    pool_page(0)[511] = ((const uint64_t *)start_info->pt_base)[511];

    for (unsigned cmd = MMUEXT_PIN_L1_TABLE; cmd <= MMUEXT_PIN_L4_TABLE; cmd++)
        CHECK_EQ(ext1(cmd, pool_mfn(0)), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_NEW_BASEPTR, pool_mfn(0)), -XEN_EINVAL);

    /* Our own mapping read-only, but a second writable alias (page 1's slot). */
    REQUIRE_EQ(pool_ro(0), 0);
    REQUIRE_EQ(map_mfn(pool[1], pool_mfn(0), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(0)), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(0)), -XEN_EINVAL);
    /* Alias read-only too: now it pins. */
    REQUIRE_EQ(map_mfn(pool[1], pool_mfn(0), PTE_P | PTE_US | PTE_A), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(0)), 0);
    /* Pinned: no writable mapping, no plain write, no other type. */
    CHECK(map_mfn(pool[1], pool_mfn(0), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D) < 0, "alias RW");
    CHECK(pool_rw(0) < 0, "own mapping RW");
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(0)), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_CLEAR_PAGE, pool_mfn(0)), -XEN_EINVAL);
    CHECK_EQ(((volatile uint64_t *)pool[0])[511] & PTE_P, PTE_P);
    /* Unpinned: ordinary memory again. */
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(0)), 0);
    CHECK_EQ(map_mfn(pool[1], pool_mfn(1), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    CHECK_EQ(pool_rw(0), 0);
    CHECK_EQ(ext1(MMUEXT_CLEAR_PAGE, pool_mfn(0)), 0);
    CHECK_EQ(pool_page(0)[511], 0);
    return RESULT_SUCCESS;
}
