/*
 * Range arithmetic for boot-time memory discovery.  See memrange.h for the
 * list invariants (sorted, disjoint, non-touching) every function keeps.
 */
#include <mica/types.h>
#include <mica/lib.h>
#include <mica/memrange.h>

/* memmove is not guaranteed to exist this early; lists are tiny anyway. */
static void shift_down(struct mem_range *r, size_t n, size_t to, size_t from)
{
    for (size_t i = from; i < n; i++)
        r[to + (i - from)] = r[i];
}

static void shift_up_one(struct mem_range *r, size_t n, size_t at)
{
    for (size_t i = n; i > at; i--)
        r[i] = r[i - 1];
}

int memrange_add(struct mem_range *r, size_t *n, size_t cap, u64 start, u64 end)
{
    if (end < start)
        return MEMRANGE_EINVAL;
    if (end == start)
        return MEMRANGE_OK;

    /* first: first range that ends at or after start (touching counts). */
    size_t first = 0;
    while (first < *n && r[first].end < start)
        first++;
    /* last: one past the last range that starts at or before end. */
    size_t last = first;
    while (last < *n && r[last].start <= end)
        last++;

    if (first == last) {
        if (*n >= cap)
            return MEMRANGE_EFULL;
        shift_up_one(r, *n, first);
        r[first] = (struct mem_range){ start, end };
        (*n)++;
        return MEMRANGE_OK;
    }

    u64 merged_start = MIN(start, r[first].start);
    u64 merged_end = MAX(end, r[last - 1].end);
    r[first] = (struct mem_range){ merged_start, merged_end };
    shift_down(r, *n, first + 1, last);
    *n -= (last - first) - 1;
    return MEMRANGE_OK;
}

int memrange_subtract(struct mem_range *r, size_t *n, size_t cap, u64 start, u64 end)
{
    if (end < start)
        return MEMRANGE_EINVAL;
    if (end == start)
        return MEMRANGE_OK;

    /* Ranges are disjoint, so at most one can contain the hole strictly. */
    for (size_t i = 0; i < *n; i++) {
        if (r[i].start < start && r[i].end > end) {
            if (*n >= cap)
                return MEMRANGE_EFULL;
            shift_up_one(r, *n, i + 1);
            r[i + 1] = (struct mem_range){ end, r[i].end };
            r[i].end = start;
            (*n)++;
            return MEMRANGE_OK;
        }
    }

    size_t out = 0;
    for (size_t i = 0; i < *n; i++) {
        struct mem_range cur = r[i];
        if (cur.end <= start || cur.start >= end) {
            r[out++] = cur;
            continue;
        }
        /* Overlaps but does not strictly contain: keep the side left over. */
        if (cur.start < start)
            r[out++] = (struct mem_range){ cur.start, start };
        else if (cur.end > end)
            r[out++] = (struct mem_range){ end, cur.end };
    }
    *n = out;
    return MEMRANGE_OK;
}

void memrange_page_align(struct mem_range *r, size_t *n)
{
    size_t out = 0;
    for (size_t i = 0; i < *n; i++) {
        /* Rounding the start up must not wrap at the top of the space. */
        if (r[i].start > (~(u64)0 & PAGE_MASK))
            continue;
        u64 s = ALIGN_UP(r[i].start, (u64)PAGE_SIZE);
        u64 e = ALIGN_DOWN(r[i].end, (u64)PAGE_SIZE);
        if (e > s)
            r[out++] = (struct mem_range){ s, e };
    }
    *n = out;
}

int memrange_build_usable(struct mem_range *out, size_t *n, size_t cap,
                          const struct mem_range *avail, size_t n_avail,
                          const struct mem_range *reserved, size_t n_reserved)
{
    int rc;

    *n = 0;
    for (size_t i = 0; i < n_avail; i++) {
        rc = memrange_add(out, n, cap, avail[i].start, avail[i].end);
        if (rc != MEMRANGE_OK)
            return rc;
    }
    for (size_t i = 0; i < n_reserved; i++) {
        rc = memrange_subtract(out, n, cap, reserved[i].start, reserved[i].end);
        if (rc != MEMRANGE_OK)
            return rc;
    }
    memrange_page_align(out, n);
    return MEMRANGE_OK;
}

int memrange_carve(struct mem_range *r, size_t *n, size_t cap,
                   u64 size, u64 align, u64 max_addr, u64 *out_start)
{
    if (size == 0 || align == 0 || (align & (align - 1)) != 0)
        return MEMRANGE_EINVAL;

    for (size_t i = *n; i-- > 0;) {
        u64 top = MIN(r[i].end, max_addr);
        if (top < r[i].start || top - r[i].start < size)
            continue;
        u64 start = ALIGN_DOWN(top - size, align);
        if (start < r[i].start)
            continue;

        bool keep_low = start > r[i].start;
        bool keep_high = start + size < r[i].end;
        if (keep_low && keep_high) {
            if (*n >= cap)
                return MEMRANGE_EFULL;
            shift_up_one(r, *n, i + 1);
            r[i + 1] = (struct mem_range){ start + size, r[i].end };
            r[i].end = start;
            (*n)++;
        } else if (keep_low) {
            r[i].end = start;
        } else if (keep_high) {
            r[i].start = start + size;
        } else {
            shift_down(r, *n, i, i + 1);
            (*n)--;
        }
        *out_start = start;
        return MEMRANGE_OK;
    }
    return MEMRANGE_ENOSPC;
}

u64 memrange_total(const struct mem_range *r, size_t n)
{
    u64 total = 0;
    for (size_t i = 0; i < n; i++)
        total += r[i].end - r[i].start;
    return total;
}
