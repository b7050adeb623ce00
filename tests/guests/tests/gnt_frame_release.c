/*
 * A domain's grant-table frames are the hypervisor's, shared with it: the
 * guest may map them, but never give them back or trade them.  If
 * decrease_reservation freed one, the hypervisor would go on writing grant
 * status flags into a frame the allocator hands to someone else (and a
 * later increase_reservation could give it back to us as ordinary memory,
 * to be typed as a page table).  Same for XENMEM_exchange.
 *
 * Checked: neither call frees or trades a grant frame (Xen 4.17 reports
 * decrease_reservation of one done but keeps the frame for the table and
 * takes it from the guest; Mica refuses it); our reservation does not
 * move (grant frames were never counted in it); the table still holds a
 * grant written before; a page we get back from increase_reservation is
 * never a grant frame.
 */
#define MMU_POOL_PAGES 24
#include "gnt_common.h"
#include <public/memory.h>

#define RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)
#define GRANTED_PAGE 10
#define MAP_SLOT     12

static long decrease1(uint64_t mfn)
{
    static uint64_t list[1];
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)list, .nr_extents = 1, .domid = DOMID_SELF,
    };

    list[0] = mfn;
    return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
}

static long increase1(uint64_t *mfn)
{
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)mfn, .nr_extents = 1, .domid = DOMID_SELF,
    };

    return HYPERVISOR_memory_op(XENMEM_increase_reservation, &r);
}

static long exchange1(uint64_t in_mfn, uint64_t *out_mfn)
{
    static uint64_t in[1];
    struct xen_memory_exchange x = {
        .in = { .extent_start = (uint64_t)in, .nr_extents = 1, .domid = DOMID_SELF },
        .out = { .extent_start = (uint64_t)out_mfn, .nr_extents = 1, .domid = DOMID_SELF },
    };

    in[0] = in_mfn;
    return HYPERVISOR_memory_op(XENMEM_exchange, &x);
}

static long reservation(void)
{
    struct xen_memory_domain self = { .domid = DOMID_SELF };
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

/* The table still holds grant 5, written before: mapping it works. */
static void check_table_alive(const char *after)
{
    uint32_t handle = 0;
    int16_t st;

    printk("grant table after %s\n", after);
    st = gnt_map((uint64_t)pool[MAP_SLOT], GNTMAP_host_map, 5, DOMID_ME, &handle, NULL);
    CHECK_EQ(st, GNTST_okay);
    if (st == GNTST_okay) {
        CHECK_EQ(pool_page(MAP_SLOT)[3], 0x6e7);
        CHECK_EQ(gnt_unmap((uint64_t)pool[MAP_SLOT], 0, handle), GNTST_okay);
    }
}

enum result test_main(void)
{
    uint64_t got;
    long cur, rc;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    pool_page(GRANTED_PAGE)[3] = 0x6e7;
    gnt_grant(5, DOMID_ME, pool_mfn(GRANTED_PAGE), GTF_permit_access);
    check_table_alive("setup");
    cur = reservation();
    REQUIRE(cur > 0, "current_reservation %ld", cur);

    /* Unmapped first, so that nothing but the table holds the frame. */
    REQUIRE_EQ(map_mfn(pool[0], 0, 0), 0);
    rc = decrease1(gnt_mfns[0]);
    printk("decrease_reservation of grant frame %#lx: %ld\n", gnt_mfns[0], rc);
    /* Xen 4.17 reports it done and takes the frame from the domain (it stays
     * Xen's, and the guest cannot map it any more); Mica refuses. */
    CHECK(rc == 0 || rc == 1, "decrease_reservation: %ld", rc);
    CHECK_EQ(reservation(), cur);
    /* Whatever the allocator hands out now must not be the table. */
    got = ~0UL;
    CHECK_EQ(increase1(&got), 1);
    printk("increase_reservation gave %#lx\n", got);
    CHECK(got != gnt_mfns[0] && got != gnt_mfns[1], "got a grant frame back: %#lx", got);
    CHECK_EQ(decrease1(got), 1);
    CHECK_EQ(reservation(), cur);
    check_table_alive("decrease_reservation");
    if (rc == 0)
        CHECK_EQ(map_mfn(pool[0], gnt_mfns[0], RW), 0);

    /* XENMEM_exchange takes only frames that are plainly ours. */
    REQUIRE_EQ(map_mfn(pool[0], 0, 0), 0);
    got = ~0UL;
    rc = exchange1(gnt_mfns[1], &got);
    printk("exchange of grant frame %#lx: %ld, out %#lx\n", gnt_mfns[1], rc, got);
    CHECK(rc < 0 || got == ~0UL, "exchange took a grant frame: %ld, out %#lx", rc, got);
    CHECK_EQ(reservation(), cur);
    check_table_alive("exchange");

    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
