/*
 * Hostile: reaching the hypervisor through our tables.  The frames behind
 * the hypervisor's L4 slots (which our L4 shows us) cannot be mapped
 * writable, and those L4 slots cannot be rewritten, neither in the
 * running L4 nor, with effect, in a new one: a fresh L4 gets the
 * hypervisor's own entries whatever it held.
 */
#include "mmu_common.h"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    uint64_t cur = l4_mfn();
    unsigned seen = 0;

    for (unsigned s = 256; s < 272; s++) {
        if (!(l4[s] & PTE_P))
            continue;
        uint64_t mfn = (l4[s] & PTE_ADDR) >> 12;
        seen++;
        CHECK(map_mfn(pool[0], mfn, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D) < 0,
              "hypervisor table of slot %u mapped writable", s);
        /* Slots of the running L4: never writable, not even unchanged. */
        CHECK_EQ(mmu1((cur << 12) + s * 8, l4[s]), -XEN_EINVAL);
        CHECK_EQ(mmu1((cur << 12) + s * 8, (pool_mfn(1) << 12) | PTE_P | PTE_US), -XEN_EINVAL);
    }
    CHECK(seen >= 2, "only %u hypervisor slots present", seen);
    CHECK_EQ(mmu1((cur << 12) + 300 * 8, 0), 0);        /* a guest slot is ours */

    /* A new L4 with garbage (a writable self map, our pool page) in slots 256-271. */
    uint64_t *n = pool_page(2);
    memset(n, 0, 4096);
    for (unsigned s = 256; s < 272; s++)
        n[s] = (pool_mfn(3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    n[511] = l4[511];
    REQUIRE_EQ(pool_ro(2), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(2)), 0);
    for (unsigned s = 257; s < 272; s++)
        CHECK(n[s] != ((pool_mfn(3) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A),
              "slot %u kept the guest's entry", s);
    CHECK_EQ(n[261], l4[261]);
    /* Pool page 3 was never typed: it is still ordinary writable memory. */
    CHECK_EQ(pool_rw(3), 0);
    pool_page(3)[0] = 1;
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(2)), 0);
    CHECK_EQ(pool_rw(2), 0);
    return RESULT_SUCCESS;
}
