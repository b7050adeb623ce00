/*
 * (Mica only: Xen has no way to start a second domain at boot, and
 * Debian's Xen 4.17 has no log-dirty for PV; tests/guests/tests/
 * domctl_shadow.c checks that refusal on both.)
 *
 * Log-dirty (XEN_DOMCTL_shadow_op) on domain 1, driven by dom0 as libxc's
 * save path drives it: enable, CLEAN rounds with a bitmap of one bit per
 * PFN, PEEK, stats, OFF.  Domain 1 dirties one page by each route:
 *
 *   K   a store through its kernel mapping (Mica resolves the write fault)
 *   U   a store through a mapping at a user-half address (0x40000000): the
 *       write fault comes to the guest, which writes the entry back with
 *       RW, as Linux does for a write-protected PTE in a writable VMA
 *   H   a hypercall result (XENVER_extraversion) copied in by Mica
 *   GC  a grant copy by dom0 into it
 *   GM  a page dom0 maps through a writable grant, writes and unmaps
 *   CL  a page nobody writes: must stay clean
 *
 * and dom0 checks the bitmaps after each step: no page missed, clean
 * after CLEAN, caught again after CLEAN (the write protection came back),
 * nothing after OFF; then the guest writes everything once more with
 * logging off (the protection left behind is given back on the way).
 *
 * One kernel, two roles chosen by start_info's flags; dom0's result line
 * is the test's.
 */
#include "../tests/gnt_common.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/version.h>

enum { PG_CTL = 4, PG_K, PG_U, PG_H, PG_GC, PG_GM, PG_CL, PG_L3, PG_L2, PG_L1, PG_PEER };
enum { R_K, R_U, R_H, R_GC, R_GM, R_CL, R_CTL, NR_ROUTES };
static const char *const route_name[NR_ROUTES] = { "K", "U", "H", "GC", "GM", "CL", "ctl" };

/* Control page words. */
enum { C_PHASE, C_NR_PAGES, C_USER_FAULTS, C_PFN0 };

#define LOW_VA 0x40000000UL     /* L4 slot 0, L3 slot 1, L2 slot 0, L1 slot 0 */
#define WAIT_NS 30000000000UL
#define REF_CTL 8
#define REF_GC  9
#define REF_GM  10

/* Pool page i through a volatile pointer: the compiler cannot see the aliases at LOW_VA. */
static volatile uint64_t *vpage(unsigned i)
{
    return (volatile uint64_t *)pool[i];
}


/* ---- domain 1 ---- */

static volatile unsigned user_faults;

/* Linux's answer to a write fault on a write-protected user PTE: write it back with RW. */
static bool pf_hook(struct regs *r)
{
    uint64_t pte;

    if ((shared->vcpu_info[0].arch.cr2 & ~0xfffUL) != LOW_VA || !(r->error_code & 2) || user_faults > 10)
        return false;
    if (!lookup_pte(LOW_VA, &pte) || (pte & PTE_RW))
        return false;
    if (HYPERVISOR_update_va_mapping(LOW_VA, pte | PTE_RW | PTE_D, UVMF_INVLPG))
        return false;
    user_faults++;
    return true;        /* the store is retried */
}

/* L3 (PG_L3) -> L2 -> L1 -> page U at LOW_VA, hooked into L4 slot 0. */
static long map_low(void)
{
    const uint64_t tf = PTE_P | PTE_RW | PTE_US | PTE_A;

    memset(pool_page(PG_L3), 0, 4096);
    memset(pool_page(PG_L2), 0, 4096);
    memset(pool_page(PG_L1), 0, 4096);
    pool_page(PG_L1)[0] = (pool_mfn(PG_U) << 12) | tf | PTE_D;
    pool_page(PG_L2)[0] = (pool_mfn(PG_L1) << 12) | tf;
    pool_page(PG_L3)[1] = (pool_mfn(PG_L2) << 12) | tf;
    for (unsigned i = PG_L3; i <= PG_L1; i++)
        if (pool_ro(i))
            return -1;
    return mmu1(l4_mfn() << 12, (pool_mfn(PG_L3) << 12) | tf);
}

