/*
 * GNTTABOP_copy: by grant ref and by frame on either side, the data
 * landing where it should; then the refusals: copies crossing a page,
 * a read-only grant as destination, frames named for another domain,
 * frames that are not ours or are page tables, bad refs and domains.
 * Flags must be back to rest after every copy.
 */
#include "gnt_common.h"

#define SRC  4
#define DST  5

static struct gnttab_copy cp(uint32_t sref_or_mfn, uint16_t sdom, uint16_t soff,
                             uint32_t dref_or_mfn, uint16_t ddom, uint16_t doff,
                             uint16_t len, uint16_t flags)
{
    struct gnttab_copy c = { 0 };

    c.source.u.gmfn = sref_or_mfn;
    c.source.domid = sdom;
    c.source.offset = soff;
    c.dest.u.gmfn = dref_or_mfn;
    c.dest.domid = ddom;
    c.dest.offset = doff;
    c.len = len;
    c.flags = flags;
    c.status = 0x55;
    return c;
}

static int16_t copy1(struct gnttab_copy c)
{
    long rc = gntop(GNTTABOP_copy, &c, 1);

    return rc ? (int16_t)(-1000 + rc) : c.status;
}

static volatile uint8_t *pg(unsigned i) { return pool[i]; }

enum result test_main(void)
{
    uint64_t smfn = pool_mfn(SRC), dmfn = pool_mfn(DST);

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    for (unsigned i = 0; i < 4096; i++)
        pool[SRC][i] = (uint8_t)(i * 7);
    memset(pool[DST], 0, 4096);
    gnt_grant(10, DOMID_ME, smfn, GTF_permit_access | GTF_readonly);
    gnt_grant(11, DOMID_ME, dmfn, GTF_permit_access);
    gnt_grant(12, DOMID_ME, dmfn, GTF_permit_access | GTF_readonly);

