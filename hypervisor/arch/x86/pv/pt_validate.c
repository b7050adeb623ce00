/*
 * What a PV guest's page-table entries may say (PV ABI guide, 7.2-7.4),
 * and the references each present entry holds while its table is
 * validated:
 *
 *   L1 entry     a general reference on the mapped frame, plus a writable
 *                type reference when the mapping is writable;
 *   L2-L4 entry  a general and a type reference on the next-level table
 *                (validating it), or, for a read-only "linear" entry, on a
 *                table of the same level; none for an entry naming its own
 *                table (Xen 4.17's rule: a table never holds itself up).
 *
 * Only frames the table's owner owns may appear, unless an L1 update names
 * another owner (a privileged domain's foreign mapping, struct
 * pv_pg_owner); validation itself never accepts another domain's frame,
 * as on Xen.  Grants are not supported yet.  Superpages, cache attributes outside an L1, and
 * reserved bits are refused.  L4 slots 256-271 always hold Mica's own
 * entries, whatever the guest put there, and cannot be changed.
 *
 * Linear entries may not chain (XSA-240): a table holding linear entries
 * to other tables cannot itself be the target of one, so devalidation
 * never recurses along them.  page_info.spare counts both: the low half
 * the linear entries a table holds, the high half those aimed at it.
 */
#include <asm/descriptor.h>
#include <asm/grant_map.h>
#include <asm/io.h>
#include <asm/iomem.h>
#include <asm/layout.h>
#include <asm/logdirty.h>
#include <asm/m2p.h>
#include <asm/paging.h>
#include <asm/pv_mm.h>
#include <asm/spec_ctrl.h>
#include <asm/xpti.h>
#include <mica/console.h>
#include <mica/domain.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/percpu.h>
#include <public/errno.h>

#define PTE_AVAIL        (7ULL << 9)
#define PTE_AVAIL_HIGH   0x7ff0000000000000ULL     /* bits 52-62 */
#define PTE_GUEST_KERNEL (1ULL << 52)              /* marks a kernel-only L1 mapping */
#define PTE_PAT_L1       PTE_PS
#define BASE_ALLOWED     (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_AVAIL | PTE_AVAIL_HIGH)
#define L1_CACHE_BITS    (PTE_PWT | PTE_PCD | PTE_PAT_L1)

#define MICA_L4_FIRST    L4_SLOT(HYPERVISOR_AREA_START)
#define MICA_L4_END      (MICA_L4_FIRST + 16)

#define LINEAR_HELD(pg)     ((pg)->spare & 0xffffu)
#define LINEAR_TARGETED(pg) ((pg)->spare >> 16)

static u64 nx_allowed(void)
{
    static int known = -1;          /* published once, whole: CPUs may race here */

    if (READ_ONCE(known) < 0) {
        u32 a, b, c, d;
        int nx = 0;
        cpuid(0x80000000, 0, &a, &b, &c, &d);
        if (a >= 0x80000001) {
            cpuid(0x80000001, 0, &a, &b, &c, &d);
            nx = (d >> 20) & 1;
        }
        WRITE_ONCE(known, nx);
    }
    return READ_ONCE(known) ? PTE_NX : 0;
}

static bool is_mica_l4_slot(unsigned slot)
{
    return slot >= MICA_L4_FIRST && slot < MICA_L4_END;
}

static u64 *table_va(mfn_t mfn)
{
    return maddr_to_virt(mfn << PAGE_SHIFT);
}

static mfn_t entry_mfn(u64 e)
{
    return (e & PTE_ADDR_MASK) >> PAGE_SHIFT;
}

static u64 level_below(u64 type)
{
    return type == PGT_L4 ? PGT_L3 : type == PGT_L3 ? PGT_L2 : PGT_L1;
}

/* ---- L1 entries ---- */

static void l1e_put(u64 e);

