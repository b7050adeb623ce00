/*
 * Grant mappings in PV page tables, and the frame references behind them
 * (see asm/grant_map.h for the reference model).
 *
 * A grant PTE is written here and nowhere else: pt_validate.c refuses
 * PTE_GNTTAB in any entry a guest supplies, and never lets a guest keep
 * a foreign frame in an entry it writes, so a guest can neither forge a
 * grant PTE nor turn one into an ordinary mapping.
 */
#include <asm/grant_map.h>
#include <asm/logdirty.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/layout.h>
#include <asm/m2p.h>
#include <asm/mm_release.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/tlbflush.h>
#include <mica/lib.h>
#include <mica/perfc.h>
#include <mica/page_alloc.h>
#include <public/grant_table.h>

#define PTE_AVAIL_SHIFT  9
#define PTE_GUEST_KERNEL (1ULL << 52)

/* As Xen's gnttab_flush_tlb(): every CPU where the mapper's tables are loaded. */
void gnt_flush_tlb(const struct domain *mapper)
{
    flush_tlb_domain(mapper);
}

void *gnt_frame_va(mfn_t mfn)
{
    return maddr_to_virt(mfn << PAGE_SHIFT);
}

bool gnt_frame_owned_by(const struct domain *rd, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    return pg && page_state(pg) == PGS_ALLOCATED && pg->owner == rd->domid;
}

int gnt_frame_get(const struct domain *rd, mfn_t mfn, bool writable)
{
    struct page_info *pg = pv_frame(mfn);

    if (!get_page(pg, rd))
        return GNTST_bad_page;
    if (writable && get_page_type(pg, PGT_WRITABLE)) {
        put_page(pg);
        return GNTST_general_error;
    }
    /* Writable from now on: dirty now, and again when the use ends (gnt_frame_put). */
    if (writable)
        pv_mark_frame_dirty(mfn);
    return GNTST_okay;
}

void gnt_frame_put(mfn_t mfn, bool writable)
{
    struct page_info *pg = pv_frame(mfn);

    /*
     * The end of a writable use (a grant copy's destination, an unmapped
     * writable grant): the granter's page counts as written, as on Xen.
     */
    if (writable)
        pv_mark_frame_dirty(mfn);

    if (writable)
        put_page_type(pg);
    put_page(pg);
}

mfn_t gnt_shared_frame_alloc(struct domain *d)
{
    mfn_t mfn = alloc_frames(&host_frames, 0);
    struct page_info *pg;

    if (mfn == INVALID_MFN)
        return INVALID_MFN;
    memset(gnt_frame_va(mfn), 0, PAGE_SIZE);
    pg = pv_frame(mfn);
    pg->owner = d->domid;
    pg->count_info = 1 | PGC_UNCOUNTED;     /* the allocation; not in tot_pages */
    pg->type_info = PGT_WRITABLE | 1;       /* never a page table */
    if (mfn < m2p_nr_frames())
        m2p_set(mfn, INVALID_M2P_ENTRY);    /* no pfn: Mica's frame, shared */
    return mfn;
}

void gnt_shared_frame_release(mfn_t mfn)
{
    put_page_type(pv_frame(mfn));
}

/* The state of a grant frame only Mica references: the allocation, uncounted. */
#define GNT_FRAME_IDLE     (1 | PGC_UNCOUNTED)
/* Taken back: no reference, and get_page() refuses it (count 0 with PGC_RELEASED). */
#define GNT_FRAME_TAKEN    (PGC_RELEASED | PGC_UNCOUNTED)

bool gnt_shared_frame_reclaim(mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    /*
     * Every mapping holds a general reference besides its type one, so
     * a count of exactly the allocation means no PTE, pin or copy
     * reaches the frame; the swap makes sure none can start.
     */
    return cmpxchg(&pg->count_info, GNT_FRAME_IDLE, GNT_FRAME_TAKEN) == GNT_FRAME_IDLE;
}

void gnt_shared_frame_unreclaim(mfn_t mfn)
{
    pv_frame(mfn)->count_info = GNT_FRAME_IDLE;
}

void gnt_shared_frame_reclaimed_free(mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if ((pg->type_info & PGT_COUNT_MASK) != 1)
        pr_err("grant: frame %#llx has type %#llx when given back\n",
               (unsigned long long)mfn, (unsigned long long)pg->type_info);
    /* Not in tot_pages: nothing to uncount.  Flushes any stale translation. */
    pv_free_frame(pg, true);
}

bool gnt_shared_frame_free(mfn_t mfn)
{
    if (!gnt_shared_frame_reclaim(mfn))
        return false;
    gnt_shared_frame_reclaimed_free(mfn);
    return true;
}

