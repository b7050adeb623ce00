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
#include <asm/atomic.h>
#include <asm/io.h>
#include <asm/logdirty.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/tlbflush.h>
#include <mica/domain.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <mica/percpu.h>
#include <public/errno.h>

struct page_info *pv_frame(mfn_t mfn)
{
    return mfn_to_page(&host_frames, mfn);
}

mfn_t pv_frame_mfn(const struct page_info *pg)
{
    return page_to_mfn(&host_frames, pg);
}

/*
 * Every change to count_info and type_info is a compare-and-swap on the
 * whole word, so concurrent gets and puts on other CPUs lose nothing, and
 * the decisions a put makes (free the frame, devalidate the table) are
 * taken by exactly one CPU: the one whose swap reached zero.
 */

/* Drops a reference taken a moment ago by mistake; never the last one. */
static void undo_get_page(struct page_info *pg)
{
    __atomic_fetch_sub(&pg->count_info, 1, __ATOMIC_SEQ_CST);
}

static bool owned_by(const struct page_info *pg, const struct domain *d)
{
    return page_state(pg) == PGS_ALLOCATED && READ_ONCE(pg->owner) == d->domid;
}

bool get_page(struct page_info *pg, const struct domain *d)
{
    u64 x, y;

    if (!pg)
        return false;
    y = READ_ONCE(pg->count_info);
    do {
        x = y;
        if (!owned_by(pg, d) || (x & PGC_COUNT_MASK) == PGC_COUNT_MASK)
            return false;
        /* At 0 with these flags the last put is freeing the frame now. */
        if (!(x & PGC_COUNT_MASK) && (x & (PGC_HELD | PGC_RELEASED)))
            return false;
    } while ((y = cmpxchg(&pg->count_info, x, x + 1)) != x);
    /*
     * Frees clear the owner before the count (pv_free_frame()), so an
     * owner still right now, with our reference in, stays right.
     */
    if (!owned_by(pg, d)) {
        undo_get_page(pg);
        return false;
    }
    return true;
}

void put_page(struct page_info *pg)
{
    u64 x, nx, y = READ_ONCE(pg->count_info);

    do {
        x = y;
        if (!(x & PGC_COUNT_MASK)) {
            pr_err("MICA BUG: mm: reference count underflow on frame %#llx\n",
                   (unsigned long long)pv_frame_mfn(pg));
            return;
        }
        nx = x - 1;
    } while ((y = cmpxchg(&pg->count_info, x, nx)) != x);
    if (nx & PGC_COUNT_MASK)
        return;
    /* The last reference to a dead domain's frame: it can go now. */
    if (nx & PGC_HELD)
        pv_release_held_frame(pg);
    /* The last reference to a frame its owner gave back. */
    else if (nx & PGC_RELEASED)
        pv_release_last_reference(pg);
}

static bool needs_validation(u64 type)
{
    return page_type_is_table(type) || type == PGT_SEG_DESC;
}

/*
 * Where this CPU's current request keeps a de-validation that stopped
 * part way, or a refused validation's entries still to release (the
 * calling vCPU's old_guest_table), NULL when nothing may be kept.  Set
 * by mmu_update and mmuext_op around one request (and by a reset for the
 * vCPU reset), under the page-table locks of the vCPU's domain and of
 * the tables' owner, which guard what it points to.
 */
static DEFINE_PER_CPU(mfn_t *, devalidation_slot);

/*
 * A refused L2-L4 validation whose entries [0, n) still hold their
 * references (pt_validate): their release can be as long as the
 * validation was (a validation continued many times can have taken the
 * owner's whole tree), so, as Xen 4.17 keeps a refused table in the
 * vCPU's old_guest_table with PGT_partial, the table is left partly
 * de-validated at n and kept in the request's slot: the request answers
 * its error after the continuation has released them, preemptibly
 * (pv_finish_old_table).  The slot may hold the table below already,
 * kept by its own refusal, when that is what entry n names (the reason
 * this one is refused): this table takes its place, and its release
 * finishes that one first (the frontier entry, pt_devalidate), so one
 * slot carries a whole refused path, with n 0 too.  False when nothing
 * can be kept (no slot, a slot holding another table, nothing held, or
 * a dying owner, whose teardown may be past its partial tables): the
 * caller releases the entries at once, as before.
 */
