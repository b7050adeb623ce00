/*
 * ms_pagetable: page-table pages to PFNs and back.  Present entries of
 * every level round-trip with their flag bits (NX included); not-present
 * entries are left alone; the hypervisor's L4 slots are cleared; an MFN
 * outside the guest's p2m, a PFN the new domain lacks, a superpage entry
 * and a p2m naming one MFN twice are refused with the slot in the message;
 * a guest-sized inverse finds every member and nothing else.
 */
#define UNIT_SUITE "libmigstream-pagetable"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

#include "ms_pagetable.h"

#define NPFN 64
static uint64_t p2m[NPFN], p2m_new[NPFN];
static char err[200];

static void make_p2ms(void)
{
    for (unsigned i = 0; i < NPFN; i++) {
        p2m[i] = 0x40000 + (i * 37) % NPFN * 3;   /* scattered, distinct */
        p2m_new[i] = 0x90000 + (NPFN - 1 - i);
    }
    p2m[5] = UINT64_MAX;                           /* a hole */
}

UNIT_TEST(entries_round_trip_at_every_level)
{
    struct ms_m2p m;
    uint64_t page[512], orig[512];
    make_p2ms();
    CHECK_EQ(ms_m2p_build(&m, p2m, NPFN, err, sizeof(err)), 0);
    CHECK_EQ(m.n, NPFN - 1);
    for (unsigned level = 1; level <= 4; level++) {
        for (unsigned i = 0; i < 512; i++) {
            unsigned pfn = (i * 7 + level) % NPFN;
            if (pfn == 5)
                pfn = 6;
            /* NX, user, RW, accessed, a software bit; every third not present. */
            uint64_t flags = (1ULL << 63) | 0x227;
            page[i] = i % 3 == 2 ? (0xabcULL << 12) | 0x6 : (p2m[pfn] << 12) | flags;
        }
        if (level == 4)
            for (unsigned i = 256; i <= 271; i++)
                page[i] = (p2m[1] << 12) | 0x67;
        memcpy(orig, page, sizeof(page));
        CHECK_EQ(ms_pt_canonicalise(page, level, &m, err, sizeof(err)), 0);
        for (unsigned i = 0; i < 512; i++) {
            if (level == 4 && i >= 256 && i <= 271) {
                CHECK_EQ(page[i], 0);
                continue;
            }
            if (!(orig[i] & 1)) {
                CHECK_EQ(page[i], orig[i]);
                continue;
            }
            unsigned pfn = (i * 7 + level) % NPFN;
            if (pfn == 5)
                pfn = 6;
            CHECK_EQ(page[i], ((uint64_t)pfn << 12) | (1ULL << 63) | 0x227);
        }
        CHECK_EQ(ms_pt_uncanonicalise(page, level, p2m_new, NPFN, err, sizeof(err)), 0);
        for (unsigned i = 0; i < 512; i++) {
            if (!(orig[i] & 1) || (level == 4 && i >= 256 && i <= 271))
                continue;
            unsigned pfn = (i * 7 + level) % NPFN;
            if (pfn == 5)
                pfn = 6;
            CHECK_EQ(page[i], (p2m_new[pfn] << 12) | (1ULL << 63) | 0x227);
        }
    }
    ms_m2p_free(&m);
}

UNIT_TEST(foreign_frames_superpages_and_holes_are_refused)
{
    struct ms_m2p m;
    uint64_t page[512] = { 0 };
    make_p2ms();
    CHECK_EQ(ms_m2p_build(&m, p2m, NPFN, err, sizeof(err)), 0);

    page[17] = (0x12345ULL << 12) | 1;            /* not the guest's */
    CHECK(ms_pt_canonicalise(page, 1, &m, err, sizeof(err)) < 0);
    CHECK_STR(err, "L1[17]");
    CHECK_STR(err, "mfn 0x12345");

    memset(page, 0, sizeof(page));
    page[3] = (p2m[2] << 12) | 0x81;              /* 2 MiB page */
    CHECK(ms_pt_canonicalise(page, 2, &m, err, sizeof(err)) < 0);
    CHECK_STR(err, "L2[3]");
    CHECK_STR(err, "superpage");
    page[3] = (p2m[2] << 12) | 0x81;              /* PAT bit of an L1 is fine */
    CHECK_EQ(ms_pt_canonicalise(page, 1, &m, err, sizeof(err)), 0);

    memset(page, 0, sizeof(page));
    page[9] = (5ULL << 12) | 1;                   /* the hole */
    CHECK(ms_pt_uncanonicalise(page, 3, p2m, NPFN, err, sizeof(err)) < 0);
    CHECK_STR(err, "L3[9]");
    CHECK_STR(err, "pfn 0x5");
    page[9] = ((uint64_t)NPFN << 12) | 1;         /* beyond the domain */
    CHECK(ms_pt_uncanonicalise(page, 4, p2m_new, NPFN, err, sizeof(err)) < 0);
    CHECK_STR(err, "L4[9]");
    ms_m2p_free(&m);

    p2m[7] = p2m[8];
    CHECK(ms_m2p_build(&m, p2m, NPFN, err, sizeof(err)) < 0);
    CHECK_STR(err, "for pfns 0x7 and 0x8");
}

/* A 256 MiB guest's worth: runs of consecutive MFNs in scattered order,
   holes; every member found with its PFN, nothing else found. */
UNIT_TEST(large_inverse_finds_every_member_and_nothing_else)
{
    enum { N = 65536 };
    uint64_t *big = malloc(N * sizeof(uint64_t));
    struct ms_m2p m;
    uint64_t pfn;
    unsigned wrong = 0, members = 0;

    CHECK(big != NULL);
    for (unsigned i = 0; i < N; i++)
        big[i] = 0x100000 + (uint64_t)((i / 512 * 77) % (N / 512)) * 1024 + i % 512;
    for (unsigned i = 0; i < N; i += 97)
        big[i] = UINT64_MAX;
    CHECK_EQ(ms_m2p_build(&m, big, N, err, sizeof(err)), 0);
    for (unsigned i = 0; i < N; i++) {
        if (big[i] == UINT64_MAX)
            continue;
        members++;
        wrong += !ms_m2p_lookup(&m, big[i], &pfn) || pfn != i;
        /* The other half of each 1024-frame block is nobody's. */
        wrong += ms_m2p_lookup(&m, big[i] + 512, &pfn);
    }
    CHECK_EQ(wrong, 0u);
    CHECK_EQ(m.n, (size_t)members);
    CHECK_EQ(ms_m2p_lookup(&m, UINT64_MAX, &pfn), 0);
    CHECK_EQ(ms_m2p_lookup(&m, 0, &pfn), 0);
    ms_m2p_free(&m);
    free(big);
}

UNIT_MAIN()
