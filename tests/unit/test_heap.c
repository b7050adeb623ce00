/*
 * Tests of the small-object heap.
 * unit-sources: hypervisor/common/heap.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "heap"
#include "unit.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mica/lib.h>
#include <mica/heap.h>

#define REGION_SIZE (256 * 1024)
static unsigned char region[REGION_SIZE] __attribute__((aligned(64)));
static struct heap heap;

static void setup(void)
{
    memset(region, 0x5a, sizeof(region));
    CHECK_EQ(heap_region_init(&heap, region, sizeof(region)), HEAP_OK);
    heap.panic_on_corruption = false;
}

/* The heap is back to one free block spanning everything. */
static int pristine(const struct heap *h)
{
    struct heap_stats s;
    heap_get_stats(h, &s);
    return heap_check(h) == HEAP_OK && s.used == 0 && s.nr_allocs == 0 &&
           s.free == s.total && s.largest_alloc == s.total - 32;
}

UNIT_TEST(init_and_stats)
{
    struct heap h = { 0 };
    CHECK(heap_alloc(&h, 16, 16) == NULL);       /* never initialised */
    CHECK_EQ(heap_region_init(&h, region, 40), HEAP_E_INVAL);
    CHECK(heap_alloc(&h, 16, 16) == NULL);
    /* Unaligned base and size: trimmed to 16-byte bounds. */
    CHECK_EQ(heap_region_init(&h, region + 3, 1000), HEAP_OK);
    struct heap_stats s;
    heap_get_stats(&h, &s);
    CHECK_EQ(s.total, 992 - 16);                  /* [region+16, region+992) */
    CHECK(pristine(&h));

    void *p = heap_alloc(&h, 100, 16);
    CHECK(p != NULL);
    heap_get_stats(&h, &s);
    CHECK_EQ(s.used, 112 + 32);
    CHECK_EQ(s.nr_allocs, 1);
    CHECK_EQ(s.free, s.total - s.used);
    CHECK_EQ(s.largest_alloc, s.total - s.used - 32);
    CHECK_EQ(heap_free(&h, p), HEAP_OK);
    CHECK(pristine(&h));
}

UNIT_TEST(payloads_aligned_and_disjoint)
{
    setup();
    unsigned char *ptrs[300];
    for (size_t i = 0; i < 300; i++) {
        ptrs[i] = heap_alloc(&heap, i, 16);
        CHECK(ptrs[i] != NULL);
        CHECK_EQ((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], (int)(i & 0xff), i);
    }
    CHECK_EQ(heap_check(&heap), HEAP_OK);
    for (size_t i = 0; i < 300; i++)
        for (size_t j = 0; j < i; j++)
            CHECK_EQ(ptrs[i][j], i & 0xff);
    for (size_t i = 0; i < 300; i += 2)
        CHECK_EQ(heap_free(&heap, ptrs[i]), HEAP_OK);
    CHECK_EQ(heap_check(&heap), HEAP_OK);
    for (size_t i = 1; i < 300; i += 2)
        CHECK_EQ(heap_free(&heap, ptrs[i]), HEAP_OK);
    CHECK(pristine(&heap));
}

UNIT_TEST(aligned_allocations)
{
    setup();
    void *ptrs[64];
    unsigned n = 0;
    for (size_t align = 32; align <= 8192; align *= 2) {
        for (size_t size = 1; size < 600; size += 199) {
            void *p = heap_alloc(&heap, size, align);
            CHECK(p != NULL);
            CHECK_EQ((uintptr_t)p % align, 0);
            memset(p, 0x77, size);
            ptrs[n++] = p;
            CHECK_EQ(heap_check(&heap), HEAP_OK);
        }
    }
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(heap_free(&heap, ptrs[i]), HEAP_OK);
    CHECK(pristine(&heap));
    /* Alignment that is not a power of two, or bigger than the heap. */
    CHECK(heap_alloc(&heap, 16, 48) == NULL);
    CHECK(heap_alloc(&heap, 16, (size_t)1 << 40) == NULL);
    CHECK(pristine(&heap));
}

