/*
 * Tests of the buddy frame allocator.
 * unit-sources: hypervisor/common/page_alloc.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "page_alloc"
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

static struct frame_pool pool;
static struct page_info *table;

static void setup(mfn_t nr_frames)
{
    free(table);
    table = calloc(nr_frames, sizeof(*table));
    frame_pool_init(&pool, table, nr_frames);
    pool.panic_on_misuse = false;
}

/* Byte images of pool and table, to prove a refused operation changed nothing. */
static struct frame_pool pool_copy;
static struct page_info *table_copy;

static void snapshot(void)
{
    free(table_copy);
    table_copy = malloc(pool.nr_frames * sizeof(*table));
    memcpy(table_copy, table, pool.nr_frames * sizeof(*table));
    memcpy(&pool_copy, &pool, sizeof(pool));
}

static int unchanged(void)
{
    return memcmp(&pool_copy, &pool, sizeof(pool)) == 0 &&
           memcmp(table_copy, table, pool.nr_frames * sizeof(*table)) == 0;
}

UNIT_TEST(page_info_layout_and_lookup)
{
    CHECK_EQ(sizeof(struct page_info), 32);
    setup(100);
    CHECK(mfn_to_page(&pool, 99) == &table[99]);
    CHECK(mfn_to_page(&pool, 100) == NULL);
    CHECK_EQ(page_to_mfn(&pool, &table[42]), 42);
    /* Types fit in their field without touching the flags or the count. */
    CHECK_EQ(PGT_WRITABLE & (PGT_PINNED | PGT_VALIDATED | PGT_COUNT_MASK), 0);
    CHECK_EQ((PGT_PINNED | PGT_VALIDATED) & PGT_COUNT_MASK, 0);
}

