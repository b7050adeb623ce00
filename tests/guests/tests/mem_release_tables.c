/*
 * decrease_reservation of frames that are live page tables, as a hostile
 * guest (or its toolstack) may issue it.  dom0 builds a domain with a
 * pinned 4-level tree (L4 -> L3 -> L2 -> L1 -> 12 data frames), gives
 * frames of it back in several orders, and destroys it: every frame must
 * come back (physinfo free pages exactly as before on Mica; Xen 4.17
 * keeps a few pages in its allocator caches, see toolstack.h).
 *
 * Xen 4.17's guest_remove_page() drops only the allocation reference: a
 * pinned or referenced table stays the domain's, validated and counted
 * in tot_pages, until its last reference goes (it no longer unpins
 * implicitly: XSA-252).  Each extent is "done" (the answer counts it),
 * and giving a frame back twice changes nothing.
 *
 *   a. the pinned L4 itself;
 *   b. an L2 an L3 still references;
 *   c. the four tables, leaves first, in one call;
 *   d. the four tables, root first, then the L4 unpinned: the whole tree
 *      goes at once (tot_pages - 4), the domain keeps its data frames;
 *   e. all 16 frames, then the unpin: tot_pages 0 while the domain lives;
 *   f. an L4 holding a linear (read-only self) entry, given back: at
 *      destruction only the teardown's clearing of linear entries drops
 *      its last reference (the fuzzer's leak, docs/fuzzing.md: Mica freed
 *      the L4 there before devalidating it and kept L3, L2 and L1);
 *   g. the same L4, given back and unpinned: its self entry takes no
 *      reference (Xen 4.17's rule), so the L4 and its tree go at once;
 *      clearing that entry afterwards (mmu_update, table-owner half) is
 *      -EINVAL.  (Mica's self entries held their table until this was
 *      fixed: the L4 went only when dom0 cleared the entry, in the middle
 *      of its own update, and Mica freed it there before devalidating it
 *      and then wrote into the freed frame);
 *   h. an L3 holding a linear entry to itself, given back;
 *   i. an L4 with a self entry, unpinned (not given back): a plain frame
 *      again, mappable writable.
 */
#include "toolstack.h"

#define NR 16
#define LINEAR_SLOT 1

static uint64_t m[NR], list[NR];

static long decrease(domid_t dom, const uint64_t *frames, unsigned n)
{
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)list, .nr_extents = n, .extent_order = 0, .domid = dom,
    };
    for (unsigned i = 0; i < n; i++)
        list[i] = frames[i];
    return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
}

static uint64_t tot_pages(domid_t dom)
{
    struct xen_domctl_getdomaininfo di = { 0 };

    return ts_info(dom, &di) == 0 && di.domain == dom ? di.tot_pages : ~0UL;
}

/* Writes entry `slot` of dom's raw (not yet pinned) table m[t]. */
static long poke_raw(domid_t dom, unsigned t, unsigned slot, uint64_t val)
{
    long rc = ts_map_foreign(8, m[t], true, dom);

    if (rc)
        return rc;
    pool_page(8)[slot] = val;
    return ts_unmap_foreign(8);
}

/*
 * A domain with NR frames and the tree of ts_build_tables; `l4_self` /
 * `l3_self` add a read-only linear entry of the L4 / L3 to itself.
 * Pinned at the end.
 */
static long make_domain(domid_t *id, bool l4_self, bool l3_self)
{
    const uint64_t ro = PTE_P | PTE_US | PTE_A;
    long rc;

    if ((rc = ts_create_with_tables(id, m, NR, NR)))
        return rc;
    if (l4_self && (rc = poke_raw(*id, 0, LINEAR_SLOT, (m[0] << 12) | ro)))
        return rc;
    if (l3_self && (rc = poke_raw(*id, 1, LINEAR_SLOT, (m[1] << 12) | ro)))
        return rc;
    return ts_ext(MMUEXT_PIN_L4_TABLE, m[0], *id);
}

/* Destroys dom and wants every frame back. */
static void end_domain(const char *what, domid_t id, uint64_t free_before)
{
    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "%s: d%u still there after destroydomain", what, id);
    CHECK(ts_memory_back(free_before), "%s: free pages %lu, before %lu", what,
          physinfo_free_pages(), free_before);
}