/* The PTE a mapping of mfn with GNTMAP_* flags gets. */
static u64 grant_pte(mfn_t mfn, u32 flags)
{
    u64 e = (mfn << PAGE_SHIFT) | PTE_P | PTE_A | PTE_D | PTE_GNTTAB | pt_nx_bit();

    if (!(flags & GNTMAP_readonly))
        e |= PTE_RW;
    /* The guest's own avail bits (Linux's gntdev marks its PTEs this way). */
    e |= (u64)((flags >> _GNTMAP_guest_avail0) & 7) << PTE_AVAIL_SHIFT;
    /* Kernel mappings run in ring 3 too: US, and bit 52 says "kernel". */
    e |= PTE_US;
    if (!(flags & GNTMAP_application_map))
        e |= PTE_GUEST_KERNEL;
    return e;
}

/*
 * The L1 entry addr names, in a validated L1 table d owns: by machine
 * address (contains_pte) or by linear address through v's tables.
 */
static u64 *find_l1e(struct vcpu *v, u64 addr, bool contains_pte)
{
    struct domain *d = v->domain;
    struct page_info *tab;
    mfn_t l1;

    if (contains_pte) {
        if (addr & 7)
            return NULL;            /* would straddle two entries */
        l1 = addr >> PAGE_SHIFT;
    } else {
        if (!guest_range_ok(addr, 1))
            return NULL;
        l1 = pt_find_l1(v, addr, v->arch.kernel_mode);
        if (l1 == INVALID_MFN)
            return NULL;
    }
    tab = pv_frame(l1);
    if (!tab || page_state(tab) != PGS_ALLOCATED || tab->owner != d->domid ||
        page_type(tab) != PGT_L1 || !(tab->type_info & PGT_VALIDATED))
        return NULL;
    return (u64 *)gnt_frame_va(l1) +
           (contains_pte ? (addr & (PAGE_SIZE - 1)) >> 3 : L1_SLOT(addr));
}

int gnt_pte_create(struct vcpu *v, u64 addr, mfn_t mfn, u32 flags)
{
    u64 *pl1e, old;

    spin_lock(&v->domain->arch.pt_lock);
    pl1e = find_l1e(v, addr, flags & GNTMAP_contains_pte);
    if (!pl1e) {
        spin_unlock(&v->domain->arch.pt_lock);
        return GNTST_general_error;
    }
    old = *pl1e;
    *pl1e = grant_pte(mfn, flags);
    pv_logdirty_l1e_replaced(v->domain, pl1e);
    spin_unlock(&v->domain->arch.pt_lock);
    /* Whatever was there lets go of its references (it may be a grant PTE too). */
    pt_l1e_release(old);
    if (old & PTE_P) {
        perfc_inc(gnt_map_flush);
        gnt_flush_tlb(v->domain);
    }
    return GNTST_okay;
}

static int pte_destroy_locked(struct vcpu *v, u64 addr, mfn_t mfn, u64 new_addr, u32 flags)
{
    bool by_pte = flags & GNTMAP_contains_pte;
    u64 *pl1e, *pnew = NULL, old, repl = 0;

    if (by_pte && new_addr)
        return GNTST_general_error;     /* no replacement in this addressing mode */
    if (new_addr && !(pnew = find_l1e(v, new_addr, false)))
        return GNTST_general_error;
    pl1e = find_l1e(v, addr, by_pte);
    if (!pl1e)
        return GNTST_general_error;
    old = *pl1e;
    /* It must still be this grant's PTE, with the rights the grant gave. */
    if ((old & PTE_ADDR_MASK) >> PAGE_SHIFT != mfn || !(old & PTE_GNTTAB) ||
        ((old ^ grant_pte(mfn, flags)) & (PTE_P | PTE_RW)))
        return GNTST_general_error;
    if (pnew) {
        if (pnew == pl1e)
            return GNTST_general_error;
        /* The entry moves with its references: nothing is taken or dropped. */
        repl = *pnew;
        *pnew = 0;
    }
    *pl1e = repl;
    if (pnew)
        pv_logdirty_l1e_moved(v->domain, pnew, pl1e);
    return GNTST_okay;
}

int gnt_pte_destroy(struct vcpu *v, u64 addr, mfn_t mfn, u64 new_addr, u32 flags)
{
    int rc;

    spin_lock(&v->domain->arch.pt_lock);
    rc = pte_destroy_locked(v, addr, mfn, new_addr, flags);
    spin_unlock(&v->domain->arch.pt_lock);
    return rc;
}
