/*
 * Grant mapping of our own grants: host_map by virtual address and by PTE
 * machine address (contains_pte, as Linux's gntdev maps into user space),
 * read-only and writable, device_map's bus address, application_map, and
 * the GTF_reading/GTF_writing flags while a grant is in use.
 */
#include "gnt_common.h"

#define DATA   4        /* pool pages granted */
#define AT     12       /* pool pages whose addresses the grants are mapped at */
#define L1_OFF(va) ((((va) >> 12) & 511) * 8)

static uint64_t pte_of(void *va)
{
    uint64_t pte = 0;

    lookup_pte((uint64_t)va, &pte);
    return pte;
}

enum result test_main(void)
{
    uint32_t h = ~0u, h2 = ~0u;
    uint64_t bus = 0, pte;
    volatile uint8_t *at = pool[AT], *at2 = pool[AT + 1];

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    for (unsigned i = 0; i < 4; i++)
        memset(pool[DATA + i], 0x10 + i, 4096);

    /* Writable host mapping at a linear address. */
    gnt_grant(10, DOMID_ME, pool_mfn(DATA), GTF_permit_access);
    REQUIRE_EQ(gnt_map((uint64_t)at, GNTMAP_host_map, 10, DOMID_ME, &h, &bus), GNTST_okay);
    CHECK_EQ(bus, pool_mfn(DATA) << 12);
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_reading | GTF_writing);
    pte = pte_of((void *)at);
    CHECK_EQ((pte & PTE_ADDR) >> 12, pool_mfn(DATA));
    CHECK((pte & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW), "pte %#lx", pte);
    CHECK_EQ(at[100], 0x10);
    at[100] = 0xaa;
    CHECK_EQ(((volatile uint8_t *)pool[DATA])[100], 0xaa);
    /* In use: Linux's revocation protocol must fail. */
    CHECK(!gnt_revoke(10), "revoked an entry in use");
    CHECK_EQ(gnt_unmap((uint64_t)at, 0, h), GNTST_okay);
    CHECK_EQ(gnt[10].flags, GTF_permit_access);
    CHECK(!(pte_of((void *)at) & PTE_P), "pte %#lx left after unmap", pte_of((void *)at));
    CHECK(gnt_revoke(10), "could not revoke an unused entry");
    CHECK_EQ(pool_rw(AT), 0);

    /* Read-only grant, read-only map: reading only. */
    gnt_grant(11, DOMID_ME, pool_mfn(DATA + 1), GTF_permit_access | GTF_readonly);
    REQUIRE_EQ(gnt_map((uint64_t)at, GNTMAP_host_map | GNTMAP_readonly, 11, DOMID_ME, &h, NULL),
               GNTST_okay);
    CHECK_EQ(gnt[11].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    CHECK_EQ(at[5], 0x11);
    CHECK(!(pte_of((void *)at) & PTE_RW), "read-only grant mapped writable");
    probe_va = (uint64_t)at;
    TRAP_PROBE(PROBE_STORE);
    CHECK_EQ(last_trap.vector, 14);
    /* A second, writable, mapping of a read-only grant is refused. */
    CHECK_EQ(gnt_map((uint64_t)at2, GNTMAP_host_map, 11, DOMID_ME, &h2, NULL),
             GNTST_general_error);
    CHECK_EQ(gnt[11].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    CHECK_EQ(gnt_unmap((uint64_t)at, 0, h), GNTST_okay);
    CHECK_EQ(gnt[11].flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(pool_rw(AT), 0);

    /* A writable grant mapped read-only, then also writable: flags follow the pins. */
    gnt_grant(12, DOMID_ME, pool_mfn(DATA + 2), GTF_permit_access);
    REQUIRE_EQ(gnt_map((uint64_t)at, GNTMAP_host_map | GNTMAP_readonly, 12, DOMID_ME, &h, NULL),
               GNTST_okay);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_reading);
    REQUIRE_EQ(gnt_map((uint64_t)at2, GNTMAP_host_map, 12, DOMID_ME, &h2, NULL), GNTST_okay);
    CHECK(h != h2, "two mappings share handle %u", h);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
    at2[7] = 0x77;
    CHECK_EQ(at[7], 0x77);
    CHECK_EQ(gnt_unmap((uint64_t)at2, 0, h2), GNTST_okay);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_reading);
    CHECK_EQ(gnt_unmap((uint64_t)at, 0, h), GNTST_okay);
    CHECK_EQ(gnt[12].flags, GTF_permit_access);
    CHECK_EQ(pool_rw(AT), 0);
    CHECK_EQ(pool_rw(AT + 1), 0);

    /* By PTE machine address, as gntdev maps into user space. */
    uint64_t ma = pte_ma((void *)at);
    REQUIRE_EQ(gnt_map(ma, GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_application_map |
                       (1u << _GNTMAP_guest_avail0), 12, DOMID_ME, &h, &bus), GNTST_okay);
    CHECK_EQ(bus, pool_mfn(DATA + 2) << 12);
    pte = pte_of((void *)at);
    CHECK_EQ((pte & PTE_ADDR) >> 12, pool_mfn(DATA + 2));
    CHECK(pte & (1UL << 9), "guest avail bit 0 not in pte %#lx", pte);
    CHECK(pte & PTE_US, "application map without US: %#lx", pte);
    CHECK_EQ(at[7], 0x77);
    /* Unmapping by linear address a mapping made by PTE address is the same PTE. */
    CHECK_EQ(gnt_unmap(ma, 0, h), GNTST_okay);
    CHECK(!(pte_of((void *)at) & PTE_P), "pte left");
    CHECK_EQ(pool_rw(AT), 0);

    /* device_map: the bus address alone, undone by bus address. */
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map, 12, DOMID_ME, &h, &bus), GNTST_okay);
    CHECK_EQ(bus, pool_mfn(DATA + 2) << 12);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_okay);
    CHECK_EQ(gnt[12].flags, GTF_permit_access);

    /* device_map and host_map together; undone in two steps. */
    REQUIRE_EQ(gnt_map((uint64_t)at, GNTMAP_device_map | GNTMAP_host_map, 12, DOMID_ME, &h, &bus),
               GNTST_okay);
    CHECK_EQ(gnt_unmap((uint64_t)at, 0, h), GNTST_okay);
    CHECK_EQ(gnt[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_okay);
    CHECK_EQ(gnt[12].flags, GTF_permit_access);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_bad_handle);
    CHECK_EQ(pool_rw(AT), 0);

    /* A grant in the second table frame (ref 600). */
    gnt_grant(600, DOMID_ME, pool_mfn(DATA + 3), GTF_permit_access);
    REQUIRE_EQ(gnt_map((uint64_t)at, GNTMAP_host_map, 600, DOMID_ME, &h, NULL), GNTST_okay);
    CHECK_EQ(at[1], 0x13);
    CHECK_EQ(gnt_unmap((uint64_t)at, 0, h), GNTST_okay);
    CHECK_EQ(pool_rw(AT), 0);

    /* Our own page table, granted: read-only mapping yes, writable no. */
    uint64_t l1 = (uint64_t)pte_slot((uint64_t)at) & ~0xfffUL;
    gnt_grant(13, DOMID_ME, va_to_mfn((void *)l1), GTF_permit_access);
    CHECK_EQ(gnt_map((uint64_t)at2, GNTMAP_host_map, 13, DOMID_ME, &h, NULL), GNTST_general_error);
    CHECK_EQ(gnt[13].flags, GTF_permit_access);
    REQUIRE_EQ(gnt_map((uint64_t)at2, GNTMAP_host_map | GNTMAP_readonly, 13, DOMID_ME, &h, NULL),
               GNTST_okay);
    CHECK_EQ(*(volatile uint64_t *)(at2 + L1_OFF((uint64_t)at)), pte_of((void *)at));
    CHECK_EQ(gnt_unmap((uint64_t)at2, 0, h), GNTST_okay);
    CHECK_EQ(pool_rw(AT + 1), 0);
    return RESULT_SUCCESS;
}