/*
 * Frames that are not RAM Mica hands out carry no references: I/O memory
 * the control domain may map (asm/iomem.h), and nothing else.
 */
static bool is_counted_frame(const struct page_info *pg)
{
    return pg && page_state(pg) == PGS_ALLOCATED;
}

static long l1e_check(const struct domain *d, const struct pv_pg_owner *src, u64 e, u64 *out)
{
    mfn_t mfn = entry_mfn(e);

    u64 allowed = BASE_ALLOWED | PTE_G | nx_allowed();

    if (!(e & PTE_P)) {
        *out = e;
        return 0;
    }
    /* Cache attributes: only for a domain with hardware to drive, and
     * never on a page Mica itself writes (mixed attributes corrupt it). */
    if (is_control_domain(d) && !pv_frame_is_shared_info(d, mfn) &&
        !(src->ram && pv_frame_is_shared_info(src->ram, mfn)))
        allowed |= L1_CACHE_BITS;
    if (e & ~(allowed | PTE_ADDR_MASK))
        return -XEN_EINVAL;
    /* Only the grant code writes grant PTEs (see pt_update_entry for keeping one). */
    if (e & PTE_GNTTAB)
        return -XEN_EINVAL;
    if (!(e & PTE_US))
        e |= PTE_US | PTE_GUEST_KERNEL;     /* the kernel runs in ring 3 too */
    /*
     * Device pages Mica drives itself: a writable request from dom0 is
     * installed read-only rather than refused, as Xen does, so firmware
     * code (ACPI) that only reads them keeps working.
     */
    if ((e & PTE_RW) && is_control_domain(d) && !is_counted_frame(pv_frame(entry_mfn(e))) &&
        !iomem_dom0_may_map(entry_mfn(e), true) && iomem_dom0_may_map(entry_mfn(e), false))
        e &= ~PTE_RW;
    /* Guest mappings are never global: Mica switches domains by CR3 alone. */
    *out = e & ~PTE_G;
    return 0;
}

/*
 * RAM frames must belong to src->ram (a foreign domain's frame then holds
 * the mapping's references like one of the table owner's own); I/O memory
 * needs src->io and a table owner with hardware to drive.
 */
static long l1e_get(const struct domain *d, const struct pv_pg_owner *src, u64 e)
{
    struct page_info *pg;

    if (!(e & PTE_P))
        return 0;
    pg = pv_frame(entry_mfn(e));
    if (!is_counted_frame(pg)) {
        if (src->io && is_control_domain(d) && iomem_dom0_may_map(entry_mfn(e), e & PTE_RW))
            return 0;
        /* Free RAM is nobody's (Xen: -EBUSY); anything else is I/O refused. */
        return pg && page_state(pg) == PGS_FREE ? -XEN_EBUSY : -XEN_EPERM;
    }
    /* Xen shares the M2P's frames read-only with the control domain. */
    if (src->xen_ro && m2p_is_table_frame(entry_mfn(e)))
        return (e & PTE_RW) ? -XEN_EBUSY : 0;
    if (!src->ram || !get_page(pg, src->ram))
        return -XEN_EBUSY;              /* not the named owner's, or Mica's own */
    if ((e & PTE_RW) && get_page_type(pg, PGT_WRITABLE)) {
        put_page(pg);
        return -XEN_EBUSY;              /* a page table or descriptor page */
    }
    return 0;
}

void pt_l1e_release(u64 e)
{
    l1e_put(e);
}

u64 pt_nx_bit(void)
{
    return nx_allowed();
}

static void l1e_put(u64 e)
{
    struct page_info *pg;

    if (!(e & PTE_P))
        return;
    pg = pv_frame(entry_mfn(e));
    if (!is_counted_frame(pg) || m2p_is_table_frame(entry_mfn(e)))
        return;                         /* I/O memory or the M2P: no references were taken */
    /*
     * A writable mapping going away: if it was another domain's (a
     * privcmd foreign mapping), its writes to a logging domain's page
     * count now (the owner's own writable entries marked it already).
     */
    if ((e & PTE_RW) && pv_logdirty_anywhere())
        pv_mark_frame_dirty(entry_mfn(e));
    if (e & PTE_RW)
        put_page_type(pg);
    put_page(pg);
}

