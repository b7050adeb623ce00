/*
 * Grant tables: setup_table, query_size, get/set_version, and the calls
 * around them that must be refused (bad counts, pointers, domains,
 * versions; transfer, dump_table, unknown sub-ops).
 */
#include "gnt_common.h"

enum result test_main(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    struct gnttab_setup_table s = { .dom = DOMID_SELF };
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    struct gnttab_set_version sv;
    uint64_t frames[70];
    long rc;

    REQUIRE_EQ(traps_install(), 0);

    /* A fresh table has one frame; the default limit is 64. */
    REQUIRE_EQ(gntop(GNTTABOP_query_size, &q, 1), 0);
    CHECK_EQ(q.status, GNTST_okay);
    CHECK_EQ(q.nr_frames, 1);
    CHECK_EQ(q.max_nr_frames, 64);
    CHECK_EQ(gntop(GNTTABOP_get_version, &gv, 1), 0);
    CHECK_EQ(gv.version, 1);

    /* Version 3 does not exist; 2 is either offered or refused with -ENOSYS. */
    sv.version = 3;
    CHECK_EQ(gntop(GNTTABOP_set_version, &sv, 1), -XEN_EINVAL);
    CHECK_EQ(sv.version, 1);
    sv.version = 2;
    rc = gntop(GNTTABOP_set_version, &sv, 1);
    CHECK(rc == 0 || rc == -XEN_ENOSYS, "set_version(2) gave %ld", rc);
    if (rc == 0) {
        printk("version 2 offered; going back to 1\n");
        CHECK_EQ(sv.version, 2);
        sv.version = 1;
        CHECK_EQ(gntop(GNTTABOP_set_version, &sv, 1), 0);
    } else {
        printk("version 2 refused with -ENOSYS\n");
        CHECK_EQ(sv.version, 1);
    }
    sv.version = 1;
    CHECK_EQ(gntop(GNTTABOP_set_version, &sv, 1), 0);
    CHECK_EQ(sv.version, 1);
    CHECK_EQ(gntop(GNTTABOP_get_version, &gv, 1), 0);
    CHECK_EQ(gv.version, 1);
    gv.dom = 77;
    CHECK_EQ(gntop(GNTTABOP_get_version, &gv, 1), -XEN_ESRCH);
    CHECK_EQ(gntop(GNTTABOP_get_version, (void *)0x1000, 1), -XEN_EFAULT);

    /* Growing to 4 frames: distinct, and the first one unchanged. */
    memset(frames, 0, sizeof(frames));
    s.nr_frames = 1;
    s.frame_list = (uint64_t)frames;
    REQUIRE_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    REQUIRE_EQ(s.status, GNTST_okay);
    uint64_t first = frames[0];
    s.nr_frames = 4;
    REQUIRE_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    REQUIRE_EQ(s.status, GNTST_okay);
    CHECK_EQ(frames[0], first);
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = i + 1; j < 4; j++)
            CHECK(frames[i] != frames[j], "frames %u and %u are both %#lx", i, j, frames[i]);
    q.dom = DOMID_SELF;
    CHECK_EQ(gntop(GNTTABOP_query_size, &q, 1), 0);
    CHECK_EQ(q.nr_frames, 4);
    /* Asking for fewer lists the first ones and does not shrink. */
    s.nr_frames = 2;
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(gntop(GNTTABOP_query_size, &q, 1), 0);
    CHECK_EQ(q.nr_frames, 4);

    /* The frames are ours to map writable, and are not page tables. */
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(map_mfn(pool[i], frames[i], PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
        pool[i][8] = 0x5a;
        CHECK_EQ(pool[i][8], 0x5a);
        pool[i][8] = 0;
    }
    CHECK(ext1(MMUEXT_PIN_L1_TABLE, frames[1]) < 0, "a grant frame became a page table");
    /* Our own name for ourselves works too. */
    s.dom = DOMID_ME;
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(s.status, GNTST_okay);

    /* Beyond the limit: a status, not an errno. */
    s.dom = DOMID_SELF;
    s.nr_frames = 65;
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(s.status, GNTST_general_error);
    CHECK_EQ(gntop(GNTTABOP_query_size, &q, 1), 0);
    CHECK_EQ(q.nr_frames, 4);
    s.nr_frames = 0x7fffffff;       /* only where the list starts is checked */
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(s.status, GNTST_general_error);

    /* Bad domains, counts and pointers. */
    s.nr_frames = 1;
    s.dom = 77;
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(s.status, GNTST_bad_domain);
    s.dom = DOMID_INVALID;
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(s.status, GNTST_bad_domain);
    s.dom = DOMID_SELF;
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 2), -XEN_EINVAL);
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 0), -XEN_EINVAL);
    CHECK_EQ(gntop(GNTTABOP_setup_table, (void *)0x1000, 1), -XEN_EFAULT);
    s.frame_list = 0xffff800000000000UL;        /* the hypervisor's range */
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), -XEN_EFAULT);
    q.dom = 77;
    CHECK_EQ(gntop(GNTTABOP_query_size, &q, 1), 0);
    CHECK_EQ(q.status, GNTST_bad_domain);
    q.dom = DOMID_SELF;
    CHECK_EQ(gntop(GNTTABOP_query_size, &q, 2), -XEN_EINVAL);
    CHECK_EQ(gntop(GNTTABOP_query_size, (void *)0x1000, 1), -XEN_EFAULT);

    /* Version 1 has no status frames. */
    struct gnttab_get_status_frames gs = { .nr_frames = 1, .dom = DOMID_SELF,
                                           .frame_list = (uint64_t)frames };
    CHECK_EQ(gntop(GNTTABOP_get_status_frames, &gs, 1), 0);
    CHECK_EQ(gs.status, GNTST_general_error);
    gs.nr_frames = 0;
    CHECK_EQ(gntop(GNTTABOP_get_status_frames, &gs, 1), 0);
    CHECK_EQ(gs.status, GNTST_okay);

    /* Refused whole calls. */
    struct gnttab_map_grant_ref m = { 0 };
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, &m, 0x80000000UL), -XEN_EINVAL);
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref | (1 << 12), &m, 1), -XEN_EINVAL);
    CHECK_EQ(gntop(GNTTABOP_dump_table, &m, 1), -XEN_ENOSYS);
    CHECK_EQ(gntop(13, &m, 1), -XEN_ENOSYS);
    CHECK_EQ(gntop(200, &m, 1), -XEN_ENOSYS);
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, &m, 0), 0);

    /* Transfer: refused outright, or (where offered) a bad request fails per op. */
    struct gnttab_transfer t = { .mfn = 0, .domid = 77, .ref = 8 };
    rc = gntop(GNTTABOP_transfer, &t, 1);
    if (rc == -XEN_EOPNOTSUPP) {
        printk("transfer not offered\n");
    } else {
        CHECK_EQ(rc, 0);
        CHECK(t.status < 0, "transfer of frame 0 to a missing domain gave status %d", t.status);
        printk("transfer offered; bad request gave status %d\n", t.status);
    }
    return RESULT_SUCCESS;
}
