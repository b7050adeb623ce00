/*
 * Log-dirty tracking for PV domains (asm/logdirty.h, docs/migration.md).
 *
 * Every way a page of a logging domain d gets written ends in
 * pv_mark_dirty():
 *   - the guest's writes through its own mappings: at enable and at every
 *     CLEAN each writable L1 entry mapping one of d's pages is made
 *     read-only (its writable type reference dropped, a marker set in the
 *     table's record); a write fault at a guest-kernel address restores RW
 *     and marks the page; at a user address the guest handles the fault
 *     and writes the entry back with RW, which marks the page like any
 *     writable entry installed while logging (pv_logdirty_l1_write);
 *   - Mica's copies to guest memory (hypercall results, runstate areas)
 *     fault on the same read-only entries and take the same path;
 *   - Mica's writes through its own mappings: frames it writes behind the
 *     guest's back (vcpu_info, FIFO event pages: PGC_HV_WRITES) are
 *     reported dirty in every PEEK and CLEAN; plain-frame mmu_update
 *     writes, CLEAR_PAGE/COPY_PAGE, M2P updates, grant-copy destinations
 *     and writable grant mappings at unmap mark their page at once.
 *
 * Locks: the bitmap under ld->lock (class LOCK_ORDER_LOGDIRTY, innermost
 * but for test locks), the per-L1 records under d->arch.pt_lock.  Nothing
 * is allocated in the fault path: the bitmap at enable, records at enable
 * and CLEAN.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/grant_map.h>
#include <asm/layout.h>
#include <asm/logdirty.h>
#include <asm/m2p.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/tlbflush.h>
#include <mica/domain.h>
#include <mica/heap.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/domctl.h>
#include <public/errno.h>
#include <public/mica_domctl.h>

#define PF_PRESENT 0x1u
#define PF_WRITE   0x2u
#define PF_RSVD    0x8u
#define PF_INSN    0x10u

/* The upper canonical half: the guest kernel's addresses (Linux never forks them). */
#define GUEST_KERNEL_HALF 0xffff800000000000ULL

#define BITS_PER_WORD 64

/* Domains logging now: the hot paths below look no further while it is 0. */
static u32 nr_logging;

bool pv_logdirty_anywhere(void)
{
    return READ_ONCE(nr_logging) != 0;
}

static struct pv_logdirty *ld_of(struct domain *d)
{
    return &d->arch.logdirty;
}

/* ---- the bitmap ---- */

void pv_mark_pfn_dirty(struct domain *d, u64 pfn)
{
    struct pv_logdirty *ld = ld_of(d);

    if (!READ_ONCE(ld->on) || pfn == INVALID_M2P_ENTRY || (pfn >> 63))
        return;
    spin_lock(&ld->lock);
    if (ld->on) {
        if (pfn >= ld->nr_bits) {
            ld->overflow = true;
        } else {
            unsigned long bit = 1UL << (pfn % BITS_PER_WORD);
            unsigned long *w = &ld->bitmap[pfn / BITS_PER_WORD];
            if (!(*w & bit)) {
                *w |= bit;
                ld->dirty_count++;
            }
        }
    }
    spin_unlock(&ld->lock);
}

/*
 * Frame m's entry if d owns it, else NULL.  The scans below visit every
 * host frame (Mica keeps no list of a domain's frames), most of them
 * other domains' or free: the owner compared first, inline, keeps each of
 * those a few instructions (a final CLEAN's two scans of a 2 GiB host
 * were most of its time).  Callers still check state and type.
 */
static inline struct page_info *owned_frame(const struct domain *d, mfn_t m)
{
    struct page_info *pg = &host_frames.table[m];

    return pg->owner == d->domid ? pg : NULL;
}

static bool frame_is_tracked(const struct domain *d, const struct page_info *pg)
{
    /* Mica's own frames of d (shared_info, grant frames) have no PFN to report. */
    return pg && page_state(pg) == PGS_ALLOCATED && pg->owner == d->domid &&
           !(pg->count_info & PGC_UNCOUNTED) && !pv_frame_is_shared_info(d, pv_frame_mfn(pg));
}

void pv_mark_dirty(struct domain *d, mfn_t mfn)
{
    if (!d || !READ_ONCE(d->arch.logdirty.on))
        return;
    if (!frame_is_tracked(d, pv_frame(mfn)))
        return;
    pv_mark_pfn_dirty(d, m2p_get(mfn));
}