static void dirty_routes(uint64_t tag)
{
    static char version[XEN_EXTRAVERSION_LEN];

    vpage(PG_K)[7] = tag;
    *(volatile uint64_t *)(LOW_VA + 8) = tag;
    /* The result lands in page H itself: Mica's copy faults on the protected entry. */
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, (char *)pool_page(PG_H) + 64), 0);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, version), 0);
    CHECK(!memcmp((char *)pool_page(PG_H) + 64, version, sizeof(version)),
          "the hypercall result in page H differs from a second copy");
}

static enum result client(void)
{
    volatile uint64_t *ctl = vpage(PG_CTL);

    trap_hooks[14] = pf_hook;
    REQUIRE_EQ(gnt_init(), 0);
    REQUIRE_EQ(map_low(), 0);
    for (unsigned i = PG_CTL; i <= PG_CL; i++)
        memset(pool_page(i), 0x11, 4096);
    *(volatile uint64_t *)LOW_VA = 0x5555;
    CHECK_EQ(vpage(PG_U)[0], 0x5555);
    ctl[C_NR_PAGES] = start_info->nr_pages;
    for (unsigned r = 0; r < NR_ROUTES; r++)
        ctl[C_PFN0 + r] = m2p(pool_mfn(r == R_CTL ? PG_CTL : PG_K + r));
    gnt_grant(REF_CTL, 0, pool_mfn(PG_CTL), GTF_permit_access);
    gnt_grant(REF_GC, 0, pool_mfn(PG_GC), GTF_permit_access);
    gnt_grant(REF_GM, 0, pool_mfn(PG_GM), GTF_permit_access);
    ctl[C_PHASE] = 1;

    /* Round 1, after dom0 enabled log-dirty and cleaned once. */
    if (!wait_word(&ctl[C_PHASE], 2, WAIT_NS))
        goto lost;
    dirty_routes(0x1001);
    ctl[C_USER_FAULTS] = user_faults;
    ctl[C_PHASE] = 3;
    /* Round 2, after a CLEAN: every route is caught again. */
    if (!wait_word(&ctl[C_PHASE], 4, WAIT_NS))
        goto lost;
    dirty_routes(0x2002);
    ctl[C_USER_FAULTS] = user_faults;
    ctl[C_PHASE] = 5;
    /* Logging is off: every page writable again, through both halves. */
    if (!wait_word(&ctl[C_PHASE], 6, WAIT_NS))
        goto lost;
    dirty_routes(0x3003);
    CHECK_EQ(vpage(PG_K)[7], 0x3003);
    CHECK_EQ(vpage(PG_U)[1], 0x3003);
    CHECK_EQ(*(volatile uint64_t *)(LOW_VA + 8), 0x3003);
    CHECK_EQ(vpage(PG_GC)[3], 0xc0c0c0c0);
    CHECK_EQ(vpage(PG_GM)[5], 0x9a9a);
    ctl[C_USER_FAULTS] = user_faults;
    printk("client: %u user-half write faults came to the guest\n", user_faults);
    ctl[C_PHASE] = 7;
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
lost:
    printk("client: dom0 stopped answering (phase %lu)\n", (unsigned long)ctl[C_PHASE]);
    return RESULT_FAILURE;
}

/* ---- dom0: the toolstack ---- */

static struct xen_domctl op;
static uint8_t bitmap[8192];

static long shadow(uint16_t dom, uint32_t sop, uint32_t mode, uint8_t *bm, uint64_t pages)
{
    memset(&op, 0, sizeof(op));
    op.u.shadow_op.op = sop;
    op.u.shadow_op.mode = mode;
    op.u.shadow_op.dirty_bitmap = (uint64_t)bm;
    op.u.shadow_op.pages = pages;
    return domctl_call(&op, XEN_DOMCTL_shadow_op, dom);
}

