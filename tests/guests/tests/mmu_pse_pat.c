/*
 * Hostile: superpages and cache attributes.  PSE in an L2 or L3 entry
 * (a 2 MiB / 1 GiB mapping of whatever lies there), PWT/PCD/G in an
 * upper-level entry, and uncached mappings of the hypervisor's shared
 * page are all refused, by pinning and by mmu_update.
 */
#include "mmu_common.h"

/* VA of a table in the bootstrap region, from an entry pointing at it. */
static uint64_t *table_of(uint64_t e)
{
    return (uint64_t *)(VIRT_BASE + m2p((e & PTE_ADDR) >> 12) * PAGE_SIZE);
}

static long pin_with(unsigned cmd, unsigned page, unsigned slot, uint64_t e)
{
    uint64_t *t = pool_page(page);
    long rc;

    pool_rw(page);
    memset(t, 0, 4096);
    t[slot] = e;
    if (pool_ro(page))
        return -1000;
    rc = ext1(cmd, pool_mfn(page));
    if (!rc)
        ext1(MMUEXT_UNPIN_TABLE, pool_mfn(page));
    pool_rw(page);
    return rc;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    uint64_t *l3 = table_of(l4[511]);
    uint64_t *l2 = table_of(l3[(VIRT_BASE >> 30) & 511]);
    uint64_t l2_ma = va_to_mfn(l2) << 12, l3_ma = va_to_mfn(l3) << 12;
    uint64_t big = pool_mfn(0) & ~511UL;              /* 2 MiB around our pool */
    uint64_t flags = PTE_P | PTE_RW | PTE_US | PTE_A;

    /* A 2 MiB superpage in a new L2, and in the running one (free slot 500). */
    CHECK_EQ(pin_with(MMUEXT_PIN_L2_TABLE, 1, 7, (big << 12) | flags | PTE_PS), -XEN_EINVAL);
    CHECK_EQ(l2[500], 0);
    CHECK(mmu1(l2_ma + 500 * 8, (big << 12) | flags | PTE_PS) < 0, "2 MiB superpage");
    CHECK(mmu1(l2_ma + 500 * 8, (big << 12) | (flags & ~PTE_RW) | PTE_PS) < 0, "RO 2 MiB superpage");
    CHECK_EQ(l2[500], 0);
    /* A 1 GiB superpage of machine address 0. */
    CHECK_EQ(pin_with(MMUEXT_PIN_L3_TABLE, 1, 7, flags | PTE_PS), -XEN_EINVAL);
    CHECK_EQ(l3[3], 0);
    CHECK(mmu1(l3_ma + 3 * 8, flags | PTE_PS) < 0, "1 GiB superpage");
    CHECK_EQ(l3[3], 0);

    /* Upper-level entries with cache or global bits: build a valid L1 first. */
    memset(pool_page(2), 0, 4096);
    REQUIRE_EQ(pool_ro(2), 0);
    uint64_t l1e = pool_mfn(2) << 12;
    CHECK_EQ(pin_with(MMUEXT_PIN_L2_TABLE, 1, 7, l1e | flags), 0);
    CHECK_EQ(pin_with(MMUEXT_PIN_L2_TABLE, 1, 7, l1e | flags | PTE_PCD), -XEN_EINVAL);
    CHECK_EQ(pin_with(MMUEXT_PIN_L2_TABLE, 1, 7, l1e | flags | PTE_PWT), -XEN_EINVAL);
    CHECK_EQ(pin_with(MMUEXT_PIN_L2_TABLE, 1, 7, l1e | flags | PTE_G), -XEN_EINVAL);
    CHECK(mmu1(l2_ma + 500 * 8, l1e | flags | PTE_PCD) < 0, "PCD in an L2 entry");
    CHECK_EQ(l2[500], 0);
    CHECK_EQ(pool_rw(2), 0);

    /* The hypervisor's shared page, uncached or write-through: refused; cached: fine. */
    uint64_t si = start_info->shared_info >> 12;
    CHECK(map_mfn(pool[3], si, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_PCD) < 0, "shared_info UC");
    CHECK(map_mfn(pool[3], si, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_PWT) < 0, "shared_info WT");
    CHECK(map_mfn(pool[3], si, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_PS) < 0, "shared_info PAT");
    CHECK_EQ(map_mfn(pool[3], si, PTE_P | PTE_RW | PTE_US | PTE_A), 0);
    CHECK_EQ(pool_rw(3), 0);
    return RESULT_SUCCESS;
}