    /* gref -> frame, frame -> gref, gref -> gref, frame -> frame. */
    CHECK_EQ(copy1(cp(10, DOMID_ME, 100, dmfn, DOMID_SELF, 0, 50, GNTCOPY_source_gref)), GNTST_okay);
    CHECK_EQ(pg(DST)[0], (uint8_t)(100 * 7));
    CHECK_EQ(pg(DST)[49], (uint8_t)(149 * 7));
    CHECK_EQ(pg(DST)[50], 0);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 4000, 11, DOMID_ME, 1000, 96, GNTCOPY_dest_gref)), GNTST_okay);
    CHECK_EQ(pg(DST)[1000], (uint8_t)(4000 * 7));
    CHECK_EQ(pg(DST)[1095], (uint8_t)(4095 * 7));
    CHECK_EQ(copy1(cp(10, DOMID_ME, 0, 11, DOMID_ME, 2048, 2048,
                      GNTCOPY_source_gref | GNTCOPY_dest_gref)), GNTST_okay);
    CHECK_EQ(pg(DST)[4095], (uint8_t)(2047 * 7));
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, dmfn, DOMID_SELF, 0, 0, 0)), GNTST_okay);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, dmfn, DOMID_SELF, 0, 4096, 0)), GNTST_okay);
    CHECK_EQ(pg(DST)[4095], (uint8_t)(4095 * 7));
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt[11].flags, GTF_permit_access);

    /* Crossing the end of a page, on either side. */
    CHECK_EQ(copy1(cp(10, DOMID_ME, 4000, dmfn, DOMID_SELF, 0, 97, GNTCOPY_source_gref)),
             GNTST_bad_copy_arg);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, 11, DOMID_ME, 4095, 2, GNTCOPY_dest_gref)),
             GNTST_bad_copy_arg);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 65535, dmfn, DOMID_SELF, 0, 1, 0)), GNTST_bad_copy_arg);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, dmfn, DOMID_SELF, 0, 4097, 0)), GNTST_bad_copy_arg);
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt[11].flags, GTF_permit_access);

    /* A read-only grant as destination; a grant for someone else. */
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, 12, DOMID_ME, 0, 8, GNTCOPY_dest_gref)),
             GNTST_general_error);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_readonly);
    gnt_grant(13, 5, smfn, GTF_permit_access);
    CHECK_EQ(copy1(cp(13, DOMID_ME, 0, dmfn, DOMID_SELF, 0, 8, GNTCOPY_source_gref)),
             GNTST_general_error);
    /* Bad refs, revoked entries, bad domains. */
    CHECK_EQ(copy1(cp(1024, DOMID_ME, 0, dmfn, DOMID_SELF, 0, 8, GNTCOPY_source_gref)),
             GNTST_bad_gntref);
    CHECK_EQ(copy1(cp(20, DOMID_ME, 0, dmfn, DOMID_SELF, 0, 8, GNTCOPY_source_gref)),
             GNTST_general_error);
    CHECK_EQ(copy1(cp(10, 77, 0, dmfn, DOMID_SELF, 0, 8, GNTCOPY_source_gref)), GNTST_bad_domain);
    CHECK_EQ(copy1(cp(10, DOMID_SELF, 0, dmfn, DOMID_SELF, 0, 8, GNTCOPY_source_gref)), GNTST_okay);
    /*
     * Frames may only be named for ourselves as DOMID_SELF; a domain that
     * does not exist is reported as such first (Xen 4.17.7 answers so,
     * although its source reads the other way round).
     */
    CHECK_EQ(copy1(cp(smfn, DOMID_ME, 0, dmfn, DOMID_SELF, 0, 8, 0)), GNTST_permission_denied);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, dmfn, DOMID_ME, 0, 8, 0)), GNTST_permission_denied);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, dmfn, 77, 0, 8, 0)), GNTST_bad_domain);
    CHECK_EQ(copy1(cp(smfn, 77, 0, dmfn, DOMID_SELF, 0, 8, 0)), GNTST_bad_domain);
    /* Frames that are not ours, or cannot be written. */
    CHECK_EQ(copy1(cp(0, DOMID_SELF, 0, dmfn, DOMID_SELF, 0, 8, 0)), GNTST_bad_page);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, 0xfffff0, DOMID_SELF, 0, 8, 0)), GNTST_bad_page);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, l4_mfn(), DOMID_SELF, 0, 8, 0)), GNTST_general_error);
    CHECK_EQ(copy1(cp(l4_mfn(), DOMID_SELF, 0, dmfn, DOMID_SELF, 0, 8, 0)), GNTST_okay);
    /* Refusals come in order: the source is claimed before the bounds are checked. */
    CHECK_EQ(copy1(cp(1024, DOMID_ME, 4000, dmfn, DOMID_SELF, 0, 200, GNTCOPY_source_gref)),
             GNTST_bad_gntref);
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt[11].flags, GTF_permit_access);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_readonly);

    /* A copy onto a grant we have mapped read-only: the write pin is added and removed. */
    uint32_t h = ~0u;
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 11, DOMID_ME, &h, NULL), GNTST_okay);
    CHECK_EQ(copy1(cp(smfn, DOMID_SELF, 0, 11, DOMID_ME, 0, 8, GNTCOPY_dest_gref)), GNTST_okay);
    CHECK_EQ(gnt[11].flags, GTF_permit_access | GTF_reading);
    CHECK_EQ(gnt_unmap(0, dmfn << 12, h), GNTST_okay);
    CHECK_EQ(gnt[11].flags, GTF_permit_access);

    /* Batches: 300 copies (across continuations) with every tenth one bad. */
    static struct gnttab_copy many[300];
    for (unsigned i = 0; i < 300; i++)
        many[i] = cp(10, DOMID_ME, (uint16_t)(i % 8), 11, DOMID_ME, (uint16_t)(i * 8),
                     (i % 10 == 9) ? 4096 : 8, GNTCOPY_source_gref | GNTCOPY_dest_gref);
    memset(pool[DST], 0, 4096);
    CHECK_EQ(gntop(GNTTABOP_copy, many, 300), 0);
    unsigned good = 0, bad = 0;
    for (unsigned i = 0; i < 300; i++) {
        if (i % 10 == 9)
            bad += many[i].status == GNTST_bad_copy_arg;
        else
            good += many[i].status == GNTST_okay;
    }
    CHECK_EQ(good, 270);
    CHECK_EQ(bad, 30);
    CHECK_EQ(pg(DST)[8 * 298], (uint8_t)((298 % 8) * 7));
    /* A huge count over a short list: runs into unreadable memory. */
    CHECK_EQ(gntop(GNTTABOP_copy, (void *)0x1000, 0x7fffffff), -XEN_EFAULT);
    CHECK_EQ(gntop(GNTTABOP_copy, (void *)0xffff830000000000UL, 1), -XEN_EFAULT);
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt[11].flags, GTF_permit_access);
    return RESULT_SUCCESS;
}
