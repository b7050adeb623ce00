/*
 * Releasing a dead PV domain's memory.
 *
 * A domain's frames are found through the frame table: page_info.owner
 * names the domain for every frame the builder (or, later, memory_op)
 * gave it.  The walk covers the whole table once, O(host frames); a
 * per-domain page list can replace it when domains get large and many.
 *
 * Kept deliberately simple for now: every frame the domain owns is freed,
 * whatever its counts say.  Once page-table type and reference counting
 * is in (arch/x86/pv: pins, CR3 roots, validated tables, registered
 * vcpu_info pages, mappings of the frame by other domains), the
 * references must be dropped here first (the counting code's own
 * teardown), and a frame still referenced from outside the domain must be
 * kept out of the allocator instead of freed while something may use it.
 * The counting code's pv_mm_teardown() (mm_teardown.c) does that; it is
 * not called here yet because it assumes a domain set up by the builder
 * (it drops a writable reference on shared_info that a domain made by
 * domctl createdomain never took), so wiring it in is the MM owner's step.
 */
#include <asm/m2p.h>
#include <asm/paging.h>
#include <asm/pv_teardown.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>

extern struct frame_pool host_frames;

u64 pv_domain_relinquish_memory(struct domain *d)
{
    mfn_t nr = host_frames.nr_frames;
    u64 freed = 0;

    for (mfn_t mfn = 0; mfn < nr; mfn++) {
        struct page_info *pg = mfn_to_page(&host_frames, mfn);

        if (pg->owner != d->domid || page_state(pg) != PGS_ALLOCATED ||
            mfn == d->shared_info_mfn)
            continue;
        /* Nothing of the dead domain may reach the next owner. */
        memset(maddr_to_virt(mfn << PAGE_SHIFT), 0, PAGE_SIZE);
        pg->count_info = 0;
        pg->type_info = 0;
        pg->owner = PAGE_OWNER_NONE;
        pg->spare = 0;
        if (mfn < m2p_nr_frames())
            m2p_set(mfn, INVALID_M2P_ENTRY);
        if (free_frames(&host_frames, mfn, 0) == FRAME_OK)
            freed++;
    }
    d->tot_pages = 0;
    return freed;
}