UNIT_TEST(exhaustion_returns_null)
{
    setup();
    CHECK(heap_alloc(&heap, REGION_SIZE, 16) == NULL);
    CHECK(heap_alloc(&heap, SIZE_MAX, 16) == NULL);
    CHECK(heap_alloc(&heap, SIZE_MAX - 8, 16) == NULL);
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    void *all = heap_alloc(&heap, s.largest_alloc, 16);
    CHECK(all != NULL);
    CHECK(heap_alloc(&heap, 0, 16) == NULL);
    CHECK_EQ(heap_free(&heap, all), HEAP_OK);

    unsigned count = 0;
    void **list = NULL;
    for (;;) {
        void *p = heap_alloc(&heap, 1000, 16);
        if (!p)
            break;
        list = realloc(list, (count + 1) * sizeof(*list));
        list[count++] = p;
    }
    CHECK(count >= REGION_SIZE / 1100);
    CHECK_EQ(heap_check(&heap), HEAP_OK);
    while (count > 0)
        CHECK_EQ(heap_free(&heap, list[--count]), HEAP_OK);
    free(list);
    CHECK(pristine(&heap));
}

/* Random sizes, alignments and free order with a fixed seed; contents verified. */
UNIT_TEST(random_sequences_coalesce_fully)
{
    setup();
    struct { unsigned char *p; size_t size; unsigned char fill; } live[512];
    unsigned nlive = 0;
    srand(4242);
    for (int step = 0; step < 20000; step++) {
        if (nlive < 512 && (nlive == 0 || rand() % 100 < 52)) {
            size_t size = (size_t)(rand() % 4 == 0 ? rand() % 4096 : rand() % 200);
            size_t align = rand() % 8 == 0 ? (size_t)16 << (rand() % 6) : 16;
            unsigned char *p = heap_alloc(&heap, size, align);
            if (!p)
                continue;
            CHECK_EQ((uintptr_t)p % align, 0);
            live[nlive].p = p;
            live[nlive].size = size;
            live[nlive].fill = (unsigned char)rand();
            memset(p, live[nlive].fill, size);
            nlive++;
        } else {
            unsigned k = (unsigned)rand() % nlive;
            for (size_t i = 0; i < live[k].size; i++)
                CHECK_EQ(live[k].p[i], live[k].fill);
            CHECK_EQ(heap_free(&heap, live[k].p), HEAP_OK);
            live[k] = live[--nlive];
        }
        if (step % 1000 == 0)
            CHECK_EQ(heap_check(&heap), HEAP_OK);
    }
    while (nlive > 0)
        CHECK_EQ(heap_free(&heap, live[--nlive].p), HEAP_OK);
    CHECK(pristine(&heap));
}

UNIT_TEST(global_heap_xzalloc_zeroes_and_xfree_null)
{
    static unsigned char gregion[64 * 1024] __attribute__((aligned(16)));
    heap_init(gregion, sizeof(gregion));
    unsigned char *a = xmalloc(5000);
    CHECK(a != NULL);
    memset(a, 0xee, 5000);
    xfree(a);
    unsigned char *z = xzalloc(5000);
    CHECK(z == a);          /* same memory came back, so zeroing is tested */
    for (int i = 0; i < 5000; i++)
        CHECK_EQ(z[i], 0);
    void *al = xmalloc_aligned(100, 4096);
    CHECK(al != NULL);
    CHECK_EQ((uintptr_t)al % 4096, 0);
    xfree(NULL);
    xfree(z);
    xfree(al);
    struct heap_stats s;
    xheap_stats(&s);
    CHECK_EQ(s.used, 0);
    CHECK_EQ(s.largest_alloc, s.total - 32);
    CHECK_EQ(xheap_check(), HEAP_OK);
}

UNIT_TEST(misuse_is_refused)
{
    setup();
    unsigned char *a = heap_alloc(&heap, 64, 16);
    unsigned char *b = heap_alloc(&heap, 64, 16);
    unsigned char *c = heap_alloc(&heap, 64, 16);
    CHECK(a && b && c);
    int local;

    CHECK_EQ(heap_free(&heap, NULL), HEAP_OK);
    CHECK_EQ(heap_free(&heap, &local), HEAP_E_FOREIGN);
    CHECK_EQ(heap_free(&heap, b + 16), HEAP_E_FOREIGN);      /* inside a payload */
    CHECK_EQ(heap_free(&heap, b + 1), HEAP_E_FOREIGN);       /* misaligned */
    CHECK_EQ(heap_check(&heap), HEAP_OK);

    CHECK_EQ(heap_free(&heap, b), HEAP_OK);
    struct heap_stats before, after;
    heap_get_stats(&heap, &before);
    CHECK_EQ(heap_free(&heap, b), HEAP_E_DOUBLE_FREE);
    heap_get_stats(&heap, &after);
    CHECK_EQ(memcmp(&before, &after, sizeof(before)), 0);
    CHECK_EQ(heap_check(&heap), HEAP_OK);

    /* c merges into b's free block; freeing c again is still a double free. */
    CHECK_EQ(heap_free(&heap, c), HEAP_OK);
    CHECK_EQ(heap_check_pointer(&heap, c), HEAP_E_DOUBLE_FREE);
    CHECK_EQ(heap_free(&heap, c), HEAP_E_DOUBLE_FREE);
    CHECK_EQ(heap_free(&heap, a), HEAP_OK);
    CHECK(pristine(&heap));
}

