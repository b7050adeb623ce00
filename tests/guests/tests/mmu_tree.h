/*
 * The big page-table tree of the preemption tests (mmu_pin_preempt,
 * mmu_unpin_preempt): frames of ours past the bootstrap region, mapped
 * nowhere, become one L4, one L3, as many L2s as needed and the rest L1s
 * whose 512 entries all map one data page read-only, so validating (or
 * de-validating) the L4 walks (frames x 512) entries.
 *
 * Pool pages: WINDOW is remapped onto each frame to fill it, DATA is the
 * page every L1 entry maps (MARKER in its first word).
 */
#ifndef MMU_TREE_H
#define MMU_TREE_H

#include "mmu_common.h"

#define WINDOW      0
#define DATA        1
#define KERNEL_SLOT 511
#define TREE_SLOT   2
#define TREE_VA     ((uint64_t)TREE_SLOT << 39)
#define PREEMPTED   0x80000000u
#define MARKER      0x5eed5eed12345678UL
#define TABLE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A)

static uint64_t first_pfn, nr_tables, nr_l2, nr_l1;

static inline uint64_t table_mfn(uint64_t n) { return pfn_to_mfn(first_pfn + n); }
/* Frame roles: 0 the L4, 1 the L3, 2.. the L2s, then the L1s. */
static inline uint64_t l4(void) { return table_mfn(0); }
static inline uint64_t l3(void) { return table_mfn(1); }
static inline uint64_t l2(uint64_t j) { return table_mfn(2 + j); }
static inline uint64_t l1(uint64_t k) { return table_mfn(2 + nr_l2 + k); }

/* Writes frame mfn through the window: zeroes, then the entries given. */
static inline void tree_fill(uint64_t mfn, uint64_t first, uint64_t count, uint64_t (*entry)(uint64_t))
{
    uint64_t *w = pool_page(WINDOW);

    REQUIRE_EQ(map_mfn(w, mfn, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    memset(w, 0, 4096);
    for (uint64_t i = 0; i < count; i++)
        w[i] = entry(first + i);
}

static inline uint64_t tree_data_entry(uint64_t i) { (void)i; return (pool_mfn(DATA) << 12) | PTE_P | PTE_US | PTE_A; }
static inline uint64_t tree_l1_entry(uint64_t k) { return (l1(k) << 12) | TABLE_FLAGS; }
static inline uint64_t tree_l2_entry(uint64_t j) { return (l2(j) << 12) | TABLE_FLAGS; }

/* The L4 alone: the kernel's slot and the tree's. */
static inline void tree_build_l4(void)
{
    const uint64_t *boot = (const uint64_t *)start_info->pt_base;

    tree_fill(l4(), 0, 0, NULL);
    pool_page(WINDOW)[KERNEL_SLOT] = boot[KERNEL_SLOT];
    pool_page(WINDOW)[TREE_SLOT] = (l3() << 12) | TABLE_FLAGS;
    REQUIRE_EQ(pool_rw(WINDOW), 0);     /* the window back on its own frame */
}

static inline void tree_build(void)
{
    for (uint64_t k = 0; k < nr_l1; k++)
        tree_fill(l1(k), 0, 512, tree_data_entry);
    for (uint64_t j = 0; j < nr_l2; j++) {
        uint64_t first = j * 512, n = nr_l1 - first < 512 ? nr_l1 - first : 512;
        tree_fill(l2(j), first, n, tree_l1_entry);
    }
    tree_fill(l3(), 0, nr_l2, tree_l2_entry);
    tree_build_l4();
}

/* Sizes the tree (at most max_tables frames) and writes it. */
static inline void tree_init(uint64_t max_tables)
{
    first_pfn = va_to_pfn((void *)bootstrap_end());
    REQUIRE(first_pfn + 64 < start_info->nr_pages, "only %lu frames past the bootstrap region",
            (unsigned long)(start_info->nr_pages - first_pfn));
    nr_tables = start_info->nr_pages - first_pfn;
    if (nr_tables > max_tables)
        nr_tables = max_tables;
    nr_l2 = (nr_tables - 2 + 512) / 513;
    nr_l1 = nr_tables - 2 - nr_l2;
    REQUIRE(nr_l2 <= 512, "%lu L2 tables do not fit one L3", (unsigned long)nr_l2);
    pool_page(DATA)[0] = MARKER;
    printk("tree: 1 L4, 1 L3, %lu L2, %lu L1 tables (%lu L1 entries)\n", (unsigned long)nr_l2,
           (unsigned long)nr_l1, (unsigned long)(nr_l1 * 512));
    tree_build();
}

/* Table frames with a type left (not mappable writable). */
static inline unsigned tree_typed_frames(void)
{
    unsigned typed = 0;

    for (uint64_t n = 0; n < nr_tables; n++)
        typed += map_mfn(pool_page(WINDOW), table_mfn(n), PTE_P | PTE_RW | PTE_US | PTE_A) != 0;
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    return typed;
}

/* The tree as CR3, then `back` again: the last L1's last entry shows the data page. */
static inline void tree_use(uint64_t back)
{
    uint64_t k = nr_l1 - 1;
    volatile uint64_t *va = (volatile uint64_t *)(TREE_VA + (k << 21) + (511UL << 12));

    REQUIRE_EQ(ext1(MMUEXT_NEW_BASEPTR, l4()), 0);
    uint64_t v = *va;
    REQUIRE_EQ(ext1(MMUEXT_NEW_BASEPTR, back), 0);
    CHECK_EQ(v, MARKER);
}

#endif
