/*
 * Tests of boot-time range arithmetic.
 * unit-sources: hypervisor/common/memrange.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "memrange"
#include "unit.h"

#include <stdlib.h>
#include <mica/lib.h>
#include <mica/memrange.h>

#define R(s, e) ((struct mem_range){ (s), (e) })

static int same(const struct mem_range *a, size_t na, const struct mem_range *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i].start != b[i].start || a[i].end != b[i].end)
            return 0;
    return 1;
}

/* Sorted, disjoint, not touching, non-empty. */
static int well_formed(const struct mem_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r[i].end <= r[i].start)
            return 0;
        if (i > 0 && r[i].start <= r[i - 1].end)
            return 0;
    }
    return 1;
}

UNIT_TEST(add_merges_unsorted_overlapping_adjacent)
{
    struct mem_range r[8];
    size_t n = 0;
    CHECK_EQ(memrange_add(r, &n, 8, 0x5000, 0x6000), MEMRANGE_OK);
    CHECK_EQ(memrange_add(r, &n, 8, 0x1000, 0x2000), MEMRANGE_OK);
    CHECK_EQ(memrange_add(r, &n, 8, 0x9000, 0xa000), MEMRANGE_OK);
    CHECK_EQ(n, 3);
    CHECK(well_formed(r, n));
    CHECK_EQ(r[0].start, 0x1000);
    CHECK_EQ(r[2].start, 0x9000);

    /* Adjacent on the left of 0x5000 and overlapping nothing else. */
    CHECK_EQ(memrange_add(r, &n, 8, 0x4000, 0x5000), MEMRANGE_OK);
    struct mem_range want1[] = { R(0x1000, 0x2000), R(0x4000, 0x6000), R(0x9000, 0xa000) };
    CHECK(same(r, n, want1, 3));

    /* Spans and swallows the last two, touching the first. */
    CHECK_EQ(memrange_add(r, &n, 8, 0x2000, 0x9800), MEMRANGE_OK);
    struct mem_range want2[] = { R(0x1000, 0xa000) };
    CHECK(same(r, n, want2, 1));

    /* Fully inside an existing range: no change. */
    CHECK_EQ(memrange_add(r, &n, 8, 0x3000, 0x3001), MEMRANGE_OK);
    CHECK(same(r, n, want2, 1));

    /* Empty is a no-op; reversed is an error. */
    CHECK_EQ(memrange_add(r, &n, 8, 0x20000, 0x20000), MEMRANGE_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(memrange_add(r, &n, 8, 0x30000, 0x20000), MEMRANGE_EINVAL);
    CHECK(same(r, n, want2, 1));
}

UNIT_TEST(add_capacity_exhaustion_never_writes_past)
{
    struct mem_range r[4];
    r[3] = R(0xdead, 0xbeef);        /* canary just past the capacity of 3 */
    size_t n = 0;
    CHECK_EQ(memrange_add(r, &n, 3, 0x1000, 0x2000), MEMRANGE_OK);
    CHECK_EQ(memrange_add(r, &n, 3, 0x5000, 0x6000), MEMRANGE_OK);
    CHECK_EQ(memrange_add(r, &n, 3, 0x3000, 0x4000), MEMRANGE_OK);
    CHECK_EQ(n, 3);
    CHECK_EQ(memrange_add(r, &n, 3, 0x8000, 0x9000), MEMRANGE_EFULL);
    CHECK_EQ(memrange_add(r, &n, 3, 0x0, 0x800), MEMRANGE_EFULL);
    CHECK_EQ(n, 3);
    CHECK_EQ(r[3].start, 0xdead);
    CHECK_EQ(r[3].end, 0xbeef);
    /* A merge needs no new slot, so it still works when full. */
    CHECK_EQ(memrange_add(r, &n, 3, 0x2000, 0x3000), MEMRANGE_OK);
    CHECK_EQ(n, 2);
}

UNIT_TEST(subtract_cases)
{
    struct mem_range r[8] = { R(0x1000, 0x9000), R(0x10000, 0x20000) };
    size_t n = 2;

    /* Hole in the middle splits. */
    CHECK_EQ(memrange_subtract(r, &n, 8, 0x3000, 0x4000), MEMRANGE_OK);
    struct mem_range w1[] = { R(0x1000, 0x3000), R(0x4000, 0x9000), R(0x10000, 0x20000) };
    CHECK(same(r, n, w1, 3));

    /* Clips the tail of one and the head of the next, spanning a gap. */
    CHECK_EQ(memrange_subtract(r, &n, 8, 0x8000, 0x11000), MEMRANGE_OK);
    struct mem_range w2[] = { R(0x1000, 0x3000), R(0x4000, 0x8000), R(0x11000, 0x20000) };
    CHECK(same(r, n, w2, 3));

    /* Reserved range swallows a region exactly, then one with margin. */
    CHECK_EQ(memrange_subtract(r, &n, 8, 0x4000, 0x8000), MEMRANGE_OK);
    CHECK_EQ(memrange_subtract(r, &n, 8, 0x0, 0x3800), MEMRANGE_OK);
    struct mem_range w3[] = { R(0x11000, 0x20000) };
    CHECK(same(r, n, w3, 1));

    /* Touching but not overlapping: nothing removed. */
    CHECK_EQ(memrange_subtract(r, &n, 8, 0x20000, 0x30000), MEMRANGE_OK);
    CHECK_EQ(memrange_subtract(r, &n, 8, 0x10000, 0x11000), MEMRANGE_OK);
    CHECK(same(r, n, w3, 1));

    CHECK_EQ(memrange_subtract(r, &n, 8, 0x5, 0x4), MEMRANGE_EINVAL);
    CHECK(same(r, n, w3, 1));

    /* Everything gone. */
    CHECK_EQ(memrange_subtract(r, &n, 8, 0, ~0ULL), MEMRANGE_OK);
    CHECK_EQ(n, 0);
}

UNIT_TEST(subtract_split_when_full_fails_unchanged)
{
    struct mem_range r[3] = { R(0x1000, 0x9000), R(0x10000, 0x20000), R(0xdead, 0xbeef) };
    size_t n = 2;
    CHECK_EQ(memrange_subtract(r, &n, 2, 0x2000, 0x3000), MEMRANGE_EFULL);
    struct mem_range w[] = { R(0x1000, 0x9000), R(0x10000, 0x20000) };
    CHECK(same(r, n, w, 2));
    CHECK_EQ(r[2].start, 0xdead);
    /* A trim needs no slot. */
    CHECK_EQ(memrange_subtract(r, &n, 2, 0x8000, 0x12000), MEMRANGE_OK);
    struct mem_range w2[] = { R(0x1000, 0x8000), R(0x12000, 0x20000) };
    CHECK(same(r, n, w2, 2));
}

UNIT_TEST(page_align_rounds_inward_and_drops_empties)
{
    struct mem_range r[8] = {
        R(0x0, 0x9fc00),             /* typical low RAM ending mid-page */
        R(0x100800, 0x101000),       /* less than a page once aligned */
        R(0x200001, 0x203fff),
        R(0xfffffffffffff001ULL, ~0ULL),   /* rounding up would wrap */
    };
    size_t n = 4;
    memrange_page_align(r, &n);
    struct mem_range w[] = { R(0x0, 0x9f000), R(0x201000, 0x203000) };
    CHECK(same(r, n, w, 2));
}

UNIT_TEST(build_usable_typical_pc)
{
    /* Firmware map out of order, with an overlap and an adjacency. */
    struct mem_range avail[] = {
        R(0x100000, 0x7fee0000),
        R(0x0, 0x9fc00),
        R(0x7fee0000, 0x7ff00000),       /* adjacent: merges */
        R(0x100000000ULL, 0x180000000ULL),
        R(0x120000000ULL, 0x140000000ULL), /* inside the previous */
    };
    struct mem_range reserved[] = {
        R(0x0, 0x100000),               /* first MiB */
        R(0x200000, 0x3a5123),          /* hypervisor image, odd end */
        R(0x1000000, 0x1800000),        /* a module */
        R(0x9000, 0x9100),              /* multiboot info inside first MiB */
    };
    struct mem_range out[8];
    size_t n;
    CHECK_EQ(memrange_build_usable(out, &n, 8, avail, 5, reserved, 4), MEMRANGE_OK);
    struct mem_range w[] = {
        R(0x100000, 0x200000),
        R(0x3a6000, 0x1000000),
        R(0x1800000, 0x7ff00000),
        R(0x100000000ULL, 0x180000000ULL),
    };
    CHECK(same(out, n, w, 4));
    CHECK_EQ(memrange_total(out, n),
             0x100000 + (0x1000000 - 0x3a6000) + (0x7ff00000 - 0x1800000) + 0x80000000ULL);

    CHECK_EQ(memrange_build_usable(out, &n, 2, avail, 5, reserved, 4), MEMRANGE_EFULL);
}

UNIT_TEST(carve_takes_highest_aligned_block)
{
    struct mem_range r[4] = { R(0x100000, 0x800000), R(0x1000000, 0x1234000) };
    size_t n = 2;
    u64 at = 0;

    /* 1 MiB, 2 MiB aligned: from the top of the second range, splitting it. */
    CHECK_EQ(memrange_carve(r, &n, 4, 0x100000, 0x200000, MEMRANGE_NO_LIMIT, &at), MEMRANGE_OK);
    CHECK_EQ(at, 0x1000000);
    struct mem_range w1[] = { R(0x100000, 0x800000), R(0x1100000, 0x1234000) };
    CHECK(same(r, n, w1, 2));

    /* Below a limit: middle of the first range, split into two. */
    CHECK_EQ(memrange_carve(r, &n, 4, 0x10000, 0x10000, 0x500000, &at), MEMRANGE_OK);
    CHECK_EQ(at, 0x4f0000);
    struct mem_range w2[] = { R(0x100000, 0x4f0000), R(0x500000, 0x800000), R(0x1100000, 0x1234000) };
    CHECK(same(r, n, w2, 3));

    /* Exactly a whole range: it disappears. */
    CHECK_EQ(memrange_carve(r, &n, 4, 0x134000, 0x1000, MEMRANGE_NO_LIMIT, &at), MEMRANGE_OK);
    CHECK_EQ(at, 0x1100000);
    CHECK_EQ(n, 2);
    CHECK(well_formed(r, n));
}

UNIT_TEST(carve_failures_leave_list_unchanged)
{
    struct mem_range r[3] = { R(0x100000, 0x180000), R(0x300000, 0x400000), R(0xdead, 0xbeef) };
    size_t n = 2;
    u64 at = 0x1234;
    struct mem_range w[] = { R(0x100000, 0x180000), R(0x300000, 0x400000) };

    CHECK_EQ(memrange_carve(r, &n, 2, 0x200000, 0x1000, MEMRANGE_NO_LIMIT, &at), MEMRANGE_ENOSPC);
    /* Fits in size but not with this alignment anywhere. */
    CHECK_EQ(memrange_carve(r, &n, 2, 0x80000, 0x400000, MEMRANGE_NO_LIMIT, &at), MEMRANGE_ENOSPC);
    /* Fits only above the limit. */
    CHECK_EQ(memrange_carve(r, &n, 2, 0x100000, 0x1000, 0x3fffff, &at), MEMRANGE_ENOSPC);
    CHECK_EQ(memrange_carve(r, &n, 2, 0, 0x1000, MEMRANGE_NO_LIMIT, &at), MEMRANGE_EINVAL);
    CHECK_EQ(memrange_carve(r, &n, 2, 0x1000, 0x3000, MEMRANGE_NO_LIMIT, &at), MEMRANGE_EINVAL);
    /* Needs a split, no room for it. */
    CHECK_EQ(memrange_carve(r, &n, 2, 0x1000, 0x1000, 0x350000, &at), MEMRANGE_EFULL);
    CHECK(same(r, n, w, 2));
    CHECK_EQ(at, 0x1234);
    CHECK_EQ(r[2].start, 0xdead);
    /* The limit below every range. */
    CHECK_EQ(memrange_carve(r, &n, 2, 0x1000, 0x1000, 0x1000, &at), MEMRANGE_ENOSPC);
}

/*
 * Random add/subtract sequences against a byte-per-unit model of a small
 * address space: the list must always describe exactly the model's set.
 */
#define MODEL_UNITS 512
static int matches_model(const struct mem_range *r, size_t n, const unsigned char *model)
{
    unsigned char seen[MODEL_UNITS] = { 0 };
    for (size_t i = 0; i < n; i++)
        for (u64 a = r[i].start; a < r[i].end; a++)
            seen[a] = 1;
    return memcmp(seen, model, MODEL_UNITS) == 0;
}

UNIT_TEST(random_against_model)
{
    srand(12345);
    for (int round = 0; round < 200; round++) {
        struct mem_range r[MODEL_UNITS];
        unsigned char model[MODEL_UNITS] = { 0 };
        size_t n = 0;
        for (int op = 0; op < 40; op++) {
            u64 s = (u64)(rand() % MODEL_UNITS);
            u64 e = s + (u64)(rand() % 64);
            if (e > MODEL_UNITS)
                e = MODEL_UNITS;
            int add = rand() % 3 != 0;
            int rc = add ? memrange_add(r, &n, MODEL_UNITS, s, e)
                         : memrange_subtract(r, &n, MODEL_UNITS, s, e);
            CHECK_EQ(rc, MEMRANGE_OK);
            for (u64 a = s; a < e; a++)
                model[a] = (unsigned char)add;
            CHECK(well_formed(r, n));
            CHECK(matches_model(r, n, model));
        }
    }
}

/*
 * unit.h's main() trips -Wclobbered under -O1 (its loop variables live
 * across setjmp but are not changed between setjmp and longjmp, so the
 * warning is spurious); silenced here until the framework avoids it.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
UNIT_MAIN()