/* ---- L2-L4 entries ---- */

static long lne_check(u64 type, u64 e, u64 *out)
{
    if (!(e & PTE_P)) {
        *out = e;
        return 0;
    }
    if (e & ~(BASE_ALLOWED | nx_allowed() | PTE_ADDR_MASK))
        return -XEN_EINVAL;             /* PSE, G, PWT, PCD, reserved bits */
    e |= PTE_US;
    if (type == PGT_L4)
        e |= PTE_A;
    *out = e;
    return 0;
}

/* Takes the references of entry e in table tab (of the given type). */
static long lne_get(const struct domain *d, struct page_info *tab, u64 type, u64 e)
{
    struct page_info *pg;
    long rc;

    if (!(e & PTE_P))
        return 0;
    pg = pv_frame(entry_mfn(e));
    if (!get_page(pg, d))
        return -XEN_EINVAL;
    rc = get_page_type(pg, level_below(type));
    if (!rc)
        return 0;
    if (rc == HYPERCALL_CONTINUE) {
        /* The table below stopped part way; this entry holds nothing yet. */
        put_page(pg);
        return rc;
    }

    /* A linear entry: read-only, to a table of the same level. */
    if ((e & PTE_RW) || page_type(pg) != type || !page_type_count(pg))
        goto refuse;
    if (pg == tab) {
        /*
         * Its own table, possibly under validation right now.  The entry
         * takes no reference, as in Xen 4.17: a table must not hold
         * itself up, or unpinning it (or giving it back) would leave it
         * validated, with its whole tree, until the domain dies.  The
         * entry lives only as long as the table it is in.
         */
        put_page(pg);
        return 0;
    }
    /* Only a validated table is a linear target: a partly validated one
       is never taken over (and so never grown) through a linear entry. */
    if (!(READ_ONCE(pg->type_info) & PGT_VALIDATED))
        goto refuse;
    if (LINEAR_TARGETED(tab) || LINEAR_HELD(pg) || LINEAR_HELD(tab) == 0xffff ||
        LINEAR_TARGETED(pg) == 0xffff)
        goto refuse;
    if (get_page_type(pg, type))
        goto refuse;
    tab->spare++;
    pg->spare += 1u << 16;
    return 0;
refuse:
    put_page(pg);
    return rc ? rc : -XEN_EINVAL;
}

/*
 * Drops entry e's references.  `nested`: tab is being de-validated, and
 * the table below may stop part way when `preemptible`
 * (HYPERCALL_CONTINUE); otherwise the put is the request's own
 * (put_page_and_type: its vCPU may keep a stop, page_type.c).
 */
static long lne_put(struct page_info *tab, u64 type, u64 e, bool nested, bool preemptible)
{
    struct page_info *pg;

    if (!(e & PTE_P))
        return 0;
    pg = pv_frame(entry_mfn(e));
    if (pg == tab)
        return 0;                       /* a self entry holds nothing */
    if (page_type(pg) == type) {
        tab->spare--;
        pg->spare -= 1u << 16;
    }
    if (nested)
        return put_page_and_type_preemptible(pg, preemptible);
    put_page_and_type(pg);
    return 0;
}

/* ---- either level ---- */

static long entry_get(const struct domain *d, struct page_info *tab, u64 type, u64 e, u64 *out)
{
    const struct pv_pg_owner self = { .ram = d, .io = true };
    long rc;

    if (type == PGT_L1) {
        if ((rc = l1e_check(d, &self, e, out)))
            return rc;
        return l1e_get(d, &self, *out);
    }
    if ((rc = lne_check(type, e, out)))
        return rc;
    return lne_get(d, tab, type, *out);
}

