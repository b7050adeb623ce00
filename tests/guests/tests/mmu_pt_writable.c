/*
 * Hostile: a writable mapping of one of our own page-table frames.  The
 * bootstrap L4 and an L1 may be mapped read-only but never writable, by
 * update_va_mapping or by an mmu_update into an L1; the refused calls
 * leave the old mapping in place.
 */
#include "mmu_common.h"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    uint64_t l4 = l4_mfn();
    uint64_t *slot = pte_slot((uint64_t)pool[0]);
    REQUIRE(slot != NULL, "no L1 entry for the pool");
    uint64_t l1 = va_to_mfn((void *)((uint64_t)slot & ~0xfffUL));
    uint64_t before = *slot;

    /* Read-only: allowed, and reads the table. */
    CHECK_EQ(map_mfn(pool[0], l4, PTE_P | PTE_US | PTE_A), 0);
    CHECK_EQ(pool_page(0)[511], ((uint64_t *)start_info->pt_base)[511]);
    /* Writable: refused by update_va_mapping... */
    CHECK(map_mfn(pool[0], l4, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D) < 0, "L4 mapped writable");
    CHECK(map_mfn(pool[0], l1, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D) < 0, "L1 mapped writable");
    /* ...and by mmu_update into the L1 entry. */
    uint64_t ma = (l1 << 12) | ((uint64_t)slot & 0xfff);
    CHECK(mmu1(ma, (l4 << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D) < 0, "L4 writable via mmu_update");
    CHECK(mmu1(ma | MMU_PT_UPDATE_PRESERVE_AD, (l1 << 12) | PTE_P | PTE_RW | PTE_US | PTE_A) < 0,
          "L1 writable via mmu_update");
    /* The read-only mapping is still what is there. */
    CHECK_EQ(*slot & PTE_ADDR, l4 << 12);
    CHECK_EQ(*slot & PTE_RW, 0);
    probe_va = (uint64_t)pool[0];
    CHECK_EQ(TRAP_PROBE(PROBE_STORE), 14);
    CHECK_EQ(((uint64_t *)start_info->pt_base)[511] & PTE_P, PTE_P);

    /* Back to the page itself, writable. */
    CHECK_EQ(pool_rw(0), 0);
    CHECK_EQ(*slot & (PTE_ADDR | PTE_RW | PTE_P), before & (PTE_ADDR | PTE_RW | PTE_P));
    pool_page(0)[0] = 1;
    return RESULT_SUCCESS;
}