static uint64_t nr_pages, pfns[NR_ROUTES];

static bool bit(uint64_t pfn)
{
    return (bitmap[pfn / 8] >> (pfn % 8)) & 1;
}

/* PEEK or CLEAN into bitmap; checks the call and the size answered. */
static void read_bitmap(uint32_t sop, const char *what)
{
    memset(bitmap, 0xee, sizeof(bitmap));
    CHECK_EQ(shadow(1, sop, 0, bitmap, nr_pages), 0);
    CHECK_EQ(op.u.shadow_op.pages, nr_pages);
    printk("server: %s: faults %u, dirty %u;", what, op.u.shadow_op.stats.fault_count,
           op.u.shadow_op.stats.dirty_count);
    for (unsigned r = 0; r < NR_ROUTES; r++)
        printk(" %s=%u", route_name[r], bit(pfns[r]));
    printk("\n");
}

/*
 * Mica's MICA_DOMCTL_logdirty_final: the final CLEAN gives the kernel
 * entries it protected their RW back (route K's page among them, made
 * read-only by the last CLEAN) and lists their L1 tables with the slots
 * (the shadow_op's CLEAN would list none).  Bad arguments first.
 */
static struct mica_logdirty_rw rw[8];

static void final_with_list(void)
{
    struct mica_domctl_logdirty_final f;
    unsigned slots = 0;

    memset(&f, 0, sizeof(f));
    f.rw_max = MICA_LOGDIRTY_RW_MAX + 1;
    memset(&op, 0, sizeof(op));
    memcpy(op.u.pad, &f, sizeof(f));
    CHECK_EQ(domctl_call(&op, MICA_DOMCTL_logdirty_final, 1), -XEN_EINVAL);
    f.rw_max = 0;
    f.pad = 1;
    memcpy(op.u.pad, &f, sizeof(f));
    CHECK_EQ(domctl_call(&op, MICA_DOMCTL_logdirty_final, 1), -XEN_EINVAL);
    memset(&f, 0, sizeof(f));
    memset(bitmap, 0, sizeof(bitmap));
    f.dirty_bitmap = (uint64_t)bitmap;
    f.pages = nr_pages;
    f.rw_tables = (uint64_t)rw;
    f.rw_max = 8;
    memset(&op, 0, sizeof(op));
    memcpy(op.u.pad, &f, sizeof(f));
    CHECK_EQ(domctl_call(&op, MICA_DOMCTL_logdirty_final, 1), 0);
    memcpy(&f, op.u.pad, sizeof(f));
    CHECK(f.rw_nr >= 1 && f.rw_nr <= 8, "rw_nr %u", f.rw_nr);
    for (uint32_t i = 0; i < f.rw_nr && i < 8; i++) {
        for (unsigned n = 0; n < 512; n++)
            slots += (unsigned)((rw[i].slots[n / 64] >> (n % 64)) & 1);
        /* It may be in the bitmap too: a kernel write fault since the last
           CLEAN (domain 1 runs meanwhile) marks its table dirty. */
        CHECK(rw[i].pfn < nr_pages, "listed table pfn %#lx", (unsigned long)rw[i].pfn);
    }
    CHECK(slots >= 1, "%u slots listed", slots);
    printk("server: final CLEAN with a list: %u tables, %u entries made writable, dirty %u\n",
           f.rw_nr, slots, f.dirty_count);
}

/* Every route in `want` (a bit per route) set, every other one clear. */
static void expect_routes(unsigned want, unsigned care, const char *what)
{
    for (unsigned r = 0; r < NR_ROUTES; r++) {
        if (!(care & (1u << r)))
            continue;
        CHECK(bit(pfns[r]) == !!(want & (1u << r)), "%s: page %s (pfn %#lx) is %s", what,
              route_name[r], (unsigned long)pfns[r], bit(pfns[r]) ? "dirty" : "clean");
    }
}