static void entry_put(struct page_info *tab, u64 type, u64 e)
{
    if (type == PGT_L1)
        l1e_put(e);
    else
        lne_put(tab, type, e, false, false);
}

/*
 * A non-present entry that could let the domain read host memory through
 * L1TF (asm/spec_ctrl.h): the domain is crashed, as on Xen 4.17 without
 * shadow paging, once this CPU leaves Mica (the page-table lock is held
 * here); the caller leaves the entry unwritten or the table unvalidated.
 */
static bool l1tf_refuse(const struct domain *d, u64 type, u64 e)
{
    unsigned level = (unsigned)(type >> PGT_TYPE_SHIFT);

    if (!pv_l1tf_unsafe(d, level, e))
        return false;
    pv_l1tf_defer_crash(d, level, e);
    return true;
}

/* Mica's own page of a domain never becomes a descriptor page either. */
static long pv_shared_or_descriptors(struct domain *d, mfn_t mfn)
{
    if (pv_frame_is_shared_info(d, mfn))
        return -XEN_EINVAL;
    return pv_validate_descriptor_page(mfn);
}

/* ---- why a table was refused (logged, rate-limited per domain) ---- */

const char *pv_type_name(u64 type)
{
    switch (type) {
    case PGT_NONE:     return "untyped";
    case PGT_L1:       return "an L1 table";
    case PGT_L2:       return "an L2 table";
    case PGT_L3:       return "an L3 table";
    case PGT_L4:       return "an L4 table";
    case PGT_SEG_DESC: return "a descriptor (GDT/LDT) page";
    case PGT_WRITABLE: return "writable";
    default:           return "of an unknown type";
    }
}

void pv_frame_describe(char *buf, size_t len, mfn_t mfn)
{
    const struct page_info *pg = pv_frame(mfn);
    u64 ti, pfn;

    if (!pg) {
        snprintf(buf, len, "frame %#llx (beyond the host's memory)", (unsigned long long)mfn);
        return;
    }
    if (page_state(pg) != PGS_ALLOCATED) {
        snprintf(buf, len, "frame %#llx (%s)", (unsigned long long)mfn,
                 page_state(pg) == PGS_FREE ? "free memory, nobody's" : "not RAM Mica hands out");
        return;
    }
    ti = READ_ONCE(pg->type_info);
    pfn = m2p_get(mfn);
    snprintf(buf, len, "frame %#llx (PFN %#llx, d%u's) %s with %llu type reference%s%s%s",
             (unsigned long long)mfn, (unsigned long long)pfn, pg->owner,
             pv_type_name(ti & PGT_TYPE_MASK), (unsigned long long)(ti & PGT_COUNT_MASK),
             (ti & PGT_COUNT_MASK) == 1 ? "" : "s", ti & PGT_PINNED ? ", pinned" : "",
             (ti & PGT_PARTIAL) && (ti & PGT_DOWN)
                 ? ", partly de-validated (its vCPU's continued hypercall finishes it)"
             : (ti & PGT_PARTIAL) ? ", partly validated (a continued hypercall goes on with it)"
             : page_type_is_table(ti & PGT_TYPE_MASK) && (ti & PGT_COUNT_MASK) &&
                     !(ti & PGT_VALIDATED) ? ", being validated" : "");
}

