/*
 * (Mica only: Xen has no way to start a second domain at boot.)
 * Grants between two domains, and what happens when one of them dies.
 *
 *   dom0 grants its page P (ref 8) to domain 1; domain 1 maps it, checks
 *     dom0's pattern, writes an answer, is refused a forged mapping of P
 *     and a ref granted to someone else, unmaps, maps it again and keeps
 *     it mapped; it grants its own page Q (ref 8) to dom0 and says so in Q.
 *   dom0 maps Q, sees the answer in P and P's entry flagged in use (it
 *     cannot revoke it), tells domain 1 to go, waits for it to shut down
 *     and destroys it.  Then: P's entry is free again (the dead mapper's
 *     mapping was released) and revocable; Q is still mapped with domain
 *     1's data; a new mapping of domain 1's grant is refused; all the
 *     memory dom0 can get afterwards never includes Q's frame while it is
 *     mapped; unmapping Q still works.
 *
 * One kernel, two roles chosen by start_info's flags.  dom0's result line
 * is the test's.
 */
#include "../tests/gnt_common.h"
#include <public/domctl.h>
#include <public/memory.h>

#define PG_P   4        /* dom0's granted page */
#define PG_Q   4        /* domain 1's granted page */
#define AT     12       /* where the other side's page is mapped */
#define WAIT_NS 20000000000UL

static volatile uint64_t *peer(void) { return (volatile uint64_t *)pool[AT]; }


/* Maps domain dom's ref at AT, retrying while the peer is still setting up. */
static int16_t map_peer(uint16_t dom, uint32_t ref, uint32_t *h, uint64_t *bus)
{
    uint64_t end = system_time_ns() + WAIT_NS;
    int16_t st;

    while ((st = gnt_map((uint64_t)pool[AT], GNTMAP_host_map, ref, dom, h, bus)) != GNTST_okay &&
           system_time_ns() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    return st;
}

static enum result client(void)
{
    volatile uint64_t *q = (volatile uint64_t *)pool[PG_Q];
    uint32_t h = ~0u;
    uint64_t bus = 0, pte = 0;

    REQUIRE_EQ(gnt_init(), 0);
    q[0] = 0;
    for (unsigned i = 1; i < 512; i++)
        q[i] = 0x3333000000000000UL | i;
    gnt_grant(8, 0, pool_mfn(PG_Q), GTF_permit_access);

    REQUIRE_EQ(map_peer(0, 8, &h, &bus), GNTST_okay);
    CHECK_EQ(peer()[0], 0xa5a5a5a5a5a5a5a5UL);
    peer()[1] = 0x2222;
    /* Forging: P's frame in a PTE of our own making, with or without the grant bit. */
    CHECK(HYPERVISOR_update_va_mapping((uint64_t)pool[AT + 1], bus | PTE_P | PTE_US | PTE_A, 0) < 0,
          "mapped dom0's frame directly");
    CHECK(HYPERVISOR_update_va_mapping((uint64_t)pool[AT + 1],
                                       bus | PTE_P | PTE_US | PTE_A | (1UL << 62), 0) < 0,
          "forged a grant PTE");
    CHECK(mmu1(pte_ma(pool[AT + 1]), bus | PTE_P | PTE_US | PTE_A | (1UL << 62)) < 0,
          "forged a grant PTE by mmu_update");
    /* Our grant PTE cannot be turned into an ordinary mapping of the frame. */
    lookup_pte((uint64_t)pool[AT], &pte);
    CHECK(mmu1(pte_ma(pool[AT]), pte & ~(1UL << 62)) < 0, "grant bit cleared by mmu_update");
    CHECK_EQ(mmu1(pte_ma(pool[AT]), pte | PTE_D), 0);     /* A/D changes are fine */
    /* Not ours to map: granted to domain 2; beyond the table; from DOMID_SELF. */
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map, 9, 0, NULL, NULL), GNTST_general_error);
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map, 5000, 0, NULL, NULL), GNTST_bad_gntref);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_bad_handle);
    /* Copy into dom0's page through the grant. */
    struct gnttab_copy c = { .source = { .u.gmfn = pool_mfn(PG_Q), .domid = DOMID_SELF, .offset = 16 },
                             .dest = { .u.ref = 8, .domid = 0, .offset = 16 }, .len = 8,
                             .flags = GNTCOPY_dest_gref };
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_okay);
    /* Mapped again, and kept so: our death must release it. */
    REQUIRE_EQ(map_peer(0, 8, &h, &bus), GNTST_okay);
    q[0] = 1;
    if (!wait_word(&q[0], 2, WAIT_NS)) {
        printk("client: dom0 never answered\n");
        return RESULT_FAILURE;
    }
    printk("client: done, dying with dom0's page mapped\n");
    return RESULT_SUCCESS;
}

