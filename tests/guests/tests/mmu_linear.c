/*
 * Hostile: recursive ("linear") page-table entries.  An L4 entry pointing
 * at its own L4 is accepted read-only (and then lets us read the tables
 * through it) but refused writable, in the running L4 and in a new one;
 * an L2 pointing at itself writable is refused too.
 */
#include "mmu_common.h"

#define SLOT 300
#define LINEAR_BASE (0xffff000000000000UL | ((uint64_t)SLOT << 39))
#define SELF_VA (LINEAR_BASE | ((uint64_t)SLOT << 30) | ((uint64_t)SLOT << 21) | ((uint64_t)SLOT << 12))

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    uint64_t cur = l4_mfn();
    uint64_t ma = (cur << 12) + SLOT * 8;
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;

    CHECK(mmu1(ma, (cur << 12) | PTE_P | PTE_RW | PTE_US | PTE_A) < 0, "writable self map");
    CHECK_EQ(l4[SLOT], 0);
    CHECK_EQ(mmu1(ma, (cur << 12) | PTE_P | PTE_US | PTE_A), 0);
    CHECK_EQ(HYPERVISOR_mmuext_op(&(struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL }, 1, NULL,
                                  DOMID_SELF), 0);
    /* Through slot 300 four times: the L4 itself, read-only. */
    const volatile uint64_t *self = (const volatile uint64_t *)SELF_VA;
    CHECK_EQ(self[511], l4[511]);
    probe_va = SELF_VA;
    CHECK_EQ(TRAP_PROBE(PROBE_STORE), 14);
    /* Turning it writable in place is refused; removing it works. */
    CHECK(mmu1(ma, (cur << 12) | PTE_P | PTE_RW | PTE_US | PTE_A) < 0, "self map made writable");
    CHECK_EQ(mmu1(ma, 0), 0);
    CHECK_EQ(l4[SLOT], 0);

    /* A new L4 holding a writable self map cannot be pinned. */
    uint64_t *n = pool_page(0);
    memset(n, 0, 4096);
    n[511] = l4[511];
    n[SLOT] = (pool_mfn(0) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    REQUIRE_EQ(pool_ro(0), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(0)), -XEN_EINVAL);
    CHECK_EQ(pool_rw(0), 0);
    /* ...read-only it can, and unpinned it is ordinary memory again. */
    n[SLOT] &= ~PTE_RW;
    REQUIRE_EQ(pool_ro(0), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, pool_mfn(0)), 0);
    CHECK(pool_rw(0) < 0, "pinned L4 mapped writable");
    /* The self entry does not hold the table (no reference, as on Xen):
     * unpinned, it is a plain frame at once. */
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(0)), 0);
    CHECK_EQ(pool_rw(0), 0);

    /* An L2 mapping itself writable: refused at pin time. */
    uint64_t *l2 = pool_page(1);
    memset(l2, 0, 4096);
    l2[5] = (pool_mfn(1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A;
    REQUIRE_EQ(pool_ro(1), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L2_TABLE, pool_mfn(1)), -XEN_EINVAL);
    CHECK_EQ(pool_rw(1), 0);
    return RESULT_SUCCESS;
}