/* Which rule refused L1 entry e of d (the checks of l1e_check/l1e_get, read only). */
static void l1e_why(const struct domain *d, u64 e, char *why, size_t len)
{
    u64 allowed = BASE_ALLOWED | PTE_G | nx_allowed() | (is_control_domain(d) ? L1_CACHE_BITS : 0);
    mfn_t mfn = entry_mfn(e);
    const struct page_info *pg = pv_frame(mfn);
    char what[160];

    pv_frame_describe(what, sizeof(what), mfn);
    if (!(e & PTE_P))
        snprintf(why, len, "is not present but names host memory (L1TF: the domain is crashed)");
    else if (e & ~(allowed | PTE_ADDR_MASK))
        snprintf(why, len, "has bits %#llx no guest L1 entry may have%s",
                 (unsigned long long)(e & ~(allowed | PTE_ADDR_MASK)),
                 (e & L1_CACHE_BITS & ~allowed) ? " (cache attributes: only a domain with "
                                                  "hardware to drive)" : "");
    else if (e & PTE_GNTTAB)
        snprintf(why, len, "carries the grant marker (bit 62), which only Mica's grant code sets");
    else if (!is_counted_frame(pg))
        snprintf(why, len, "maps %s, which this domain may not map", what);
    else if (pg->owner != d->domid)
        snprintf(why, len, "maps %s, not one of this domain's frames", what);
    else if ((e & PTE_RW) && page_type(pg) != PGT_WRITABLE && page_type_count(pg))
        snprintf(why, len, "maps %s writable", what);
    else
        snprintf(why, len, "maps %s: no reference could be taken", what);
}

/* Which rule refused entry e of an L2-L4 table tab of d. */
static void lne_why(const struct domain *d, const struct page_info *tab, u64 type, u64 e,
                    char *why, size_t len)
{
    mfn_t mfn = entry_mfn(e);
    const struct page_info *pg = pv_frame(mfn);
    unsigned below = (unsigned)(level_below(type) >> PGT_TYPE_SHIFT);
    char what[160];

    pv_frame_describe(what, sizeof(what), mfn);
    if (!(e & PTE_P))
        snprintf(why, len, "is not present but names host memory (L1TF: the domain is crashed)");
    else if (e & ~(BASE_ALLOWED | nx_allowed() | PTE_ADDR_MASK))
        snprintf(why, len, "has bits %#llx no L%u entry may have (superpage, global, cache "
                 "attributes, reserved)",
                 (unsigned long long)(e & ~(BASE_ALLOWED | nx_allowed() | PTE_ADDR_MASK)),
                 (unsigned)(type >> PGT_TYPE_SHIFT));
    else if (!is_counted_frame(pg) || pg->owner != d->domid)
        snprintf(why, len, "names %s, not one of this domain's frames", what);
    else if (!page_type_count(pg))
        snprintf(why, len, "names %s, whose validation as an L%u table failed (the line "
                 "before says why)", what, below);
    else if (page_type(pg) == type && !(e & PTE_RW) && pg != tab)
        snprintf(why, len, "is a linear entry to %s that the rules refuse (no chains, XSA-240)",
                 what);
    else
        snprintf(why, len, "names %s where an L%u table is needed", what, below);
}

static void log_refusal(struct domain *d, const struct page_info *tab, u64 type, unsigned slot,
                        u64 e)
{
    char why[320];
    mfn_t mfn = pv_frame_mfn(tab);

    if (!domain_refusal_log_allowed(d))
        return;
    if (type == PGT_L1)
        l1e_why(d, e, why, sizeof(why));
    else
        lne_why(d, tab, type, e, why, sizeof(why));
    pr_info("d%u: L%u table at frame %#llx (PFN %#llx) refused: entry %u = %#018llx %s\n",
            d->domid, (unsigned)(type >> PGT_TYPE_SHIFT), (unsigned long long)mfn,
            (unsigned long long)m2p_get(mfn), slot, (unsigned long long)e, why);
}

/*
 * Whether a validation on this CPU may stop part way (set by the
 * hypercalls that can be continued at the request that asked for the
 * type: mmu_update, mmuext_op's pins and new roots).  Everyone else
 * validates to the end, also a table another call left partly validated.
 */
static DEFINE_PER_CPU(bool, validation_preemptible);

bool pt_validation_preemptible(bool on)
{
    bool was = this_cpu(validation_preemptible);

    this_cpu(validation_preemptible) = on;
    return was;
}