void pv_mark_frame_dirty(mfn_t mfn)
{
    struct page_info *pg;

    if (!pv_logdirty_anywhere())
        return;                 /* the common case: no domain lookup on every new mapping */
    pg = pv_frame(mfn);
    if (!pg || page_state(pg) != PGS_ALLOCATED)
        return;
    pv_mark_dirty(domain_by_id(pg->owner), mfn);
}

/* ---- per-L1 records (pt_lock) ---- */

static struct ld_l1 *record_of(struct domain *d, struct page_info *tab)
{
    struct pv_logdirty *ld = ld_of(d);
    u32 i = tab->spare;

    if (!i || i > ld->nr_l1s || ld->l1s[i - 1].mfn != pv_frame_mfn(tab))
        return NULL;
    return &ld->l1s[i - 1];
}

static bool marked(const struct ld_l1 *r, unsigned slot)
{
    return r && (r->marks[slot / 64] >> (slot % 64)) & 1;
}

static void unmark(struct ld_l1 *r, unsigned slot)
{
    if (r)
        r->marks[slot / 64] &= ~(1ULL << (slot % 64));
}

/* The guest wrote the slot: what it holds now is the guest's, and the
   write itself marked the table dirty. */
static void forget_given(struct ld_l1 *r, unsigned slot)
{
    if (r)
        r->given[slot / 64] &= ~(1ULL << (slot % 64));
}

static bool any_given(const struct ld_l1 *r)
{
    u64 any = 0;

    for (unsigned w = 0; w < 8; w++)
        any |= r->given[w];
    return any != 0;
}

void pv_logdirty_l1_devalidated(struct page_info *tab)
{
    struct domain *d = domain_by_id_any(tab->owner);
    struct ld_l1 *r;

    if (!tab->spare)
        return;
    r = d ? record_of(d, tab) : NULL;
    /* RW given back to entries not yet reported: the table changed. */
    if (r && any_given(r))
        pv_mark_dirty(d, r->mfn);
    if (r)
        memset(r, 0, sizeof(*r));
    tab->spare = 0;
}

/* Room for `more` new records; called with pt_lock held, before any is handed out. */
static long records_reserve(struct pv_logdirty *ld, u32 more)
{
    u32 free = 0, n;
    struct ld_l1 *l;

    for (u32 i = 0; i < ld->nr_l1s; i++)
        free += !ld->l1s[i].mfn;
    if (free >= more)
        return 0;
    n = ld->nr_l1s + (more - free) + 16;
    l = xzalloc(n * sizeof(*l));
    if (!l)
        return -XEN_ENOMEM;
    if (ld->l1s)
        memcpy(l, ld->l1s, ld->nr_l1s * sizeof(*l));
    xfree(ld->l1s);
    ld->l1s = l;
    ld->nr_l1s = n;
    return 0;
}

static struct ld_l1 *record_new(struct pv_logdirty *ld, struct page_info *tab)
{
    /* From where the last one was found: a pass hands out records in order. */
    for (u32 n = 0, i = ld->free_hint; n < ld->nr_l1s; n++, i = i + 1 < ld->nr_l1s ? i + 1 : 0) {
        if (!ld->l1s[i].mfn) {
            ld->l1s[i].mfn = pv_frame_mfn(tab);
            tab->spare = i + 1;
            ld->free_hint = i + 1 < ld->nr_l1s ? i + 1 : 0;
            return &ld->l1s[i];
        }
    }
    return NULL;        /* records_reserve() made room: not reached */
}

static bool is_validated_l1_of(const struct domain *d, const struct page_info *pg)
{
    return pg && page_state(pg) == PGS_ALLOCATED && pg->owner == d->domid &&
           page_type(pg) == PGT_L1 && (pg->type_info & PGT_VALIDATED);
}

