/*
 * Boundary-tag heap with binned free lists; heap.h gives the picture.
 *
 * Block layout, all sizes multiples of 16:
 *
 *   [ header tag 16 | payload ... | footer tag 16 ]
 *
 * A tag holds the block size with bit 0 set while allocated, and a check
 * word: magic ^ tag address ^ size word.  Mixing in the address means a
 * tag copied elsewhere, or a stale one inside a block that has since
 * merged, does not pass for a live one.  A free block keeps its list
 * links at the start of its payload.
 *
 * Invariants between calls: blocks tile [start, end) exactly; no two
 * adjacent blocks are both free; every free block is on the bin of
 * floor(log2(size)) and nowhere else.
 */
#include <mica/types.h>
#include <mica/lib.h>
#include <mica/heap.h>
#include <mica/spinlock.h>

#define TAG_SIZE        16
#define BLOCK_OVERHEAD  (2 * TAG_SIZE)
/* Header, footer and room for the two free-list links. */
#define MIN_BLOCK       (BLOCK_OVERHEAD + 16)
#define ALLOCATED_BIT   1ULL

#define HEADER_MAGIC  0x6d69636148647221ULL
#define FOOTER_MAGIC  0x6d6963614674721fULL
/* Written over a header absorbed by coalescing, to name a later double free. */
#define MERGED_MAGIC  0x6d6963614d726764ULL

struct tag {
    u64 size_word;
    u64 check;
};

struct free_links {
    u8 *next;
    u8 *prev;
};

static u64 tag_check(const void *where, u64 magic, u64 size_word)
{
    return magic ^ (u64)(uintptr_t)where ^ size_word;
}

static struct tag *header_of(u8 *blk) { return (struct tag *)blk; }
static struct free_links *links_of(u8 *blk) { return (struct free_links *)(blk + TAG_SIZE); }

static size_t block_size(const u8 *blk)
{
    return (size_t)(((const struct tag *)blk)->size_word & ~ALLOCATED_BIT);
}

static bool block_allocated(const u8 *blk)
{
    return ((const struct tag *)blk)->size_word & ALLOCATED_BIT;
}

static void write_tags(u8 *blk, size_t size, bool allocated)
{
    u64 word = (u64)size | (allocated ? ALLOCATED_BIT : 0);
    struct tag *hdr = header_of(blk);
    struct tag *ftr = (struct tag *)(blk + size - TAG_SIZE);
    hdr->size_word = word;
    hdr->check = tag_check(hdr, HEADER_MAGIC, word);
    ftr->size_word = word;
    ftr->check = tag_check(ftr, FOOTER_MAGIC, word);
}

/*
 * Is there an intact block starting at blk?  Checks the header, that the
 * size keeps the block inside the heap, and that the footer agrees.  Only
 * reads memory inside [start, end).
 */
static bool block_intact(const struct heap *h, const u8 *blk)
{
    if (blk < h->start || blk >= h->end || (size_t)(h->end - blk) < MIN_BLOCK)
        return false;
    const struct tag *hdr = (const struct tag *)blk;
    if (hdr->check != tag_check(hdr, HEADER_MAGIC, hdr->size_word))
        return false;
    size_t size = block_size(blk);
    if (size < MIN_BLOCK || size % HEAP_ALIGN != 0 || size > (size_t)(h->end - blk))
        return false;
    const struct tag *ftr = (const struct tag *)(blk + size - TAG_SIZE);
    return ftr->size_word == hdr->size_word &&
           ftr->check == tag_check(ftr, FOOTER_MAGIC, ftr->size_word);
}

static unsigned bin_of(size_t size)
{
    return 63 - (unsigned)__builtin_clzll((u64)size);
}

static void bin_insert(struct heap *h, u8 *blk)
{
    unsigned b = bin_of(block_size(blk));
    struct free_links *l = links_of(blk);
    l->prev = NULL;
    l->next = h->bins[b];
    if (l->next)
        links_of(l->next)->prev = blk;
    h->bins[b] = blk;
    h->nonempty_bins |= 1ULL << b;
}

static void bin_remove(struct heap *h, u8 *blk)
{
    unsigned b = bin_of(block_size(blk));
    struct free_links *l = links_of(blk);
    if (l->prev)
        links_of(l->prev)->next = l->next;
    else
        h->bins[b] = l->next;
    if (l->next)
        links_of(l->next)->prev = l->prev;
    if (!h->bins[b])
        h->nonempty_bins &= ~(1ULL << b);
}

