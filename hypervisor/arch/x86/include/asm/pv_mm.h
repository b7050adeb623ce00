/*
 * PV memory management: frame ownership, reference counts and types, the
 * validation of page-table pages, and the entry updates built on them.
 *
 * Every frame a PV domain can reach through its page tables is counted:
 * count_info holds general references (one for the allocation, one per
 * mapping, per table entry, per pin, per CR3 use), type_info the frame's
 * type with a count of the uses that need that type.  A frame changes type
 * only when its type count is zero, so a page-table or descriptor frame
 * can never be mapped writable, and a writable-mapped frame can never
 * become one.  The rules are those of the Xen PV ABI guide, section 7.
 *
 * The counts and flags change only by atomic operations (compare-and-swap
 * loops in page_type.c, the helpers below), never by plain ++ or |=; see
 * docs/smp.md for what is still serialised by running on one CPU.
 */
#ifndef ASM_PV_MM_H
#define ASM_PV_MM_H

#include <mica/domain.h>
#include <mica/page_info.h>
#include <mica/types.h>

struct page_info *pv_frame(mfn_t mfn);
mfn_t pv_frame_mfn(const struct page_info *pg);

/* General references: only frames d owns and the allocator has handed out. */
bool get_page(struct page_info *pg, const struct domain *d);
void put_page(struct page_info *pg);

/*
 * Type references.  Taking the first reference of a page-table type
 * validates the frame (its entries take references of their own);
 * dropping the last one releases them.  0 or a negative XEN_E* code.
 */
long get_page_type(struct page_info *pg, u64 type);
void put_page_type(struct page_info *pg);
long get_page_and_type(struct page_info *pg, const struct domain *d, u64 type);
void put_page_and_type(struct page_info *pg);

static inline u64 page_type(const struct page_info *pg)
{
    return pg->type_info & PGT_TYPE_MASK;
}
static inline u64 page_type_count(const struct page_info *pg)
{
    return pg->type_info & PGT_COUNT_MASK;
}
/*
 * A validated table held across a change of its entries: a general and a
 * type reference, both given back by put_page_and_type(), which
 * devalidates the table before the general put can free it.  The caller
 * already holds it validated, so neither count is 0.  (A type reference
 * alone would let the last general put, of a frame its owner gave back,
 * free the table before its devalidation: its tree leaked.)
 */
static inline void page_table_hold(struct page_info *pg)
{
    __atomic_fetch_add(&pg->count_info, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&pg->type_info, 1, __ATOMIC_SEQ_CST);
}
/* Sets PGT_PINNED; false when it was set already (someone else pinned). */
static inline bool page_test_and_set_pinned(struct page_info *pg)
{
    return __atomic_fetch_or(&pg->type_info, PGT_PINNED, __ATOMIC_SEQ_CST) & PGT_PINNED;
}
/* Clears PGT_PINNED; true when it was set (the caller owns the pin's references). */
static inline bool page_test_and_clear_pinned(struct page_info *pg)
{
    return __atomic_fetch_and(&pg->type_info, ~PGT_PINNED, __ATOMIC_SEQ_CST) & PGT_PINNED;
}
static inline bool page_type_is_table(u64 type)
{
    return type == PGT_L1 || type == PGT_L2 || type == PGT_L3 || type == PGT_L4;
}

/*
 * Validation (pt_validate.c), called by the type code above.  pt_validate
 * goes on from entry *next and may stop with HYPERCALL_CONTINUE (L2-L4,
 * only while pt_validation_preemptible is on), *next then saying where.
 * On a refusal, entries [0, *next) still hold their references (0 for an
 * L1, released already): the caller releases them or keeps the table
 * partly de-validated for the request's continuation.
 */
long pt_validate(struct page_info *pg, u64 type, unsigned *next);
/* The frame L2-L4 entry i of pg names (INVALID_MFN: none, or Mica's slot). */
mfn_t pt_entry_target(struct page_info *pg, u64 type, unsigned i);
/*
 * De-validation: releases entries [0, *next) of pg, top down (512: a
 * whole table; less: a table taken over part way, whose entry *next may
 * name a lower table left partly de-validated, finished first).  0 when
 * done, or (L2-L4, `preemptible`) HYPERCALL_CONTINUE with entries
 * [0, *next) still holding their references.
 */
long pt_devalidate(struct page_info *pg, u64 type, unsigned *next, bool preemptible);
/*
 * put_page_and_type() for the entries of a table being de-validated: the
 * last type reference of a validated L2-L4 table may stop part way when
 * `preemptible` (HYPERCALL_CONTINUE: the table is then PGT_PARTIAL |
 * PGT_DOWN and owns a general reference; the caller's is dropped).
 */
long put_page_and_type_preemptible(struct page_info *pg, bool preemptible);
/* The same for the type reference alone: the caller's general one stays. */
long put_page_type_preemptible(struct page_info *pg, bool preemptible);
/*
 * Goes on with a partly de-validated table (0 if it is not one any more:
 * somebody finished it); HYPERCALL_CONTINUE if it stopped again.
 */
long page_finish_devalidation(struct page_info *pg, bool preemptible);
/*
 * Lets the puts of this CPU's current request stop part way, keeping the
 * table in *slot (NULL: none may stop), and a refused validation keep
 * its entries there for a preemptible release (get_page_type); returns
 * the old setting.  mmu_update and mmuext_op and a context's roots, for
 * the calling vCPU, a reset for the vCPU reset (pv_finish_old_table
 * goes on with it); under the pt_locks of that vCPU's domain and the
 * tables' owner.
 */
