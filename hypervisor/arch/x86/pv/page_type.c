/*
 * General and type reference counts of frames (PV ABI guide, 7.1).
 *
 * A frame's type may change only while its type count is zero.  Page-table
 * types are validated on their first reference and devalidated on their
 * last, so "validated" and "type count > 0" go together for them.  The
 * writable type is kept after its count drops to zero: a later change to
 * any other type must flush the TLB, since mappings that gave up their
 * reference may still be cached.
 */
#include <asm/io.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/tlbflush.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

extern struct frame_pool host_frames;

struct page_info *pv_frame(mfn_t mfn)
{
    return mfn_to_page(&host_frames, mfn);
}

mfn_t pv_frame_mfn(const struct page_info *pg)
{
    return page_to_mfn(&host_frames, pg);
}

bool get_page(struct page_info *pg, const struct domain *d)
{
    if (!pg || page_state(pg) != PGS_ALLOCATED || pg->owner != d->domid)
        return false;
    if ((pg->count_info & PGC_COUNT_MASK) == PGC_COUNT_MASK)
        return false;
    pg->count_info++;
    return true;
}

void put_page(struct page_info *pg)
{
    if (!(pg->count_info & PGC_COUNT_MASK)) {
        pr_err("mm: reference count underflow on frame %#llx\n",
               (unsigned long long)pv_frame_mfn(pg));
        return;
    }
    pg->count_info--;
    if (pg->count_info & PGC_COUNT_MASK)
        return;
    /* The last reference to a dead domain's frame: it can go now. */
    if (pg->count_info & PGC_HELD)
        pv_release_held_frame(pg);
    /* The last reference to a frame its owner gave back. */
    else if (pg->count_info & PGC_RELEASED)
        pv_release_last_reference(pg);
}

static bool needs_validation(u64 type)
{
    return page_type_is_table(type) || type == PGT_SEG_DESC;
}

long get_page_type(struct page_info *pg, u64 type)
{
    u64 t = pg->type_info, count = t & PGT_COUNT_MASK;
    long rc;

    if (count) {
        if ((t & PGT_TYPE_MASK) != type)
            return -XEN_EBUSY;
        /* A table whose validation is under way (a loop through it). */
        if (needs_validation(type) && !(t & PGT_VALIDATED))
            return -XEN_EBUSY;
        if (count == PGT_COUNT_MASK)
            return -XEN_EBUSY;
        pg->type_info++;
        return 0;
    }

    /*
     * A frame that left a table type may still be walked as one by stale
     * paging-structure caches, a lapsed writable one written through a
     * stale TLB entry: no other type until those caches are flushed.
     */
    if ((t & PGT_STAMPED) && ((t & PGT_TYPE_MASK) != type || type != PGT_WRITABLE))
        tlbflush_before_retype(pg->tlbflush_stamp);
    if (!needs_validation(type)) {
        pg->type_info = type | 1;
        return 0;
    }
    /* Count 1 without the validated flag marks the validation in progress. */
    pg->type_info = type | 1;
    rc = pt_validate(pg, type);
    if (rc) {
        pg->type_info = PGT_NONE;
        return rc;
    }
    pg->type_info |= PGT_VALIDATED;
    return 0;
}

void put_page_type(struct page_info *pg)
{
    u64 t = pg->type_info, type = t & PGT_TYPE_MASK;

    if (!(t & PGT_COUNT_MASK)) {
        pr_err("mm: type count underflow on frame %#llx\n",
               (unsigned long long)pv_frame_mfn(pg));
        return;
    }
    if ((t & PGT_COUNT_MASK) == 1 && needs_validation(type) && (t & PGT_VALIDATED)) {
        /* Still counted while its entries let go, so nothing re-enters it. */
        pg->type_info = type | 1;
        pt_devalidate(pg, type);
        pg->type_info = PGT_NONE | PGT_STAMPED;
        pg->tlbflush_stamp = tlbflush_now();
        return;
    }
    if ((t & PGT_COUNT_MASK) == 1) {
        pg->type_info = ((t - 1) & ~PGT_PINNED) | PGT_STAMPED;
        pg->tlbflush_stamp = tlbflush_now();
        return;
    }
    pg->type_info = t - 1;
}

long get_page_and_type(struct page_info *pg, const struct domain *d, u64 type)
{
    long rc;

    if (!get_page(pg, d))
        return -XEN_EINVAL;
    if ((rc = get_page_type(pg, type)))
        put_page(pg);
    return rc;
}

void put_page_and_type(struct page_info *pg)
{
    put_page_type(pg);
    put_page(pg);
}
