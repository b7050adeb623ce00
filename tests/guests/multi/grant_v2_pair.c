/*
 * (Mica only: Xen has no way to start a second domain at boot; the
 * single-domain part of version 2 is tests/gnt_v2.c, run on both.)
 * Grant tables version 2 between two domains, both in version 2:
 *
 *   dom0 grants its page P to domain 1 at ref 8 (full page, writable)
 *     and ref 10 (sub-page [512, 768), read-only); domain 1 grants its
 *     page Q to dom0 at ref 8.  Each maps the other's ref 8 writable and
 *     sees the mapping in its own status frame (reading|writing), and
 *     neither can go back to version 1 while the other maps its grant.
 *   Domain 1's transitive grants, to dom0: ref 9 -> dom0's ref 10 (the
 *     sub-page), ref 11 -> dom0's ref 8 (the full page), ref 12 -> dom0's
 *     ref 13, itself transitive.  dom0 copies through ref 9 (only the
 *     sub-page's bytes), writes through ref 11, is refused ref 12 (one
 *     level only) and refused mapping any of them; its status frame is
 *     at rest after each copy.
 *   dom0 gives up its status-frame mapping and goes back to version 1
 *     once domain 1 has unmapped P; then domain 1 dies with dom0 still
 *     mapping Q (its status frames go with its table), and dom0 unmaps Q.
 *
 * One kernel, two roles chosen by start_info's flags.  dom0's result line
 * is the test's.
 */
#include "../tests/gnt_common.h"
#include <public/domctl.h>

#define PG_P    4       /* dom0's granted page */
#define PG_Q    4       /* domain 1's granted page */
#define PG_R    5       /* dom0's copy target */
#define AT      12      /* where the other side's page is mapped */
#define STAT    14      /* where our status frame is mapped */
#define WAIT_NS 20000000000UL

static volatile union grant_entry_v2 *g2;
static volatile uint16_t *st;
static uint64_t stat_home;

static volatile uint64_t *peer(void) { return (volatile uint64_t *)pool[AT]; }


