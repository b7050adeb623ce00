/*
 * MICA_DOMCTL_list_tables (public/mica_domctl.h), dom0 as the toolstack,
 * on a domain built from here (toolstack.h): frames m[0..3] an L4 -> L3
 * -> L2 -> L1 tree, m[4..6] mapped by the L1, m[7] unmapped.
 *   - before the pin: no tables (the tree is plain memory until validated).
 *   - the L4 pinned: exactly the four, each with its MFN, its PFN (the
 *     index populate_physmap gave it) and getpageframeinfo3's type for it
 *     (the L4 with LPINTAB); the same answer as getpageframeinfo3's.
 *   - room for 2: -ENOSPC, nr 4, the first two entries written, the third
 *     slot untouched.
 *   - refused: non-zero pad, our own domain -EINVAL; no such domain
 *     -ESRCH; an unwritable array, Mica's own memory -EFAULT; the domain
 *     unpaused (it may run) -EBUSY.
 *   - unpinned: no tables again.  Destroyed, every page comes back.
 * Xen 4.17 has no such operation: there the call must fail, and the test
 * ends.
 */
#include "toolstack.h"
#include <public/mica_domctl.h>

#define NR 8

static uint64_t m[NR];
static struct mica_table_frame list[8];

static long list_tables(domid_t dom, void *tables, uint32_t max, uint64_t pad, uint32_t *nr)
{
    struct mica_domctl_list_tables l = { .tables = (uint64_t)tables, .max = max, .nr = 77,
                                         .pad = pad };
    memset(&ts_op, 0, sizeof(ts_op));
    memcpy(ts_op.u.pad, &l, sizeof(l));
    long rc = ts_domctl(MICA_DOMCTL_list_tables, dom);
    memcpy(&l, ts_op.u.pad, sizeof(l));
    if (nr)
        *nr = l.nr;
    return rc;
}

/* The entry for mfn, or NULL. */
static const struct mica_table_frame *find(uint64_t mfn, uint32_t nr)
{
    for (uint32_t i = 0; i < nr; i++)
        if (list[i].mfn == mfn)
            return &list[i];
    return NULL;
}

enum result test_main(void)
{
    uint32_t nr = 0;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    uint64_t free_before = physinfo_free_pages();
    domid_t id = 0;
    REQUIRE_EQ(ts_create_with_tables(&id, m, NR, NR - 1), 0);
    printk("created d%u\n", id);

    long rc = list_tables(id, list, 8, 0, &nr);
    if (!ts_exact_memory()) {
        printk("not Mica: list_tables answers %ld\n", rc);
        CHECK(rc < 0, "Xen 4.17 has no MICA_DOMCTL_list_tables, yet it answered 0");
        CHECK_EQ(ts_destroy(id), 0);
        return RESULT_SUCCESS;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(nr, 0);

    REQUIRE_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    memset(list, 0xa5, sizeof(list));
    CHECK_EQ(list_tables(id, list, 8, 0, &nr), 0);
    CHECK_EQ(nr, 4);
    static const uint32_t want[4] = {
        XEN_DOMCTL_PFINFO_L4TAB | XEN_DOMCTL_PFINFO_LPINTAB, XEN_DOMCTL_PFINFO_L3TAB,
        XEN_DOMCTL_PFINFO_L2TAB, XEN_DOMCTL_PFINFO_L1TAB,
    };
    for (unsigned l = 0; l < 4 && nr == 4; l++) {
        const struct mica_table_frame *e = find(m[l], nr);
        CHECK(e != NULL, "table m[%u] (MFN %#lx) not listed", l, m[l]);
        if (!e)
            continue;
        CHECK(e->pfn == l, "m[%u]: PFN %#lx, populate_physmap gave %u", l, e->pfn, l);
        CHECK(e->type == want[l], "m[%u]: type %#x, want %#x", l, e->type, want[l]);
        CHECK_EQ(e->pad, 0);
        /* getpageframeinfo3 says the same of it. */
        uint64_t t = m[l];
        memset(&ts_op, 0, sizeof(ts_op));
        ts_op.u.getpageframeinfo3.num = 1;
        ts_op.u.getpageframeinfo3.array = (uint64_t)&t;
        CHECK_EQ(ts_domctl(XEN_DOMCTL_getpageframeinfo3, id), 0);
        CHECK(t == e->type, "m[%u]: getpageframeinfo3 %#lx, list_tables %#x", l, t, e->type);
    }

    /* Too little room: the count, the first entries, nothing past them. */
    memset(list, 0xa5, sizeof(list));
    CHECK_EQ(list_tables(id, list, 2, 0, &nr), -XEN_ENOSPC);
    CHECK_EQ(nr, 4);
    CHECK(find(list[0].mfn, 1) && (list[0].mfn == m[0] || list[0].mfn == m[1] ||
                                   list[0].mfn == m[2] || list[0].mfn == m[3]),
          "entry 0 of a short list is no table: %#lx", list[0].mfn);
    CHECK(list[1].mfn != list[0].mfn && list[1].type != 0xa5a5a5a5u, "entry 1 not written");
    CHECK(list[2].mfn == 0xa5a5a5a5a5a5a5a5UL, "entry 2 written past max: %#lx", list[2].mfn);
    CHECK_EQ(list_tables(id, list, 0, 0, &nr), -XEN_ENOSPC);
    CHECK_EQ(nr, 4);

    /* ---- bad arguments ---- */
    CHECK_EQ(list_tables(id, list, 8, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(list_tables(0, list, 8, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(list_tables(0x7000, list, 8, 0, NULL), -XEN_ESRCH);
    CHECK_EQ(list_tables(id, (void *)0x1000, 8, 0, NULL), -XEN_EFAULT);
    CHECK_EQ(list_tables(id, (void *)0xffff830000000000UL, 8, 0, NULL), -XEN_EFAULT);

    /* ---- a domain that may run ---- */
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, id), 0);
    CHECK_EQ(list_tables(id, list, 8, 0, NULL), -XEN_EBUSY);
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_pausedomain, id), 0);
    CHECK_EQ(list_tables(id, list, 8, 0, &nr), 0);
    CHECK_EQ(nr, 4);

    /* Unpinned, the tree is plain memory again. */
    REQUIRE_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);
    CHECK_EQ(list_tables(id, list, 8, 0, &nr), 0);
    CHECK_EQ(nr, 0);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(),
          free_before);
    return RESULT_SUCCESS;
}