static void report(const struct heap *h, const char *what, const void *ptr, int err)
{
    static const char *const why[] = {
        [-HEAP_E_INVAL] = "invalid request",
        [-HEAP_E_FOREIGN] = "not a live block (stray pointer, or its header overwritten)",
        [-HEAP_E_DOUBLE_FREE] = "double free",
        [-HEAP_E_CORRUPT] = "heap corrupted (boundary tag or free list damaged)",
    };
    const char *reason = (err < 0 && -err < (int)ARRAY_SIZE(why)) ? why[-err] : "?";
    if (h->panic_on_corruption)
        panic("heap: %s %p: %s\n", what, ptr, reason);
    pr_err("heap: %s %p: %s\n", what, ptr, reason);
}

int heap_region_init(struct heap *h, void *base, size_t size)
{
    uintptr_t lo = ALIGN_UP((uintptr_t)base, (uintptr_t)HEAP_ALIGN);
    uintptr_t hi = ALIGN_DOWN((uintptr_t)base + size, (uintptr_t)HEAP_ALIGN);

    h->start = h->end = NULL;
    for (unsigned b = 0; b < HEAP_NR_BINS; b++)
        h->bins[b] = NULL;
    h->nonempty_bins = 0;
    h->used = 0;
    h->nr_allocs = 0;
#ifdef CONFIG_DEBUG
    h->panic_on_corruption = true;
#else
    h->panic_on_corruption = false;
#endif
    if ((uintptr_t)base + size < (uintptr_t)base || hi < lo || hi - lo < MIN_BLOCK)
        return HEAP_E_INVAL;

    h->start = (u8 *)lo;
    h->end = (u8 *)hi;
    write_tags(h->start, hi - lo, false);
    bin_insert(h, h->start);
    return HEAP_OK;
}

/*
 * A free block of at least `need` bytes: first fit in need's own bin
 * (whose blocks may be smaller), else the head of any larger bin, all of
 * whose blocks fit.  Every block looked at is checked first, so a damaged
 * free list is reported rather than followed.
 */
static u8 *find_free(struct heap *h, size_t need, int *err)
{
    unsigned b = bin_of(need);
    for (u8 *blk = h->bins[b]; blk; blk = links_of(blk)->next) {
        if (!block_intact(h, blk) || block_allocated(blk)) {
            *err = HEAP_E_CORRUPT;
            return NULL;
        }
        if (block_size(blk) >= need)
            return blk;
    }
    u64 larger = b + 1 < HEAP_NR_BINS ? h->nonempty_bins & ~((2ULL << b) - 1) : 0;
    if (!larger)
        return NULL;
    u8 *blk = h->bins[__builtin_ctzll(larger)];
    if (!block_intact(h, blk) || block_allocated(blk)) {
        *err = HEAP_E_CORRUPT;
        return NULL;
    }
    return blk;
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
    if (!h->start)
        return NULL;
    if (align < HEAP_ALIGN)
        align = HEAP_ALIGN;
    size_t capacity = (size_t)(h->end - h->start);
    if ((align & (align - 1)) != 0 || align > capacity || size > capacity) {
        if ((align & (align - 1)) != 0)
            report(h, "alloc with alignment", (void *)(uintptr_t)align, HEAP_E_INVAL);
        return NULL;
    }

    size_t need = MAX((size_t)MIN_BLOCK, ALIGN_UP(size, (size_t)HEAP_ALIGN) + BLOCK_OVERHEAD);
    /* Room to move the payload up to the alignment and free the gap. */
    size_t search = align > HEAP_ALIGN ? need + align + MIN_BLOCK : need;

    int err = HEAP_OK;
    u8 *blk = find_free(h, search, &err);
    if (!blk) {
        if (err != HEAP_OK)
            report(h, "alloc found", NULL, err);
        return NULL;
    }
    bin_remove(h, blk);
    size_t size_avail = block_size(blk);

    if (align > HEAP_ALIGN) {
        uintptr_t payload = (uintptr_t)blk + TAG_SIZE;
        size_t gap = ALIGN_UP(payload, (uintptr_t)align) - payload;
        /* A gap must be big enough to stand as a free block of its own. */
        while (gap != 0 && gap < MIN_BLOCK)
            gap += align;
        if (gap) {
            write_tags(blk, gap, false);
            bin_insert(h, blk);
            blk += gap;
            size_avail -= gap;
        }
    }

    if (size_avail - need >= MIN_BLOCK) {
        write_tags(blk + need, size_avail - need, false);
        bin_insert(h, blk + need);
        size_avail = need;
    }
    write_tags(blk, size_avail, true);
    h->used += size_avail;
    h->nr_allocs++;
    return blk + TAG_SIZE;
}

