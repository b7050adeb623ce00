/*
 * Grant tables version 2 in one domain (a domain may map and copy its
 * own grants): set_version and get_version, get_status_frames, the
 * status frames reflecting reading and writing while a grant is mapped,
 * full-page and sub-page grants in map, copy and swap, transitive
 * grants refused where Xen refuses them (and add_to_physmap's status
 * space, which is for translated guests), the reserved entries carried
 * across version changes, and the rules for going back to version 1:
 * not while a grant is in use (-EBUSY), not while we map a status frame
 * (-EBUSY, the XSA-255 class), not with reserved entries version 1
 * cannot express (-ERANGE); afterwards the old status frame is no
 * longer ours to map.
 */
#include "gnt_common.h"
#include <public/memory.h>

#define SRC   4
#define DST   5
#define AT    6     /* where grants get mapped */
#define STAT  7     /* where the status frame gets mapped */
#define SPARE 8

static volatile union grant_entry_v2 *g2;
static uint64_t table_frames[16];

/* The pool through volatile: grant mappings alias pages the compiler thinks apart. */
static volatile uint8_t *pg(unsigned i) { return pool[i]; }

static long set_version(uint32_t v, uint32_t *now)
{
    struct gnttab_set_version sv = { .version = v };
    long rc = gntop(GNTTABOP_set_version, &sv, 1);

    *now = sv.version;
    return rc;
}

static uint32_t get_version(void)
{
    struct gnttab_get_version gv = { .dom = DOMID_SELF, .version = 77 };

    return gntop(GNTTABOP_get_version, &gv, 1) ? 0 : gv.version;
}

static int16_t status_frames(uint32_t nr, uint64_t *list)
{
    struct gnttab_get_status_frames gs = { .nr_frames = nr, .dom = DOMID_SELF,
                                           .frame_list = (uint64_t)list, .status = 0x55 };
    long rc = gntop(GNTTABOP_get_status_frames, &gs, 1);

    return rc ? (int16_t)(-1000 + rc) : gs.status;
}

/* A v2 entry: frame and bounds first, flags last. */
static void grant_full(unsigned ref, uint64_t mfn, uint16_t flags)
{
    g2[ref].full_page.frame = mfn;
    g2[ref].hdr.domid = DOMID_ME;
    __asm__ volatile("" ::: "memory");
    g2[ref].hdr.flags = flags;
}

static void grant_sub(unsigned ref, uint64_t mfn, uint16_t off, uint16_t len, uint16_t flags)
{
    g2[ref].sub_page.frame = mfn;
    g2[ref].sub_page.page_off = off;
    g2[ref].sub_page.length = len;
    g2[ref].hdr.domid = DOMID_ME;
    __asm__ volatile("" ::: "memory");
    g2[ref].hdr.flags = GTF_permit_access | GTF_sub_page | flags;
}

static void grant_trans(unsigned ref, uint16_t tdom, uint32_t tref)
{
    g2[ref].transitive.trans_domid = tdom;
    g2[ref].transitive.gref = tref;
    g2[ref].hdr.domid = DOMID_ME;
    __asm__ volatile("" ::: "memory");
    g2[ref].hdr.flags = GTF_transitive;
}

static int16_t copy_ref(uint32_t sref, uint16_t soff, uint64_t dmfn, uint16_t doff, uint16_t len)
{
    struct gnttab_copy c = {
        .source = { .u.ref = sref, .domid = DOMID_ME, .offset = soff },
        .dest = { .u.gmfn = dmfn, .domid = DOMID_SELF, .offset = doff },
        .len = len, .flags = GNTCOPY_source_gref, .status = 0x55,
    };
    long rc = gntop(GNTTABOP_copy, &c, 1);

    return rc ? (int16_t)(-1000 + rc) : c.status;
}

static int16_t copy_to_ref(uint64_t smfn, uint32_t dref, uint16_t doff, uint16_t len)
{
    struct gnttab_copy c = {
        .source = { .u.gmfn = smfn, .domid = DOMID_SELF },
        .dest = { .u.ref = dref, .domid = DOMID_ME, .offset = doff },
        .len = len, .flags = GNTCOPY_dest_gref, .status = 0x55,
    };
    long rc = gntop(GNTTABOP_copy, &c, 1);

    return rc ? (int16_t)(-1000 + rc) : c.status;
}