/* Write-protects one L1's writable entries of d's pages; false if a record was missing. */
static bool protect_l1(struct domain *d, struct page_info *tab)
{
    u64 *t = maddr_to_virt(pv_frame_mfn(tab) << PAGE_SHIFT);
    struct ld_l1 *r = record_of(d, tab);

    for (unsigned slot = 0; slot < 512; slot++) {
        u64 e = READ_ONCE(t[slot]);
        struct page_info *pg;

        if ((e & (PTE_P | PTE_RW)) != (PTE_P | PTE_RW) || (e & PTE_GNTTAB))
            continue;
        pg = pv_frame((e & PTE_ADDR_MASK) >> PAGE_SHIFT);
        if (!frame_is_tracked(d, pg))
            continue;       /* I/O memory, another domain's page, Mica's frames */
        if (!r && !(r = record_new(ld_of(d), tab)))
            return false;
        /* The CPU may set A/D meanwhile (another vCPU of a domain not paused). */
        __atomic_fetch_and(&t[slot], ~PTE_RW, __ATOMIC_SEQ_CST);
        put_page_type(pg);          /* the entry's writable reference */
        r->marks[slot / 64] |= 1ULL << (slot % 64);
        forget_given(r, slot);
    }
    return true;
}

/* Every validated L1 of d: its writable entries made read-only and marked. */
static long protect_all(struct domain *d)
{
    mfn_t nr = host_frames.nr_frames;
    u32 need = 0;
    long rc;

    ASSERT_SPIN_LOCKED(&d->arch.pt_lock);
    for (mfn_t m = 0; m < nr; m++) {
        struct page_info *pg = owned_frame(d, m);
        if (is_validated_l1_of(d, pg) && !record_of(d, pg))
            need++;
    }
    if ((rc = records_reserve(ld_of(d), need)))
        return rc;
    for (mfn_t m = 0; m < nr; m++) {
        struct page_info *pg = owned_frame(d, m);
        if (is_validated_l1_of(d, pg) && !protect_l1(d, pg))
            return -XEN_ENOMEM;
    }
    /*
     * Read-only now, but the CPUs that ran d may still hold writable
     * translations: flush its dirty mask (safe under pt_lock, asm/tlbflush.h).
     */
    flush_tlb_domain(d);
    return 0;
}

