/*
 * Batches of grant operations: 600 mappings in one call (preempted and
 * continued on the way), each element with its own status; lists that
 * run into unreadable memory; and a copy onto a pinned grant whose entry
 * was changed to another frame behind the hypervisor's back (XSA-500).
 */
#include "gnt_common.h"

#define N    600
#define DATA 4

static struct gnttab_map_grant_ref maps[N];
static struct gnttab_unmap_grant_ref unmaps[N];

enum result test_main(void)
{
    uint64_t bus = 0;
    uint32_t h = ~0u;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    /* Refs 8..607 all grant pool page DATA, read-only; every 50th is revoked. */
    for (unsigned i = 0; i < N; i++)
        gnt_grant(8 + i, DOMID_ME, pool_mfn(DATA),
                  i % 50 == 49 ? 0 : GTF_permit_access | GTF_readonly);
    for (unsigned i = 0; i < N; i++)
        maps[i] = (struct gnttab_map_grant_ref){ .flags = GNTMAP_device_map | GNTMAP_readonly,
                                                 .ref = 8 + i, .dom = DOMID_ME, .status = 99 };
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, maps, N), 0);
    unsigned ok = 0, refused = 0, distinct = 1;
    for (unsigned i = 0; i < N; i++) {
        if (i % 50 == 49) {
            refused += maps[i].status == GNTST_general_error;
            continue;
        }
        ok += maps[i].status == GNTST_okay && maps[i].dev_bus_addr == pool_mfn(DATA) << 12;
        if (i && i % 50 != 0 && maps[i].handle == maps[i - 1].handle)
            distinct = 0;
    }
    CHECK_EQ(ok, N - N / 50);
    CHECK_EQ(refused, N / 50);
    CHECK(distinct, "two mappings got one handle");
    CHECK_EQ(gnt[8].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    for (unsigned i = 0; i < N; i++)
        unmaps[i] = (struct gnttab_unmap_grant_ref){ .dev_bus_addr = maps[i].dev_bus_addr,
            .handle = i % 50 == 49 ? 0xffffffffu : maps[i].handle, .status = 99 };
    CHECK_EQ(gntop(GNTTABOP_unmap_grant_ref, unmaps, N), 0);
    ok = refused = 0;
    for (unsigned i = 0; i < N; i++) {
        if (i % 50 == 49)
            refused += unmaps[i].status == GNTST_bad_handle;
        else
            ok += unmaps[i].status == GNTST_okay;
    }
    CHECK_EQ(ok, N - N / 50);
    CHECK_EQ(refused, N / 50);
    for (unsigned i = 0; i < N; i++)
        if (gnt[8 + i].flags & (GTF_reading | GTF_writing)) {
            CHECK(false, "ref %u still flagged in use: %#x", 8 + i, gnt[8 + i].flags);
            break;
        }

    /* A long count over a short list: the elements that exist are done, then -EFAULT. */
    maps[0] = (struct gnttab_map_grant_ref){ .flags = GNTMAP_device_map | GNTMAP_readonly,
                                             .ref = 8, .dom = DOMID_ME, .status = 99 };
    static struct gnttab_map_grant_ref *edge;
    edge = (struct gnttab_map_grant_ref *)(pool[10] + 4096 - sizeof(*edge));
    *edge = maps[0];
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)pool[11], 0, UVMF_INVLPG), 0);
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, edge, 0x7fffffff), -XEN_EFAULT);
    CHECK_EQ(edge->status, GNTST_okay);
    CHECK_EQ(gnt_unmap(0, edge->dev_bus_addr, edge->handle), GNTST_okay);
    CHECK_EQ(pool_rw(11), 0);
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, (void *)0xffff830000000000UL, 1), -XEN_EFAULT);
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, (void *)0x1000, 1), -XEN_EFAULT);
    CHECK_EQ(gnt[8].flags, GTF_permit_access | GTF_readonly);

    /* Pinned read-only, then the entry is pointed elsewhere: a writing copy is refused. */
    gnt_grant(700, DOMID_ME, pool_mfn(DATA), GTF_permit_access);
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 700, DOMID_ME, &h, &bus), GNTST_okay);
    gnt[700].frame = (uint32_t)pool_mfn(DATA + 1);
    struct gnttab_copy c = { .source = { .u.gmfn = pool_mfn(DATA + 2), .domid = DOMID_SELF },
                             .dest = { .u.ref = 700, .domid = DOMID_ME }, .len = 8,
                             .flags = GNTCOPY_dest_gref, .status = 99 };
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_general_error);
    CHECK_EQ(gnt[700].flags, GTF_permit_access | GTF_reading);
    gnt[700].frame = (uint32_t)pool_mfn(DATA);
    c.status = 99;
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_okay);
    CHECK_EQ(gnt[700].flags, GTF_permit_access);
    return RESULT_SUCCESS;
}