int heap_check_pointer(const struct heap *h, const void *ptr)
{
    const u8 *p = ptr;
    if (!h->start || p < h->start + TAG_SIZE || p >= h->end ||
        ((uintptr_t)p & (HEAP_ALIGN - 1)) != 0)
        return HEAP_E_FOREIGN;
    const u8 *blk = p - TAG_SIZE;
    const struct tag *hdr = (const struct tag *)blk;
    if (hdr->check == tag_check(hdr, MERGED_MAGIC, hdr->size_word))
        return HEAP_E_DOUBLE_FREE;
    if (hdr->check != tag_check(hdr, HEADER_MAGIC, hdr->size_word)) {
        /*
         * Not a header.  If a block provably ends right here (blk is the
         * start, or an intact footer precedes it) a header was destroyed;
         * otherwise this is most likely a stray pointer.
         */
        const struct tag *pftr = (const struct tag *)(blk - TAG_SIZE);
        if (blk == h->start ||
            (blk - TAG_SIZE >= h->start &&
             pftr->check == tag_check(pftr, FOOTER_MAGIC, pftr->size_word)))
            return HEAP_E_CORRUPT;
        return HEAP_E_FOREIGN;
    }
    if (!block_intact(h, blk))
        return HEAP_E_CORRUPT;
    if (!block_allocated(blk))
        return HEAP_E_DOUBLE_FREE;
    return HEAP_OK;
}

/* Marks a header that coalescing swallowed, so freeing it again is named. */
static void bury_header(u8 *blk)
{
    struct tag *hdr = header_of(blk);
    hdr->size_word = 0;
    hdr->check = tag_check(hdr, MERGED_MAGIC, 0);
}

int heap_free(struct heap *h, void *ptr)
{
    if (!ptr)
        return HEAP_OK;
    int err = heap_check_pointer(h, ptr);
    if (err != HEAP_OK) {
        report(h, "free of", ptr, err);
        return err;
    }

    u8 *blk = (u8 *)ptr - TAG_SIZE;
    size_t size = block_size(blk);
    u8 *next = blk + size;
    bool merge_next = false, merge_prev = false;
    u8 *prev = NULL;

    /* Look at both neighbours before changing anything. */
    if (next < h->end) {
        if (!block_intact(h, next)) {
            report(h, "free found the block after", ptr, HEAP_E_CORRUPT);
            return HEAP_E_CORRUPT;
        }
        merge_next = !block_allocated(next);
    }
    if (blk > h->start) {
        const struct tag *pftr = (const struct tag *)(blk - TAG_SIZE);
        size_t psize = (size_t)(pftr->size_word & ~ALLOCATED_BIT);
        prev = psize <= (size_t)(blk - h->start) ? blk - psize : NULL;
        if (!prev || !block_intact(h, prev) || block_size(prev) != psize) {
            report(h, "free found the block before", ptr, HEAP_E_CORRUPT);
            return HEAP_E_CORRUPT;
        }
        merge_prev = !block_allocated(prev);
    }

    h->used -= size;
    h->nr_allocs--;
    if (merge_next) {
        bin_remove(h, next);
        size += block_size(next);
        bury_header(next);
    }
    if (merge_prev) {
        bin_remove(h, prev);
        size += block_size(prev);
        bury_header(blk);
        blk = prev;
    }
    write_tags(blk, size, false);
    bin_insert(h, blk);
    return HEAP_OK;
}

#define CHECK_FAIL(err, ...) do { pr_err("heap check: " __VA_ARGS__); return (err); } while (0)

