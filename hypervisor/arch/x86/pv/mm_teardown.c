/*
 * Releasing a PV domain's memory: every reference its page tables, roots,
 * pins and registered pages hold, then its frames.
 *
 * Once the roots and pins are gone every table devalidates in the
 * ordinary cascade: a table's own linear entry takes no reference
 * (pt_validate.c), and linear entries between tables cannot form a loop
 * (a table holding one is never the target of another), so nothing keeps
 * itself validated.
 *
 * Afterwards a frame still referenced can only be referenced from
 * outside: another domain's mapping of it (privcmd's foreign mappings).
 * Such a frame is not freed; its allocation reference is dropped, it is
 * marked PGC_HELD and counted in d->held_frames, and the last put_page()
 * frees it (pv_release_held_frame), as Xen keeps a dying domain's pages
 * until their last reference goes.  A frame left with type references
 * but no general ones beyond the allocation is a counting bug: reported
 * and kept out of the allocator.
 *
 * shared_info is allocated by the common domain code and, unless held,
 * stays with it.
 */
#include <asm/atomic.h>
#include <asm/descriptor.h>
#include <asm/ldt.h>
#include <asm/logdirty.h>
#include <asm/m2p.h>
#include <asm/mm_release.h>
#include <asm/paging.h>
#include <asm/pirq.h>
#include <asm/pv_mm.h>
#include <asm/tlbflush.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>

static void drop_root(mfn_t *root)
{
    if (*root)
        put_page_and_type(pv_frame(*root));
    *root = 0;
}

void pv_release_held_frame(struct page_info *pg)
{
    struct domain *d = domain_by_id_any(pg->owner);
    bool si = d && pv_frame_mfn(pg) == d->shared_info_mfn;
    bool counted = !si && !(pg->count_info & PGC_UNCOUNTED);

    pv_free_frame(pg, false);
    if (!d) {
        pr_err("MICA BUG: mm: held frame %#llx had no dying owner\n",
               (unsigned long long)pv_frame_mfn(pg));
        return;
    }
    if (counted)
        pv_uncount_frame(d);
    domain_release_held(d);
}

/* The references d's vCPUs and shared_info hold: no frame-table walk. */
static void drop_vcpu_references(struct domain *d)
{
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        pv_destroy_ldt(v);
        pv_drop_gdt(v);
        drop_root(&v->arch.guest_table);
        drop_root(&v->arch.guest_table_user);
        /*
         * A stopped de-validation: its table is released with the partial
         * ones.  A kept kernel root goes as the roots do.
         */
        if (v->arch.old_guest_table_typed)
            drop_root(&v->arch.old_guest_table);
        else if (v->arch.old_guest_table)
            put_page(pv_frame(v->arch.old_guest_table));
        v->arch.old_guest_table = 0;
        v->arch.old_guest_table_typed = false;
        if (v->vcpu_info_registered) {
            put_page_and_type(pv_frame(virt_to_maddr(v->vcpu_info) >> PAGE_SHIFT));
            v->vcpu_info = &d->shared_info->vcpu_info[i < XEN_LEGACY_MAX_VCPUS ? i : 0];
            v->vcpu_info_registered = false;
        }
    }
    pirq_eoi_map_release(d);
    /* Only a builder-made domain took a writable reference on shared_info. */
    if (d->arch.shared_info_typed) {
        put_page_and_type(pv_frame(d->shared_info_mfn));
        d->arch.shared_info_typed = false;
    }
}

static void unpin_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if (pg->owner == d->domid && page_state(pg) == PGS_ALLOCATED &&
        page_test_and_clear_pinned(pg))
        put_page_and_type(pg);
}