static bool keep_refused(struct page_info *pg, u64 type, unsigned n, bool resumed)
{
    mfn_t *slot = this_cpu(devalidation_slot);

    if (!slot || type == PGT_L1 || !page_type_is_table(type) || n >= 512 ||
        !domain_by_id(READ_ONCE(pg->owner)))
        return false;
    if (*slot ? *slot != pt_entry_target(pg, type, n) : !n)
        return false;
    /* The partial state's own reference (a resumed table has it) and the slot's. */
    __atomic_fetch_add(&pg->count_info, resumed ? 1 : 2, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pg->type_info,
                     type | PGT_PARTIAL | PGT_DOWN | 1 | ((u64)n << PGT_PROGRESS_SHIFT),
                     __ATOMIC_SEQ_CST);
    /* The table below stands alone, with its own reference, until ours reaches it. */
    if (*slot)
        put_page(pv_frame(*slot));
    *slot = pv_frame_mfn(pg);
    return true;
}

/*
 * The first reference of a type is taken by swapping in "type, count 1,
 * not validated"; validation then runs outside the swap, and others
 * asking for the type meanwhile get -XEN_EBUSY (Mica does not wait for a
 * validation on another CPU; on one CPU the only such case is a table
 * reached through itself).  Only the validating CPU then sets
 * PGT_VALIDATED, gives the type up, or leaves the table partly validated.
 *
 * Partly validated (PGT_PARTIAL, L2-L4 only): a preemptible validation
 * (pt_validation_preemptible) stopped to let the hypercall be continued.
 * Nobody holds such a table; its type count of 1 and one general
 * reference belong to the partial state itself.  The next request for
 * that type takes it over with the same swap as a first reference (so the
 * requester owns the type count, as if it had started) and goes on from
 * the entry recorded; it then drops the partial state's general
 * reference, unless the validation stops again and keeps it.  A request
 * for another type fails (-XEN_EBUSY) as for any typed frame.
 *
 * Partly de-validated (PGT_PARTIAL | PGT_DOWN) is taken over the same
 * way, as Xen 4.17 does (its partial state does not say which way the
 * table was going): the entries the de-validation had not reached yet
 * still hold their references, so validating the rest from `progress`
 * makes it whole again.
 */
