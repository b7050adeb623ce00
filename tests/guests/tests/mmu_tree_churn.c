/*
 * Many page-table trees, built, pinned, run on, and torn down: 1000
 * rounds over the same 5 pages, each round giving every page a different
 * role (L4, L3, L2, L1, data).  A page's type can only change once its
 * type count is back at zero, so any reference a round failed to drop
 * would make a later round's pin or writable mapping fail: success of
 * every round is the leak check.
 */
#include "mmu_common.h"

#define ROUNDS 1000
#define KERNEL_SLOT 511
#define TEST_VA (2UL << 39)

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    const uint64_t *boot = (const uint64_t *)start_info->pt_base;
    uint64_t old = l4_mfn();
    unsigned ok = 0;

    for (unsigned r = 0; r < ROUNDS; r++) {
        unsigned p4 = r % 5, p3 = (r + 1) % 5, p2 = (r + 2) % 5, p1 = (r + 3) % 5, pd = (r + 4) % 5;
        for (unsigned i = 0; i < 5; i++)
            memset(pool_page(i), 0, 4096);
        pool_page(pd)[0] = r;
        pool_page(p4)[KERNEL_SLOT] = boot[KERNEL_SLOT];
        pool_page(p4)[2] = (pool_mfn(p3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
        pool_page(p3)[0] = (pool_mfn(p2) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
        pool_page(p2)[0] = (pool_mfn(p1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
        pool_page(p1)[0] = (pool_mfn(pd) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
        if (pool_ro(p4) || pool_ro(p3) || pool_ro(p2) || pool_ro(p1)) {
            printk("round %u: cannot map the tables read-only\n", r);
            break;
        }
        /* Pin the L1 and L4 (the middle levels are held through them). */
        if (ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(p1)) || ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(p4)) ||
            ext1(MMUEXT_NEW_BASEPTR, pool_mfn(p4))) {
            printk("round %u: pin or switch failed\n", r);
            break;
        }
        volatile uint64_t *data = (volatile uint64_t *)TEST_VA;
        bool seen = data[0] == r;
        data[1] = r;                    /* written through the new tree */
        if (ext1(MMUEXT_NEW_BASEPTR, old) || ext1(MMUEXT_UNPIN_TABLE, pool_mfn(p4)) ||
            ext1(MMUEXT_UNPIN_TABLE, pool_mfn(p1))) {
            printk("round %u: switch back or unpin failed\n", r);
            break;
        }
        /* Every page writable again: no type reference was left behind. */
        if (pool_rw(p4) || pool_rw(p3) || pool_rw(p2) || pool_rw(p1)) {
            printk("round %u: a table page is still typed\n", r);
            break;
        }
        if (!seen || pool_page(pd)[1] != r) {
            printk("round %u: data page not seen through the new tree\n", r);
            break;
        }
        ok++;
    }
    CHECK_EQ(ok, ROUNDS);
    return RESULT_SUCCESS;
}