/*
 * Validates entries [*next, 512) of pg as `type` (entries before *next
 * already hold their references: a table taken over part way).  0 when
 * done; or, for L2-L4, HYPERCALL_CONTINUE with *next the first entry not
 * yet done (the caller leaves the table partly validated); or an error
 * (a refused entry), with *next the number of leading entries that still
 * hold their references: releasing them may take as long as the
 * validation did, so the caller decides whether that happens now or in
 * the request's continuation (page_type.c).  An L1's 512 entries are
 * released here (*next 0).  It stops only when
 * this CPU's validation is preemptible, a hypercall preemption check
 * says so, and at least one entry was done in this table since it was
 * taken, or an entry's own table below stopped (which did some work):
 * every continuation makes progress.  The work between two checks is
 * one entry, at most one L1 table's 512 entries below it.
 */
long pt_validate(struct page_info *pg, u64 type, unsigned *next)
{
    struct domain *d = domain_by_id(pg->owner);
    mfn_t mfn = pv_frame_mfn(pg);
    u64 *t = table_va(mfn);
    unsigned i, start = *next;
    long rc = 0;
    u64 refused = 0;

    if (d && type == PGT_SEG_DESC && !start)
        return pv_shared_or_descriptors(d, mfn);
    /* Not a table, or Mica's own shared page (Mica writes it), or the
       owner is dying (domain_by_id no longer finds it). */
    if (!d || !page_type_is_table(type) || start >= 512 || (start && type == PGT_L1) ||
        pv_frame_is_shared_info(d, mfn)) {
        /* A table taken over part way: its entries [0, start) still hold. */
        if (!(start && start < 512 && page_type_is_table(type) && type != PGT_L1))
            *next = 0;
        return -XEN_EINVAL;
    }
    if (type == PGT_L1)
        pg->spare = 0;                  /* no log-dirty record yet (asm/logdirty.h) */
    for (i = start; i < 512; i++) {
        u64 e, adj;

        if (type != PGT_L1 && i > start && this_cpu(validation_preemptible) &&
            hypercall_preempt_check()) {
            *next = i;
            return HYPERCALL_CONTINUE;
        }
        e = *(volatile u64 *)&t[i];     /* read once */
        if (type == PGT_L4 && is_mica_l4_slot(i)) {
            /* Mica's slots; the per-domain one carries this domain's area. */
            t[i] = i == L4_SLOT(PERDOMAIN_VIRT_START) && pv_perdomain_l4e(d)
                       ? pv_perdomain_l4e(d) : idle_l4_entry(i);
            continue;
        }
        refused = e;
        if (!(e & PTE_P) && l1tf_refuse(d, type, e)) {
            rc = -XEN_EINVAL;
            break;
        }
        if ((rc = entry_get(d, pg, type, e, &adj)) == HYPERCALL_CONTINUE) {
            *next = i;
            return rc;
        }
        if (rc)
            break;
        t[i] = adj;
    }
    if (!rc)
        return 0;
    log_refusal(d, pg, type, i, refused);
    if (type == PGT_L1) {
        /* Leaf entries, no tables below: a bounded release, done now (as Xen). */
        pt_release_entries(pg, type, i);
        i = 0;
    }
    *next = i;
    return rc;
}

mfn_t pt_entry_target(struct page_info *pg, u64 type, unsigned i)
{
    u64 e;

    if (i >= 512 || !page_type_is_table(type) || type == PGT_L1 ||
        (type == PGT_L4 && is_mica_l4_slot(i)))
        return INVALID_MFN;
    e = *(volatile u64 *)&table_va(pv_frame_mfn(pg))[i];
    return (e & PTE_P) ? entry_mfn(e) : INVALID_MFN;
}

