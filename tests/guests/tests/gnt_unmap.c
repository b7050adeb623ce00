/*
 * unmap_grant_ref and unmap_and_replace: bad and stale handles, double
 * unmap, wrong host or bus addresses, the "nothing to do" unmap, moving
 * a PTE into a grant's place, and a grant PTE the guest overwrites itself
 * with update_va_mapping (allowed, as on Xen; the grant then cannot be
 * unmapped and stays in use).
 */
#include "gnt_common.h"

#define DATA 4
#define AT   12

static uint64_t pte_of(void *va)
{
    uint64_t pte = 0;

    lookup_pte((uint64_t)va, &pte);
    return pte;
}

enum result test_main(void)
{
    uint32_t h = ~0u, h2 = ~0u;
    uint64_t bus = 0;
    uint64_t at = (uint64_t)pool[AT], at2 = (uint64_t)pool[AT + 1];
    struct gnttab_unmap_and_replace r;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    memset(pool[DATA], 0x44, 4096);
    memset(pool[AT + 1], 0x55, 4096);
    gnt_grant(10, DOMID_ME, pool_mfn(DATA), GTF_permit_access);

    /* Handles that were never given out. */
    CHECK_EQ(gnt_unmap(at, 0, 0xffffffffu), GNTST_bad_handle);
    CHECK_EQ(gnt_unmap(at, 0, 100000), GNTST_bad_handle);

