/*
 * Log-dirty tracking for PV domains (pv/logdirty.c; docs/migration.md):
 * which of a domain's pages were written since the toolstack last asked,
 * one bit per PFN (the M2P's view), behind Xen's XEN_DOMCTL_shadow_op.
 *
 * Without shadow page tables the guest's own L1 entries are what the CPU
 * walks, so tracking write-protects them: a writable entry mapping one of
 * the domain's pages loses RW (and its writable type reference), and a
 * marker in Mica's own per-L1 record (never in the PTE: every software
 * bit belongs to the guest) says that Mica, not the guest, took RW away.
 * A write fault on a marked entry at a guest-kernel address is resolved
 * by Mica (RW back, page dirty); one at a user address is the guest's to
 * handle, as Linux does for any write-protected PTE in a writable VMA
 * (fork's copy-on-write depends on it), and the entry it writes back
 * with RW marks the page dirty.
 */
#ifndef ASM_LOGDIRTY_H
#define ASM_LOGDIRTY_H

#include <mica/spinlock.h>
#include <mica/types.h>

struct domain;
struct page_info;
struct vcpu;
struct xen_domctl_shadow_op;
struct mica_domctl_logdirty_final;

/* Mica's record of the entries of one L1 table it write-protected. */
struct ld_l1 {
    mfn_t mfn;                  /* the L1 table; 0 for a free record */
    u64 marks[8];               /* one bit per slot: RW taken away by Mica */
    /* One bit per slot: RW given back by a kernel write fault since the
       last PEEK or CLEAN reported the table (which it then does, or, in
       a listing final round, lists these slots instead). */
    u64 given[8];
};

struct pv_logdirty {
    /*
     * lock (class LOCK_ORDER_LOGDIRTY, near the innermost: it is taken
     * under page-table, grant and event locks) guards: bitmap, nr_bits,
     * fault_count, dirty_count, overflow.  `on` is written under both
     * this lock and d->arch.pt_lock, so either is enough to read it.
     */
    spinlock_t lock;
    bool on;
    unsigned long *bitmap;      /* nr_bits bits, one per PFN; allocated at enable */
    u64 nr_bits;
    u32 fault_count, dirty_count;
    bool overflow;              /* a PFN at or beyond nr_bits was dirtied */
    u32 pool_mb;                /* SET_ALLOCATION's value, read back by GET (no pool exists) */
    /*
     * Guarded by d->arch.pt_lock: the per-L1 records.  An L1 table's
     * page_info.spare holds 1 + its record's index (0: none); L1 tables
     * use spare for nothing else (linear-entry counts are for L2-L4).
     */
    struct ld_l1 *l1s;
    u32 nr_l1s;
    u32 free_hint;              /* where record_new() looks first */
};

/* Teardown: frees the bitmap and the records (the tables are gone). */
void pv_logdirty_free(struct domain *d);

/* XEN_DOMCTL_shadow_op on d by the control domain self. */
long pv_shadow_op(struct domain *self, struct domain *d, struct xen_domctl_shadow_op *sc,
                  bool *copyback);

/*
 * MICA_DOMCTL_logdirty_final on d by the control domain self: the
 * LOGDIRTY_FINAL CLEAN, the L1 tables whose kernel entries got RW back
 * listed by PFN and slots instead of marked dirty (public/mica_domctl.h).
 */
long pv_logdirty_final(struct domain *self, struct domain *d,
                       struct mica_domctl_logdirty_final *f);

/*
 * mfn was (or is about to be) written on d's behalf or through a new
 * writable mapping: if it is d's page and d is logging, its PFN's bit is
 * set.  Any context; takes only the log-dirty lock.
 */
void pv_mark_dirty(struct domain *d, mfn_t mfn);
/* The same by PFN (an M2P update names the PFN itself). */
void pv_mark_pfn_dirty(struct domain *d, u64 pfn);
/* Called with the domain's owner known from the frame (grant copies, unmaps). */
void pv_mark_frame_dirty(mfn_t mfn);
/* Whether any domain is logging (a cheap test for hot paths). */
bool pv_logdirty_anywhere(void);

/*
 * Slot `slot` of L1 table tab (owned by d, pt_lock held) is being given a
 * new value: the marker goes unless the change keeps the frame, leaves RW
 * clear and touches only bits that need no re-validation (A/D, software
 * bits, NX), which is what a guest that read the entry and wrote it back
 * does.  A new writable entry of d's page marks that page dirty.
 */
void pv_logdirty_l1_write(struct domain *d, struct page_info *tab, unsigned slot,
                          u64 old, u64 new, bool keeps_rights);
/* The same for an entry Mica replaces by pointer (grant PTEs). */
void pv_logdirty_l1e_replaced(struct domain *d, u64 *pl1e);
/* An entry moved from *from to *to (unmap_and_replace): its marker too. */
void pv_logdirty_l1e_moved(struct domain *d, u64 *from, u64 *to);
/* An L1 table loses its validation: its record goes. */
void pv_logdirty_l1_devalidated(struct page_info *tab);

/*
 * A write fault (#PF) at addr: the guest's own (hv false, v in guest
 * mode) or Mica's while copying to guest memory (hv true).  True when it
 * was a guest-kernel address Mica had write-protected, now writable again
 * and the page dirty, so the access should simply be retried.
 */
bool pv_logdirty_fault(struct vcpu *v, u64 addr, u32 error, bool hv);

#endif