static bool wait_status(unsigned ref, uint16_t v)
{
    uint64_t end = system_time_ns() + WAIT_NS;

    while (st[ref] != v) {
        if (system_time_ns() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

static int16_t map_peer(uint16_t dom, uint32_t ref, uint32_t *h)
{
    uint64_t end = system_time_ns() + WAIT_NS;
    int16_t st;

    while ((st = gnt_map((uint64_t)pool[AT], GNTMAP_host_map, ref, dom, h, NULL)) != GNTST_okay &&
           system_time_ns() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    return st;
}

static long set_version(uint32_t v)
{
    struct gnttab_set_version sv = { .version = v };

    return gntop(GNTTABOP_set_version, &sv, 1);
}

/* Version 2, our status frame mapped read-only at STAT. */
static long v2_init(void)
{
    struct gnttab_get_status_frames gs = { .nr_frames = 1, .dom = DOMID_SELF };
    uint64_t f = 0;
    long rc;

    if ((rc = gnt_init()) || (rc = set_version(2)))
        return rc;
    gs.frame_list = (uint64_t)&f;
    if ((rc = gntop(GNTTABOP_get_status_frames, &gs, 1)) || gs.status)
        return rc ? rc : gs.status;
    stat_home = pool_mfn(STAT);
    if ((rc = map_mfn(pool[STAT], f, PTE_P | PTE_US | PTE_A)))
        return rc;
    g2 = (volatile union grant_entry_v2 *)pool[0];
    st = (volatile uint16_t *)pool[STAT];
    return 0;
}

static void grant_full(unsigned ref, uint16_t dom, uint64_t mfn, uint16_t flags)
{
    g2[ref].full_page.frame = mfn;
    g2[ref].hdr.domid = dom;
    __asm__ volatile("" ::: "memory");
    g2[ref].hdr.flags = GTF_permit_access | flags;
}

static void grant_trans(unsigned ref, uint16_t dom, uint16_t tdom, uint32_t tref)
{
    g2[ref].transitive.trans_domid = tdom;
    g2[ref].transitive.gref = tref;
    g2[ref].hdr.domid = dom;
    __asm__ volatile("" ::: "memory");
    g2[ref].hdr.flags = GTF_transitive;
}

static enum result client(void)
{
    volatile uint64_t *q = (volatile uint64_t *)pool[PG_Q];
    uint32_t h = ~0u;

    REQUIRE_EQ(v2_init(), 0);
    q[0] = 0;
    for (unsigned i = 1; i < 512; i++)
        q[i] = 0x3333000000000000UL | i;
    grant_full(8, 0, pool_mfn(PG_Q), 0);
    grant_trans(9, 0, 0, 10);
    grant_trans(11, 0, 0, 8);
    grant_trans(12, 0, 0, 13);

    REQUIRE_EQ(map_peer(0, 8, &h), GNTST_okay);
    CHECK_EQ(((volatile uint8_t *)pool[AT])[100], (uint8_t)(100 * 5 + 3));
    peer()[1] = 0x2222;
    /* dom0 maps our ref 8: our status frame says so, and we stay in version 2. */
    REQUIRE(wait_status(8, GTF_reading | GTF_writing), "dom0 never mapped our grant");
    CHECK_EQ(set_version(1), -XEN_EBUSY);
    q[0] = 1;
    if (!wait_word(&q[0], 2, WAIT_NS)) {
        printk("client: dom0 never finished its copies\n");
        return RESULT_FAILURE;
    }
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    q[0] = 3;
    if (!wait_word(&q[0], 4, WAIT_NS)) {
        printk("client: dom0 never went back to version 1\n");
        return RESULT_FAILURE;
    }
    printk("client: done, dying in version 2 with our page mapped by dom0\n");
    return RESULT_SUCCESS;
}

static struct xen_domctl op;

static long domctl(uint32_t cmd, domid_t dom) { return domctl_fresh(&op, cmd, dom); }

static enum result server(void)
{
    volatile uint8_t *p = pool[PG_P], *r = pool[PG_R];
    uint64_t rmfn = pool_mfn(PG_R);
    uint32_t h = ~0u;

    REQUIRE_EQ(v2_init(), 0);
    for (unsigned i = 0; i < 4096; i++)
        p[i] = (uint8_t)(i * 5 + 3);
    g2[10].sub_page.frame = pool_mfn(PG_P);
    g2[10].sub_page.page_off = 512;
    g2[10].sub_page.length = 256;
    g2[10].hdr.domid = 1;
    __asm__ volatile("" ::: "memory");
    g2[10].hdr.flags = GTF_permit_access | GTF_sub_page | GTF_readonly;
    grant_trans(13, 1, 1, 8);
    grant_full(8, 1, pool_mfn(PG_P), 0);

    REQUIRE_EQ(map_peer(1, 8, &h), GNTST_okay);
    if (!wait_word(&peer()[0], 1, WAIT_NS)) {
        printk("server: domain 1 never got ready\n");
        return RESULT_FAILURE;
    }
    CHECK_EQ(((volatile uint64_t *)p)[1], 0x2222);
    CHECK_EQ(st[8], GTF_reading | GTF_writing);
    CHECK_EQ(g2[8].hdr.flags, GTF_permit_access);
    CHECK_EQ(st[10], 0);
    CHECK_EQ(set_version(1), -XEN_EBUSY);

    /* Through domain 1's transitive ref 9: our sub-page's bytes, and only those. */
    memset((void *)r, 0, 4096);
    struct gnttab_copy c = {
        .source = { .u.ref = 9, .domid = 1, .offset = 512 },
        .dest = { .u.gmfn = rmfn, .domid = DOMID_SELF },
        .len = 256, .flags = GNTCOPY_source_gref, .status = 0x55,
    };
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_okay);
    CHECK_EQ(r[0], (uint8_t)(512 * 5 + 3));
    CHECK_EQ(r[255], (uint8_t)(767 * 5 + 3));
    CHECK_EQ(r[256], 0);
    CHECK_EQ(st[10], 0);
    c.source.offset = 500;
    c.status = 0x55;
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_general_error);
    c.source.offset = 700;
    c.len = 100;
    c.status = 0x55;
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_general_error);
    /* Through ref 11 into our own full page (which domain 1 maps writable). */
    struct gnttab_copy w = {
        .source = { .u.gmfn = rmfn, .domid = DOMID_SELF },
        .dest = { .u.ref = 11, .domid = 1, .offset = 4000 },
        .len = 16, .flags = GNTCOPY_dest_gref, .status = 0x55,
    };
    CHECK_EQ(gntop(GNTTABOP_copy, &w, 1), 0);
    CHECK_EQ(w.status, GNTST_okay);
    CHECK_EQ(p[4000], (uint8_t)(512 * 5 + 3));
    CHECK_EQ(p[4015], (uint8_t)(527 * 5 + 3));
    CHECK_EQ(st[8], GTF_reading | GTF_writing);    /* domain 1's mapping still counts */
    /* Two levels: refused; transitive grants are never mapped. */
    c.source.u.ref = 12;
    c.source.offset = 0;
    c.len = 8;
    c.status = 0x55;
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_general_error);
    CHECK_EQ(st[13], 0);
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map | GNTMAP_readonly, 9, 1, NULL, NULL),
             GNTST_general_error);
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map, 11, 1, NULL, NULL),
             GNTST_general_error);
    CHECK_EQ(st[10], 0);
    peer()[0] = 2;

    /* Domain 1 unmaps P; with our status frame unmapped we go back to 1. */
    if (!wait_word(&peer()[0], 3, WAIT_NS)) {
        printk("server: domain 1 never unmapped our page\n");
        return RESULT_FAILURE;
    }
    CHECK_EQ(st[8], 0);
    CHECK_EQ(set_version(1), -XEN_EBUSY);             /* the status frame is mapped */
    REQUIRE_EQ(map_mfn(pool[STAT], stat_home, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D), 0);
    CHECK_EQ(set_version(1), 0);
    CHECK_EQ(gnt[8].flags, 0);                        /* cleared by the change */
    printk("server: back to version 1 with domain 1's page mapped\n");
    peer()[0] = 4;

    /* Wait for domain 1 to shut down, then destroy it. */
    domain_wait_shutdown(&op, 1, WAIT_NS);
    REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, 1), 0);
    CHECK_EQ(peer()[100], 0x3333000000000064UL);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    printk("server: domain 1 destroyed in version 2; its page unmapped\n");
    return RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);      /* shared_info, for the time */
    return (start_info->flags & SIF_INITDOMAIN) ? server() : client();
}
