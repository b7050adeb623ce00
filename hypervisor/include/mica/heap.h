/*
 * Mica's heap for small objects: xmalloc() and friends over one contiguous
 * region the boot code carves out (CONFIG_HEAP_SIZE_MB).  Frames for guests
 * come from the frame allocator, not from here.
 *
 * Every block carries a boundary tag at each end (size, allocated bit and
 * a check word that mixes in the tag's own address), so freeing coalesces
 * with both neighbours in O(1) and a damaged tag, a double free or a
 * pointer the heap never returned is noticed instead of corrupting the
 * free lists.  Free blocks sit in bins by power-of-two size class.
 * Payloads are 16-byte aligned.
 *
 * All state is in struct heap; xmalloc() and friends work on the one
 * global heap set up by heap_init(), under xheap_lock; heap_*() on a
 * struct heap of one's own do no locking.
 */
#ifndef MICA_HEAP_H
#define MICA_HEAP_H

#include <mica/types.h>

#define HEAP_ALIGN 16

#define HEAP_OK           0
#define HEAP_E_INVAL      (-1)  /* region too small, or bad alignment request */
#define HEAP_E_FOREIGN    (-2)  /* pointer is not a block payload of this heap */
#define HEAP_E_DOUBLE_FREE (-3) /* block is already free */
#define HEAP_E_CORRUPT    (-4)  /* a boundary tag or free list is damaged */

#define HEAP_NR_BINS 64

struct heap_stats {
    size_t total;          /* bytes managed, block overhead included */
    size_t used;           /* bytes in allocated blocks, overhead included */
    size_t free;           /* bytes in free blocks, overhead included */
    size_t largest_alloc;  /* largest xmalloc() that would succeed now */
    size_t nr_allocs;      /* live allocations */
};

struct heap {
    u8 *start;                       /* 16-byte aligned */
    u8 *end;
    u8 *bins[HEAP_NR_BINS];          /* free blocks, by floor(log2(size)) */
    u64 nonempty_bins;               /* bit b: bins[b] != NULL */
    size_t used;
    size_t nr_allocs;
    /*
     * Panic on detected corruption or misuse, or report it and refuse the
     * operation (leaking the block).  Starts as CONFIG_DEBUG says; tests
     * turn it off to see the refusal.
     */
    bool panic_on_corruption;
};

/* Operations on a given heap. */
int heap_region_init(struct heap *h, void *base, size_t size);
/* align: a power of two; below HEAP_ALIGN means HEAP_ALIGN.  NULL when full. */
void *heap_alloc(struct heap *h, size_t size, size_t align);
/* NULL is a no-op.  Errors are reported (panic if asked) and refused. */
int heap_free(struct heap *h, void *ptr);
/* What heap_free() would say about ptr, without freeing it. */
int heap_check_pointer(const struct heap *h, const void *ptr);
/* Walks every block and bin; HEAP_OK or the first problem (printed). */
int heap_check(const struct heap *h);
void heap_get_stats(const struct heap *h, struct heap_stats *stats);

/* The hypervisor's heap. */
void heap_init(void *base, size_t size);
void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xmalloc_aligned(size_t size, size_t align);
void xfree(void *ptr);
void xheap_stats(struct heap_stats *stats);
/* heap_check() of the hypervisor's heap, e.g. at boot under CONFIG_DEBUG. */
int xheap_check(void);

#endif
