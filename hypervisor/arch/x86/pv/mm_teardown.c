/*
 * Releasing a PV domain's memory: every reference its page tables, roots,
 * pins and registered pages hold, then its frames.
 *
 * Ordinary unpinning cannot always get a table's type count to zero: a
 * table holding a linear entry to itself keeps itself validated.  Once
 * the pins and roots are gone, such entries are cleared (the domain is
 * dead), which lets the ordinary devalidation run.  Afterwards every frame must be back at its
 * allocation reference with no type references; anything else is a
 * counting bug, reported frame by frame (and the frame is kept out of
 * the allocator rather than handed out while something may still use it).
 *
 * shared_info is allocated by the common domain code and stays with it.
 */
#include <asm/m2p.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>

extern struct frame_pool host_frames;

static void drop_root(mfn_t *root)
{
    if (*root)
        put_page_and_type(pv_frame(*root));
    *root = 0;
}

u64 pv_mm_teardown(struct domain *d)
{
    mfn_t nr = host_frames.nr_frames, mfn;
    u64 freed = 0, bad = 0;

    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        drop_root(&v->arch.guest_table);
        drop_root(&v->arch.guest_table_user);
        if (v->vcpu_info_registered) {
            put_page_and_type(pv_frame(virt_to_maddr(v->vcpu_info) >> PAGE_SHIFT));
            v->vcpu_info = &d->shared_info->vcpu_info[i < XEN_LEGACY_MAX_VCPUS ? i : 0];
            v->vcpu_info_registered = false;
        }
    }
    put_page_and_type(pv_frame(d->shared_info_mfn));

    for (mfn = 0; mfn < nr; mfn++) {
        struct page_info *pg = pv_frame(mfn);
        if (pg->owner == d->domid && page_state(pg) == PGS_ALLOCATED &&
            (pg->type_info & PGT_PINNED)) {
            pg->type_info &= ~PGT_PINNED;
            put_page_and_type(pg);
        }
    }
    /*
     * What is still validated now holds itself up through linear entries;
     * top level first, so that each level's cascade reaches the next.
     */
    for (unsigned l = 0; l < 3; l++) {
        static const u64 levels[3] = { PGT_L4, PGT_L3, PGT_L2 };
        for (mfn = 0; mfn < nr; mfn++) {
            struct page_info *pg = pv_frame(mfn);
            if (pg->owner == d->domid && page_state(pg) == PGS_ALLOCATED &&
                page_type(pg) == levels[l] && (pg->type_info & PGT_VALIDATED))
                pt_drop_linear(pg, levels[l]);
        }
    }

    for (mfn = 0; mfn < nr; mfn++) {
        struct page_info *pg = pv_frame(mfn);
        if (pg->owner != d->domid || page_state(pg) != PGS_ALLOCATED ||
            mfn == d->shared_info_mfn)
            continue;
        /* Frames added after boot may carry no allocation reference: 0 or 1 is clean. */
        if ((pg->count_info & PGC_COUNT_MASK) > 1 || page_type_count(pg) || pg->spare) {
            pr_err("d%u: frame %#llx still referenced at teardown (count %llu, type %#llx)\n",
                   d->domid, (unsigned long long)mfn,
                   (unsigned long long)(pg->count_info & PGC_COUNT_MASK),
                   (unsigned long long)pg->type_info);
            bad++;
            continue;
        }
        pg->count_info = 0;
        pg->type_info = 0;
        pg->owner = PAGE_OWNER_NONE;
        m2p_set(mfn, INVALID_M2P_ENTRY);
        if (free_frames(&host_frames, mfn, 0) == FRAME_OK) {
            freed++;
            if (d->tot_pages)
                d->tot_pages--;
        }
    }
    if (bad)
        pr_err("d%u: %llu frames kept back at teardown\n", d->domid, (unsigned long long)bad);
    return freed;
}
