/*
 * The M2P table's own frames, mapped by the control domain through
 * mmu_update with foreigndom DOMID_XEN, as libxc's save does
 * (xc_map_m2p: XENMEM_machphys_mfn_list, then a read-only foreign mapping
 * of each 2 MiB chunk): a read-only mapping of a chunk's first and second
 * frame shows the same entries as the fixed read-only M2P view at
 * MACH2PHYS_VIRT_START; a writable one is -EBUSY with the entry left
 * alone; putting our own page back works.  (mmu_foreigndom checks that
 * DOMID_XEN owns none of our RAM.)
 */
#include "mmu_common.h"
#include <public/memory.h>

#define M2P_VIEW ((const volatile uint64_t *)MACH2PHYS_VIRT_START)
#define RO (PTE_P | PTE_US | PTE_A)
#define RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

static uint64_t chunks[8];

static long mmu_fd(uint64_t ptr, uint64_t val, uint64_t fd)
{
    struct mmu_update u = { .ptr = ptr, .val = val };
    return hypercall5(__HYPERVISOR_mmu_update, (unsigned long)&u, 1, 0, fd, 0);
}

/* Machine address of the L1 entry mapping pool page i. */
static uint64_t l1e_ma(unsigned i)
{
    uint64_t *slot = pte_slot((uint64_t)pool[i]);
    return (va_to_mfn((void *)((uint64_t)slot & ~0xfffUL)) << 12) | ((uint64_t)slot & 0xfff);
}

/* Entries of the mapped frame against the view, from M2P index first. */
static unsigned mismatches(uint64_t first)
{
    const volatile uint64_t *m = (const volatile uint64_t *)pool[0];
    unsigned bad = 0;
    for (unsigned i = 0; i < 512; i++)
        bad += m[i] != M2P_VIEW[first + i];
    return bad;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(pte_slot((uint64_t)pool[0]) != NULL, "no L1 entry for the pool");
    struct xen_machphys_mfn_list l = { .max_extents = 8, .extent_start = (uint64_t)chunks };
    REQUIRE_EQ(HC(__HYPERVISOR_memory_op, XENMEM_machphys_mfn_list, &l, 0), 0);
    REQUIRE(l.nr_extents >= 1, "no M2P chunk listed");
    printk("%u M2P chunks, the first at MFN %#lx\n", l.nr_extents, chunks[0]);

    pool_page(0)[0] = 0x1111;
    uint64_t ma = l1e_ma(0), before = *pte_slot((uint64_t)pool[0]) | PTE_A | PTE_D;
    CHECK_EQ(mmu_fd(ma, before, DOMID_SELF), 0);

    /* Read-only: the frame holds the entries the fixed view shows. */
    CHECK_EQ(mmu_fd(ma, (chunks[0] << 12) | RO, DOMID_XEN), 0);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(mismatches(0), 0);
    CHECK_EQ(mmu_fd(ma, ((chunks[0] + 1) << 12) | RO, DOMID_XEN), 0);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(mismatches(512), 0);
    /* Our own page's entry is in it: the PFN the M2P gives it. */
    CHECK_EQ(M2P_VIEW[pool_mfn(1)], m2p(pool_mfn(1)));

    /* Writable: refused, the read-only mapping stays. */
    CHECK_EQ(mmu_fd(ma, (chunks[0] << 12) | RW, DOMID_XEN), -XEN_EBUSY);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(mismatches(512), 0);

    /* Our own page back. */
    CHECK_EQ(mmu_fd(ma, before, DOMID_SELF), 0);
    flush_va((uint64_t)pool[0]);
    CHECK_EQ(pool_page(0)[0], 0x1111);
    return RESULT_SUCCESS;
}
