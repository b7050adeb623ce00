/*
 * Destroying domains that hold memory and page tables, as a toolstack
 * does: free memory must come back (exactly on Mica).
 *
 *   1. a domain with memory and a pinned 4-level tree, destroyed: gone at
 *      once, every frame back;
 *   2. a domain whose data frame and shared_info dom0 maps (privcmd
 *      style) when it is destroyed: it stays, dying (getdomaininfo shows
 *      XEN_DOMINF_dying, 1 page), the mapped frame keeps its contents and
 *      is not handed to anyone, its id stays taken, its other frames are
 *      gone (-EBUSY to map); unmapping one frame is not enough, unmapping the
 *      last one makes the domain go and brings free memory back;
 *   3. a dying domain whose last held frame is unmapped by the first
 *      request of an mmu_update batch that names it as foreigndom: the
 *      domain goes then (Xen: at the end of the call), and the next
 *      request, mapping its frame again, fails without touching it.
 */
#include "toolstack.h"

#define NR 16

static uint64_t m[NR];

static long make_domain(domid_t *id)
{
    long rc;

    if ((rc = ts_create_with_tables(id, m, NR, NR)))
        return rc;
    return ts_ext(MMUEXT_PIN_L4_TABLE, m[0], *id);
}

enum result test_main(void)
{
    struct xen_domctl_getdomaininfo di = { 0 };
    volatile uint64_t *p0 = (volatile uint64_t *)pool[0];
    domid_t id;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();                  /* the clock, for waiting on Xen's RCU */

    /* ---- 1: memory and pinned tables, nothing mapped from outside ---- */
    uint64_t free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id), 0);
    printk("d%u: %u frames, L4 %#lx pinned\n", id, NR, m[0]);
    CHECK(physinfo_free_pages() < free_before, "populating took no free memory");
    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(), free_before);

    /* ---- 2: destroyed while dom0 maps two of its frames ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    uint64_t si = di.shared_info_frame;
    CHECK_EQ(ts_map_foreign(0, m[4], true, id), 0);
    CHECK_EQ(ts_map_foreign(1, si, false, id), 0);
    *p0 = 0x600dcafe;
    CHECK_EQ(ts_destroy(id), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    printk("d%u after destroydomain: flags %#x tot_pages %lu\n", di.domain, di.flags, di.tot_pages);
    CHECK_EQ(di.tot_pages, 1);             /* the data frame; shared_info is not counted */
    CHECK_EQ(di.domain, id);
    CHECK(di.flags & XEN_DOMINF_dying, "d%u not dying: flags %#x", id, di.flags);
    CHECK_EQ(*p0, 0x600dcafe);          /* still its frame, not scrubbed or reused */
    *p0 = 0x12345678;
    CHECK_EQ(*p0, 0x12345678);
    /* Its id stays taken while it is dying. */
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.createdomain.max_vcpus = 1;
    ts_op.u.createdomain.max_evtchn_port = 1023;
    ts_op.u.createdomain.max_grant_frames = -1;
    ts_op.u.createdomain.max_maptrack_frames = -1;
    ts_op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    CHECK_EQ(ts_domctl(XEN_DOMCTL_createdomain, id), -XEN_EEXIST);
    /* Its frames nobody mapped are gone: not mappable through it. */
    CHECK_EQ(ts_map_foreign(2, m[5], false, id), -XEN_EBUSY);

    CHECK_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK(di.domain == id && (di.flags & XEN_DOMINF_dying),
          "d%u gone while its shared_info is mapped", id);
    CHECK_EQ(ts_unmap_foreign(1), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after the last mapping went", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(), free_before);

    /* ---- 3: the batch that lets the dying domain go, naming it ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id), 0);
    CHECK_EQ(ts_map_foreign(0, m[4], true, id), 0);
    CHECK_EQ(ts_destroy(id), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK(di.domain == id && (di.flags & XEN_DOMINF_dying), "d%u not dying", id);
    struct mmu_update batch[2] = {
        { .ptr = ts_l1e_ma(0) | MMU_NORMAL_PT_UPDATE, .val = 0 },
        { .ptr = ts_l1e_ma(1) | MMU_NORMAL_PT_UPDATE,
          .val = (m[4] << 12) | PTE_P | PTE_US | PTE_A | TS_PTE_SPECIAL },
    };
    unsigned done = 99;
    long rc = HYPERVISOR_mmu_update(batch, 2, &done, id);
    printk("batch naming dying d%u: rc %ld, done %u\n", id, rc, done);
    CHECK(rc < 0, "mapping a frame of a domain that went: rc %ld", rc);
    CHECK_EQ(done, 1);
    CHECK_EQ(ts_unmap_foreign(0), 0);
    CHECK_EQ(ts_unmap_foreign(1), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after the batch", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(), free_before);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