long get_page_type(struct page_info *pg, u64 type)
{
    u64 x, nx, y = READ_ONCE(pg->type_info);
    unsigned next = 0;
    bool resume;
    long rc;

    do {
        u64 count;

        x = y;
        count = x & PGT_COUNT_MASK;
        resume = false;
        if (count) {
            if ((x & PGT_TYPE_MASK) != type)
                return -XEN_EBUSY;
            if (needs_validation(type) && !(x & PGT_VALIDATED)) {
                /*
                 * A table whose validation or de-validation is under way
                 * right now (a loop through it, or another CPU).
                 */
                if (!(x & PGT_PARTIAL))
                    return -XEN_EBUSY;
                /*
                 * A dying owner's partial tables are its teardown's to
                 * release (TD_PARTIAL, preemptibly): taken over here
                 * (a privileged domain's pin), the entries would go to
                 * the end, its validation needing a live owner.
                 */
                if (!domain_by_id(READ_ONCE(pg->owner)))
                    return -XEN_EINVAL;
                /*
                 * Stopped part way, validating or de-validating: ours to
                 * validate from its progress on (both leave entries
                 * [0, progress) holding their references).  A stopped
                 * de-validation's continuation then finds it no longer
                 * partly de-validated and only drops its reference.
                 */
                nx = type | 1;
                resume = true;
            } else {
                if (count == PGT_COUNT_MASK)
                    return -XEN_EBUSY;
                nx = x + 1;
            }
        } else {
            /* Count 1 without the validated flag marks the validation in progress. */
            nx = type | 1;
        }
    } while ((y = cmpxchg(&pg->type_info, x, nx)) != x);
    if (!resume && (x & PGT_COUNT_MASK))
        return 0;

    if (resume) {
        next = (unsigned)((x & PGT_PROGRESS_MASK) >> PGT_PROGRESS_SHIFT);
    } else {
        /*
         * Ours is the first reference: the type is ours to set up.  A
         * frame that left a table type may still be walked as one by
         * stale paging-structure caches, a lapsed writable one written
         * through a stale TLB entry: no other type until those caches are
         * flushed.  The flush comes only now that the swap has made new
         * references of the old type impossible: flushing before it would
         * miss a writable mapping another CPU made and dropped in between
         * (Xen's XSA-401).  As Xen, the CPUs flushed are the owner's dirty
         * ones not flushed since the stamp: other domains' mappings of the
         * frame are grant mappings, whose unmap flushes the mapper, or a
         * privileged domain's foreign mappings, which that domain flushes
         * itself.
         */
        if ((x & PGT_STAMPED) && ((x & PGT_TYPE_MASK) != type || type != PGT_WRITABLE))
            tlbflush_before_retype(domain_by_id_any(READ_ONCE(pg->owner)),
                                   READ_ONCE(pg->tlbflush_stamp));
        if (!needs_validation(type))
            return 0;
    }
    rc = pt_validate(pg, type, &next);
    if (rc == HYPERCALL_CONTINUE) {
        /*
         * Stopped at entry `next`: the table stays partly validated, with
         * a general reference of its own (a resumed one keeps the one it
         * had), so it outlives every holder until it is taken over again
         * or its domain's teardown releases it.  Our caller holds a
         * general reference, so the count is not 0 here.
         */
        if (!resume)
            __atomic_fetch_add(&pg->count_info, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&pg->type_info,
                         type | PGT_PARTIAL | 1 | ((u64)next << PGT_PROGRESS_SHIFT),
                         __ATOMIC_SEQ_CST);
        return rc;
    }
    if (rc) {
        /* Refused: what the entries hold goes now, or in the continuation. */
        if (keep_refused(pg, type, next, resume))
            return rc;
        if (next)
            pt_release_entries(pg, type, next);
        __atomic_store_n(&pg->type_info, PGT_NONE, __ATOMIC_SEQ_CST);
    } else {
        __atomic_fetch_or(&pg->type_info, PGT_VALIDATED, __ATOMIC_SEQ_CST);
        /* A page becoming a table is dirty for log-dirty (as Xen's
           alloc_page_type): a migration round may have sent it as plain
           data before the guest pinned it, and its frames must go again
           as PFNs. */
        pv_mark_frame_dirty(pv_frame_mfn(pg));
    }
    /* The partial state's own reference; our caller still holds one. */
    if (resume)
        put_page(pg);
    return rc;
}

/*
 * De-validation (Xen's free_page_type; docs/pv-mm.md, "Partly de-validated
 * tables").  The CPU whose put took the last type reference of a
 * validated table owns its type count of 1 (not validated: nobody takes
 * the type meanwhile) and lets the entries go, from the top entry down.
 * When `preemptible`, an L2-L4 table may stop part way: it is left
 * PGT_PARTIAL | PGT_DOWN with the entries still holding their references
 * below `progress`, and a general reference of its own (our caller holds
 * one, so the count is not 0 when we add it).  `resumed`: the table was
 * taken over in that state, and owns that general reference already.
 */
static long devalidate_from(struct page_info *pg, u64 type, unsigned next, bool preemptible,
                            bool resumed)
{
    long rc = pt_devalidate(pg, type, &next, preemptible);

    if (rc == HYPERCALL_CONTINUE) {
        if (!resumed)
            __atomic_fetch_add(&pg->count_info, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&pg->type_info,
                         type | PGT_PARTIAL | PGT_DOWN | 1 | ((u64)next << PGT_PROGRESS_SHIFT),
                         __ATOMIC_SEQ_CST);
        return rc;
    }
    /* A table becoming plain again is dirty for log-dirty (Xen's free_page_type). */
    pv_mark_frame_dirty(pv_frame_mfn(pg));
    __atomic_store_n(&pg->tlbflush_stamp, tlbflush_now(), __ATOMIC_SEQ_CST);
    __atomic_store_n(&pg->type_info, PGT_NONE | PGT_STAMPED, __ATOMIC_SEQ_CST);
    if (resumed)
        put_page(pg);
    return 0;
}