UNIT_TEST(starts_all_reserved_and_empty)
{
    setup(1024);
    CHECK_EQ(frame_pool_free_count(&pool), 0);
    CHECK_EQ(frame_pool_total_count(&pool), 0);
    for (mfn_t i = 0; i < 1024; i++) {
        CHECK_EQ(page_state(&table[i]), PGS_RESERVED);
        CHECK_EQ(table[i].owner, PAGE_OWNER_NONE);
    }
    CHECK_EQ(alloc_frames(&pool, 0), INVALID_MFN);
    CHECK_EQ(alloc_frames_below(&pool, 0, 512), INVALID_MFN);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(every_order_splits_and_merges_back)
{
    mfn_t base = (mfn_t)1 << MAX_ORDER;
    setup(2 * base);
    CHECK_EQ(frame_pool_add_free(&pool, base, 2 * base), FRAME_OK);
    CHECK_EQ(pool.free_blocks[MAX_ORDER], 1);

    for (unsigned order = 0; order <= MAX_ORDER; order++) {
        mfn_t m = alloc_frames(&pool, order);
        CHECK(m != INVALID_MFN);
        CHECK_EQ(m & (((mfn_t)1 << order) - 1), 0);
        CHECK(m >= base && m + ((mfn_t)1 << order) <= 2 * base);
        CHECK_EQ(frame_pool_free_count(&pool), base - ((mfn_t)1 << order));
        CHECK_EQ(page_state(&table[m]), PGS_ALLOCATED);
        CHECK_EQ(page_state(&table[m + ((mfn_t)1 << order) - 1]), PGS_ALLOCATED);
        /* One block of each order from order up to MAX_ORDER-1 remains. */
        for (unsigned o = 0; o <= MAX_ORDER; o++)
            CHECK_EQ(pool.free_blocks[o], o >= order && o < MAX_ORDER);
        CHECK_EQ(frame_pool_check(&pool), FRAME_OK);

        CHECK_EQ(free_frames(&pool, m, order), FRAME_OK);
        CHECK_EQ(frame_pool_free_count(&pool), base);
        CHECK_EQ(pool.free_blocks[MAX_ORDER], 1);
        for (unsigned o = 0; o < MAX_ORDER; o++)
            CHECK_EQ(pool.free_blocks[o], 0);
    }
    CHECK_EQ(alloc_frames(&pool, MAX_ORDER + 1), INVALID_MFN);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(exhaustion_returns_invalid)
{
    setup(64);
    CHECK_EQ(frame_pool_add_free(&pool, 16, 48), FRAME_OK);
    unsigned char seen[64] = { 0 };
    for (int i = 0; i < 32; i++) {
        mfn_t m = alloc_frames(&pool, 0);
        CHECK(m >= 16 && m < 48);
        CHECK(!seen[m]);
        seen[m] = 1;
    }
    CHECK_EQ(alloc_frames(&pool, 0), INVALID_MFN);
    CHECK_EQ(frame_pool_free_count(&pool), 0);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
    for (mfn_t m = 16; m < 48; m++)
        CHECK_EQ(free_frames(&pool, m, 0), FRAME_OK);
    /* [16,32) and [32,48) are not buddies: two order-4 blocks. */
    CHECK_EQ(pool.free_blocks[4], 2);
    CHECK_EQ(alloc_frames(&pool, 5), INVALID_MFN);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(alloc_prefers_high_memory)
{
    setup(1 << 16);
    CHECK_EQ(frame_pool_add_free(&pool, 256, 1 << 16), FRAME_OK);
    mfn_t m = alloc_frames(&pool, 0);
    CHECK(m >= (1 << 15));
}

UNIT_TEST(alloc_below_honours_power_of_two_limit)
{
    setup(1 << 16);
    CHECK_EQ(frame_pool_add_free(&pool, 256, 1 << 16), FRAME_OK);
    u64 got = 0;
    for (;;) {
        mfn_t m = alloc_frames_below(&pool, 2, 4096);
        if (m == INVALID_MFN)
            break;
        CHECK(m + 4 <= 4096);
        CHECK(m >= 256);
        got += 4;
    }
    CHECK_EQ(got, 4096 - 256);
    /* Everything above is untouched. */
    CHECK_EQ(frame_pool_free_count(&pool), (1 << 16) - 4096);
    CHECK_EQ(alloc_frames_below(&pool, 0, 0), INVALID_MFN);
    CHECK_EQ(alloc_frames_below(&pool, 0, 256), INVALID_MFN);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(alloc_below_odd_limit_uses_straddling_zone)
{
    /* Only zone 12 ([2048, 4096)) has memory; the limit cuts it. */
    setup(8192);
    CHECK_EQ(frame_pool_add_free(&pool, 2048, 4096), FRAME_OK);
    CHECK_EQ(alloc_frames_below(&pool, 0, 2048), INVALID_MFN);
    mfn_t m = alloc_frames_below(&pool, 3, 2100);
    CHECK(m != INVALID_MFN);
    CHECK(m + 8 <= 2100);
    CHECK_EQ(free_frames(&pool, m, 3), FRAME_OK);

    u64 got = 0;
    for (;;) {
        m = alloc_frames_below(&pool, 0, 3000);
        if (m == INVALID_MFN)
            break;
        CHECK(m >= 2048 && m < 3000);
        got++;
    }
    CHECK_EQ(got, 3000 - 2048);
    CHECK_EQ(frame_pool_free_count(&pool), 4096 - 3000);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
    /* The rest is still there for ordinary allocation. */
    for (got = 0; alloc_frames(&pool, 0) != INVALID_MFN; got++)
        ;
    CHECK_EQ(got, 4096 - 3000);
}

UNIT_TEST(unaligned_ranges_merge_like_one_range)
{
    /* The same frames added in one piece or in three must end up identical. */
    setup(4096);
    CHECK_EQ(frame_pool_add_free(&pool, 3, 1234), FRAME_OK);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
    u64 one_piece[MAX_ORDER + 1];
    memcpy(one_piece, pool.free_blocks, sizeof(one_piece));

    setup(4096);
    CHECK_EQ(frame_pool_add_free(&pool, 1000, 1234), FRAME_OK);
    CHECK_EQ(frame_pool_add_free(&pool, 3, 517), FRAME_OK);
    CHECK_EQ(frame_pool_add_free(&pool, 517, 1000), FRAME_OK);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
    CHECK_EQ(memcmp(one_piece, pool.free_blocks, sizeof(one_piece)), 0);
    CHECK_EQ(frame_pool_free_count(&pool), 1231);
    CHECK_EQ(frame_pool_total_count(&pool), 1231);

    /* Drain as single frames, refill, and the shape is the same again. */
    mfn_t *got = malloc(1231 * sizeof(*got));
    for (int i = 0; i < 1231; i++) {
        got[i] = alloc_frames(&pool, 0);
        CHECK(got[i] >= 3 && got[i] < 1234);
    }
    CHECK_EQ(alloc_frames(&pool, 0), INVALID_MFN);
    for (int i = 1230; i >= 0; i--)
        CHECK_EQ(free_frames(&pool, got[i], 0), FRAME_OK);
    free(got);
    CHECK_EQ(memcmp(one_piece, pool.free_blocks, sizeof(one_piece)), 0);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(frame_zero_stays_alone)
{
    setup(64);
    CHECK_EQ(frame_pool_add_free(&pool, 0, 64), FRAME_OK);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
    CHECK_EQ(frame_pool_free_count(&pool), 64);
    /* 0 | 1 | 2-3 | 4-7 | ... | 32-63 */
    CHECK_EQ(pool.free_blocks[0], 2);
    CHECK_EQ(pool.free_blocks[5], 1);
    CHECK_EQ(alloc_frames(&pool, 6), INVALID_MFN);
    CHECK_EQ(alloc_frames_below(&pool, 0, 1), 0);
    CHECK_EQ(free_frames(&pool, 0, 0), FRAME_OK);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(allocated_frames_are_reset)
{
    setup(64);
    CHECK_EQ(frame_pool_add_free(&pool, 32, 64), FRAME_OK);
    mfn_t m = alloc_frames(&pool, 5);
    CHECK_EQ(m, 32);
    for (mfn_t i = m; i < 64; i++) {
        table[i].owner = 7;
        table[i].count_info = 3;
        table[i].type_info = PGT_L1 | PGT_VALIDATED | 1;
    }
    CHECK_EQ(free_frames(&pool, m, 5), FRAME_OK);
    m = alloc_frames(&pool, 5);
    for (mfn_t i = m; i < 64; i++) {
        CHECK_EQ(table[i].owner, PAGE_OWNER_NONE);
        CHECK_EQ(table[i].count_info, 0);
        CHECK_EQ(table[i].type_info, 0);
    }
}

/*
 * Random allocations and frees with a fixed seed over a pool with holes;
 * a bitmap tracks who owns each frame so overlaps are caught, and the
 * free-block shape must come back exactly.
 */
UNIT_TEST(random_sequences_return_exactly)
{
    const mfn_t nr = 40000;
    setup(nr);
    CHECK_EQ(frame_pool_add_free(&pool, 256, 9000), FRAME_OK);
    CHECK_EQ(frame_pool_add_free(&pool, 9001, 20000), FRAME_OK);
    CHECK_EQ(frame_pool_add_free(&pool, 24576, 39999), FRAME_OK);
    u64 start_free = frame_pool_free_count(&pool);
    u64 start_blocks[MAX_ORDER + 1];
    memcpy(start_blocks, pool.free_blocks, sizeof(start_blocks));

    struct { mfn_t mfn; unsigned order; } live[4096];
    unsigned nlive = 0;
    unsigned char *owned = calloc(nr, 1);
    srand(20240601);
    for (int step = 0; step < 60000; step++) {
        int do_alloc = nlive == 0 || (nlive < 4096 && rand() % 100 < 55);
        if (do_alloc) {
            unsigned order = (unsigned)(rand() % 7);
            mfn_t limit = (rand() % 4 == 0) ? (mfn_t)(256 + rand() % 30000) : 0;
            mfn_t m = limit ? alloc_frames_below(&pool, order, limit) : alloc_frames(&pool, order);
            if (m == INVALID_MFN)
                continue;
            mfn_t count = (mfn_t)1 << order;
            CHECK_EQ(m & (count - 1), 0);
            if (limit)
                CHECK(m + count <= limit);
            for (mfn_t i = m; i < m + count; i++) {
                CHECK(!owned[i]);
                CHECK_EQ(page_state(&table[i]), PGS_ALLOCATED);
                owned[i] = 1;
            }
            live[nlive].mfn = m;
            live[nlive].order = order;
            nlive++;
        } else {
            unsigned k = (unsigned)rand() % nlive;
            mfn_t m = live[k].mfn;
            unsigned order = live[k].order;
            /* Sometimes give a block back one frame at a time. */
            if (order > 0 && rand() % 4 == 0) {
                for (mfn_t i = 0; i < ((mfn_t)1 << order); i++)
                    CHECK_EQ(free_frames(&pool, m + i, 0), FRAME_OK);
            } else {
                CHECK_EQ(free_frames(&pool, m, order), FRAME_OK);
            }
            for (mfn_t i = m; i < m + ((mfn_t)1 << order); i++)
                owned[i] = 0;
            live[k] = live[--nlive];
        }
        if (step % 5000 == 0)
            CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
        u64 live_frames = 0;
        if (step % 997 == 0) {
            for (unsigned i = 0; i < nlive; i++)
                live_frames += (u64)1 << live[i].order;
            CHECK_EQ(frame_pool_free_count(&pool) + live_frames, start_free);
        }
    }
    while (nlive > 0) {
        nlive--;
        CHECK_EQ(free_frames(&pool, live[nlive].mfn, live[nlive].order), FRAME_OK);
    }
    free(owned);
    CHECK_EQ(frame_pool_free_count(&pool), start_free);
    CHECK_EQ(memcmp(start_blocks, pool.free_blocks, sizeof(start_blocks)), 0);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

UNIT_TEST(bad_frees_are_refused_and_change_nothing)
{
    setup(256);
    CHECK_EQ(frame_pool_add_free(&pool, 64, 192), FRAME_OK);
    mfn_t a = alloc_frames(&pool, 2);
    mfn_t b = alloc_frames(&pool, 0);
    CHECK(a != INVALID_MFN && b != INVALID_MFN);
    CHECK_EQ(free_frames(&pool, b, 0), FRAME_OK);
    snapshot();

    CHECK_EQ(free_frames(&pool, b, 0), FRAME_E_STATE);          /* double free */
    CHECK(unchanged());
    CHECK_EQ(free_frames(&pool, a + 1, 1), FRAME_E_ALIGN);      /* misaligned */
    CHECK(unchanged());
    CHECK_EQ(free_frames(&pool, 256, 0), FRAME_E_RANGE);        /* past the end */
    CHECK_EQ(free_frames(&pool, 128, 8), FRAME_E_RANGE);        /* runs past the end */
    CHECK_EQ(free_frames(&pool, ~(mfn_t)0, 0), FRAME_E_RANGE);
    CHECK(unchanged());
    CHECK_EQ(free_frames(&pool, 0, MAX_ORDER + 1), FRAME_E_ORDER);
    CHECK_EQ(free_frames(&pool, 0, 0), FRAME_E_STATE);          /* reserved frame */
    CHECK_EQ(free_frames(&pool, a, 3), FRAME_E_STATE);          /* half of it is free */
    CHECK(unchanged());
    /* Adding what is already free or out of range is refused too. */
    CHECK_EQ(frame_pool_add_free(&pool, 100, 120), FRAME_E_STATE);
    CHECK_EQ(frame_pool_add_free(&pool, 250, 300), FRAME_E_RANGE);
    CHECK_EQ(frame_pool_add_free(&pool, 20, 10), FRAME_E_RANGE);
    CHECK(unchanged());
    CHECK_EQ(frame_pool_check_free(&pool, a, 2), FRAME_OK);
    CHECK(unchanged());

    CHECK_EQ(free_frames(&pool, a, 2), FRAME_OK);
    CHECK_EQ(frame_pool_free_count(&pool), 128);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

/* In a child: with panic_on_misuse, a bad free must abort (panic). */
static int child_aborts(int kind)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setup(256);
        pool.panic_on_misuse = true;
        frame_pool_add_free(&pool, 64, 192);
        mfn_t m = alloc_frames(&pool, 1);
        if (kind == 0) {
            free_frames(&pool, m, 1);
            free_frames(&pool, m, 1);
        } else if (kind == 1) {
            free_frames(&pool, m + 1, 1);
        } else {
            free_frames(&pool, 300, 0);
        }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

UNIT_TEST(bad_frees_panic_when_asked)
{
    CHECK(child_aborts(0));
    CHECK(child_aborts(1));
    CHECK(child_aborts(2));
}

UNIT_TEST(check_catches_corruption)
{
    setup(256);
    CHECK_EQ(frame_pool_add_free(&pool, 64, 192), FRAME_OK);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
    snapshot();

    table[70].state = PGS_ALLOCATED;        /* a frame inside a free block */
    CHECK_EQ(frame_pool_check(&pool), FRAME_E_CORRUPT);
    table[70] = table_copy[70];

    pool.free_frames++;
    CHECK_EQ(frame_pool_check(&pool), FRAME_E_CORRUPT);
    pool.free_frames--;

    u32 head = pool.head[7][6];             /* block [64,128) */
    CHECK_EQ(head, 64);
    table[head].next = head;                /* a list that loops */
    CHECK_EQ(frame_pool_check(&pool), FRAME_E_CORRUPT);
    table[head] = table_copy[head];

    table[200].state = PGS_FREE;            /* free but on no list */
    CHECK_EQ(frame_pool_check(&pool), FRAME_E_CORRUPT);
    table[200] = table_copy[200];

    CHECK(unchanged());
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

/*
 * Claims (XENMEM_claim_pages): claimed frames stay free for their holder,
 * its allocations count off its claim, refusals change nothing.
 */
UNIT_TEST(claims)
{
    u64 a = 0, b = 0;

    setup(256);
    CHECK_EQ(frame_pool_add_free(&pool, 128, 256), FRAME_OK);     /* 128 free */
    /* Not above what the holder has, above its maximum, too much: refused. */
    snapshot();
    CHECK_EQ(frame_pool_claim(&pool, &a, 10, 10, 100), -XEN_EINVAL);
    CHECK_EQ(frame_pool_claim(&pool, &a, 101, 10, 100), -XEN_EINVAL);
    CHECK_EQ(frame_pool_claim(&pool, &a, 200, 0, 1000), -XEN_ENOMEM);
    CHECK(unchanged());
    /* 100 frames, 4 of which it has: a claim of 96. */
    CHECK_EQ(frame_pool_claim(&pool, &a, 100, 4, 100), 0);
    CHECK_EQ(a, 96);
    CHECK_EQ(pool.outstanding_claims, 96);
    CHECK_EQ(frame_pool_claim(&pool, &a, 100, 4, 100), -XEN_EINVAL);  /* one at a time */
    CHECK_EQ(frame_pool_claim(&pool, &b, 40, 0, 100), -XEN_ENOMEM);   /* 32 unclaimed */
    CHECK_EQ(frame_pool_claim(&pool, &b, 16, 0, 100), 0);
    /* 16 unclaimed: others get them, then nothing more. */
    CHECK(alloc_frames(&pool, 4) != INVALID_MFN);
    CHECK_EQ(alloc_frames(&pool, 0), INVALID_MFN);
    CHECK_EQ(alloc_frames_below(&pool, 0, 256), INVALID_MFN);
    /* A holder takes from its own claim, within it. */
    CHECK_EQ(alloc_frames_claimed(&pool, 5, 0, &b), INVALID_MFN);     /* 32 > its 16 */
    CHECK(alloc_frames_claimed(&pool, 4, 0, &b) != INVALID_MFN);
    CHECK_EQ(b, 0);
    CHECK(alloc_frames_claimed(&pool, 6, 256, &a) != INVALID_MFN);
    CHECK_EQ(a, 32);
    CHECK_EQ(pool.outstanding_claims, 32);
    CHECK_EQ(pool.free_frames, 32);
    /* Dropping a claim frees its frames for everyone. */
    CHECK_EQ(frame_pool_claim(&pool, &a, 0, 0, 0), 0);
    CHECK_EQ(a, 0);
    CHECK_EQ(pool.outstanding_claims, 0);
    CHECK(alloc_frames(&pool, 5) != INVALID_MFN);
    CHECK_EQ(frame_pool_check(&pool), FRAME_OK);
}

/* See test_memrange.c: unit.h's main() trips a spurious -Wclobbered. */
#pragma GCC diagnostic ignored "-Wclobbered"
UNIT_MAIN()