static void free_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);
    bool si = mfn == d->shared_info_mfn, counted;
    u64 count, base;

    if (pg->owner != d->domid || page_state(pg) != PGS_ALLOCATED)
        return;
    /* The allocation reference: none on shared_info or on a frame
     * the domain gave back; frames added without one (0 where 1 is
     * usual) are clean too. */
    for (u64 x = READ_ONCE(pg->count_info), y;; x = y) {
        count = x & PGC_COUNT_MASK;
        base = (si || (x & PGC_RELEASED)) ? 0 : (count ? 1 : 0);
        if (count <= base)
            break;
        /* Someone else maps it: kept until their last reference goes. */
        if ((y = cmpxchg(&pg->count_info, x,
                         (count - base) | PGC_HELD | (x & PGC_UNCOUNTED))) == x)
            break;
    }
    if (count > base) {
        spin_lock(&d->page_alloc_lock);
        d->held_frames++;
        spin_unlock(&d->page_alloc_lock);
        return;
    }
    if (page_type_count(pg) || pg->spare) {
        pr_err("MICA BUG: d%u: frame %#llx still typed at teardown (count %llu, type %#llx)\n",
               d->domid, (unsigned long long)mfn, (unsigned long long)count,
               (unsigned long long)pg->type_info);
        d->arch.teardown_bad++;
        return;
    }
    if (si)
        return;
    counted = !(pg->count_info & PGC_UNCOUNTED);
    if (pv_free_frame(pg, false) && counted)
        pv_uncount_frame(d);
}

/*
 * The steps of a teardown, in order; all but the first walk the frame
 * table.  d->arch.teardown_step and teardown_next say where a preempted
 * teardown goes on.
 */
enum teardown_step {
    TD_VCPU_REFS, TD_UNPIN, TD_PARTIAL, TD_FREE, TD_DONE,
};

/*
 * A table a continued hypercall left partly validated, or partly
 * de-validated, belongs to nobody but itself (page_type.c): its entries'
 * references and its own general one go here, after the unpinning (so
 * nothing takes it over again: a pin of a dying domain's table validates
 * to the end) and before frames are freed.  Its entries below `progress`
 * hold only validated tables, never a partial one (a lower table whose
 * de-validation stopped is on its own, met by this walk too), and these
 * puts run to the end, so the order among partial tables does not matter.
 */
static void abandon_partial(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if (pg->owner == d->domid && page_state(pg) == PGS_ALLOCATED)
        page_abandon_partial(pg);
}

/* Frames walked between two preemption checks. */
#define TEARDOWN_FRAMES_PER_CHECK 4096

long pv_mm_teardown(struct domain *d, bool preemptible)
{
    mfn_t nr = host_frames.nr_frames;

    /*
     * No CPU runs d any more (the destroyer waited for that), and each
     * flushed d's translations when it switched away, so d's dirty mask
     * is empty: this flush is the rule (frames leave only once no CPU may
     * cache them), free when the rule already holds.  The frames freed
     * below need no flush of their own.
     */
    flush_tlb_domain(d);
    while (d->arch.teardown_step != TD_DONE) {
        unsigned step = d->arch.teardown_step;
        mfn_t mfn = d->arch.teardown_next, start = mfn;

        /*
         * Under d's page-table lock, as every other change to d's tables
         * and their validation: another CPU may still be in a hypercall
         * on d's behalf (a foreign mmu_update naming d's frames).  Taken
         * per chunk of frames, so a long walk lets others in meanwhile.
         */
        spin_lock(&d->arch.pt_lock);
        if (step == TD_VCPU_REFS) {
            drop_vcpu_references(d);
        } else {
            for (; mfn < nr; mfn++) {
                if (mfn != start && mfn % TEARDOWN_FRAMES_PER_CHECK == 0) {
                    spin_unlock(&d->arch.pt_lock);
                    if (preemptible && hypercall_preempt_check()) {
                        d->arch.teardown_next = mfn;
                        return HYPERCALL_CONTINUE;
                    }
                    spin_lock(&d->arch.pt_lock);
                }
                switch (step) {
                case TD_UNPIN: unpin_frame(d, mfn); break;
                case TD_PARTIAL: abandon_partial(d, mfn); break;
                default:       free_frame(d, mfn); break;
                }
            }
        }
        spin_unlock(&d->arch.pt_lock);
        d->arch.teardown_step = (u8)(step + 1);
        d->arch.teardown_next = 0;
    }
    /* Every L1 is devalidated now: its log-dirty record has gone with it. */
    pv_logdirty_free(d);
    if (d->arch.teardown_bad)
        pr_err("MICA BUG: d%u: %llu frames kept back at teardown\n", d->domid,
               (unsigned long long)d->arch.teardown_bad);
    if (d->held_frames)
        printk("d%u: %llu frames held by other domains' mappings\n", d->domid,
               (unsigned long long)d->held_frames);
    return 0;
}
