/*
 * dom0 as a domain builder: a new domain gets memory from populate_physmap
 * (within its max_mem), dom0 maps the frames as privcmd does (mmu_update
 * with foreigndom = the domain, _PAGE_SPECIAL set) and with
 * update_va_mapping_otherdomain, writes page tables into them, pins the
 * domain's L4 through mmuext_op's foreigndom, edits the domain's L1
 * through mmu_update's table-owner half, and finally releases everything
 * and destroys the domain: free memory comes back (exactly on Mica).
 * Hostile: mapping the domain's frames without naming it, writable
 * mappings of its pinned tables, pinning its tables as our own,
 * populating an unknown domain or past max_mem.
 */
#include "toolstack.h"

#define NR 16

static uint64_t m[NR + 4];

enum result test_main(void)
{
    struct xen_domctl_getdomaininfo di = { 0 };
    volatile uint64_t *p0 = (volatile uint64_t *)pool[0], *p2 = (volatile uint64_t *)pool[2];

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();                  /* the clock, for waiting on Xen's RCU */
    uint64_t free_before = physinfo_free_pages();
    REQUIRE_EQ(ts_create(), 0);
    domid_t id = ts_op.domain;
    printk("created d%u\n", id);
    REQUIRE_EQ(ts_max_mem(id, NR), 0);

    /* ---- memory for another domain, within its max_mem ---- */
    CHECK_EQ(ts_populate(id, m, NR + 4), NR);
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK_EQ(di.tot_pages, NR);
    CHECK_EQ(ts_populate(id, m + NR, 1), 0);
    CHECK_EQ(ts_populate(0x7000, m + NR, 1), 0);
    for (unsigned i = 0; i < NR; i++)
        CHECK_EQ(m2p(m[i]), i);

    /* ---- foreign mappings ---- */
    CHECK_EQ(ts_map_foreign(0, m[4], true, DOMID_SELF), -XEN_EBUSY);     /* not ours */
    CHECK_EQ(ts_map_foreign(0, m[4], true, 0x7000), -XEN_ESRCH);
    CHECK_EQ(ts_map_foreign(0, m[4], true, id), 0);
    CHECK_EQ(*p0, 0);                                   /* populated frames are zeroed */
    *p0 = 0xabcd;
    CHECK_EQ(*p0, 0xabcd);
    CHECK_EQ(HYPERVISOR_update_va_mapping((unsigned long)pool[2], (m[5] << 12) | PTE_P | PTE_RW | PTE_US | PTE_A,
                                          UVMF_INVLPG | UVMF_LOCAL), -XEN_EBUSY);
    CHECK_EQ(hypercall5(__HYPERVISOR_update_va_mapping_otherdomain, (unsigned long)pool[2],
                        (m[5] << 12) | PTE_P | PTE_RW | PTE_US | PTE_A,
                        UVMF_INVLPG | UVMF_LOCAL, id, 0), 0);
    *p2 = 0x5555;
    CHECK_EQ(ts_ext(MMUEXT_CLEAR_PAGE, m[5], DOMID_SELF), -XEN_EINVAL);
    CHECK_EQ(ts_ext(MMUEXT_CLEAR_PAGE, m[5], id), 0);
    CHECK_EQ(*p2, 0);

    /* ---- the domain's page tables, built and pinned from here ---- */
    REQUIRE_EQ(ts_build_tables(id, m, NR), 0);
    CHECK_EQ(ts_map_foreign(3, m[3], true, id), 0);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), -XEN_EINVAL);      /* L1 mapped writable */
    CHECK_EQ(ts_unmap_foreign(3), 0);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], DOMID_SELF), -XEN_EINVAL);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), -XEN_EINVAL);      /* pinned already */
    CHECK_EQ(ts_map_foreign(3, m[3], true, id), -XEN_EBUSY);           /* a table now */
    CHECK_EQ(ts_map_foreign(3, m[3], false, id), 0);
    /* Xen adds G to user mappings, Mica never sets it. */
    CHECK_EQ(pool_page(3)[0] & ~(PTE_A | PTE_D | PTE_G), (m[4] << 12) | PTE_P | PTE_RW | PTE_US);
    CHECK_EQ(*p0, 0xabcd);

    /* Its L1 edited through mmu_update's top half: its frame, then one of ours. */
    struct mmu_update u = { .ptr = (m[3] << 12) + 8 * 200, .val = (m[6] << 12) | PTE_P | PTE_US };
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | id), 0);
    CHECK_EQ(pool_page(3)[200] & ~(PTE_A | PTE_D | PTE_G), (m[6] << 12) | PTE_P | PTE_US);
    u.val = (pool_mfn(1) << 12) | PTE_P | PTE_US;
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | id), -XEN_EBUSY);
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | DOMID_SELF), 0);
    u.val = 0;
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | DOMID_SELF), 0);
    CHECK_EQ(pool_page(3)[200], 0);
    /* Upper levels take only the table owner's frames. */
    u.ptr = (m[0] << 12) + 8;
    u.val = (m[1] << 12) | PTE_P | PTE_US;
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | DOMID_SELF), -XEN_EINVAL);
    /* Our own tables are not its to change. */
    u.ptr = ts_l1e_ma(1);
    u.val = (pool_mfn(1) << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
    CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | id), -XEN_EINVAL);

    /* ---- everything released, then the domain goes ---- */
    CHECK_EQ(ts_unmap_foreign(3), 0);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], DOMID_SELF), -XEN_EINVAL);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), -XEN_EINVAL);
    CHECK_EQ(ts_unmap_foreign(0), 0);
    CHECK_EQ(ts_unmap_foreign(2), 0);
    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(), free_before);
    return RESULT_SUCCESS;
}
