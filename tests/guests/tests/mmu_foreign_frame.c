/*
 * Hostile: mapping frames that are not ours.  Every machine frame the
 * M2P does not attribute to us (free memory, other owners, the
 * hypervisor's own) is refused as a writable mapping, by
 * update_va_mapping and by mmu_update; our own frames still map.
 */
#include "mmu_common.h"

static bool ours(uint64_t mfn)
{
    uint64_t pfn = m2p(mfn);
    return pfn < start_info->nr_pages && pfn_to_mfn(pfn) == mfn;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    uint64_t *slot = pte_slot((uint64_t)pool[0]);
    REQUIRE(slot != NULL, "no L1 entry for the pool");
    uint64_t ma = (va_to_mfn((void *)((uint64_t)slot & ~0xfffUL)) << 12) | ((uint64_t)slot & 0xfff);
    uint64_t before = *slot;
    unsigned tried = 0, refused = 0;

    /* Frames from 1 MiB to 240 MiB, sampled every 1 MiB + 1 page; the
     * machine has 256 MiB and we own 64 MiB of it. */
    for (uint64_t mfn = 0x100; mfn < 0xf000; mfn += 0x101) {
        if (ours(mfn))
            continue;
        tried++;
        long a = map_mfn(pool[0], mfn, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
        long b = mmu1(ma, (mfn << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
        if (a < 0 && b < 0)
            refused++;
        else
            printk("frame %#lx mapped writable (%ld, %ld)\n", mfn, a, b);
    }
    CHECK(tried > 100, "only %u frames not ours", tried);
    CHECK_EQ(refused, tried);
    CHECK_EQ(*slot, before);
    /* Far beyond RAM and beyond any physical address. */
    CHECK(map_mfn(pool[0], 0xfffffffffUL, PTE_P | PTE_US | PTE_A) < 0, "mfn 2^36-1 mapped");
    CHECK(mmu1(ma, (1UL << 51) | PTE_P | PTE_US | PTE_A) < 0, "bit 51 address mapped");
    CHECK_EQ(*slot, before);
    /* Our own pages remain fine. */
    CHECK_EQ(map_mfn(pool[0], pool_mfn(1), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    CHECK_EQ(pool_rw(0), 0);
    return RESULT_SUCCESS;
}