void pt_release_entries(struct page_info *pg, u64 type, unsigned n)
{
    u64 *t = table_va(pv_frame_mfn(pg));

    while (n--) {
        if (!(type == PGT_L4 && is_mica_l4_slot(n)))
            entry_put(pg, type, t[n]);
    }
}

/*
 * A de-validation taken over part way first finishes the table its entry
 * `i` (the last one released) names, if that table's own de-validation
 * stopped (the reason this one stopped there).  Only a lower table, or
 * one of the same level (a linear entry), of the same owner: whatever the
 * entry names now, nothing is done that its own continuation would not
 * do.  Deeper than a chain can be (L4, L3, L2 with a linear hop each) is
 * not followed, so stale entries cannot recurse without bound.
 */
static DEFINE_PER_CPU(unsigned, frontier_depth);

static long finish_frontier(struct page_info *pg, u64 type, u64 e, unsigned i, bool preemptible,
                            bool *worked)
{
    struct page_info *c;
    long rc;

    if (!(e & PTE_P) || (type == PGT_L4 && is_mica_l4_slot(i)))
        return 0;
    c = pv_frame(entry_mfn(e));
    if (!c || c == pg || page_state(c) != PGS_ALLOCATED || READ_ONCE(c->owner) != pg->owner)
        return 0;
    if (page_type(c) != level_below(type) && page_type(c) != type)
        return 0;
    if (this_cpu(frontier_depth) >= 8 || !(READ_ONCE(c->type_info) & PGT_DOWN))
        return 0;
    *worked = true;
    this_cpu(frontier_depth)++;
    rc = page_finish_devalidation(c, preemptible);
    this_cpu(frontier_depth)--;
    return rc;
}

long pt_devalidate(struct page_info *pg, u64 type, unsigned *next, bool preemptible)
{
    u64 *t = table_va(pv_frame_mfn(pg));
    unsigned i = *next;
    bool worked = false;
    long rc;

    if (!page_type_is_table(type))
        return 0;
    if (type == PGT_L1) {
        /* 512 entries, no table below: never stops (as Xen). */
        pv_logdirty_l1_devalidated(pg);     /* Mica's write-protect markers go with it */
        for (i = 0; i < 512; i++)
            l1e_put(t[i]);
        return 0;
    }
    if (i > 512)
        i = 512;
    if (i < 512) {
        if ((rc = finish_frontier(pg, type, *(volatile u64 *)&t[i], i, preemptible, &worked)))
            return rc;
    }
    /*
     * Between two entries (never before the first of this call) the call
     * may give the CPU back; the work between two checks is one entry,
     * with at most one L1 table's 512 entries below it.
     */
    while (i--) {
        if (type == PGT_L4 && is_mica_l4_slot(i))
            continue;
        if (worked && preemptible && hypercall_preempt_check()) {
            *next = i + 1;
            return HYPERCALL_CONTINUE;
        }
        rc = lne_put(pg, type, t[i], true, preemptible);
        worked = true;
        if (rc == HYPERCALL_CONTINUE) {
            /* The table below stopped: this one stops at it, entry i given up. */
            *next = i;
            return rc;
        }
    }
    return 0;
}

/*
 * The A/D and software bits a guest may change without re-validation;
 * not the grant marker, which only the grant code sets or clears.
 */
#define FAST_PATH_BITS ((PTE_A | PTE_D | PTE_AVAIL | PTE_AVAIL_HIGH | PTE_NX) & ~PTE_GNTTAB)

long pt_update_entry(struct domain *d, mfn_t table_mfn, unsigned slot, u64 val,
                     bool preserve_ad, bool *flush)
{
    const struct pv_pg_owner self = { .ram = d, .io = true };

    return pt_update_entry_from(d, &self, table_mfn, slot, val, preserve_ad, flush);
}