void pv_logdirty_l1_write(struct domain *d, struct page_info *tab, unsigned slot,
                          u64 old, u64 new, bool keeps_rights)
{
    (void)old;
    if (tab->spare) {
        struct ld_l1 *r = record_of(d, tab);
        /* Written back as read (A/D, software bits, NX): RW is still Mica's to give back. */
        if (marked(r, slot) && !(keeps_rights && (new & PTE_P) && !(new & PTE_RW)))
            unmark(r, slot);
        forget_given(r, slot);
    }
    if ((new & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW) && !(new & PTE_GNTTAB))
        pv_mark_frame_dirty((new & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

static struct page_info *table_of(u64 *pl1e, unsigned *slot)
{
    u64 ma = virt_to_maddr(pl1e);

    *slot = (ma & (PAGE_SIZE - 1)) >> 3;
    return pv_frame(ma >> PAGE_SHIFT);
}

void pv_logdirty_l1e_replaced(struct domain *d, u64 *pl1e)
{
    unsigned slot;
    struct page_info *tab = table_of(pl1e, &slot);

    if (tab && tab->spare) {
        unmark(record_of(d, tab), slot);
        forget_given(record_of(d, tab), slot);
    }
}

void pv_logdirty_l1e_moved(struct domain *d, u64 *from, u64 *to)
{
    unsigned fs, ts;
    struct page_info *ft = table_of(from, &fs), *tt = table_of(to, &ts);
    struct ld_l1 *fr = ft && ft->spare ? record_of(d, ft) : NULL;
    struct ld_l1 *tr = tt && tt->spare ? record_of(d, tt) : NULL;
    bool was = marked(fr, fs);

    unmark(fr, fs);
    unmark(tr, ts);
    forget_given(fr, fs);
    forget_given(tr, ts);
    /*
     * Without a record at the destination the entry stays read-only and
     * unmarked: the guest sees a read-only entry, as it would after
     * writing one (Linux never issues unmap_and_replace).
     */
    if (was && tr)
        tr->marks[ts / 64] |= 1ULL << (ts % 64);
}

/* ---- the fault ---- */

bool pv_logdirty_fault(struct vcpu *v, u64 addr, u32 error, bool hv)
{
    struct domain *d;
    struct page_info *tab, *pg;
    struct ld_l1 *r;
    u64 *t, e;
    unsigned slot;
    mfn_t l1;
    bool done = false;

    if (!v || (error & (PF_PRESENT | PF_WRITE | PF_RSVD | PF_INSN)) != (PF_PRESENT | PF_WRITE))
        return false;
    /* User addresses are the guest's to resolve (fork's copy-on-write relies on it). */
    if (addr < GUEST_KERNEL_HALF || (!hv && !v->arch.kernel_mode))
        return false;
    d = v->domain;
    /*
     * Mica's own copies (hv) wait for the lock like the guest's faults do.
     * Another vCPU of d may hold it on another CPU (its mmu_update, ptwr,
     * a grant map into d): a trylock made Mica's write fail then (a
     * hypercall's -EFAULT, a lost runstate update, a domain crashed for
     * a bounce frame it could not write).  Waiting is safe because no
     * copy to guest memory is made under d's pt_lock or under a lock of
     * a later class (docs/smp.md, "The lock order": copies run with no
     * lock, or under domctl, sysctl, event or grant-table locks, all
     * earlier), and a CPU waiting for a spin lock answers IPIs, so a
     * holder's TLB flush completes.  CONFIG_DEBUG_LOCKS checks the order
     * here before the wait: a copy under a later lock would be reported
     * ("LOCK VIOLATION"), not hung in.
     */
    spin_lock(&d->arch.pt_lock);
    l1 = pt_find_l1(v, addr, true);
    tab = l1 == INVALID_MFN ? NULL : pv_frame(l1);
    if (!is_validated_l1_of(d, tab))
        goto out;
    slot = L1_SLOT(addr);
    t = maddr_to_virt(l1 << PAGE_SHIFT);
    e = READ_ONCE(t[slot]);
    r = tab->spare ? record_of(d, tab) : NULL;
    if (!marked(r, slot)) {
        /* Another vCPU gave RW back first: only this CPU's translation is stale. */
        if ((e & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW)) {
            __asm__ volatile("invlpg (%0)" :: "r"(addr) : "memory");
            done = true;
        }
        goto out;
    }
    unmark(r, slot);
    pg = pv_frame((e & PTE_ADDR_MASK) >> PAGE_SHIFT);
    /* Since protected it may have become a page table: then the fault is the guest's. */
    if (!(e & PTE_P) || !frame_is_tracked(d, pg) || get_page_type(pg, PGT_WRITABLE))
        goto out;
    __atomic_fetch_or(&t[slot], PTE_RW, __ATOMIC_SEQ_CST);
    __asm__ volatile("invlpg (%0)" :: "r"(addr) : "memory");
    spin_lock(&d->arch.logdirty.lock);
    if (d->arch.logdirty.on)
        d->arch.logdirty.fault_count++;
    spin_unlock(&d->arch.logdirty.lock);
    pv_mark_dirty(d, pv_frame_mfn(pg));
    /* The table changed too: a copy of it sent while the entry was
       read-only must go again (a migration's destination has no markers).
       The next PEEK or CLEAN reports it (report_given()); a listing final
       round lists the slot instead. */
    if (d->arch.logdirty.on)
        r->given[slot / 64] |= 1ULL << (slot % 64);
    done = true;
out:
    spin_unlock(&d->arch.pt_lock);
    return done;
}

/* ---- the final round ---- */

#define L4_MICA_FIRST 256u          /* slots 256-271: Mica's own part of every L4 */
#define L4_MICA_LAST  271u
#define SEEN_L3S      256u
#define FINAL_L4S     128u          /* L4s kept from mark_hv_written()'s walk (1 KiB of stack) */

/*
 * Where the final round reports the L1 tables whose kernel entries got RW
 * back: NULL (XEN_DOMCTL_shadow_op) marks each such table dirty; a list
 * (MICA_DOMCTL_logdirty_final) takes the table's frame and slots instead,
 * up to max, and marks only the tables beyond it.
 */
struct rw_sink {
    struct mica_logdirty_rw *ent;   /* .pfn holds the table's MFN until copied out */
    u32 max, nr;
};

/* Gives RW back to one L1's marked entries (pt_lock held); reports the table if it changed. */
static void unprotect_l1(struct domain *d, mfn_t l1, struct rw_sink *sink)
{
    struct page_info *tab = pv_frame(l1);
    struct ld_l1 *r;
    u64 *t, given[8] = { 0 };
    bool changed = false;

    if (!is_validated_l1_of(d, tab) || !tab->spare || !(r = record_of(d, tab)))
        return;
    t = maddr_to_virt(l1 << PAGE_SHIFT);
    /* Slots kernel write faults gave RW back since the last report: listed too. */
    memcpy(given, r->given, sizeof(given));
    memset(r->given, 0, sizeof(r->given));
    for (unsigned w = 0; w < 8; w++)
        changed |= given[w] != 0;
    for (unsigned slot = 0; slot < 512; slot++) {
        u64 e;
        struct page_info *pg;

        if (!marked(r, slot))
            continue;
        unmark(r, slot);
        e = READ_ONCE(t[slot]);
        pg = pv_frame((e & PTE_ADDR_MASK) >> PAGE_SHIFT);
        /* Become a page table since: read-only is right for it now. */
        if (!(e & PTE_P) || !frame_is_tracked(d, pg) || get_page_type(pg, PGT_WRITABLE))
            continue;
        __atomic_fetch_or(&t[slot], PTE_RW, __ATOMIC_SEQ_CST);
        given[slot / 64] |= 1ULL << (slot % 64);
        changed = true;
    }
    if (!changed)
        return;
    if (sink && sink->nr < sink->max) {
        struct mica_logdirty_rw *w = &sink->ent[sink->nr++];
        w->pfn = l1;
        memcpy(w->slots, given, sizeof(given));
    } else {
        pv_mark_dirty(d, l1);
    }
}

/*
 * LOGDIRTY_FINAL, the guest suspended: every write-protected entry that
 * maps a guest-kernel address gets RW back, and its table is marked dirty
 * so that it is sent once more (or listed in the sink: the destination
 * sets the bits itself).  A migration's destination has no
 * markers: a kernel store through an entry left read-only there would be
 * an oops (user entries are fine: the guest resolves those faults, as
 * while logging).  The kernel half is found from every validated L4's
 * slots 272-511 (the walk this file avoids in the fault path is affordable
 * once, with the domain paused); Linux shares its kernel L3s among all
 * L4s, so each L3 is walked once.
 */
static bool is_validated_l4_of(const struct domain *d, const struct page_info *pg)
{
    return pg && page_state(pg) == PGS_ALLOCATED && pg->owner == d->domid &&
           page_type(pg) == PGT_L4 && (pg->type_info & PGT_VALIDATED);
}

/*
 * l4s: the domain's L4 tables as mark_hv_written() found them in the same
 * pause (nl4 of them; more than FINAL_L4S: not kept, every host frame is
 * looked at again).  Each is checked again here, under pt_lock.
 */
static void unprotect_kernel_half(struct domain *d, struct rw_sink *sink, const mfn_t *l4s,
                                  unsigned nl4)
{
    bool listed = nl4 <= FINAL_L4S;
    mfn_t nr = listed ? nl4 : host_frames.nr_frames;
    mfn_t seen[SEEN_L3S];
    unsigned nseen = 0;

    ASSERT_SPIN_LOCKED(&d->arch.pt_lock);
    for (mfn_t i = 0; i < nr; i++) {
        mfn_t m = listed ? l4s[i] : i;
        struct page_info *pg = listed ? pv_frame(m) : owned_frame(d, m);
        u64 *l4;

        if (!is_validated_l4_of(d, pg))
            continue;
        l4 = maddr_to_virt(m << PAGE_SHIFT);
        for (unsigned i4 = L4_MICA_LAST + 1; i4 < 512; i4++) {
            u64 e4 = READ_ONCE(l4[i4]);
            mfn_t l3m = (e4 & PTE_ADDR_MASK) >> PAGE_SHIFT;
            u64 *l3;
            bool dup = false;

            if (!(e4 & PTE_P))
                continue;
            for (unsigned k = 0; k < nseen && !dup; k++)
                dup = seen[k] == l3m;
            if (dup)
                continue;
            if (nseen < SEEN_L3S)
                seen[nseen++] = l3m;
            l3 = maddr_to_virt(l3m << PAGE_SHIFT);
            for (unsigned i3 = 0; i3 < 512; i3++) {
                u64 e3 = READ_ONCE(l3[i3]), *l2;
                if (!(e3 & PTE_P))
                    continue;
                l2 = maddr_to_virt(((e3 & PTE_ADDR_MASK) >> PAGE_SHIFT) << PAGE_SHIFT);
                for (unsigned i2 = 0; i2 < 512; i2++) {
                    u64 e2 = READ_ONCE(l2[i2]);
                    if (e2 & PTE_P)
                        unprotect_l1(d, (e2 & PTE_ADDR_MASK) >> PAGE_SHIFT, sink);
                }
            }
        }
    }
    flush_tlb_domain(d);
}

/*
 * Every table with slots a kernel write fault gave RW back since the last
 * report (and not listed by a final round): dirty, as the fault once
 * marked it at once.  A CLEAN forgets the slots; a PEEK leaves them for
 * the next call.  pt_lock held.
 */
static void report_given(struct domain *d, bool clean)
{
    struct pv_logdirty *ld = ld_of(d);

    ASSERT_SPIN_LOCKED(&d->arch.pt_lock);
    for (u32 i = 0; i < ld->nr_l1s; i++) {
        struct ld_l1 *r = &ld->l1s[i];

        if (!r->mfn || !any_given(r))
            continue;
        pv_mark_dirty(d, r->mfn);
        if (clean)
            memset(r->given, 0, sizeof(r->given));
    }
}

/* ---- the domctl ---- */

/*
 * Frames Mica writes behind the guest's back: dirty in every round.  In
 * the final round (LOGDIRTY_FINAL) also every page something holds a
 * writable reference on: after the last CLEAN the domain's own writable
 * entries are all of pages marked already, so what this adds is pages
 * other domains map writable (grant and foreign mappings, whose writes
 * are otherwise only counted when the mapping comes and goes).
 */
static unsigned mark_hv_written(struct domain *d, bool final, mfn_t *l4s)
{
    mfn_t nr = host_frames.nr_frames;
    unsigned nl4 = 0;

    for (mfn_t m = 0; m < nr; m++) {
        struct page_info *pg = owned_frame(d, m);
        if (!pg || page_state(pg) != PGS_ALLOCATED || pg->owner != d->domid)
            continue;
        if ((pg->count_info & PGC_HV_WRITES) ||
            (final && page_type(pg) == PGT_WRITABLE && page_type_count(pg)))
            pv_mark_dirty(d, m);
        /* The final round's L4s, so that its kernel-half walk need not
           look at every host frame a second time. */
        if (l4s && is_validated_l4_of(d, pg)) {
            if (nl4 < FINAL_L4S)
                l4s[nl4] = m;
            nl4++;
        }
    }
    return nl4;
}

/* Bits the bitmap needs: every PFN the M2P gives d's pages now, max_pages, the guest's max_pfn. */
static u64 bitmap_bits(struct domain *d)
{
    mfn_t nr = host_frames.nr_frames;
    u64 limit = (d->max_pages > d->tot_pages ? d->max_pages : d->tot_pages), top = limit, pfn_hint;

    /* A PFN far past the domain's size is ignored here (and reported as overflow if dirtied). */
    limit = limit * 4 + 65536;
    for (mfn_t m = 0; m < nr; m++) {
        struct page_info *pg = owned_frame(d, m);
        u64 pfn;
        if (!frame_is_tracked(d, pg))
            continue;
        pfn = m2p_get(m);
        if (pfn != INVALID_M2P_ENTRY && pfn < limit && pfn + 1 > top)
            top = pfn + 1;
    }
    /* The guest's own P2M size (what libxc reads as p2m_size), within the same bound. */
    pfn_hint = READ_ONCE(d->shared_info->arch.max_pfn);
    if (pfn_hint < limit && pfn_hint > top)
        top = pfn_hint;
    return (top + BITS_PER_WORD - 1) & ~(u64)(BITS_PER_WORD - 1);
}

static long logdirty_enable(struct domain *d)
{
    struct pv_logdirty *ld = ld_of(d);
    u64 bits = bitmap_bits(d);
    unsigned long *bm;
    long rc;

    if (ld->on)
        return -XEN_EINVAL;         /* as Xen: already logging */
    bm = xzalloc(bits / 8);
    if (!bm)
        return -XEN_ENOMEM;
    spin_lock(&d->arch.pt_lock);
    spin_lock(&ld->lock);
    ld->bitmap = bm;
    ld->nr_bits = bits;
    ld->fault_count = ld->dirty_count = 0;
    ld->overflow = false;
    ld->on = true;
    __atomic_fetch_add(&nr_logging, 1, __ATOMIC_SEQ_CST);
    spin_unlock(&ld->lock);
    rc = protect_all(d);
    if (rc) {
        /* Entries already protected stay marked and are given back on their first write. */
        spin_lock(&ld->lock);
        ld->on = false;
        __atomic_fetch_sub(&nr_logging, 1, __ATOMIC_SEQ_CST);
        ld->bitmap = NULL;
        spin_unlock(&ld->lock);
        xfree(bm);
    }
    spin_unlock(&d->arch.pt_lock);
    return rc;
}

/*
 * Off: no more recording.  Entries still write-protected keep their
 * markers and get RW back on their next write fault (guest-kernel
 * addresses) or from the guest itself (user addresses): giving RW back
 * here to a user mapping could undo a fork's copy-on-write.
 */
static void logdirty_disable(struct domain *d)
{
    struct pv_logdirty *ld = ld_of(d);
    unsigned long *bm;

    spin_lock(&d->arch.pt_lock);
    spin_lock(&ld->lock);
    bm = ld->bitmap;
    if (ld->on)
        __atomic_fetch_sub(&nr_logging, 1, __ATOMIC_SEQ_CST);
    ld->on = false;
    ld->bitmap = NULL;
    ld->nr_bits = 0;
    spin_unlock(&ld->lock);
    for (u32 i = 0; i < ld->nr_l1s; i++)
        memset(ld->l1s[i].given, 0, sizeof(ld->l1s[i].given));
    spin_unlock(&d->arch.pt_lock);
    xfree(bm);
}

#define CHUNK_BYTES 512

/* PEEK and CLEAN: the bitmap in Xen's layout (bit n of byte n/8 = PFN n). */
static long logdirty_read(struct domain *d, struct xen_domctl_shadow_op *sc, bool clean,
                          struct rw_sink *sink)
{
    struct pv_logdirty *ld = ld_of(d);
    u8 chunk[CHUNK_BYTES];
    u64 bytes = (sc->pages + 7) / 8;
    long rc = 0;

    bool final = clean && (sc->mode & XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL);
    mfn_t l4s[FINAL_L4S];
    unsigned nl4 = 0;

    if (ld->on)
        nl4 = mark_hv_written(d, sc->mode & XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL,
                              final ? l4s : NULL);
    /* After mark_hv_written: the writable references given back here are
       the guest's own mappings of pages it did not write (Linux's direct
       map covers all its RAM), not writes by anyone. */
    if (ld->on) {
        spin_lock(&d->arch.pt_lock);
        if (final)
            unprotect_kernel_half(d, sink, l4s, nl4);
        report_given(d, clean);
        spin_unlock(&d->arch.pt_lock);
    }
    spin_lock(&ld->lock);
    if (ld->overflow) {
        spin_unlock(&ld->lock);
        pr_err("d%u: log-dirty: a page with a PFN beyond the bitmap's %llu was written "
               "(its M2P entry was set after log-dirty was enabled); turn log-dirty off and on\n",
               d->domid, (unsigned long long)ld->nr_bits);
        return -XEN_ENOMEM;
    }
    sc->stats.fault_count = ld->fault_count;
    sc->stats.dirty_count = ld->dirty_count;
    if (clean)
        ld->fault_count = ld->dirty_count = 0;
    spin_unlock(&ld->lock);

    for (u64 off = 0; sc->dirty_bitmap && off < bytes && !rc; off += CHUNK_BYTES) {
        u64 n = bytes - off < CHUNK_BYTES ? bytes - off : CHUNK_BYTES;

        memset(chunk, 0, sizeof(chunk));
        spin_lock(&ld->lock);
        if (ld->on && off < ld->nr_bits / 8) {
            u64 have = ld->nr_bits / 8 - off;
            u8 *src = (u8 *)ld->bitmap + off;
            if (have > n)
                have = n;
            memcpy(chunk, src, have);
            if (clean)
                memset(src, 0, have);
        }
        spin_unlock(&ld->lock);
        /* Outside the lock: the copy may fault (and the fault path takes other locks). */
        if (copy_to_guest(sc->dirty_bitmap + off, chunk, n))
            rc = -XEN_EFAULT;
    }
    /* A CLEAN with a null buffer still forgets the bits, as Xen's does. */
    if (clean && !sc->dirty_bitmap) {
        spin_lock(&ld->lock);
        if (ld->on)
            memset(ld->bitmap, 0, ld->nr_bits / 8);
        spin_unlock(&ld->lock);
    }
    if (rc)
        return rc;
    /* After the final round nothing is protected again: the guest stays
       suspended until it is destroyed or resumed (a cancelled migration). */
    if (clean && ld->on && !final) {
        spin_lock(&d->arch.pt_lock);
        rc = protect_all(d);
        spin_unlock(&d->arch.pt_lock);
    }
    return rc;
}

long pv_shadow_op(struct domain *self, struct domain *d, struct xen_domctl_shadow_op *sc,
                  bool *copyback)
{
    long rc;

    if (d == self)
        return -XEN_EINVAL;         /* Xen: "Tried to do a paging op on itself" */
    if (d->is_dying)
        return 0;                   /* Xen ignores paging ops on a dying domain */
    switch (sc->op) {
    case XEN_DOMCTL_SHADOW_OP_ENABLE:
        if (!(sc->mode & XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY))
            goto no_shadow;
        __attribute__((fallthrough));   /* ENABLE with the log-dirty bit is ENABLE_LOGDIRTY */
    case XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY:
        domain_pause_internal(d);
        rc = logdirty_enable(d);
        domain_unpause_internal(d);
        return rc;
    case XEN_DOMCTL_SHADOW_OP_OFF:
        if (ld_of(d)->on) {
            domain_pause_internal(d);
            logdirty_disable(d);
            domain_unpause_internal(d);
        }
        return 0;
    case XEN_DOMCTL_SHADOW_OP_CLEAN:
    case XEN_DOMCTL_SHADOW_OP_PEEK:
        domain_pause_internal(d);
        rc = logdirty_read(d, sc, sc->op == XEN_DOMCTL_SHADOW_OP_CLEAN, NULL);
        domain_unpause_internal(d);
        *copyback = rc == 0;
        return rc;
    case XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION:
        /* Mica needs no paging pool; the value SET_ALLOCATION recorded is read back. */
        sc->mb = ld_of(d)->pool_mb;
        *copyback = true;
        return 0;
    case XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION:
        ld_of(d)->pool_mb = sc->mb;
        return 0;
    case XEN_DOMCTL_SHADOW_OP_ENABLE_TEST:
    no_shadow:
        /* Debian's Xen 4.17, built without shadow code, answers the same. */
        pr_info("d%u: shadow_op %u (mode %#x): Mica has no shadow paging; only log-dirty "
                "(ENABLE_LOGDIRTY, or ENABLE with ENABLE_LOG_DIRTY) is available\n",
                d->domid, sc->op, sc->mode);
        return -XEN_EINVAL;
    default:
        return -XEN_EINVAL;
    }
}

long pv_logdirty_final(struct domain *self, struct domain *d,
                       struct mica_domctl_logdirty_final *f)
{
    struct xen_domctl_shadow_op sc;
    struct rw_sink sink = { .max = f->rw_max };
    long rc;

    if (d == self || f->pad || f->rw_max > MICA_LOGDIRTY_RW_MAX)
        return -XEN_EINVAL;
    f->rw_nr = 0;
    if (d->is_dying)
        return 0;                   /* as shadow_op */
    if (sink.max && !(sink.ent = xzalloc(sink.max * sizeof(*sink.ent))))
        return -XEN_ENOMEM;
    memset(&sc, 0, sizeof(sc));
    sc.op = XEN_DOMCTL_SHADOW_OP_CLEAN;
    sc.mode = XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL;
    sc.dirty_bitmap = f->dirty_bitmap;
    sc.pages = f->pages;
    domain_pause_internal(d);
    rc = logdirty_read(d, &sc, true, &sink);
    domain_unpause_internal(d);
    f->dirty_count = sc.stats.dirty_count;
    f->fault_count = sc.stats.fault_count;
    /* The tables by PFN, as the toolstack sent them; outside every lock (copies may fault). */
    for (u32 i = 0; i < sink.nr && !rc; i++) {
        sink.ent[i].pfn = m2p_get(sink.ent[i].pfn);
        if (copy_to_guest(f->rw_tables + (u64)i * sizeof(sink.ent[i]), &sink.ent[i],
                          sizeof(sink.ent[i])))
            rc = -XEN_EFAULT;
    }
    f->rw_nr = rc ? 0 : sink.nr;
    xfree(sink.ent);
    return rc;
}

void pv_logdirty_free(struct domain *d)
{
    struct pv_logdirty *ld = ld_of(d);
    unsigned long *bm;

    spin_lock(&ld->lock);
    bm = ld->bitmap;
    ld->bitmap = NULL;
    if (ld->on)
        __atomic_fetch_sub(&nr_logging, 1, __ATOMIC_SEQ_CST);
    ld->on = false;
    spin_unlock(&ld->lock);
    xfree(bm);
    xfree(ld->l1s);
    ld->l1s = NULL;
    ld->nr_l1s = 0;
    ld->free_hint = 0;
}
