/*
 * Range arithmetic over physical memory, used at boot before any allocator
 * exists: which RAM is usable, and carving fixed blocks (frame table, heap)
 * out of it.
 *
 * A range list is an array of disjoint ranges sorted by start, with no two
 * ranges touching (adjacent ones are merged).  Every function that can grow
 * the list takes the array's capacity and fails with MEMRANGE_EFULL rather
 * than write past it; on any error the list is left unchanged.
 */
#ifndef MICA_MEMRANGE_H
#define MICA_MEMRANGE_H

#include <mica/types.h>

struct mem_range {
    u64 start;
    u64 end;        /* exclusive */
};

#define MEMRANGE_OK      0
#define MEMRANGE_EFULL   (-1)  /* result would need more than `cap` entries */
#define MEMRANGE_EINVAL  (-2)  /* end < start, zero size, align not a power of two */
#define MEMRANGE_ENOSPC  (-3)  /* no usable range holds the requested block */

/* For memrange_carve's max_addr: anywhere in the address space. */
#define MEMRANGE_NO_LIMIT (~(u64)0)

/*
 * Adds [start, end) to the list, merging it with every range it overlaps
 * or touches.  An empty range (start == end) is accepted and changes
 * nothing.
 */
int memrange_add(struct mem_range *ranges, size_t *n, size_t cap,
                 u64 start, u64 end);

/* Removes [start, end) from the list, splitting a range it falls inside. */
int memrange_subtract(struct mem_range *ranges, size_t *n, size_t cap,
                      u64 start, u64 end);

/*
 * Rounds every range inward to page boundaries and drops those left empty.
 * Done after subtracting reserved ranges, this also makes a page that is
 * only partly reserved unusable as a whole.
 */
void memrange_page_align(struct mem_range *ranges, size_t *n);

/*
 * The usable-RAM list in one call: the union of `avail` (firmware map
 * entries of available RAM, in any order, possibly overlapping), minus every
 * range of `reserved`, rounded inward to pages.  `out` is overwritten.
 */
int memrange_build_usable(struct mem_range *out, size_t *n, size_t cap,
                          const struct mem_range *avail, size_t n_avail,
                          const struct mem_range *reserved, size_t n_reserved);

/*
 * Takes a block of `size` bytes, starting at a multiple of `align` (a power
 * of two) and ending at or below `max_addr`, out of the list.  The highest
 * such block is chosen so that low memory stays free for whatever needs
 * it.  On success *out_start is the block's start; on failure it is left
 * alone and the list is unchanged.
 */
int memrange_carve(struct mem_range *ranges, size_t *n, size_t cap,
                   u64 size, u64 align, u64 max_addr, u64 *out_start);

/* Sum of the lengths of the ranges. */
u64 memrange_total(const struct mem_range *ranges, size_t n);

#endif