long pt_update_entry_from(struct domain *d, const struct pv_pg_owner *src, mfn_t table_mfn,
                          unsigned slot, u64 val, bool preserve_ad, bool *flush)
{
    struct page_info *tab = pv_frame(table_mfn);
    u64 type, *t, old, adj;
    long rc;

    if (!tab || tab->owner != d->domid || slot >= 512)
        return -XEN_EINVAL;
    type = page_type(tab);
    if (!page_type_is_table(type) || !(tab->type_info & PGT_VALIDATED))
        return -XEN_EINVAL;
    /* Upper levels only ever name the table owner's own tables. */
    if (type != PGT_L1 && src->ram != d)
        return -XEN_EINVAL;
    if (type == PGT_L4 && is_mica_l4_slot(slot))
        return -XEN_EINVAL;
    t = table_va(table_mfn);
    old = t[slot];
    if (preserve_ad)
        val |= old & (PTE_A | PTE_D);
    /*
     * A grant PTE may be rewritten with its marker only to change A/D or
     * software bits; any other change of it replaces it by an ordinary
     * entry (below), which drops the references as an unmap would, but
     * leaves the grant in use until unmapped or its domain dies (Xen too).
     */
    if (type == PGT_L1 && (val & PTE_P) && (val & PTE_GNTTAB)) {
        if (!(old & PTE_P) || !(old & PTE_GNTTAB) || ((old ^ val) & ~FAST_PATH_BITS))
            return -XEN_EINVAL;
        t[slot] = val & ~PTE_G;
        pv_mark_dirty(d, table_mfn);
        return 0;
    }
    if (!(val & PTE_P) && l1tf_refuse(d, type, val))
        return -XEN_EINVAL;
    if ((rc = type == PGT_L1 ? l1e_check(d, src, val, &adj) : lne_check(type, val, &adj)))
        return rc;

    /* Same frame and rights, only bookkeeping bits differ: no references move. */
    if ((old & PTE_P) && (adj & PTE_P) &&
        ((old ^ adj) & ~FAST_PATH_BITS) == 0) {
        t[slot] = adj;
        if (type == PGT_L4)
            xpti_l4_written(d);
        if (type != PGT_L1)
            *flush = true;
        else
            pv_logdirty_l1_write(d, tab, slot, old, adj, true);
        pv_mark_dirty(d, table_mfn);    /* the table page itself changed (log-dirty) */
        return 0;
    }
    /*
     * Hold the table, general and type reference, while the old entry's
     * references go: whatever they cascade into, the table is neither
     * devalidated nor freed under this update (one its domain gave back
     * is freed only with its last reference; before self entries stopped
     * counting, that could be the entry replaced here, and the frame was
     * freed and then written).
     */
    page_table_hold(tab);
    rc = type == PGT_L1 ? l1e_get(d, src, adj) : lne_get(d, tab, type, adj);
    if (!rc) {
        t[slot] = adj;
        /* Before the old entry's references go: no root table may still name it. */
        if (type == PGT_L4)
            xpti_l4_written(d);
        entry_put(tab, type, old);
        if (type != PGT_L1)
            *flush = true;
        else
            pv_logdirty_l1_write(d, tab, slot, old, adj, false);
        pv_mark_dirty(d, table_mfn);
    }
    put_page_and_type(tab);
    return rc;
}

mfn_t pt_find_l1(struct vcpu *v, u64 va, bool kernel)
{
    mfn_t mfn = kernel || !v->arch.guest_table_user ? v->arch.guest_table
                                                     : v->arch.guest_table_user;
    u64 e = table_va(mfn)[L4_SLOT(va)];

    if (!(e & PTE_P) || is_mica_l4_slot(L4_SLOT(va)))
        return INVALID_MFN;
    e = table_va(entry_mfn(e))[L3_SLOT(va)];
    if (!(e & PTE_P) || (e & PTE_PS))
        return INVALID_MFN;
    e = table_va(entry_mfn(e))[L2_SLOT(va)];
    if (!(e & PTE_P) || (e & PTE_PS))
        return INVALID_MFN;
    return entry_mfn(e);
}