mfn_t *pt_devalidation_slot(mfn_t *slot);
/* Drops the references of entries [0, n) of a table (a partial one given up). */
void pt_release_entries(struct page_info *pg, u64 type, unsigned n);
/*
 * Lets this CPU's validations stop part way (on) or not; returns the old
 * setting.  Only callers that turn HYPERCALL_CONTINUE from
 * get_page_type() into a continuation of the request turn it on.
 */
bool pt_validation_preemptible(bool on);
/*
 * Teardown: releases a partly validated or partly de-validated table of
 * a dying domain, from its progress down (0: released, or it is neither);
 * HYPERCALL_CONTINUE when `preemptible` and it stopped again, left partly
 * de-validated.
 */
long page_release_partial(struct page_info *pg, bool preemptible);
/* For log lines: "untyped", "an L1 table", ... and one frame's state in words. */
const char *pv_type_name(u64 type);
void pv_frame_describe(char *buf, size_t len, mfn_t mfn);
/* Drops the references of L1 entry e (as when it leaves a validated table). */
void pt_l1e_release(u64 e);
/* The NX bit when the CPU has it, else 0. */
u64 pt_nx_bit(void);

/*
 * Replaces entry `slot` of the validated table at table_mfn (of type
 * `type`) with `val` for domain d: the new entry is checked and adjusted,
 * its references taken, the entry written and the old references dropped.
 * With preserve_ad, the A and D bits of the old entry are kept.  *flush is
 * set when the TLB must be flushed before the guest relies on the change.
 */
long pt_update_entry(struct domain *d, mfn_t table_mfn, unsigned slot, u64 val,
                     bool preserve_ad, bool *flush);

/*
 * Whose frames a new L1 entry may map, from a hypercall's foreigndom
 * (Xen's "pg_owner"): RAM frames owned by `ram` (nobody's when NULL, as
 * for DOMID_IO and DOMID_XEN), and I/O memory when `io` is set and the
 * table's owner may map it.  The references a mapping takes are on the
 * frame whatever its owner, so dropping the entry releases them.
 * `xen_ro`: DOMID_XEN named by the control domain, which may map the
 * M2P table's own frames read-only (asm/m2p.h), and nothing else of
 * Mica's; those mappings take no reference.
 */
struct pv_pg_owner {
    const struct domain *ram;
    bool io;
    bool xen_ro;
};

/*
 * pt_update_entry with the new entry's frame judged against src.  Only
 * L1 tables accept a src other than the table's owner itself.
 */
long pt_update_entry_from(struct domain *d, const struct pv_pg_owner *src, mfn_t table_mfn,
                          unsigned slot, u64 val, bool preserve_ad, bool *flush);

/* The L1 table mapping va in the vCPU's current (kernel) tables, or INVALID_MFN. */
mfn_t pt_find_l1(struct vcpu *v, u64 va, bool kernel);

/* Whether the frame is Mica's shared page of a domain, never retyped. */
bool pv_frame_is_shared_info(const struct domain *d, mfn_t mfn);

/*
 * Builder bookkeeping: validates the builder's tables from their root,
 * pins the L4 and makes it vCPU 0's CR3 with the references a running
 * domain holds; takes the writable reference that keeps shared_info
 * ordinary memory for the domain's life.
 */
long pv_mm_domain_init(struct domain *d, mfn_t l4);
/*
 * Finishes the de-validation v->arch.old_guest_table holds, or drops the
 * kernel root it keeps (old_guest_table_typed; its last type reference
 * de-validates the tree): 0, or HYPERCALL_CONTINUE when `preemptible` and
 * the de-validation stopped (again; the table then stays, partly
 * de-validated; never for a dying table owner or vCPU).  Takes the
 * page-table locks of v's domain and of the table's owner itself; v is
 * current or cannot run.
 */
long pv_finish_old_table(struct vcpu *v, bool preemptible);
/* The page-table locks of d and (if another, non-NULL) owner, lower id first. */
void pv_pt_lock_pair(struct domain *d, struct domain *owner);
void pv_pt_unlock_pair(struct domain *d, struct domain *owner);

/*
 * Releases every page-table reference and frame of d (pins, CR3 roots,
 * validated tables, vcpu_info and shared_info references) and gives the
 * frames back to the allocator.  A frame another domain still references
 * is kept (PGC_HELD, counted in d->held_frames) until that reference
 * goes; shared_info, when not held, is left to the common domain code.
 * Preemptible (from a hypercall that can be continued): may stop between
 * two stretches of its frame-table walks with HYPERCALL_CONTINUE, to be
 * called again later, which goes on where it stopped.  Returns 0 when
 * done.
 */
long pv_mm_teardown(struct domain *d, bool preemptible);

/*
 * A held frame (PGC_HELD: its owner died while another domain referenced
 * it) lost its last reference: scrubbed, freed, and the dead owner freed
 * too once nothing of it is held any more.
 */
void pv_release_held_frame(struct page_info *pg);

/*
 * A frame its live owner gave back (PGC_RELEASED, mm_release.c) lost its
 * last reference: off the owner's tot_pages, scrubbed and freed.
 */
void pv_release_last_reference(struct page_info *pg);
/*
 * One frame counted in d->tot_pages leaves d (PGC_UNCOUNTED frames never
 * are counted).  tot_pages at 0 then is a Mica accounting bug: reported,
 * and the count is left at 0.
 */
void pv_uncount_frame(struct domain *d);

/* Writable page-table emulation: true when the #PF was a store it applied. */
bool pv_ptwr_fault(struct vcpu *v, struct cpu_regs *regs, u64 addr, u32 error);

#endif
