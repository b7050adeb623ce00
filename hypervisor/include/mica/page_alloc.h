/*
 * The frame allocator: a binary buddy allocator over machine frames, with
 * one struct page_info per frame in a frame table the boot code places.
 *
 * Free blocks are kept per order and per zone, zone z holding the frames
 * whose number has z significant bits (zone 0 is frame 0, zone z > 0 is
 * [2^(z-1), 2^z)).  Zones let alloc_frames() hand out high memory first
 * and alloc_frames_below() find low memory without walking any list: a
 * bitmap per order says which zones have a block of that order.  Because
 * zone boundaries are powers of two, a naturally aligned block never
 * straddles one, except a block starting at frame 0, which is therefore
 * never built.
 *
 * All state lives in struct frame_pool; Mica has one pool for host RAM, but
 * nothing here assumes it.  No locking: callers serialise.
 */
#ifndef MICA_PAGE_ALLOC_H
#define MICA_PAGE_ALLOC_H

#include <mica/nospec.h>
#include <mica/types.h>
#include <mica/spinlock.h>
#include <mica/page_info.h>

/* Largest block: 2^18 frames, 1 GiB. */
#define MAX_ORDER 18
/* Zones 0..32 cover every frame index a u32 link can name. */
#define FRAME_NR_ZONES 33

/* Results of the checking functions and of operations that refuse. */
#define FRAME_OK        0
#define FRAME_E_RANGE   (-1)  /* frame(s) outside the frame table */
#define FRAME_E_ALIGN   (-2)  /* mfn not a multiple of 2^order */
#define FRAME_E_ORDER   (-3)  /* order > MAX_ORDER */
#define FRAME_E_STATE   (-4)  /* freeing a frame that is not allocated (double
                                 free, reserved), or adding one that is not
                                 reserved */
#define FRAME_E_CORRUPT (-5)  /* frame_pool_check found inconsistent lists */

struct frame_pool {
    struct page_info *table;
    mfn_t nr_frames;
    u64 free_frames;
    u64 total_frames;                      /* frames ever given by add_free */
    u64 free_blocks[MAX_ORDER + 1];        /* per order, all zones */
    u64 zones_with_free[MAX_ORDER + 1];    /* bit z: head[z][order] non-empty */
    u32 head[FRAME_NR_ZONES][MAX_ORDER + 1];
    /*
     * What to do on misuse (bad free, bad add): panic, or report and
     * refuse.  Starts as CONFIG_DEBUG says; tests turn it off to check that
     * a refused operation leaves the pool intact.
     */
    bool panic_on_misuse;
    /*
     * Frames promised to domains by XENMEM_claim_pages and not yet given
     * to them: the sum of every claim (frame_pool_claim).  An allocation
     * that would leave fewer free frames than this fails, unless it is
     * the claimant's and its own claim covers it (Xen 4.17's rule).
     */
    u64 outstanding_claims;
    /* Guards everything above, and the allocator's fields of the frames. */
    spinlock_t lock;
};

/* The pool of host RAM (arch setup); its table has a page_info per host frame. */
extern struct frame_pool host_frames;

/*
 * Takes over `table` (nr_frames entries, nr_frames < 2^32 - 1; more is
 * clipped with a warning) and marks every frame reserved.  O(nr_frames).
 */
void frame_pool_init(struct frame_pool *p, struct page_info *table, mfn_t nr_frames);

/*
 * Gives the frames [start, end) to the allocator, merging them with free
 * neighbours.  Every frame must be in the table and still reserved;
 * otherwise nothing is added and the error is reported (panic when
 * panic_on_misuse).
 */
int frame_pool_add_free(struct frame_pool *p, mfn_t start, mfn_t end);

/*
 * 2^order contiguous frames, naturally aligned, from the highest zone that
 * has them; INVALID_MFN when none.  The frames come back PGS_ALLOCATED with
 * owner PAGE_OWNER_NONE and zero counts.  O(MAX_ORDER).
 */
mfn_t alloc_frames(struct frame_pool *p, unsigned order);

/*
 * As alloc_frames(), but every frame of the block is below `limit` (an
 * exclusive frame number).  Fast when limit is a power of two; otherwise
 * the one zone that straddles the limit may have its lists walked after
 * the lower zones came up empty.
 */
mfn_t alloc_frames_below(struct frame_pool *p, unsigned order, mfn_t limit);

/*
 * Returns 2^order frames starting at mfn.  They need not have been
 * allocated as one block: any allocated, aligned run may be freed, and
 * buddies merge as they come back.  Misuse is refused and reported (panic
 * when panic_on_misuse); the return value says why.
 */
int free_frames(struct frame_pool *p, mfn_t mfn, unsigned order);

/*
 * Claims (XENMEM_claim_pages).  *claim is one holder's outstanding claim
 * (a domain's outstanding_pages), guarded by p->lock.
 *
 * frame_pool_claim: pages == 0 drops the holder's claim; otherwise stakes
 * one for pages - held frames (the holder's tot_pages), as Xen's
 * domain_set_outstanding_pages: -XEN_EINVAL when it already has one or
 * when pages is not above held or is above max; -XEN_ENOMEM when it is
 * more than the free frames not already claimed.  0 on success.
 */
int frame_pool_claim(struct frame_pool *p, u64 *claim, u64 pages, u64 held, u64 max);
/* The holder's current claim (read under p->lock). */
u64 frame_pool_claim_of(struct frame_pool *p, const u64 *claim);
/*
 * alloc_frames / alloc_frames_below (limit != 0) for the holder of
 * *claim: may take claimed frames as far as its own claim covers the
 * request, and what it takes is counted off its claim.
 */
mfn_t alloc_frames_claimed(struct frame_pool *p, unsigned order, mfn_t limit, u64 *claim);

/* What free_frames() would say, without doing anything. */
int frame_pool_check_free(const struct frame_pool *p, mfn_t mfn, unsigned order);

/*
 * Walks every free list and the whole frame table and checks links,
 * states, orders, alignment, zones and counters.  FRAME_OK, or
 * FRAME_E_CORRUPT after printing the first problem.  O(nr_frames): for
 * tests and debug boots.
 */
int frame_pool_check(const struct frame_pool *p);

static inline u64 frame_pool_free_count(const struct frame_pool *p)
{
    return p->free_frames;
}

static inline u64 frame_pool_total_count(const struct frame_pool *p)
{
    return p->total_frames;
}

/*
 * NULL for a frame outside the table.  Guests name frames (mmu_update,
 * grant maps, foreign mappings), so under speculation too the index is
 * clamped and neither outcome of the check runs ahead of it (Spectre v1;
 * Xen hardens mfn_valid() both ways).
 */
static inline struct page_info *mfn_to_page(const struct frame_pool *p, mfn_t mfn)
{
    if (!evaluate_nospec(mfn < p->nr_frames))
        return NULL;
    return &p->table[array_index_nospec(mfn, p->nr_frames)];
}

static inline mfn_t page_to_mfn(const struct frame_pool *p, const struct page_info *pg)
{
    return (mfn_t)(pg - p->table);
}

#endif