static struct xen_domctl op;

static long domctl(uint32_t cmd, domid_t dom) { return domctl_fresh(&op, cmd, dom); }

static uint64_t extents[512];

static enum result server(void)
{
    volatile uint64_t *p = (volatile uint64_t *)pool[PG_P];
    uint32_t h = ~0u;
    uint64_t qbus = 0;

    REQUIRE_EQ(gnt_init(), 0);
    for (unsigned i = 0; i < 512; i++)
        p[i] = 0xa5a5a5a5a5a5a5a5UL;
    gnt_grant(9, 2, pool_mfn(PG_P), GTF_permit_access);
    gnt_grant(8, 1, pool_mfn(PG_P), GTF_permit_access);

    REQUIRE_EQ(map_peer(1, 8, &h, &qbus), GNTST_okay);
    if (!wait_word(&peer()[0], 1, WAIT_NS)) {
        printk("server: domain 1 never got ready\n");
        return RESULT_FAILURE;
    }
    CHECK_EQ(p[1], 0x2222);
    CHECK_EQ(p[2], 0x3333000000000002UL);          /* its grant copy */
    CHECK_EQ(gnt[8].flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK(!gnt_revoke(8), "revoked a grant domain 1 has mapped");
    CHECK_EQ(gnt[9].flags, GTF_permit_access);
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map, 9, 1, NULL, NULL), GNTST_general_error);
    peer()[0] = 2;

    /* Wait for domain 1 to shut down, then destroy it. */
    domain_wait_shutdown(&op, 1, WAIT_NS);
    REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, 1), 0);
    printk("server: domain 1 destroyed with dom0's page mapped and its own page mapped by dom0\n");

    /* The dead mapper's mapping is gone: the entry is at rest and revocable. */
    CHECK_EQ(gnt[8].flags, GTF_permit_access);
    CHECK(gnt_revoke(8), "could not revoke after the mapper died");
    /* The dead granter's page is still there for us. */
    CHECK_EQ(peer()[0], 2);
    CHECK_EQ(peer()[100], 0x3333000000000064UL);
    peer()[100] = 0x4444;
    CHECK_EQ(peer()[100], 0x4444);
    /* No new mappings of a dead domain's grants. */
    CHECK_EQ(gnt_map((uint64_t)pool[AT + 1], GNTMAP_host_map, 8, 1, NULL, NULL), GNTST_bad_domain);
    struct gnttab_copy c = { .source = { .u.ref = 8, .domid = 1 },
                             .dest = { .u.gmfn = pool_mfn(PG_P), .domid = DOMID_SELF },
                             .len = 8, .flags = GNTCOPY_source_gref };
    CHECK_EQ(gntop(GNTTABOP_copy, &c, 1), 0);
    CHECK_EQ(c.status, GNTST_bad_domain);

    /* Every frame we can get now: never Q's while we map it. */
    unsigned long got = 0, seen = 0;
    for (;;) {
        struct xen_memory_reservation r = { .nr_extents = 512, .extent_order = 0,
                                            .domid = DOMID_SELF };
        r.extent_start = (uint64_t)extents;
        long n = HYPERVISOR_memory_op(XENMEM_increase_reservation, &r);
        for (long i = 0; i < n; i++)
            seen += extents[i] == qbus >> 12;
        got += n > 0 ? (unsigned long)n : 0;
        if (n < 512)
            break;
    }
    printk("server: took %lu more frames after domain 1 died\n", got);
    CHECK(got >= 4096, "only %lu frames came back from domain 1", got);
    CHECK_EQ(seen, 0);
    CHECK_EQ(peer()[100], 0x4444);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_bad_handle);
    return RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);      /* shared_info, for the time */
    return (start_info->flags & SIF_INITDOMAIN) ? server() : client();
}
