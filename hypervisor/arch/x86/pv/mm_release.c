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
 * flushed on every CPU where the owner's tables are loaded
 * (asm/tlbflush.h).  Xen instead stamps freed frames and flushes, filtered
 * by the stamp, when the allocator hands them out again; Mica flushes at
 * once, which costs IPIs only while the owner runs on other CPUs.
 */
#include <asm/atomic.h>
#include <asm/io.h>
#include <asm/m2p.h>
#include <asm/mm_release.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/smp.h>
#include <asm/tlbflush.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>

/*
 * The CPUs that may cache a mapping of a frame owner gives up: owner's
 * dirty ones (grant mappers flushed at their unmap; a privileged
 * domain's foreign mappings are its own to flush, as on Xen); every CPU
 * when the owner is not known.
 */
static void flush_for_owner(const struct domain *owner)
{
    cpumask_t all;

    if (owner) {
        flush_tlb_domain(owner);
        return;
    }
    cpumask_copy(&all, &cpu_online_map);
    cpumask_set_cpu(smp_processor_id(), &all);      /* also before the CPUs are counted */
    flush_tlb_mask(&all);
}

bool pv_free_frame(struct page_info *pg, bool flush)
{
    mfn_t mfn = pv_frame_mfn(pg);

    /* First the flush, so no stale writable mapping writes after the scrub. */
    if (flush)
        flush_for_owner(domain_by_id_any(READ_ONCE(pg->owner)));
    /* Nothing of the old owner may reach the next one. */
    clear_frame(mfn);
    /* Owner first: get_page() rechecks it after counting itself in. */
    WRITE_ONCE(pg->owner, PAGE_OWNER_NONE);
    smp_mb();
    pg->count_info = 0;
    pg->type_info = 0;
    pg->spare = 0;
    if (mfn < m2p_nr_frames())
        m2p_set(mfn, INVALID_M2P_ENTRY);
    return free_frames(&host_frames, mfn, 0) == FRAME_OK;
}

void pv_uncount_frame(struct domain *d)
{
    u64 before;

    spin_lock(&d->page_alloc_lock);
    before = d->tot_pages;
    if (before)
        d->tot_pages--;
    spin_unlock(&d->page_alloc_lock);
    if (!before)
        pr_err("MICA BUG: d%u: a frame leaves with tot_pages already 0: frame accounting is wrong\n",
               d->domid);
}

/* put_page() dropped the last reference of a frame its live owner gave back. */
void pv_release_last_reference(struct page_info *pg)
{
    struct domain *d = domain_by_id_any(pg->owner);

    if (d)
        pv_uncount_frame(d);
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
    /* A grant-table frame is Mica's: the table would live on in a freed frame. */
    if (READ_ONCE(pg->count_info) & PGC_UNCOUNTED) {
        put_page(pg);
        return -XEN_EPERM;
    }
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
    /* Exactly the allocation reference: not mapped, pinned, a root or vcpu_info
     * (nor Mica's frame: PGC_UNCOUNTED makes count_info differ from 1). */
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

void pv_free_stolen_page(struct domain *d, mfn_t mfn)
{
    /* Owned by nobody since the steal: d is who may still cache it. */
    flush_for_owner(d);
    pv_free_frame(pv_frame(mfn), false);
}