enum result test_main(void)
{
    uint64_t free_before;
    domid_t id;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();                  /* the clock, for waiting on Xen's RCU */

    /* ---- a: the pinned L4 ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, false, false), 0);
    printk("a: d%u, L4 %#lx L3 %#lx L2 %#lx L1 %#lx pinned\n", id, m[0], m[1], m[2], m[3]);
    CHECK_EQ(decrease(id, &m[0], 1), 1);
    CHECK_EQ(tot_pages(id), NR);        /* pinned: still the domain's */
    CHECK_EQ(decrease(id, &m[0], 1), 1);        /* again: no change */
    CHECK_EQ(tot_pages(id), NR);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), -XEN_EINVAL);     /* pinned still */
    end_domain("a", id, free_before);

    /* ---- b: an L2 still referenced by the L3 ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, false, false), 0);
    CHECK_EQ(decrease(id, &m[2], 1), 1);
    CHECK_EQ(tot_pages(id), NR);
    end_domain("b", id, free_before);

    /* ---- c: the four tables, leaves first, one call ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, false, false), 0);
    {
        const uint64_t order[4] = { m[3], m[2], m[1], m[0] };
        CHECK_EQ(decrease(id, order, 4), 4);
    }
    CHECK_EQ(tot_pages(id), NR);
    end_domain("c", id, free_before);

    /* ---- d: root first, then the unpin lets the tree go ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, false, false), 0);
    CHECK_EQ(decrease(id, m, 4), 4);
    CHECK_EQ(tot_pages(id), NR);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK(TS_SETTLE(tot_pages(id) == NR - 4), "d: tot_pages %lu after the unpin, want %u",
          tot_pages(id), NR - 4);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), -XEN_EINVAL);     /* gone */
    CHECK_EQ(ts_map_foreign(0, m[4], true, id), 0);                   /* data stays */
    CHECK_EQ(ts_unmap_foreign(0), 0);
    end_domain("d", id, free_before);

    /* ---- e: every frame, then the unpin ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, false, false), 0);
    CHECK_EQ(decrease(id, m, NR), NR);
    CHECK_EQ(tot_pages(id), NR);        /* all referenced through the pinned tree */
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK(TS_SETTLE(tot_pages(id) == 0), "e: tot_pages %lu after the unpin, want 0",
          tot_pages(id));
    end_domain("e", id, free_before);

    /* ---- f: an L4 with a self entry, given back while pinned ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, true, false), 0);
    CHECK_EQ(decrease(id, &m[0], 1), 1);
    CHECK_EQ(tot_pages(id), NR);
    end_domain("f", id, free_before);

    /* ---- g: the same, given back and unpinned: its self entry holds nothing ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, true, false), 0);
    CHECK_EQ(decrease(id, &m[0], 1), 1);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK(TS_SETTLE(tot_pages(id) == NR - 1), "g: tot_pages %lu after the unpin, want %u",
          tot_pages(id), NR - 1);
    {
        struct mmu_update u = { .ptr = (m[0] << 12) + 8 * LINEAR_SLOT, .val = 0 };
        CHECK_EQ(HYPERVISOR_mmu_update(&u, 1, NULL, ((id + 1u) << 16) | id), -XEN_EINVAL);
    }
    /* L3, L2, L1 are plain frames again: mappable writable. */
    for (unsigned i = 1; i < 4; i++) {
        CHECK_EQ(ts_map_foreign(0, m[i], true, id), 0);
        CHECK_EQ(ts_unmap_foreign(0), 0);
    }
    end_domain("g", id, free_before);

    /* ---- h: an L3 with a self entry, given back ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, false, true), 0);
    CHECK_EQ(decrease(id, &m[1], 1), 1);
    CHECK_EQ(tot_pages(id), NR);
    end_domain("h", id, free_before);

    /* ---- i: an L4 with a self entry, unpinned ---- */
    free_before = physinfo_free_pages();
    REQUIRE_EQ(make_domain(&id, true, false), 0);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK_EQ(tot_pages(id), NR);
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(ts_map_foreign(0, m[i], true, id), 0);
        CHECK_EQ(ts_unmap_foreign(0), 0);
    }
    end_domain("i", id, free_before);

    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
