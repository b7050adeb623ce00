/*
 * Shared by the XPTI test kernels (xpti.c, xpti_smp.c, xpti_reload.c): a small tree of
 * our own pages (L3 -> L2 -> L1 -> a data page holding a mark in word 7)
 * that an mmu_update hooks into L4 slot XPTI_SLOT of the running L4, a
 * slot nothing else uses.
 */
#ifndef XPTI_COMMON_H
#define XPTI_COMMON_H

#ifndef MMU_POOL_PAGES
#define MMU_POOL_PAGES 9
#endif
#include "mmu_common.h"

#define XPTI_SLOT    300
#define XPTI_SLOT_VA (0xffff000000000000UL | ((uint64_t)XPTI_SLOT << 39))
#define XPTI_MARK_A  0x58505449412d4f4bUL
#define XPTI_MARK_B  0x58505449422d4f4bUL

/* The tree in pool pages first..first+3; returns the L3's MFN. */
static inline uint64_t xpti_build_tree(unsigned first, uint64_t mark)
{
    uint64_t *l3 = pool_page(first), *l2 = pool_page(first + 1), *l1 = pool_page(first + 2);
    volatile uint64_t *data = (volatile uint64_t *)pool_page(first + 3);

    for (unsigned i = first; i < first + 4; i++)
        REQUIRE_EQ(pool_rw(i), 0);
    memset(l3, 0, 4096);
    memset(l2, 0, 4096);
    memset(l1, 0, 4096);
    data[7] = mark;
    l1[0] = (pool_mfn(first + 3) << 12) | PTE_P | PTE_US | PTE_A;
    l2[0] = (pool_mfn(first + 2) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    l3[0] = (pool_mfn(first + 1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    for (unsigned i = first; i < first + 3; i++)
        REQUIRE_EQ(pool_ro(i), 0);
    return pool_mfn(first);
}

/* The L4 entry that hooks the tree whose L3 is l3. */
static inline uint64_t xpti_l4e(uint64_t l3)
{
    return (l3 << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
}

#endif