static int16_t swap(uint32_t a, uint32_t b)
{
    struct gnttab_swap_grant_ref s = { .ref_a = a, .ref_b = b, .status = 0x55 };
    long rc = gntop(GNTTABOP_swap_grant_ref, &s, 1);

    return rc ? (int16_t)(-1000 + rc) : s.status;
}

enum result test_main(void)
{
    uint64_t smfn = pool_mfn(SRC), dmfn = pool_mfn(DST), stat_home = pool_mfn(STAT);
    uint64_t frames[4], sframes[4];
    volatile uint16_t *st;
    uint32_t v = 0, h = 0, h2 = 0;
    long rc;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);          /* version 1, two frames mapped at pool 0-1 */
    for (unsigned i = 0; i < 4096; i++)
        pg(SRC)[i] = (uint8_t)(i * 3 + 1);
    memset(pool[DST], 0, 4096);

    /* Bad arguments leave version 1 in force. */
    CHECK_EQ(set_version(0, &v), -XEN_EINVAL);
    CHECK_EQ(v, 1);
    CHECK_EQ(set_version(3, &v), -XEN_EINVAL);
    CHECK_EQ(v, 1);
    CHECK_EQ(gntop(GNTTABOP_set_version, (void *)0x1000, 1), -XEN_EFAULT);
    CHECK_EQ(get_version(), 1);

    /* Reserved entry 1 (the toolstack's xenstore grant) survives the change. */
    gnt_grant(1, DOMID_ME, smfn, GTF_permit_access | GTF_readonly);
    gnt_grant(9, DOMID_ME, smfn, GTF_permit_access);
    REQUIRE_EQ(set_version(2, &v), 0);
    CHECK_EQ(v, 2);
    CHECK_EQ(get_version(), 2);
    CHECK_EQ(set_version(2, &v), 0);    /* already: nothing to do */
    CHECK_EQ(v, 2);
    g2 = (volatile union grant_entry_v2 *)pool[0];
    CHECK_EQ(g2[1].hdr.flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(g2[1].hdr.domid, DOMID_ME);
    CHECK_EQ(g2[1].full_page.frame, smfn);
    CHECK_EQ(g2[9].hdr.flags, 0);       /* the rest is cleared */
    CHECK_EQ(g2[9].full_page.frame, 0);

    /* Status frames: one for two frames of 256 entries; the table stays 2 frames. */
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    CHECK_EQ(gntop(GNTTABOP_query_size, &q, 1), 0);
    CHECK_EQ(q.nr_frames, GNT_FRAMES);
    memset(sframes, 0, sizeof(sframes));
    CHECK_EQ(status_frames(1, sframes), GNTST_okay);
    CHECK(sframes[0] != 0, "no status frame");
    CHECK_EQ(status_frames(2, sframes), GNTST_general_error);
    CHECK_EQ(status_frames(0, sframes), GNTST_okay);
    struct gnttab_get_status_frames gs = { .nr_frames = 1, .dom = DOMID_SELF,
                                           .frame_list = (uint64_t)sframes };
    CHECK_EQ(gntop(GNTTABOP_get_status_frames, &gs, 2), -XEN_EINVAL);
    CHECK_EQ(gntop(GNTTABOP_get_status_frames, (void *)0x1000, 1), -XEN_EFAULT);
    gs.frame_list = 0xffff800000000000UL;
    CHECK_EQ(gntop(GNTTABOP_get_status_frames, &gs, 1), -XEN_EFAULT);
    gs.frame_list = (uint64_t)sframes;
    gs.dom = 77;
    CHECK_EQ(gntop(GNTTABOP_get_status_frames, &gs, 1), 0);
    CHECK_EQ(gs.status, GNTST_bad_domain);
    /* add_to_physmap's status space is for translated guests: -EACCES for PV, as on Xen. */
    struct xen_add_to_physmap xatp = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                       .idx = 0 | XENMAPIDX_grant_table_status,
                                       .gpfn = 0x10000 };
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EACCES);
    /* Ours to map (read-only, as Linux does). */
    REQUIRE_EQ(map_mfn(pool[STAT], sframes[0], PTE_P | PTE_US | PTE_A), 0);
    st = (volatile uint16_t *)pool[STAT];
    CHECK_EQ(st[1], 0);

    /* A full-page grant, mapped read-only then writable: the status says so. */
    grant_full(10, smfn, GTF_permit_access | GTF_readonly);
    grant_full(11, dmfn, GTF_permit_access);
    REQUIRE_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map | GNTMAP_readonly, 10, DOMID_ME,
                       &h, NULL), GNTST_okay);
    CHECK_EQ(st[10], GTF_reading);
    CHECK_EQ(g2[10].hdr.flags, GTF_permit_access | GTF_readonly);   /* entry untouched */
    CHECK_EQ(pg(AT)[5], (uint8_t)16);
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map, 10, DOMID_ME, NULL, NULL),
             GNTST_general_error);                                  /* read-only grant */
    CHECK_EQ(st[10], GTF_reading);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    CHECK_EQ(st[10], 0);
    REQUIRE_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map, 11, DOMID_ME, &h, NULL), GNTST_okay);
    CHECK_EQ(st[11], GTF_reading | GTF_writing);
    pg(AT)[7] = 0x77;
    CHECK_EQ(pg(DST)[7], 0x77);

    /* Not back to 1 while ref 11 (past the reserved ones) is mapped. */
    CHECK_EQ(set_version(1, &v), -XEN_EBUSY);
    CHECK_EQ(v, 2);
    CHECK_EQ(get_version(), 2);
    CHECK_EQ(st[11], GTF_reading | GTF_writing);
    /* Swapping an entry in use: refused; the same ref twice: nothing to do. */
    grant_full(20, smfn, GTF_permit_access);
    CHECK_EQ(swap(11, 20), GNTST_eagain);
    CHECK_EQ(swap(11, 11), GNTST_okay);
    CHECK_EQ(swap(11, 5000), GNTST_bad_gntref);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    CHECK_EQ(st[11], 0);

    /* Copy through full-page grants both ways; the status is at rest afterwards. */
    CHECK_EQ(copy_ref(10, 100, dmfn, 0, 50), GNTST_okay);
    CHECK_EQ(pg(DST)[0], (uint8_t)(100 * 3 + 1));
    CHECK_EQ(pg(DST)[49], (uint8_t)(149 * 3 + 1));
    CHECK_EQ(copy_to_ref(smfn, 11, 2000, 10), GNTST_okay);
    CHECK_EQ(pg(DST)[2009], (uint8_t)(9 * 3 + 1));
    CHECK_EQ(copy_to_ref(smfn, 10, 0, 10), GNTST_general_error);    /* read-only */
    CHECK_EQ(st[10], 0);
    CHECK_EQ(st[11], 0);

    /* Sub-page grants: copy within the bytes only; never mapped. */
    grant_sub(12, smfn, 256, 512, GTF_readonly);
    memset(pool[DST], 0, 4096);
    CHECK_EQ(copy_ref(12, 256, dmfn, 0, 512), GNTST_okay);
    CHECK_EQ(pg(DST)[0], (uint8_t)(256 * 3 + 1));
    CHECK_EQ(pg(DST)[511], (uint8_t)(767 * 3 + 1));
    CHECK_EQ(copy_ref(12, 300, dmfn, 0, 100), GNTST_okay);
    CHECK_EQ(copy_ref(12, 255, dmfn, 0, 1), GNTST_general_error);
    CHECK_EQ(copy_ref(12, 700, dmfn, 0, 100), GNTST_general_error);
    CHECK_EQ(copy_ref(12, 4000, dmfn, 0, 100), GNTST_bad_copy_arg);
    CHECK_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map | GNTMAP_readonly, 12, DOMID_ME,
                     NULL, NULL), GNTST_general_error);
    grant_sub(13, dmfn, 1024, 16, 0);
    CHECK_EQ(copy_to_ref(smfn, 13, 1024, 16), GNTST_okay);
    CHECK_EQ(pg(DST)[1039], (uint8_t)(15 * 3 + 1));
    CHECK_EQ(copy_to_ref(smfn, 13, 1030, 16), GNTST_general_error);
    CHECK_EQ(st[12], 0);
    CHECK_EQ(st[13], 0);

    /* Transitive grants: never mapped, never to ourselves, only to a domain that exists. */
    grant_trans(14, DOMID_ME, 10);
    CHECK_EQ(copy_ref(14, 0, dmfn, 0, 8), GNTST_general_error);
    CHECK_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map | GNTMAP_readonly, 14, DOMID_ME,
                     NULL, NULL), GNTST_general_error);
    grant_trans(15, 77, 10);
    CHECK_EQ(copy_ref(15, 0, dmfn, 0, 8), GNTST_general_error);
    CHECK_EQ(st[14], 0);
    CHECK_EQ(st[15], 0);

    /* Swap moves entries and their status. */
    grant_full(21, dmfn, GTF_permit_access | GTF_readonly);
    CHECK_EQ(swap(20, 21), GNTST_okay);
    CHECK_EQ(g2[20].full_page.frame, dmfn);
    CHECK_EQ(g2[20].hdr.flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(g2[21].full_page.frame, smfn);
    CHECK_EQ(g2[21].hdr.flags, GTF_permit_access);

    /* Growing the table grows the status frames: 9 frames of 256 need 2. */
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 9,
                                    .frame_list = (uint64_t)table_frames };
    CHECK_EQ(gntop(GNTTABOP_setup_table, &s, 1), 0);
    CHECK_EQ(s.status, GNTST_okay);
    CHECK_EQ(status_frames(2, frames), GNTST_okay);
    CHECK_EQ(frames[0], sframes[0]);
    CHECK(frames[1] != frames[0] && frames[1] != 0, "second status frame %#lx", frames[1]);
    CHECK_EQ(status_frames(3, frames), GNTST_general_error);

    /* Reserved entries may stay mapped over a change; ref 2 mapped now. */
    grant_full(2, smfn, GTF_permit_access | GTF_readonly);
    REQUIRE_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map | GNTMAP_readonly, 2, DOMID_ME,
                       &h2, NULL), GNTST_okay);
    CHECK_EQ(st[2], GTF_reading);

    /* Not back to 1 while a status frame is mapped (XSA-255). */
    CHECK_EQ(set_version(1, &v), -XEN_EBUSY);
    CHECK_EQ(v, 2);
    CHECK_EQ(status_frames(2, frames), GNTST_okay);
    CHECK_EQ(g2[1].full_page.frame, smfn);
    REQUIRE_EQ(map_mfn(pool[STAT], stat_home, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);

    /* Nor with a reserved entry version 1 cannot say. */
    grant_trans(3, 77, 10);
    CHECK_EQ(set_version(1, &v), -XEN_ERANGE);
    CHECK_EQ(v, 2);
    grant_full(3, 1UL << 32, GTF_permit_access);
    CHECK_EQ(set_version(1, &v), -XEN_ERANGE);
    g2[3].hdr.flags = 0;

    /* Back to 1: the status frames are gone, the reserved entries converted. */
    REQUIRE_EQ(set_version(1, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(get_version(), 1);
    CHECK_EQ(status_frames(1, frames), GNTST_general_error);
    CHECK_EQ(status_frames(0, frames), GNTST_okay);
    CHECK_EQ(gnt[1].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gnt[1].frame, (uint32_t)smfn);
    CHECK_EQ(gnt[2].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    CHECK_EQ(gnt[2].frame, (uint32_t)smfn);
    CHECK_EQ(gnt[10].flags, 0);
    CHECK_EQ(gnt[21].flags, 0);
    CHECK_EQ(pg(AT)[5], (uint8_t)16);        /* ref 2 still mapped */
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h2), GNTST_okay);
    CHECK_EQ(gnt[2].flags, GTF_permit_access | GTF_readonly);
    rc = map_mfn(pool[SPARE], sframes[0], PTE_P | PTE_US | PTE_A);
    CHECK(rc < 0, "mapped the old status frame after going back to version 1 (%ld)", rc);
    CHECK(map_mfn(pool[SPARE], frames[1], PTE_P | PTE_US | PTE_A) < 0,
          "mapped the old second status frame");

    /* Version 1 works as before. */
    gnt_grant(10, DOMID_ME, smfn, GTF_permit_access | GTF_readonly);
    memset(pool[DST], 0, 4096);
    CHECK_EQ(copy_ref(10, 8, dmfn, 0, 8), GNTST_okay);
    CHECK_EQ(pg(DST)[0], (uint8_t)(8 * 3 + 1));
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(swap(10, 11), GNTST_okay);
    CHECK_EQ(gnt[11].flags, GTF_permit_access | GTF_readonly);

    /* And version 2 again, then 1 again: status frames come and go cleanly. */
    REQUIRE_EQ(set_version(2, &v), 0);
    CHECK_EQ(status_frames(2, frames), GNTST_okay);     /* 9 frames: 2 status frames */
    CHECK_EQ(status_frames(3, frames), GNTST_general_error);
    REQUIRE_EQ(set_version(1, &v), 0);
    CHECK_EQ(status_frames(1, frames), GNTST_general_error);
    return RESULT_SUCCESS;
}
