/*
 * decrease_reservation (memory_op 1), as Linux's balloon driver uses it:
 * a PV guest names machine frames; each loses its allocation reference.
 * An unreferenced frame is freed at once (tot_pages down, M2P entry
 * invalid, no longer mappable); one still mapped, pinned or in use as a
 * page table stays ours, usable, until its last reference goes.
 * Hostile: frames we do not own (Xen's, free ones, beyond RAM), a
 * partly-ours extent, a frame listed 1000 times (across continuations),
 * our running L4, counts past the continuation encoding, orders above
 * the limit, bad list and argument pointers, unknown domains.
 */
#define MMU_POOL_PAGES 24
#include "mmu_common.h"
#include <public/memory.h>

#define INVALID_M2P (~0UL)
#define RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

static uint64_t list[1000];

static long decrease(uint64_t *frames, uint64_t n, unsigned order, domid_t dom)
{
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)frames, .nr_extents = n, .extent_order = order, .domid = dom,
    };
    return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
}

static long give1(uint64_t mfn)
{
    list[0] = mfn;
    return decrease(list, 1, 0, DOMID_SELF);
}

static long reservation(void)
{
    struct xen_memory_domain self = { .domid = DOMID_SELF };
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static long unmap(unsigned i)
{
    return map_mfn(pool[i], 0, 0);
}

enum result test_main(void)
{
    uint64_t mfn[MMU_POOL_PAGES];
    long cur;

    REQUIRE_EQ(traps_install(), 0);
    for (unsigned i = 0; i < MMU_POOL_PAGES; i++)
        mfn[i] = pool_mfn(i);
    cur = reservation();
    REQUIRE(cur > 0, "current_reservation %ld", cur);

    /* An unreferenced frame: freed at once, gone from the M2P, not ours any more. */
    REQUIRE_EQ(unmap(0), 0);
    CHECK_EQ(give1(mfn[0]), 1);
    CHECK_EQ(reservation(), cur - 1);
    CHECK_EQ(m2p(mfn[0]), INVALID_M2P);
    CHECK_EQ(map_mfn(pool[0], mfn[0], RW), -XEN_EBUSY);
    CHECK_EQ(give1(mfn[0]), 0);                 /* an unpopulated frame */
    cur--;

    /* Still mapped: stays ours and usable until the mapping goes. */
    pool_page(1)[7] = 0x5a5a;
    CHECK_EQ(give1(mfn[1]), 1);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(m2p(mfn[1]), va_to_pfn(pool[1]));
    CHECK_EQ(pool_page(1)[7], 0x5a5a);
    pool_page(1)[7] = 0xa5a5;
    CHECK_EQ(pool_page(1)[7], 0xa5a5);
    /* The allocation reference is gone once: giving it back again is no-op success,
     * 1000 times in one call too (beyond one pass of work). */
    CHECK_EQ(give1(mfn[1]), 1);
    for (unsigned i = 0; i < 1000; i++)
        list[i] = mfn[1];
    CHECK_EQ(decrease(list, 1000, 0, DOMID_SELF), 1000);
    CHECK_EQ(reservation(), cur);
    /* A second mapping of it is still possible while it lives. */
    CHECK_EQ(map_mfn(pool[0], mfn[1], PTE_P | PTE_US | PTE_A), 0);
    CHECK_EQ(pool_page(0)[7], 0xa5a5);
    CHECK_EQ(unmap(1), 0);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(unmap(0), 0);
    CHECK_EQ(reservation(), cur - 1);
    CHECK_EQ(m2p(mfn[1]), INVALID_M2P);
    cur--;

    /* A pinned L1 (mapped read-only): stays until unpinned and unmapped. */
    memset(pool_page(2), 0, 4096);
    REQUIRE_EQ(pool_ro(2), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L1_TABLE, mfn[2]), 0);
    CHECK_EQ(give1(mfn[2]), 1);
    CHECK_EQ(reservation(), cur);
    CHECK(pool_rw(2) < 0, "writable mapping of a released pinned L1");
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn[2]), 0);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, mfn[2]), 0);   /* still ours to use */
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, mfn[2]), 0);
    CHECK_EQ(pool_page(2)[0], 0);
    CHECK_EQ(unmap(2), 0);
    CHECK_EQ(reservation(), cur - 1);
    CHECK_EQ(m2p(mfn[2]), INVALID_M2P);
    CHECK_EQ(ext1(MMUEXT_PIN_L1_TABLE, mfn[2]), -XEN_EINVAL);
    cur--;

    /* Frames that are not ours: Xen's (an M2P frame), beyond RAM, already freed. */
    static uint64_t chunks[1];
    struct xen_machphys_mfn_list ml = { .max_extents = 1, .extent_start = (uint64_t)chunks };
    REQUIRE_EQ(HYPERVISOR_memory_op(XENMEM_machphys_mfn_list, &ml), 0);
    CHECK_EQ(give1(chunks[0]), 0);
    CHECK_EQ(give1(1UL << 40), 0);
    list[0] = mfn[3];
    list[1] = mfn[0];
    REQUIRE_EQ(unmap(3), 0);
    CHECK_EQ(decrease(list, 2, 0, DOMID_SELF), 1);  /* stops at the first one not ours */
    CHECK_EQ(reservation(), cur - 1);
    CHECK_EQ(m2p(mfn[3]), INVALID_M2P);
    cur--;

    /* The continuation encoding bounds the count; the list's end is found by use. */
    REQUIRE_EQ(unmap(4), 0);
    list[0] = mfn[4];
    CHECK_EQ(decrease(list, 1UL << 26, 0, DOMID_SELF), 0);
    CHECK_EQ(decrease(list, ~0UL, 0, DOMID_SELF), 0);
    CHECK_EQ(reservation(), cur);
    list[1] = 1UL << 40;
    CHECK_EQ(decrease(list, (1UL << 26) - 1, 0, DOMID_SELF), 1);
    CHECK_EQ(reservation(), cur - 1);
    cur--;

    /* Orders: above the limit (18 for dom0 on Xen 4.17) nothing is looked at. */
    REQUIRE_EQ(unmap(5), 0);
    list[0] = mfn[5];
    CHECK_EQ(decrease(list, 1, 19, DOMID_SELF), 0);
    CHECK_EQ(decrease(list, 1, 255, DOMID_SELF), 0);
    CHECK_EQ(decrease(list, 1, 0x80000000u, DOMID_SELF), 0);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(m2p(mfn[5]), va_to_pfn(pool[5]));
    /* An order-1 extent of two adjacent frames of ours, and one whose second
     * frame is not ours: its first frame is given back, the extent not counted. */
    int a = -1;
    for (unsigned i = 6; i + 1 < MMU_POOL_PAGES && a < 0; i++)
        if (mfn[i + 1] == mfn[i] + 1 && i + 3 < MMU_POOL_PAGES &&
            mfn[i + 2] == mfn[i] + 2 && mfn[i + 3] == mfn[i] + 3)
            a = (int)i;
    REQUIRE(a >= 0, "no four machine-contiguous pool pages");
    for (int i = a; i < a + 4; i++)
        REQUIRE_EQ(unmap((unsigned)i), 0);
    list[0] = mfn[a];
    CHECK_EQ(decrease(list, 1, 1, DOMID_SELF), 1);
    CHECK_EQ(reservation(), cur - 2);
    CHECK_EQ(m2p(mfn[a + 1]), INVALID_M2P);
    cur -= 2;
    CHECK_EQ(give1(mfn[a + 3]), 1);
    list[0] = mfn[a + 2];
    CHECK_EQ(decrease(list, 1, 1, DOMID_SELF), 0);
    CHECK_EQ(reservation(), cur - 2);
    CHECK_EQ(m2p(mfn[a + 2]), INVALID_M2P);
    cur -= 2;

    /* Bad pointers and domains: nothing done, the answer is 0 extents. */
    list[0] = mfn[5];
    CHECK_EQ(decrease((uint64_t *)0x1000, 1, 0, DOMID_SELF), 0);
    CHECK_EQ(decrease((uint64_t *)0xffff800000001000UL, 1, 0, DOMID_SELF), 0);
    CHECK_EQ(decrease((uint64_t *)0x0000800000000000UL, 1, 0, DOMID_SELF), 0);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation, (void *)0x1000), 0);
    CHECK_EQ(decrease(list, 1, 0, 0x7000), 0);
    CHECK_EQ(decrease(list, 0, 0, DOMID_SELF), 0);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(give1(mfn[5]), 1);
    CHECK_EQ(reservation(), cur - 1);
    cur--;

    /* Freed memory can be had again. */
    static uint64_t gpfn[1];
    gpfn[0] = va_to_pfn(pool[5]);
    struct xen_memory_reservation pop = {
        .extent_start = (uint64_t)gpfn, .nr_extents = 1, .domid = DOMID_SELF,
    };
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_populate_physmap, &pop), 1);
    CHECK_EQ(reservation(), cur + 1);
    CHECK_EQ(m2p(gpfn[0]), va_to_pfn(pool[5]));
    CHECK_EQ(map_mfn(pool[5], gpfn[0], RW), 0);
    pool_page(5)[0] = 1;
    cur++;

    /* Our running L4: referenced as the root, it stays, and we keep running. */
    CHECK_EQ(give1(l4_mfn()), 1);
    CHECK_EQ(reservation(), cur);
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_current_reservation, &(struct xen_memory_domain){ .domid = DOMID_SELF }), cur);
    return RESULT_SUCCESS;
}
