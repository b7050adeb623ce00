/*
 * One record per machine frame: the frame table.
 *
 * The frame allocator owns `next`, `prev`, `order` and `state`; the memory
 * management code owns `owner`, `count_info` and `type_info` (the general
 * and type reference counts of the PV ABI, see the Xen PV ABI guide, 7.1).
 * The allocator only resets those when a frame is allocated or freed.
 *
 * The record is kept at 32 bytes: a host with 1 TiB of RAM needs 8 GiB of
 * page_info at 32 bytes, twice that at 64.  Free-list links are therefore
 * 32-bit frame indexes rather than pointers, which caps the frame table at
 * 2^32 - 1 frames (16 TiB).
 */
#ifndef MICA_PAGE_INFO_H
#define MICA_PAGE_INFO_H

#include <mica/types.h>

/* End of a free list, and "not on a list". */
#define PAGE_LIST_NONE 0xffffffffu

/*
 * Owners that are not domains.  The values are the ABI's DOMID_INVALID and
 * DOMID_XEN so that a frame's owner can be reported to a guest unchanged.
 */
#define PAGE_OWNER_NONE 0x7ff4u   /* free, reserved, or just allocated */
#define PAGE_OWNER_MICA 0x7ff2u   /* used by the hypervisor itself */

/* page_info.state: where the frame is in its life. */
#define PGS_RESERVED   0u   /* never given to the allocator (firmware, Mica image, holes) */
#define PGS_FREE       1u   /* inside a block on a free list */
#define PGS_ALLOCATED  2u   /* handed out by alloc_frames*() */
#define PGS_STATE_MASK 0x3u
/* Set on the first frame of a free block only; `order` is valid there. */
#define PGF_BUDDY_HEAD 0x4u

/*
 * count_info: general reference count in the low bits.  The top bits are
 * left for per-frame flags the memory-management code will need (Xen keeps
 * e.g. "allocated to a domain" there).
 */
#define PGC_COUNT_WIDTH 54
#define PGC_COUNT_MASK  ((1ULL << PGC_COUNT_WIDTH) - 1)
/*
 * The owner is dead but another domain still references the frame (a
 * foreign mapping): it is freed when its last reference goes.
 */
#define PGC_HELD        (1ULL << 63)
/*
 * The owner gave the frame back (decrease_reservation) while something
 * still referenced it: the allocation reference is gone, and the last
 * put_page() frees the frame and takes it off the owner's tot_pages.
 */
#define PGC_RELEASED    (1ULL << 62)
/*
 * Mica's own frame lent to its owner for as long as the owner lives (a
 * grant-table frame; Xen's shared Xen-heap pages): the owner may map it,
 * but it is not in the owner's tot_pages and the owner can never give it
 * back, exchange it or retype it; Mica frees it at teardown.
 */
#define PGC_UNCOUNTED   (1ULL << 61)
/*
 * Mica writes this frame through its own mapping, behind the guest's
 * page tables (a registered vcpu_info, FIFO event pages): log-dirty
 * reports it dirty in every round (pv/logdirty.c).  Set once, never
 * cleared while the frame stays with its owner.
 */
#define PGC_HV_WRITES   (1ULL << 60)

/*
 * type_info: the frame's current type in the top three bits (numbered as
 * the ABI guide lists them), a pinned and a validated flag, a partial
 * flag with its progress (bits 47-56) and direction (bit 57), and the
 * type reference count in the low bits.  Only the constants live here;
 * the rules for changing types belong to the memory-management code.
 */
#define PGT_TYPE_SHIFT  61
#define PGT_TYPE_MASK   (7ULL << PGT_TYPE_SHIFT)
#define PGT_NONE        (0ULL << PGT_TYPE_SHIFT)
#define PGT_L1          (1ULL << PGT_TYPE_SHIFT)
#define PGT_L2          (2ULL << PGT_TYPE_SHIFT)
#define PGT_L3          (3ULL << PGT_TYPE_SHIFT)
#define PGT_L4          (4ULL << PGT_TYPE_SHIFT)
#define PGT_SEG_DESC    (5ULL << PGT_TYPE_SHIFT)
/* 6 is memory sharing in Xen; Mica does not implement it. */
#define PGT_WRITABLE    (7ULL << PGT_TYPE_SHIFT)
#define PGT_PINNED      (1ULL << 60)
#define PGT_VALIDATED   (1ULL << 59)
/* The type count went to 0 at tlbflush_stamp: a new type waits for a TLB flush. */
#define PGT_STAMPED     (1ULL << 58)
/*
 * A table (L2-L4) whose validation a hypercall stopped part way to give
 * the CPU back (docs/pv-mm.md, "Partly validated tables"): type count 1,
 * not validated, entries [0, progress) hold their references, the frame
 * holds one general reference of its own; the next request for its type
 * goes on from `progress`.  Never used as a validated table.
 */
#define PGT_PARTIAL          (1ULL << 47)
/*
 * With PGT_PARTIAL: the table's de-validation (its last type reference
 * went) stopped part way instead (docs/pv-mm.md, "Partly de-validated
 * tables").  The same rule for entries: [0, progress) still hold their
 * references, the rest hold none; entry `progress` may name a lower table
 * whose own de-validation stopped (it is finished first).  It is finished
 * by the hypercall continuation of the vCPU that stopped it
 * (arch_vcpu.old_guest_table) or by the teardown of its domain, unless a
 * request for its type takes it over first and validates it again from
 * `progress` (as a partly validated one; Xen 4.17 the same).
 */
#define PGT_DOWN             (1ULL << 57)
#define PGT_PROGRESS_SHIFT   48
#define PGT_PROGRESS_MASK    (0x1ffULL << PGT_PROGRESS_SHIFT)
#define PGT_COUNT_WIDTH 47
#define PGT_COUNT_MASK  ((1ULL << PGT_COUNT_WIDTH) - 1)

struct page_info {
    union {
        u32 next;       /* free: free-list links, frame indexes */
        u32 tlbflush_stamp; /* allocated, PGT_STAMPED: when it left its last type */
    };
    u32 prev;
    u64 count_info;
    u64 type_info;
    u16 owner;          /* domain id, or PAGE_OWNER_* */
    u8  order;          /* block order, valid with PGF_BUDDY_HEAD */
    u8  state;          /* PGS_* | PGF_* */
    u32 spare;          /* room for the MM code (e.g. a TLB-flush stamp) */
};

_Static_assert(sizeof(struct page_info) == 32, "page_info must stay 32 bytes");

static inline unsigned page_state(const struct page_info *pg)
{
    return pg->state & PGS_STATE_MASK;
}

/*
 * The first frame in [from, end) whose owner field is `owner`, or end.
 * For the walks over every host frame that look for one domain's frames
 * (log-dirty's, MICA_DOMCTL_list_tables'): most of a host's frames are
 * other domains' or free, and this skips them four to a step with the
 * owner held in a register, about three instructions a frame where the
 * walks' own loops took nine (two such walks are in a live migration's
 * downtime).  Callers still check the frame's state.
 */
static inline struct page_info *frames_next_owned(struct page_info *from,
                                                  const struct page_info *end, u16 owner)
{
    while (end - from >= 4) {
        if (from[0].owner == owner)
            return from;
        if (from[1].owner == owner)
            return from + 1;
        if (from[2].owner == owner)
            return from + 2;
        if (from[3].owner == owner)
            return from + 3;
        from += 4;
    }
    while (from < end && from->owner != owner)
        from++;
    return from;
}

#endif