static long put_type(struct page_info *pg, bool preemptible)
{
    u64 x, nx, y = READ_ONCE(pg->type_info), type;
    bool devalidate;

    do {
        x = y;
        type = x & PGT_TYPE_MASK;
        if (!(x & PGT_COUNT_MASK)) {
            pr_err("MICA BUG: mm: type count underflow on frame %#llx\n",
                   (unsigned long long)pv_frame_mfn(pg));
            return 0;
        }
        /* Nobody holds a partly (de-)validated table: nobody may drop it. */
        if (x & PGT_PARTIAL) {
            pr_err("MICA BUG: mm: type reference dropped on partly validated frame %#llx\n",
                   (unsigned long long)pv_frame_mfn(pg));
            return 0;
        }
        devalidate = (x & PGT_COUNT_MASK) == 1 && needs_validation(type) && (x & PGT_VALIDATED);
        if (devalidate)
            /* Still counted while its entries let go, so nothing re-enters it. */
            nx = type | 1;
        else if ((x & PGT_COUNT_MASK) == 1) {
            /* The stamp is written before the flag that makes it count. */
            __atomic_store_n(&pg->tlbflush_stamp, tlbflush_now(), __ATOMIC_SEQ_CST);
            nx = ((x - 1) & ~PGT_PINNED) | PGT_STAMPED;
        } else
            nx = x - 1;
    } while ((y = cmpxchg(&pg->type_info, x, nx)) != x);
    if (!devalidate)
        return 0;
    return devalidate_from(pg, type, 512, preemptible && type != PGT_L1 && type != PGT_SEG_DESC,
                           false);
}

/*
 * Takes a partial table over as a fresh de-validation holds it (count 1,
 * not validated), so nobody else goes on with it.  `validating_too`:
 * a partly validated table as well as a partly de-validated one.  False
 * if it is neither any more (whoever met it first finished it).
 */
static bool take_over_partial(struct page_info *pg, bool validating_too, u64 *was)
{
    u64 x = READ_ONCE(pg->type_info), y;

    for (;; x = y) {
        if (!(x & PGT_PARTIAL) || (!validating_too && !(x & PGT_DOWN)))
            return false;
        if ((y = cmpxchg(&pg->type_info, x, (x & PGT_TYPE_MASK) | 1)) == x) {
            *was = x;
            return true;
        }
    }
}

static unsigned partial_progress(u64 x)
{
    return (unsigned)((x & PGT_PROGRESS_MASK) >> PGT_PROGRESS_SHIFT);
}

long page_finish_devalidation(struct page_info *pg, bool preemptible)
{
    u64 x;

    if (!take_over_partial(pg, false, &x))
        return 0;
    return devalidate_from(pg, x & PGT_TYPE_MASK, partial_progress(x), preemptible, true);
}

/*
 * Teardown: both partial states leave entries [0, progress) holding their
 * references and the frame one general reference of its own, so a partly
 * validated table is released as if a de-validation had stopped at its
 * progress (Xen 4.17's relinquish_memory() frees a PGT_partial table with
 * free_page_type(), preemptibly, whichever way it was going).
 */
long page_release_partial(struct page_info *pg, bool preemptible)
{
    u64 x;

    if (!take_over_partial(pg, true, &x))
        return 0;
    return devalidate_from(pg, x & PGT_TYPE_MASK, partial_progress(x), preemptible, true);
}

long put_page_type_preemptible(struct page_info *pg, bool preemptible)
{
    return put_type(pg, preemptible);
}

long put_page_and_type_preemptible(struct page_info *pg, bool preemptible)
{
    long rc = put_type(pg, preemptible);

    put_page(pg);
    return rc;
}

mfn_t *pt_devalidation_slot(mfn_t *slot)
{
    mfn_t *was = this_cpu(devalidation_slot);

    this_cpu(devalidation_slot) = slot;
    return was;
}

/*
 * The puts a request makes itself (an unpin, an old root, an old entry)
 * may stop when the request can hand the rest to its vCPU: one table per
 * vCPU, which gets a general reference of its own there (the caller
 * still holds one).  A second stop in the same request cannot be handed
 * over, so while the slot is taken puts run to the end.
 */
void put_page_type(struct page_info *pg)
{
    mfn_t *slot = this_cpu(devalidation_slot);

    if (put_type(pg, slot && !*slot) != HYPERCALL_CONTINUE)
        return;
    __atomic_fetch_add(&pg->count_info, 1, __ATOMIC_SEQ_CST);
    *slot = pv_frame_mfn(pg);
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