int heap_check(const struct heap *h)
{
    if (!h->start)
        return HEAP_OK;

    size_t used = 0, allocs = 0, free_blocks = 0;
    bool prev_free = false;
    for (u8 *blk = h->start; blk < h->end; blk += block_size(blk)) {
        if (!block_intact(h, blk))
            CHECK_FAIL(HEAP_E_CORRUPT, "damaged block at %p\n", (void *)blk);
        bool is_free = !block_allocated(blk);
        if (is_free && prev_free)
            CHECK_FAIL(HEAP_E_CORRUPT, "two free blocks side by side at %p\n", (void *)blk);
        if (is_free) {
            free_blocks++;
        } else {
            used += block_size(blk);
            allocs++;
        }
        prev_free = is_free;
    }

    size_t listed = 0;
    for (unsigned b = 0; b < HEAP_NR_BINS; b++) {
        if (((h->nonempty_bins >> b) & 1) != (h->bins[b] != NULL))
            CHECK_FAIL(HEAP_E_CORRUPT, "bin bitmap wrong for bin %u\n", b);
        u8 *prev = NULL;
        for (u8 *blk = h->bins[b]; blk; blk = links_of(blk)->next) {
            if (!block_intact(h, blk) || block_allocated(blk) || bin_of(block_size(blk)) != b)
                CHECK_FAIL(HEAP_E_CORRUPT, "bin %u holds a bad block %p\n", b, (void *)blk);
            if (links_of(blk)->prev != prev)
                CHECK_FAIL(HEAP_E_CORRUPT, "bin %u back link wrong at %p\n", b, (void *)blk);
            /* More entries than free blocks means a loop or a shared block. */
            if (++listed > free_blocks)
                CHECK_FAIL(HEAP_E_CORRUPT, "bins list more blocks than exist\n");
            prev = blk;
        }
    }
    if (listed != free_blocks)
        CHECK_FAIL(HEAP_E_CORRUPT, "%llu free blocks, %llu on bins\n",
                   (unsigned long long)free_blocks, (unsigned long long)listed);
    if (used != h->used || allocs != h->nr_allocs)
        CHECK_FAIL(HEAP_E_CORRUPT, "counters say %llu bytes in %llu blocks, walk found %llu in %llu\n",
                   (unsigned long long)h->used, (unsigned long long)h->nr_allocs,
                   (unsigned long long)used, (unsigned long long)allocs);
    return HEAP_OK;
}

void heap_get_stats(const struct heap *h, struct heap_stats *s)
{
    s->total = (size_t)(h->end - h->start);
    s->used = h->used;
    s->free = s->total - h->used;
    s->nr_allocs = h->nr_allocs;
    s->largest_alloc = 0;
    if (h->nonempty_bins) {
        unsigned b = 63 - (unsigned)__builtin_clzll(h->nonempty_bins);
        size_t largest = 0;
        for (u8 *blk = h->bins[b]; blk; blk = links_of(blk)->next)
            largest = MAX(largest, block_size(blk));
        s->largest_alloc = largest - BLOCK_OVERHEAD;
    }
}

/* The hypervisor's own heap: the one global instance. */
static struct heap hv_heap;             /* guarded by xheap_lock */
static DEFINE_SPINLOCK(xheap_lock, LOCK_ORDER_XHEAP);

void heap_init(void *base, size_t size)
{
    if (heap_region_init(&hv_heap, base, size) != HEAP_OK)
        panic("heap: region %p + %#llx is too small\n", base, (unsigned long long)size);
}

void *xmalloc_aligned(size_t size, size_t align)
{
    void *p;

    spin_lock(&xheap_lock);
    p = heap_alloc(&hv_heap, size, align);
    spin_unlock(&xheap_lock);
    return p;
}

void *xmalloc(size_t size)
{
    return xmalloc_aligned(size, HEAP_ALIGN);
}

void *xzalloc(size_t size)
{
    void *p = xmalloc_aligned(size, HEAP_ALIGN);
    if (p)
        memset(p, 0, size);
    return p;
}

void xfree(void *ptr)
{
    spin_lock(&xheap_lock);
    heap_free(&hv_heap, ptr);
    spin_unlock(&xheap_lock);
}

void xheap_stats(struct heap_stats *stats)
{
    spin_lock(&xheap_lock);
    heap_get_stats(&hv_heap, stats);
    spin_unlock(&xheap_lock);
}

int xheap_check(void)
{
    int rc;

    spin_lock(&xheap_lock);
    rc = heap_check(&hv_heap);
    spin_unlock(&xheap_lock);
    return rc;
}
