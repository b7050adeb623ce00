/*
 * map_grant_ref refusals, each with Xen 4.17's exact status: no map kind,
 * unknown or self-named domains, references beyond the table, entries
 * that are invalid, revoked, for another domain, read-only (write map),
 * sub-page, or name a frame that is not the granter's; addresses with
 * no L1 or a misaligned/non-L1 PTE address; pin counters at their limit.
 * Every refusal must leave the entry's flags untouched.
 */
#include "gnt_common.h"

#define DATA 4
#define AT   12

enum result test_main(void)
{
    uint32_t h = ~0u, hs[130];
    uint64_t bus = 0;
    uint64_t at = (uint64_t)pool[AT];

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);

    gnt_grant(10, DOMID_ME, pool_mfn(DATA), GTF_permit_access);
    /* Neither host_map nor device_map. */
    CHECK_EQ(gnt_map(at, 0, 10, DOMID_ME, &h, NULL), GNTST_bad_gntref);
    CHECK_EQ(gnt_map(at, GNTMAP_readonly, 10, DOMID_ME, &h, NULL), GNTST_bad_gntref);
    /* Domains: DOMID_SELF is not accepted here; nor a missing one. */
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_SELF, &h, NULL), GNTST_bad_domain);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 10, 77, &h, NULL), GNTST_bad_domain);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_XEN, &h, NULL), GNTST_bad_domain);
    /* References beyond the table (two frames: 1024 entries). */
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 1024, DOMID_ME, &h, NULL), GNTST_bad_gntref);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 0xffffffffu, DOMID_ME, &h, NULL), GNTST_bad_gntref);
    CHECK_EQ(gnt[10].flags, GTF_permit_access);

    /* Entries that do not permit this mapping. */
    gnt_grant(20, DOMID_ME, pool_mfn(DATA), GTF_invalid);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 20, DOMID_ME, &h, NULL), GNTST_general_error);
    gnt_grant(21, 5, pool_mfn(DATA), GTF_permit_access);             /* for domain 5 */
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 21, DOMID_ME, &h, NULL), GNTST_general_error);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map | GNTMAP_readonly, 21, DOMID_ME, &h, NULL),
             GNTST_general_error);
    gnt_grant(22, DOMID_ME, pool_mfn(DATA), GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 22, DOMID_ME, &h, NULL), GNTST_general_error);
    CHECK_EQ(gnt_map(0, GNTMAP_device_map, 22, DOMID_ME, &h, NULL), GNTST_general_error);
    gnt_grant(23, DOMID_ME, pool_mfn(DATA), GTF_permit_access | GTF_sub_page);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 23, DOMID_ME, &h, NULL), GNTST_general_error);
    gnt_grant(24, DOMID_ME, pool_mfn(DATA), GTF_accept_transfer);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 24, DOMID_ME, &h, NULL), GNTST_general_error);
    gnt_grant(25, DOMID_ME, pool_mfn(DATA), GTF_transitive);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 25, DOMID_ME, &h, NULL), GNTST_general_error);
    CHECK_EQ(gnt[20].flags, GTF_invalid);
    CHECK_EQ(gnt[21].flags, GTF_permit_access);
    CHECK_EQ(gnt[22].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt[23].flags, GTF_permit_access | GTF_sub_page);

    /* A stale reference: revoked after a mapping came and went. */
    REQUIRE_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, NULL), GNTST_okay);
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_okay);
    CHECK(gnt_revoke(10), "revocation failed");
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, NULL), GNTST_general_error);
    CHECK_EQ(gnt[10].flags, 0);
    CHECK_EQ(pool_rw(AT), 0);

    /* Frames that are not the granter's: Xen's, beyond RAM, frame 0. */
    gnt_grant(30, DOMID_ME, 0, GTF_permit_access);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map, 30, DOMID_ME, &h, NULL), GNTST_bad_page);
    CHECK_EQ(gnt[30].flags, GTF_permit_access);
    gnt_grant(31, DOMID_ME, 0xfffff0, GTF_permit_access);
    CHECK_EQ(gnt_map(at, GNTMAP_host_map | GNTMAP_readonly, 31, DOMID_ME, &h, NULL), GNTST_bad_page);
    CHECK_EQ(gnt[31].flags, GTF_permit_access);

    /* Addresses: no L1 behind it, the hypervisor's range, bad PTE addresses. */
    gnt_grant(40, DOMID_ME, pool_mfn(DATA), GTF_permit_access);
    CHECK_EQ(gnt_map(0x0000100000000000UL, GNTMAP_host_map, 40, DOMID_ME, &h, NULL),
             GNTST_general_error);
    CHECK_EQ(gnt_map(0xffff830000000000UL, GNTMAP_host_map, 40, DOMID_ME, &h, NULL),
             GNTST_general_error);
    CHECK_EQ(gnt_map(pte_ma((void *)at) + 3, GNTMAP_host_map | GNTMAP_contains_pte, 40, DOMID_ME,
                     &h, NULL), GNTST_general_error);
    CHECK_EQ(gnt_map(pool_mfn(DATA + 1) << 12, GNTMAP_host_map | GNTMAP_contains_pte, 40,
                     DOMID_ME, &h, NULL), GNTST_general_error);   /* not a page table */
    CHECK_EQ(gnt_map(l4_mfn() << 12, GNTMAP_host_map | GNTMAP_contains_pte, 40,
                     DOMID_ME, &h, NULL), GNTST_general_error);   /* an L4, not an L1 */
    CHECK_EQ(gnt[40].flags, GTF_permit_access);
    /* Still mapped where it was. */
    CHECK_EQ(((volatile uint8_t *)at)[0], ((volatile uint8_t *)pool[AT])[0]);

    /* Pin counters: 128 device mappings of one entry, the 129th refused. */
    unsigned n = 0;
    uint64_t b = 0;
    for (; n < 130; n++) {
        int16_t st = gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 40, DOMID_ME, &hs[n], &b);
        if (st == GNTST_okay)
            bus = b;
        if (st != GNTST_okay) {
            CHECK_EQ(st, GNTST_general_error);
            break;
        }
    }
    CHECK_EQ(n, 128);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(gnt_unmap(0, bus, hs[i]), GNTST_okay);
    CHECK_EQ(gnt[40].flags, GTF_permit_access);

    /* A mapping pins the entry for its domain: a later change of domid is ignored... */
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 40, DOMID_ME, &h, &bus), GNTST_okay);
    gnt[40].domid = 5;
    CHECK_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 40, DOMID_ME, &hs[0], NULL), GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus, hs[0]), GNTST_okay);
    /* ...but a writable mapping needs the entry to say so again. */
    CHECK_EQ(gnt_map(0, GNTMAP_device_map, 40, DOMID_ME, &hs[0], NULL), GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus, hs[0]), GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_okay);
    CHECK_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 40, DOMID_ME, &h, NULL),
             GNTST_general_error);
    return RESULT_SUCCESS;
}
