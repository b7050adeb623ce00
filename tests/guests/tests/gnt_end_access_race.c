/*
 * SMP race kernel (docs/smp.md): grant map/unmap racing the granter's
 * end of access.  vCPU 0 maps our own grants (refs 10..13, one page
 * each) writable, checks and writes through the mapping, and unmaps;
 * vCPU 1, the granter, keeps ending access to them the way Linux does
 * (compare-and-swap of the flags to 0, refused while GTF_reading or
 * GTF_writing is set) and granting them again.
 *
 * Checked: a map answers GNTST_okay or, for a revoked grant,
 * GNTST_general_error; while mapped the entry shows GTF_writing and the
 * mapping reaches the granted page; every unmap succeeds and leaves no
 * PTE; an end of access that succeeded never finds the grant mapped
 * (the mapper says "mapped" from its map's return to its unmap call, a
 * window inside the hypervisor's in-use marking); both sides make
 * progress.  At the end no flag is left in use, every page can be made
 * writable again and each granted page pinned as an L1 (no type
 * reference left), and physinfo's free pages are unchanged.
 */
#include "gnt_common.h"
#include "race_common.h"

#define NREF   4
#define REF0   10
#define DATA   4        /* pool pages granted: DATA..DATA+NREF-1 */
#define AT     12       /* where they are mapped: AT..AT+NREF-1 */
#define ROUNDS 600

static volatile unsigned mapped[NREF];
static volatile unsigned maps, refused, unmaps, revokes, busy, regrants, done_mapping;
static volatile unsigned bad_map, bad_flags, bad_data, bad_unmap, bad_pte, bad_revoke;

static void mapper(void)
{
    for (unsigned r = 0; r < ROUNDS; r++) {
        unsigned i = r % NREF;
        uint64_t at = (uint64_t)pool[AT + i];
        uint32_t h = ~0u;
        int16_t st = gnt_map(at, GNTMAP_host_map, REF0 + i, DOMID_ME, &h, NULL);

        if (st == GNTST_general_error) {
            refused++;
            continue;
        }
        if (st != GNTST_okay) {
            if (!bad_map)
                printk("round %u: map of ref %u: %d\n", r, REF0 + i, st);
            bad_map++;
            continue;
        }
        __atomic_store_n(&mapped[i], 1, __ATOMIC_SEQ_CST);
        maps++;
        uint16_t f = gnt[REF0 + i].flags;
        if ((f & (GTF_permit_access | GTF_writing)) != (GTF_permit_access | GTF_writing)) {
            if (!bad_flags)
                printk("round %u: ref %u mapped but its flags read %#x\n", r, REF0 + i, f);
            bad_flags++;
        }
        volatile uint64_t *p = (volatile uint64_t *)at;
        if (p[0] != 0xc0de0000UL + i) {
            if (!bad_data)
                printk("round %u: ref %u maps a page reading %#lx\n", r, REF0 + i, p[0]);
            bad_data++;
        }
        p[1] = r;
        __atomic_store_n(&mapped[i], 0, __ATOMIC_SEQ_CST);
        st = gnt_unmap(at, 0, h);
        if (st != GNTST_okay) {
            if (!bad_unmap)
                printk("round %u: unmap of ref %u: %d\n", r, REF0 + i, st);
            bad_unmap++;
        }
        uint64_t pte = 0;
        if (lookup_pte(at, &pte) && (pte & PTE_P)) {
            if (!bad_pte)
                printk("round %u: PTE %#lx left after the unmap\n", r, pte);
            bad_pte++;
        }
    }
    __atomic_store_n(&done_mapping, 1, __ATOMIC_SEQ_CST);
}

static void granter(void)
{
    unsigned spins = 0;

    while (!READ_ONCE(done_mapping)) {
        for (unsigned i = 0; i < NREF; i++) {
            unsigned ref = REF0 + i;
            if (gnt[ref].flags == 0) {
                gnt_grant(ref, DOMID_ME, pool_mfn(DATA + i), GTF_permit_access);
                regrants++;
            } else if (gnt_revoke(ref)) {
                revokes++;
                /* Ended: nothing may have it mapped now. */
                if (READ_ONCE(mapped[i])) {
                    if (!bad_revoke)
                        printk("ref %u: end of access succeeded while it was mapped\n", ref);
                    bad_revoke++;
                }
            } else {
                busy++;
            }
        }
        if (++spins % 64 == 0)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

static void vcpu1_main(uint64_t a, uint64_t b)
{
    (void)a;
    (void)b;
    race_barrier(1);
    granter();
    race_barrier(2);
    race_vcpu1_done();
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    REQUIRE_EQ(gnt_init(), 0);
    for (unsigned i = 0; i < NREF; i++) {
        memset(pool[DATA + i], 0, 4096);
        pool_page(DATA + i)[0] = 0xc0de0000UL + i;
        gnt_grant(REF0 + i, DOMID_ME, pool_mfn(DATA + i), GTF_permit_access);
    }
    /* One map first: the mapper's handle table is set up on first use and kept. */
    uint32_t h = ~0u;
    REQUIRE_EQ(gnt_map((uint64_t)pool[AT], GNTMAP_host_map, REF0, DOMID_ME, &h, NULL),
               GNTST_okay);
    REQUIRE_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    REQUIRE_EQ(race_start_vcpu1(vcpu1_main), 0);
    uint64_t free_before = physinfo_free_pages();
    REQUIRE(race_barrier(1), "vCPU 1 never started");
    mapper();
    REQUIRE(race_barrier(2), "vCPU 1 did not stop");

    printk("%u maps, %u refused (revoked); %u ends of access, %u refused (in use), "
           "%u grants again\n", maps, refused, revokes, busy, regrants);
    CHECK_EQ(bad_map, 0);
    CHECK_EQ(bad_flags, 0);
    CHECK_EQ(bad_data, 0);
    CHECK_EQ(bad_unmap, 0);
    CHECK_EQ(bad_pte, 0);
    CHECK_EQ(bad_revoke, 0);
    CHECK(maps > 0, "no map succeeded");
    CHECK(revokes > 0, "no end of access succeeded");
    CHECK(!race_timed_out, "a wait timed out");
    for (unsigned i = 0; i < NREF; i++) {
        uint16_t f = gnt[REF0 + i].flags;
        CHECK(!(f & (GTF_reading | GTF_writing)), "ref %u left in use (%#x)", REF0 + i, f);
        CHECK_EQ(((volatile uint64_t *)pool[DATA + i])[0], 0xc0de0000UL + i);
        CHECK_EQ(pool_rw(AT + i), 0);
        memset(pool[DATA + i], 0, 4096);
        CHECK_EQ(pool_ro(DATA + i), 0);
        CHECK(ext1(MMUEXT_PIN_L1_TABLE, pool_mfn(DATA + i)) == 0,
              "granted page %u cannot become an L1: a writable reference was left", i);
        CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, pool_mfn(DATA + i)), 0);
        CHECK_EQ(pool_rw(DATA + i), 0);
    }
    CHECK_EQ(physinfo_free_pages(), free_before);
    return RESULT_SUCCESS;
}
