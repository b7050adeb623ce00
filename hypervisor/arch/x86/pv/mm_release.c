/*
 * Frames a live PV domain gives back (see asm/mm_release.h).
 *
 * Mica keeps the allocation reference as one count in count_info, not as
 * a flag, so a frame given back while still referenced is marked
 * PGC_RELEASED: that says the allocation reference is already gone (a
 * second give-back must not drop someone else's reference) and tells
 * put_page() to free the frame with its last reference.
 *
 * A freed frame may still sit in the TLB of the domain that owned it (L1
 * changes leave flushing to the guest, and a writable type lapses without
 * a flush); before the allocator can hand it to anyone, the TLB is
 * flushed.  One CPU runs guests, so a local flush is a global one.
 */
#include <asm/atomic.h>
#include <asm/io.h>
#include <asm/m2p.h>
#include <asm/mm_release.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

extern struct frame_pool host_frames;

bool pv_free_frame(struct page_info *pg, bool flush)
{
    mfn_t mfn = pv_frame_mfn(pg);

    /* Nothing of the old owner may reach the next one. */
    memset(maddr_to_virt(mfn << PAGE_SHIFT), 0, PAGE_SIZE);
    /* Owner first: get_page() rechecks it after counting itself in. */
    WRITE_ONCE(pg->owner, PAGE_OWNER_NONE);
    smp_mb();
    pg->count_info = 0;
    pg->type_info = 0;
    pg->spare = 0;
    if (mfn < m2p_nr_frames())
        m2p_set(mfn, INVALID_M2P_ENTRY);
    if (flush)
        write_cr3(read_cr3());
    return free_frames(&host_frames, mfn, 0) == FRAME_OK;
}

/* put_page() dropped the last reference of a frame its live owner gave back. */
void pv_release_last_reference(struct page_info *pg)
{
    struct domain *d = domain_by_id_any(pg->owner);

    if (d) {
        spin_lock(&d->page_alloc_lock);
        if (d->tot_pages)
            d->tot_pages--;
        spin_unlock(&d->page_alloc_lock);
    }
    pv_free_frame(pg, true);
}

long pv_release_page(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if (!pg)
        return -XEN_EINVAL;
    /*
     * shared_info is Mica's frame, lent to the domain without an
     * allocation reference: nothing to drop.  (Xen takes it off the
     * domain's list of Xen-heap pages; the guest sees success either way.)
     */
    if (d->shared_info && mfn == d->shared_info_mfn)
        return get_page(pg, d) ? (put_page(pg), 0) : -XEN_ENXIO;
    if (!get_page(pg, d))
        return -XEN_ENXIO;
    /* Ours is now the last reference at worst: put_page frees then. */
    for (u64 x = READ_ONCE(pg->count_info), y;
         !(x & PGC_RELEASED) && (y = cmpxchg(&pg->count_info, x, (x - 1) | PGC_RELEASED)) != x;
         x = y)
        ;
    put_page(pg);
    return 0;
}

long pv_steal_page(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if (!pg || page_state(pg) != PGS_ALLOCATED || pg->owner != d->domid ||
        mfn == d->shared_info_mfn)
        return -XEN_EINVAL;
    /* Exactly the allocation reference: not mapped, pinned, a root or vcpu_info. */
    if (page_type_count(pg) || cmpxchg(&pg->count_info, 1, 0) != 1)
        return -XEN_EINVAL;
    WRITE_ONCE(pg->owner, PAGE_OWNER_NONE);
    return 0;
}

void pv_unsteal_page(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    /* The type (a lapsed writable one included) is kept, so a later
     * change still flushes. */
    pg->count_info = 1;
    smp_mb();                   /* the count before the owner get_page() checks */
    WRITE_ONCE(pg->owner, d->domid);
}

void pv_free_stolen_page(mfn_t mfn)
{
    pv_free_frame(pv_frame(mfn), true);
}