UNIT_TEST(overflow_and_underflow_are_caught)
{
    setup();
    unsigned char *a = heap_alloc(&heap, 64, 16);
    unsigned char *b = heap_alloc(&heap, 64, 16);
    unsigned char *c = heap_alloc(&heap, 64, 16);
    CHECK(a && b && c);

    /* Writing one byte past b's 64 bytes hits its footer. */
    unsigned char saved = b[64];
    b[64] ^= 0xff;
    CHECK_EQ(heap_check_pointer(&heap, b), HEAP_E_CORRUPT);
    CHECK_EQ(heap_free(&heap, b), HEAP_E_CORRUPT);
    CHECK_EQ(heap_check(&heap), HEAP_E_CORRUPT);
    b[64] = saved;
    CHECK_EQ(heap_check(&heap), HEAP_OK);

    /* Writing before c's payload hits its header. */
    saved = c[-8];
    c[-8] ^= 0x01;
    CHECK_EQ(heap_free(&heap, c), HEAP_E_CORRUPT);
    /* Freeing b would merge with nothing, but must not trust c's tags. */
    CHECK_EQ(heap_check(&heap), HEAP_E_CORRUPT);
    c[-8] = saved;

    /* A damaged neighbour stops the free of an intact block. */
    saved = a[64];
    a[64] ^= 0x10;                           /* a's footer, b's left neighbour */
    CHECK_EQ(heap_free(&heap, b), HEAP_E_CORRUPT);
    a[64] = saved;

    CHECK_EQ(heap_free(&heap, a), HEAP_OK);
    CHECK_EQ(heap_free(&heap, b), HEAP_OK);
    CHECK_EQ(heap_free(&heap, c), HEAP_OK);
    CHECK(pristine(&heap));
}

UNIT_TEST(check_catches_damaged_free_lists)
{
    setup();
    void *a = heap_alloc(&heap, 64, 16);
    void *b = heap_alloc(&heap, 64, 16);
    void *c = heap_alloc(&heap, 64, 16);
    CHECK_EQ(heap_free(&heap, a), HEAP_OK);
    CHECK_EQ(heap_free(&heap, c), HEAP_OK);   /* merges with the tail */
    CHECK_EQ(heap_check(&heap), HEAP_OK);

    /* a's free-list link (first payload word) made to point at itself. */
    unsigned char **link = a;
    unsigned char *saved = *link;
    *link = (unsigned char *)a - 16;
    CHECK_EQ(heap_check(&heap), HEAP_E_CORRUPT);
    *link = saved;
    CHECK_EQ(heap_check(&heap), HEAP_OK);
    CHECK_EQ(heap_free(&heap, b), HEAP_OK);
    CHECK(pristine(&heap));
}

/* In a child with panic_on_corruption: the misuse must abort (panic). */
static int child_aborts(int kind)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        CHECK_EQ(heap_region_init(&heap, region, sizeof(region)), HEAP_OK);
        heap.panic_on_corruption = true;
        unsigned char *p = heap_alloc(&heap, 32, 16);
        if (kind == 0) {
            heap_free(&heap, p);
            heap_free(&heap, p);
        } else if (kind == 1) {
            p[40] ^= 0xff;              /* its footer */
            heap_free(&heap, p);
        } else {
            heap_free(&heap, region + 4096 + 16);
        }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

UNIT_TEST(misuse_panics_when_asked)
{
    CHECK(child_aborts(0));
    CHECK(child_aborts(1));
    CHECK(child_aborts(2));
}

/* See test_memrange.c: unit.h's main() trips a spurious -Wclobbered. */
#pragma GCC diagnostic ignored "-Wclobbered"
UNIT_MAIN()