    REQUIRE_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, &bus), GNTST_okay);
    CHECK_EQ(gnt_unmap(at, 0, h ^ 1), GNTST_bad_handle);       /* a neighbour, unused */
    /* The wrong address: not where this grant is mapped. */
    CHECK_EQ(gnt_unmap(at2, 0, h), GNTST_general_error);
    CHECK_EQ(pte_of((void *)at2) & PTE_ADDR, pool_mfn(AT + 1) << 12);
    /* A bus address on a host-only mapping is ignored; zero addresses do nothing. */
    CHECK_EQ(gnt_unmap(0, 0, h), GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_okay);
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(((volatile uint8_t *)at)[9], 0x44);
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_okay);
    /* Twice. */
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_bad_handle);
    CHECK_EQ(gnt[10].flags, GTF_permit_access);
    CHECK_EQ(pool_rw(AT), 0);

    /* device_map: a wrong bus address. */
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map, 10, DOMID_ME, &h, &bus), GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus + 4096, h), GNTST_bad_dev_addr);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_okay);
    CHECK_EQ(gnt_unmap(0, bus, h), GNTST_bad_handle);

    /* A batch with a bad handle in the middle: every element gets its own status. */
    struct gnttab_unmap_grant_ref u[3];
    uint32_t ha = ~0u, hb = ~0u;
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 10, DOMID_ME, &ha, &bus), GNTST_okay);
    REQUIRE_EQ(gnt_map(0, GNTMAP_device_map | GNTMAP_readonly, 10, DOMID_ME, &hb, &bus), GNTST_okay);
    u[0] = (struct gnttab_unmap_grant_ref){ .dev_bus_addr = bus, .handle = ha, .status = 7 };
    u[1] = (struct gnttab_unmap_grant_ref){ .dev_bus_addr = bus, .handle = 99999, .status = 7 };
    u[2] = (struct gnttab_unmap_grant_ref){ .dev_bus_addr = bus, .handle = hb, .status = 7 };
    CHECK_EQ(gntop(GNTTABOP_unmap_grant_ref, u, 3), 0);
    CHECK_EQ(u[0].status, GNTST_okay);
    CHECK_EQ(u[1].status, GNTST_bad_handle);
    CHECK_EQ(u[2].status, GNTST_okay);
    CHECK_EQ(gnt[10].flags, GTF_permit_access);
    /* Unreadable lists. */
    CHECK_EQ(gntop(GNTTABOP_unmap_grant_ref, (void *)0x1000, 1), -XEN_EFAULT);
    CHECK_EQ(gntop(GNTTABOP_unmap_grant_ref, (void *)0xffff830000000000UL, 1), -XEN_EFAULT);

    /* unmap_and_replace: at2's PTE moves into the grant's place, at2 is cleared. */
    uint64_t at2_pte = pte_of((void *)at2);
    REQUIRE_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, NULL), GNTST_okay);
    r = (struct gnttab_unmap_and_replace){ .host_addr = at, .new_addr = at2, .handle = h, .status = 7 };
    CHECK_EQ(gntop(GNTTABOP_unmap_and_replace, &r, 1), 0);
    CHECK_EQ(r.status, GNTST_okay);
    CHECK_EQ(pte_of((void *)at) & PTE_ADDR, at2_pte & PTE_ADDR);
    CHECK(!(pte_of((void *)at2) & PTE_P), "new_addr still mapped: %#lx", pte_of((void *)at2));
    flush_va(at);
    CHECK_EQ(((volatile uint8_t *)at)[3], 0x55);
    CHECK_EQ(gnt[10].flags, GTF_permit_access);
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_bad_handle);
    CHECK_EQ(pool_rw(AT), 0);
    CHECK_EQ(pool_rw(AT + 1), 0);
    /* Not with a PTE address. */
    REQUIRE_EQ(gnt_map(pte_ma((void *)at), GNTMAP_host_map | GNTMAP_contains_pte, 10, DOMID_ME,
                       &h, NULL), GNTST_okay);
    r = (struct gnttab_unmap_and_replace){ .host_addr = pte_ma((void *)at), .new_addr = at2,
                                           .handle = h, .status = 7 };
    CHECK_EQ(gntop(GNTTABOP_unmap_and_replace, &r, 1), 0);
    CHECK_EQ(r.status, GNTST_general_error);
    CHECK_EQ(gnt_unmap(pte_ma((void *)at), 0, h), GNTST_okay);
    CHECK_EQ(pool_rw(AT), 0);

    /* Two mappings of one grant, unmapped crosswise: same frame and rights, so allowed. */
    REQUIRE_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, NULL), GNTST_okay);
    REQUIRE_EQ(gnt_map(at2, GNTMAP_host_map, 10, DOMID_ME, &h2, NULL), GNTST_okay);
    CHECK_EQ(gnt_unmap(at2, 0, h), GNTST_okay);
    CHECK_EQ(gnt_unmap(at, 0, h2), GNTST_okay);
    CHECK_EQ(gnt[10].flags, GTF_permit_access);
    CHECK_EQ(pool_rw(AT), 0);
    CHECK_EQ(pool_rw(AT + 1), 0);
    /* A read-only mapping cannot be unmapped as the writable one's address. */
    REQUIRE_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, NULL), GNTST_okay);
    REQUIRE_EQ(gnt_map(at2, GNTMAP_host_map | GNTMAP_readonly, 10, DOMID_ME, &h2, NULL), GNTST_okay);
    CHECK_EQ(gnt_unmap(at, 0, h2), GNTST_general_error);
    CHECK_EQ(gnt_unmap(at2, 0, h2), GNTST_okay);
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_okay);
    CHECK_EQ(pool_rw(AT), 0);
    CHECK_EQ(pool_rw(AT + 1), 0);

    /* The guest zaps the grant PTE itself: allowed, but the grant stays in use. */
    REQUIRE_EQ(gnt_map(at, GNTMAP_host_map, 10, DOMID_ME, &h, NULL), GNTST_okay);
    CHECK_EQ(HYPERVISOR_update_va_mapping(at, 0, UVMF_INVLPG), 0);
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_general_error);
    CHECK_EQ(gnt[10].flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK(!gnt_revoke(10), "revoked a grant still pinned");
    /* Remapping the address by hand does not make the old handle valid again. */
    CHECK_EQ(pool_rw(AT), 0);
    CHECK_EQ(gnt_unmap(at, 0, h), GNTST_general_error);
    return RESULT_SUCCESS;
}
