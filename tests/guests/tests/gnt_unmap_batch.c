/*
 * A batch of host-mapping unmaps in one call, longer than the
 * hypervisor's flush batch (Xen flushes once per 32 unmaps, Mica too):
 * 70 mappings of four grants (two writable, two read-only), each read
 * through first so that the TLB holds it, then unmapped in one call with
 * a bad handle and a wrong host address among them.  Every element gets
 * its own status; once the call returns no unmapped address may still
 * be readable (a stale translation left by a deferred flush would be),
 * the refused one still maps its frame, a grant still mapped keeps
 * GTF_reading (and GTF_writing), the others have let go and can be
 * revoked.
 */
#include "gnt_common.h"

#define N      70
#define DATA   2                /* pool pages 2..5: the four granted frames */
#define REF    8                /* refs 8..11 grant pages DATA..DATA+3 */
#define BADH   33               /* this element names no mapping */
#define KEEP   50               /* this element names the wrong address: refused */
#define KEPT   (REF + KEEP % 4)  /* its grant (2, read-only) */

/* Where the mappings go: pages of our own image, one per mapping. */
static uint8_t at[N][4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static struct gnttab_unmap_grant_ref unmaps[N + 1];
static uint32_t handles[N];

static uint64_t pattern(unsigned g) { return 0x5a5a000000000000ULL + g * 0x1111; }

static uint64_t pte_of(void *va)
{
    uint64_t pte = 0;

    lookup_pte((uint64_t)va, &pte);
    return pte;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    for (unsigned g = 0; g < 4; g++) {
        *(volatile uint64_t *)pool[DATA + g] = pattern(g);
        gnt_grant(REF + g, DOMID_ME, pool_mfn(DATA + g),
                  GTF_permit_access | (g >= 2 ? GTF_readonly : 0));
    }
    /* Mapping i: grant i % 4 at at[i], read-only for grants 2 and 3. */
    unsigned mapped = 0, read_ok = 0;
    for (unsigned i = 0; i < N; i++) {
        unsigned g = i % 4;
        uint32_t fl = GNTMAP_host_map | (g >= 2 ? GNTMAP_readonly : 0);
        mapped += gnt_map((uint64_t)at[i], fl, REF + g, DOMID_ME, &handles[i], NULL) ==
                  GNTST_okay;
        read_ok += *(volatile uint64_t *)at[i] == pattern(g);
    }
    REQUIRE_EQ(mapped, N);
    CHECK_EQ(read_ok, N);
    CHECK_EQ(gnt[REF].flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(gnt[REF + 2].flags, GTF_permit_access | GTF_readonly | GTF_reading);

    /* One call: every mapping, a bad handle at BADH, mapping KEEP named at the wrong address. */
    for (unsigned i = 0, j = 0; i < N + 1; i++) {
        if (i == BADH) {
            unmaps[i] = (struct gnttab_unmap_grant_ref){ .host_addr = (uint64_t)at[0],
                .handle = 0xffffffffu, .status = 99 };
            continue;
        }
        unmaps[i] = (struct gnttab_unmap_grant_ref){ .host_addr = (uint64_t)at[j],
            .handle = handles[j], .status = 99 };
        if (j == KEEP)
            unmaps[i].host_addr = (uint64_t)at[j + 1];
        j++;
    }
    CHECK_EQ(gntop(GNTTABOP_unmap_grant_ref, unmaps, N + 1), 0);
    unsigned ok = 0, gone = 0, faults = 0;
    for (unsigned i = 0, j = 0; i < N + 1; i++) {
        if (i == BADH) {
            CHECK_EQ(unmaps[i].status, GNTST_bad_handle);
            continue;
        }
        if (j == KEEP) {
            CHECK_EQ(unmaps[i].status, GNTST_general_error);
        } else {
            ok += unmaps[i].status == GNTST_okay;
            gone += !(pte_of(at[j]) & PTE_P);
            probe_va = (uint64_t)at[j];
            faults += TRAP_PROBE(PROBE_LOAD) == 14;
        }
        j++;
    }
    CHECK_EQ(ok, N - 1);
    CHECK_EQ(gone, N - 1);
    /* A translation the flush missed would still read the old frame here. */
    CHECK_EQ(faults, N - 1);
    /* The refused one is intact, and its grant (KEEP % 4 = 2, read-only) still in use. */
    CHECK_EQ(*(volatile uint64_t *)at[KEEP], pattern(KEEP % 4));
    CHECK_EQ(gnt[KEPT].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    for (unsigned ref = REF; ref < REF + 4; ref++)
        if (ref != KEPT)
            CHECK(gnt_revoke(ref), "a grant no longer mapped could not be revoked");
    CHECK(!gnt_revoke(KEPT), "a grant still mapped was revoked");
    CHECK_EQ(gnt_unmap((uint64_t)at[KEEP], 0, handles[KEEP]), GNTST_okay);
    probe_va = (uint64_t)at[KEEP];
    CHECK_EQ(TRAP_PROBE(PROBE_LOAD), 14);
    CHECK(gnt_revoke(KEPT), "the last mapping's grant could not be revoked");
    /* The writable grants' frames are ours to write again through our own mapping. */
    *(volatile uint64_t *)pool[DATA] = 1;
    CHECK_EQ(*(volatile uint64_t *)pool[DATA], 1);
    return RESULT_SUCCESS;
}