static unsigned count_bits(void)
{
    unsigned n = 0;

    for (uint64_t i = 0; i < nr_pages; i++)
        n += bit(i);
    return n;
}

#define ALL_ROUTES ((1u << NR_ROUTES) - 1)
#define BIT(r) (1u << (r))

static enum result server(void)
{
    volatile uint64_t *ctl = (volatile uint64_t *)pool[PG_PEER];
    uint32_t h = ~0u, hm = ~0u;
    uint64_t end = system_time_ns() + WAIT_NS;
    int16_t st;

    while ((st = gnt_map((uint64_t)ctl, GNTMAP_host_map, REF_CTL, 1, &h, NULL)) != GNTST_okay &&
           system_time_ns() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    REQUIRE_EQ(st, GNTST_okay);
    if (!wait_word(&ctl[C_PHASE], 1, WAIT_NS)) {
        printk("server: domain 1 never got ready\n");
        return RESULT_FAILURE;
    }
    nr_pages = ctl[C_NR_PAGES];
    REQUIRE(nr_pages > 0 && nr_pages <= sizeof(bitmap) * 8, "domain 1 has %lu pages",
            (unsigned long)nr_pages);
    for (unsigned r = 0; r < NR_ROUTES; r++) {
        pfns[r] = ctl[C_PFN0 + r];
        REQUIRE(pfns[r] < nr_pages, "route %s pfn %#lx", route_name[r], (unsigned long)pfns[r]);
    }

    /* Refusals and the pool-size calls, as Xen answers them. */
    CHECK_EQ(shadow(0, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0), -XEN_EINVAL);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_ENABLE_TEST, 0, NULL, 0), -XEN_EINVAL);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_REFCOUNT, NULL, 0),
             -XEN_EINVAL);
    CHECK_EQ(shadow(1, 99, 0, NULL, 0), -XEN_EINVAL);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION, 0, NULL, 0), 0);
    CHECK_EQ(op.u.shadow_op.mb, 0);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0), 0);      /* not on: fine */
    /* Off: PEEK answers an empty bitmap of the size asked. */
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek while off");
    CHECK_EQ(count_bits(), 0);

    /* As libxc: enable, then a first CLEAN (round 0 sends everything anyway). */
    REQUIRE_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY, NULL, 0), 0);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0), -XEN_EINVAL);
    read_bitmap(XEN_DOMCTL_SHADOW_OP_CLEAN, "clean after enable");
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek after clean");
    expect_routes(0, ALL_ROUTES, "after the first CLEAN");

    /* Round 1: domain 1's routes, then dom0's two. */
    ctl[C_PHASE] = 2;
    if (!wait_word(&ctl[C_PHASE], 3, WAIT_NS))
        goto lost;
    struct gnttab_copy c = { .source = { .u.gmfn = va_to_mfn(pool[PG_PEER + 1]), .domid = DOMID_SELF },
                             .dest = { .u.ref = REF_GC, .domid = 1, .offset = 24 }, .len = 8,
                             .flags = GNTCOPY_dest_gref };
    pool_page(PG_PEER + 1)[0] = 0xc0c0c0c0;
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_okay);
    REQUIRE_EQ(gnt_map((uint64_t)pool[PG_PEER + 2], GNTMAP_host_map, REF_GM, 1, &hm, NULL), GNTST_okay);
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek, round 1, grant still mapped");
    pool_page(PG_PEER + 2)[5] = 0x9a9a;
    CHECK_EQ(gnt_unmap((uint64_t)pool[PG_PEER + 2], 0, hm), GNTST_okay);
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek, round 1");
    expect_routes(ALL_ROUTES & ~BIT(R_CL), ALL_ROUTES, "round 1");
    CHECK(op.u.shadow_op.stats.dirty_count >= 6, "dirty_count %u", op.u.shadow_op.stats.dirty_count);
    /* K and ctl by the guest's stores, H by Mica's copy: at least three resolved faults. */
    CHECK(op.u.shadow_op.stats.fault_count >= 3, "fault_count %u", op.u.shadow_op.stats.fault_count);
    CHECK_EQ(ctl[C_USER_FAULTS], 1);      /* U's fault went to the guest */
    unsigned round1 = count_bits();
    read_bitmap(XEN_DOMCTL_SHADOW_OP_CLEAN, "clean, round 1");
    expect_routes(ALL_ROUTES & ~BIT(R_CL), ALL_ROUTES, "clean, round 1");
    CHECK(count_bits() >= round1, "CLEAN returned %u bits, PEEK %u", count_bits(), round1);
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek after clean");
    expect_routes(0, ALL_ROUTES, "after CLEAN");
    CHECK_EQ(op.u.shadow_op.stats.dirty_count, count_bits());

    /* Round 2: the guest's routes are write-protected again. */
    ctl[C_PHASE] = 4;
    if (!wait_word(&ctl[C_PHASE], 5, WAIT_NS))
        goto lost;
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek, round 2");
    expect_routes(BIT(R_K) | BIT(R_U) | BIT(R_H) | BIT(R_CTL), ALL_ROUTES, "round 2");
    CHECK_EQ(ctl[C_USER_FAULTS], 2);
    /* A CLEAN without a buffer: stats only, and the bits are forgotten. */
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_CLEAN, 0, NULL, nr_pages), 0);
    CHECK(op.u.shadow_op.stats.dirty_count >= 4, "dirty_count %u", op.u.shadow_op.stats.dirty_count);
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek after a clean without buffer");
    expect_routes(0, ALL_ROUTES & ~BIT(R_CTL), "after a CLEAN without buffer");
    /*
     * The final round of a save asks with LOGDIRTY_FINAL: pages others
     * still map writable count too, here the control page dom0 keeps
     * mapped through its grant (written by dom0 since its last report).
     */
    memset(bitmap, 0, sizeof(bitmap));
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_PEEK, XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL, bitmap, nr_pages), 0);
    printk("server: peek with LOGDIRTY_FINAL: K=%u U=%u H=%u GC=%u GM=%u CL=%u ctl=%u\n",
           bit(pfns[R_K]), bit(pfns[R_U]), bit(pfns[R_H]), bit(pfns[R_GC]), bit(pfns[R_GM]),
           bit(pfns[R_CL]), bit(pfns[R_CTL]));
    expect_routes(BIT(R_CTL), ALL_ROUTES, "LOGDIRTY_FINAL");
    final_with_list();

    /* Off, twice; PEEK then answers nothing. */
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0), 0);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0), 0);
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek after off");
    CHECK_EQ(count_bits(), 0);
    CHECK_EQ(shadow(1, XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION, 0, NULL, 0), 0);

    ctl[C_PHASE] = 6;
    if (!wait_word(&ctl[C_PHASE], 7, WAIT_NS))
        goto lost;
    read_bitmap(XEN_DOMCTL_SHADOW_OP_PEEK, "peek after off, guest wrote everything");
    CHECK_EQ(count_bits(), 0);
    printk("server: domain 1 saw %lu user-half write faults\n", (unsigned long)ctl[C_USER_FAULTS]);

    /* Destroy it with its write-protect records still there. */
    CHECK_EQ(gnt_unmap((uint64_t)ctl, 0, h), GNTST_okay);
    domain_wait_shutdown(&op, 1, WAIT_NS);
    CHECK_EQ(domctl_fresh(&op, XEN_DOMCTL_destroydomain, 1), 0);
    printk("server: domain 1 destroyed\n");
    return RESULT_SUCCESS;
lost:
    printk("server: domain 1 stopped answering (phase %lu)\n", (unsigned long)ctl[C_PHASE]);
    return RESULT_FAILURE;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);      /* shared_info: the time, and CR2 */
    return (start_info->flags & SIF_INITDOMAIN) ? server() : client();
}
