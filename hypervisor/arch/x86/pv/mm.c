/*
 * The PV MMU hypercalls: mmu_update, mmuext_op and update_va_mapping
 * (PV ABI guide, 7.5-7.7), on top of the reference and type counts of
 * page_type.c and the entry rules of pt_validate.c.
 *
 * Between two operations of a batch the call may give the CPU back
 * (hypercall_preempt_check) with a continuation: the list advanced, bit
 * 31 of the count (MMU_UPDATE_PREEMPTED) set on what is left, and the
 * running total in *pdone, which the continued call reads back, as on
 * Xen 4.17 (docs/hypercalls.md).
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/m2p.h>
#include <asm/ldt.h>
#include <asm/logdirty.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <asm/tlbflush.h>
#include <asm/xpti.h>
#include <mica/console.h>
#include <mica/perfc.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <public/errno.h>
#include <public/xen.h>

/*
 * The physical CPUs the guest's vCPU bitmap names (Xen's
 * vcpumask_to_pcpumask): those where a named vCPU's tables are loaded
 * now.  One 64-bit word per 64 vCPUs, read only as far as max_vcpus
 * reaches; a vCPU that is not loaded anywhere has nothing to flush.
 */
static long vcpumask_to_pcpumask(const struct domain *d, u64 bmap, cpumask_t *out)
{
    cpumask_clear(out);
    for (unsigned base = 0; base < d->max_vcpus; base += 64) {
        u64 word;

        if (copy_from_guest(&word, bmap + base / 8, sizeof(word))) {
            cpumask_clear(out);
            return -XEN_EFAULT;
        }
        for (unsigned bit = 0; bit < 64 && word; bit++, word >>= 1) {
            const struct vcpu *v;
            unsigned cpu;

            if (!(word & 1))
                continue;
            if (base + bit >= d->max_vcpus)
                return 0;
            v = domain_vcpu(d, base + bit);
            cpu = v ? __atomic_load_n(&v->arch.dirty_cpu, __ATOMIC_ACQUIRE) : 0;
            if (cpu)
                __cpumask_set_cpu(cpu - 1, out);
        }
    }
    return 0;
}

bool pv_frame_is_shared_info(const struct domain *d, mfn_t mfn)
{
    return d->shared_info_mfn == mfn;
}

/*
 * vcpu_info pages: Mica writes them from now on, so they keep a writable
 * type reference (never a page table) until the domain is torn down.
 */
long domain_writable_frame(struct domain *d, u64 mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if (get_page_and_type(pg, d, PGT_WRITABLE))
        return -XEN_EINVAL;
    /* Written behind the guest's page tables from now on: log-dirty reports it every round. */
    __atomic_fetch_or(&pg->count_info, PGC_HV_WRITES, __ATOMIC_SEQ_CST);
    pv_mark_dirty(d, mfn);
    return 0;
}

void domain_put_writable_frame(struct domain *d, u64 mfn)
{
    (void)d;
    put_page_and_type(pv_frame(mfn));
}

long pv_mm_domain_init(struct domain *d, mfn_t l4)
{
    struct vcpu *v = d->vcpus[0];
    struct page_info *si = pv_frame(d->shared_info_mfn), *root = pv_frame(l4);
    long rc;

    if ((rc = get_page_and_type(si, d, PGT_WRITABLE)))
        return rc;
    d->arch.shared_info_typed = true;
    /* Validating the root validates the builder's whole tree. */
    if ((rc = get_page_and_type(root, d, PGT_L4)))
        return rc;
    page_test_and_set_pinned(root);
    if ((rc = get_page_and_type(root, d, PGT_L4)))
        return rc;
    v->arch.guest_table = l4;       /* the CR3 reference */
    return 0;
}

/*
 * The domain a hypercall's foreigndom names (Xen 4.17's get_pg_owner):
 * DOMID_SELF is the caller; the caller's own id is refused (-ESRCH: a
 * domain is never foreign to itself); DOMID_IO and DOMID_XEN are owners
 * of no RAM Mica shares, DOMID_IO standing for the caller's I/O rights;
 * any other id must name an existing (possibly dying) domain.  A dying
 * domain goes with the last put of its last held frame, which a request
 * of a batch can do: batches decode foreigndom again for every request
 * and never keep the pointer across one.
 */
struct foreign {
    struct pv_pg_owner src;
    struct domain *d;           /* NULL for DOMID_IO and DOMID_XEN */
    bool is_io;
};

static long foreign_decode(struct domain *self, domid_t id, struct foreign *f)
{
    f->d = NULL;
    f->is_io = false;
    f->src.ram = NULL;
    f->src.io = false;
    f->src.xen_ro = false;
    if (id == self->domid)
        return -XEN_ESRCH;
    switch (id) {
    case DOMID_SELF:
        f->d = self;
        f->src.ram = self;
        f->src.io = true;
        return 0;
    case DOMID_IO:
        f->is_io = f->src.io = true;
        return 0;
    case DOMID_XEN:
        /* The M2P's frames, read-only, for the control domain (libxc's save). */
        f->src.xen_ro = is_control_domain(self);
        return 0;
    default:
        /* A dying domain still answers, as on Xen; only its held frames are left. */
        f->d = domain_by_id_any(id);
        if (!f->d)
            return -XEN_ESRCH;
        f->src.ram = f->d;
        return 0;
    }
}

/* Xen's default policy for naming a target: itself, or a privileged caller. */
static bool may_name(const struct domain *self, const struct domain *target)
{
    return evaluate_nospec(target == self) || is_control_domain(self);
}

/* ---- update_va_mapping ---- */

/*
 * The flush update_va_mapping's flags ask for, after the update (Xen
 * 4.17's order): UVMF_LOCAL this CPU, UVMF_ALL the domain's dirty CPUs,
 * anything else is a pointer to a vCPU bitmap.  Without a flush type the
 * scope is not looked at.  An unreadable bitmap is -EFAULT, with the
 * update done and nothing flushed, as on Xen.
 */
static long flush_after(struct domain *d, u64 va, u64 flags)
{
    u64 type = flags & UVMF_FLUSHTYPE_MASK, scope = flags & ~UVMF_FLUSHTYPE_MASK;
    cpumask_t mask;
    long rc = 0;

    if (type != UVMF_TLB_FLUSH && type != UVMF_INVLPG) {
        perfc_inc_idx(uvm_flush, 0);
        return 0;
    }
    perfc_inc_idx(uvm_flush, scope != UVMF_LOCAL ? 3 : type == UVMF_TLB_FLUSH ? 1 : 2);
    if (scope == UVMF_LOCAL) {
        if (type == UVMF_TLB_FLUSH)
            flush_tlb_local();
        else
            flush_tlb_one_local(va);
        return 0;
    }
    if (scope == UVMF_ALL) {
        smp_mb();               /* the update before the read of the mask */
        cpumask_copy(&mask, &d->arch.dirty_cpumask);
    } else {
        rc = vcpumask_to_pcpumask(d, scope, &mask);
    }
    if (type == UVMF_TLB_FLUSH)
        flush_tlb_mask(&mask);
    else
        flush_tlb_one_mask(&mask, va);
    return rc;
}

static long update_va_mapping(u64 va, u64 val, u64 flags, const struct pv_pg_owner *src)
{
    struct vcpu *v = current_vcpu();
    bool flush = false;
    mfn_t l1;
    long rc;

    if (!guest_range_ok(va, 1))
        return -XEN_EINVAL;
    spin_lock(&v->domain->arch.pt_lock);
    l1 = pt_find_l1(v, va, v->arch.kernel_mode);
    if (l1 == INVALID_MFN || page_type(pv_frame(l1)) != PGT_L1)
        rc = -XEN_EINVAL;
    else
        rc = pt_update_entry_from(v->domain, src, l1, L1_SLOT(va), val, false, &flush);
    spin_unlock(&v->domain->arch.pt_lock);
    if (rc)
        return rc;
    return flush_after(v->domain, va, flags);
}

long do_update_va_mapping(u64 va, u64 val, u64 flags)
{
    struct domain *d = current_vcpu()->domain;
    const struct pv_pg_owner self = { .ram = d, .io = true };

    return update_va_mapping(va, val, flags, &self);
}

/* The caller's own tables, mapping a frame of the domain `domid` names. */
long do_update_va_mapping_otherdomain(u64 va, u64 val, u64 flags, u64 domid)
{
    struct domain *self = current_vcpu()->domain;
    struct foreign f;
    long rc;

    if ((rc = foreign_decode(self, (domid_t)domid, &f)))
        return rc;
    if (!may_name(self, f.d))
        return -XEN_EPERM;
    return update_va_mapping(va, val, flags, &f.src);
}

/* ---- mmu_update ---- */

static long write_plain_frame(struct domain *d, struct page_info *pg, u64 addr, u64 val)
{
    if (get_page_and_type(pg, d, PGT_WRITABLE))
        return -XEN_EINVAL;
    *(u64 *)maddr_to_virt(addr) = val;
    pv_mark_dirty(d, addr >> PAGE_SHIFT);
    put_page_and_type(pg);
    return 0;
}

/*
 * One request.  `self` is the caller, `pt` the owner of the tables being
 * changed (foreigndom's top half), `f` the owner of the frames new L1
 * entries map (its low half).
 */
static long mmu_update_one(struct domain *self, struct domain *pt, const struct foreign *f,
                           const struct mmu_update *req, bool *flush)
{
    unsigned cmd = req->ptr & 7;
    u64 addr = req->ptr & ~7ULL;
    mfn_t mfn = addr >> PAGE_SHIFT;
    struct page_info *pg = pv_frame(mfn);

    switch (cmd) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
    case MMU_PT_UPDATE_NO_TRANSLATE:        /* PV tables hold machine addresses anyway */
        /* DOMID_IO needs no right of its own: the I/O check is the caller's. */
        if ((!f->is_io && !may_name(self, f->d)) || !may_name(self, pt))
            return -XEN_EPERM;
        if (!pg || page_state(pg) != PGS_ALLOCATED || pg->owner != pt->domid)
            return -XEN_EINVAL;
        if (page_type_is_table(page_type(pg)) && (pg->type_info & PGT_VALIDATED))
            return pt_update_entry_from(pt, &f->src, mfn, (addr & (PAGE_SIZE - 1)) >> 3,
                                        req->val, cmd == MMU_PT_UPDATE_PRESERVE_AD, flush);
        return write_plain_frame(pt, pg, addr, req->val);
    case MMU_MACHPHYS_UPDATE:
        if (pt != self || !may_name(self, f->d))
            return -XEN_EPERM;
        if (!f->d || !pg || page_state(pg) != PGS_ALLOCATED || pg->owner != f->d->domid)
            return -XEN_EINVAL;
        m2p_set(mfn, req->val);
        pv_mark_pfn_dirty(f->d, req->val);      /* as Xen: the PFN now names this page */
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * Common batch driver: runs op(i) for i in [0, n), stopping at the first
 * failure, and either finishes or arranges a continuation.
 */
struct batch {
    u64 list, size, pdone;
    u32 n, done_before;
};

static long batch_start(struct batch *b, u64 list, u64 count, u64 pdone, u64 size)
{
    b->list = list;
    b->size = size;
    b->pdone = pdone;
    b->n = (u32)count;
    b->done_before = 0;
    if (b->n & MMU_UPDATE_PREEMPTED) {
        b->n &= ~MMU_UPDATE_PREEMPTED;
        /* As on Xen, an unreadable *pdone counts from 0 (writing it will fail). */
        if (pdone && copy_from_guest(&b->done_before, pdone, sizeof(b->done_before)))
            b->done_before = 0;
    }
    return 0;
}

/* True (and the continuation set up) when this pass should end before op i. */
static bool batch_yield(const struct batch *b, u32 i, long *rc)
{
    u32 total;

    if (!i || !hypercall_preempt_check())
        return false;
    total = b->done_before + i;
    if (b->pdone && copy_to_guest(b->pdone, &total, sizeof(total))) {
        *rc = -XEN_EFAULT;
        return true;
    }
    hypercall_continue_args(b->list + (u64)i * b->size, (b->n - i) | MMU_UPDATE_PREEMPTED,
                            b->pdone);
    *rc = HYPERCALL_CONTINUE;
    return true;
}

/*
 * Op i asked for a continuation of itself (a table validation that
 * stopped part way): the continued call starts again at op i, which goes
 * on with the partly validated table.
 */
static long batch_continue_at(const struct batch *b, u32 i)
{
    u32 total = b->done_before + i;

    if (b->pdone && copy_to_guest(b->pdone, &total, sizeof(total)))
        return -XEN_EFAULT;
    hypercall_continue_args(b->list + (u64)i * b->size, (b->n - i) | MMU_UPDATE_PREEMPTED,
                            b->pdone);
    return HYPERCALL_CONTINUE;
}

static long batch_end(const struct batch *b, u32 i, long rc)
{
    u32 total = b->done_before + i;

    if (b->pdone && copy_to_guest(b->pdone, &total, sizeof(total)))
        return -XEN_EFAULT;
    return rc;
}

void pv_pt_lock_pair(struct domain *d, struct domain *owner)
{
    if (!owner || owner == d) {
        spin_lock(&d->arch.pt_lock);
    } else if (d->domid < owner->domid) {
        spin_lock(&d->arch.pt_lock);
        spin_lock_nested(&owner->arch.pt_lock, 1);
    } else {
        spin_lock(&owner->arch.pt_lock);
        spin_lock_nested(&d->arch.pt_lock, 1);
    }
}

void pv_pt_unlock_pair(struct domain *d, struct domain *owner)
{
    if (owner && owner != d)
        spin_unlock(&owner->arch.pt_lock);
    spin_unlock(&d->arch.pt_lock);
}

/* ---- de-validations stopped part way (Xen's old_guest_table) ---- */

/*
 * A request's own put of a table's last type reference (an unpin, an old
 * root, an old upper-level entry) de-validates the table's whole tree;
 * it may stop part way (page_type.c), the table then kept in the vCPU's
 * old_guest_table.  The request itself counts as done (but a new root,
 * mmuext_one): the call is continued after it (at the next request, or,
 * after the last, with the list gone and the result carried in
 * foreigndom, as Xen 4.17 does), and every continued or new
 * mmu_update/mmuext_op finishes the table first.
 * The table may be another domain's (a privileged caller's foreign
 * unpin, as Xen 4.17 keeps it in the caller's old_guest_table): the slot's
 * general reference keeps the frame, and so its owner, until this drops
 * it; the owner's pt_lock guards the table.  Once the owner is dying
 * nothing stops any more: its teardown releases the partial tables it
 * meets (before or after this finishes one, the two take it over by
 * compare-and-swap), and none may appear behind that step.
 */
long pv_finish_old_table(struct vcpu *v, bool preemptible)
{
    struct domain *d = v->domain, *owner;
    mfn_t mfn = v->arch.old_guest_table;
    long rc;

    if (!mfn)
        return 0;
    owner = domain_by_id_any(READ_ONCE(pv_frame(mfn)->owner));
    pv_pt_lock_pair(d, owner);
    preemptible = preemptible && !d->is_dying && owner && !owner->is_dying;
    if (!v->arch.old_guest_table_typed && (!owner || owner->is_dying)) {
        /*
         * A dying owner's partial table (a foreign unpin or a refused
         * foreign validation kept here): its teardown releases it in
         * TD_PARTIAL, preemptibly, and cannot be past it (no table
         * becomes partial once the owner is dying).  Finished here it
         * would go to the end in one stretch; only our reference goes.
         */
        rc = 0;
    } else if (v->arch.old_guest_table_typed) {
        /* Its type reference goes now; a stop leaves a partial table, as above. */
        v->arch.old_guest_table_typed = false;
        rc = put_page_type_preemptible(pv_frame(mfn), preemptible);
    } else {
        rc = page_finish_devalidation(pv_frame(mfn), preemptible);
    }
    if (rc != HYPERCALL_CONTINUE) {
        v->arch.old_guest_table = 0;
        put_page(pv_frame(mfn));
    }
    pv_pt_unlock_pair(d, owner);
    return rc == HYPERCALL_CONTINUE ? rc : 0;
}

/* At the start of mmu_update and mmuext_op: HYPERCALL_CONTINUE if still not done. */
static long finish_old_table(struct vcpu *v)
{
    long rc;

    if (!v->arch.old_guest_table)
        return 0;
    rc = pv_finish_old_table(v, true);
    if (rc == HYPERCALL_CONTINUE)
        hypercall_continue_unchanged();
    return rc;
}

/*
 * Xen's continuation for a call whose requests are all done but whose
 * vCPU keeps a stopped de-validation: no list (count MMU_UPDATE_PREEMPTED
 * alone), the result in foreigndom; the continued call finishes the
 * table and returns that result.
 */
static long continue_with_result(long rc)
{
    hypercall_continue_args4(0, MMU_UPDATE_PREEMPTED, 0, (u64)(u32)(s32)rc);
    return HYPERCALL_CONTINUE;
}

static bool is_result_carrier(u64 list, u64 count)
{
    return !list && (u32)count == MMU_UPDATE_PREEMPTED;
}

/*
 * foreigndom (32 bits, as Xen reads it): the low half names whose frames
 * new L1 entries map; a non-zero top half is 1 + the id of the domain
 * whose tables are changed (no DOMID_SELF there).  Both need privilege
 * unless they are the caller, checked per request as Xen does.
 */
long do_mmu_update(u64 reqs, u64 count, u64 pdone, u64 foreigndom)
{
    struct domain *d = current_vcpu()->domain, *pt = d;
    u32 pt_dom = (u32)foreigndom >> 16;
    struct mmu_update req;
    struct foreign f;
    struct batch b;
    bool flush = false;
    long rc;
    u32 i;

    if ((rc = finish_old_table(current_vcpu())))
        return rc;
    if (is_result_carrier(reqs, count))
        return (long)(s32)(u32)foreigndom;
    if ((rc = batch_start(&b, reqs, count, pdone, sizeof(req))))
        return rc;
    /* As on Xen: an unknown table owner leaves *pdone alone, the rest write it. */
    if (pt_dom && !(pt = domain_by_id((domid_t)(pt_dom - 1))))
        return -XEN_ESRCH;
    if (!pt->vcpus[0])
        return batch_end(&b, 0, -XEN_EINVAL);
    if ((rc = foreign_decode(d, (domid_t)foreigndom, &f)))
        return batch_end(&b, 0, rc);
    for (i = 0; i < b.n; i++) {
        if (batch_yield(&b, i, &rc))
            break;
        if (copy_from_guest(&req, reqs + (u64)i * sizeof(req), sizeof(req))) {
            rc = -XEN_EFAULT;
            break;
        }
        /* An earlier request may have let a dying foreigndom go (its last held frame). */
        if (i && (rc = foreign_decode(d, (domid_t)foreigndom, &f)))
            break;
        perfc_inc(mmu_update_req);
        /* pt's lock for its tables, ours for our vCPU's slot. */
        pv_pt_lock_pair(d, pt);
        /*
         * A new upper-level entry may validate a whole tree: it may stop,
         * except in a dying domain, whose teardown may be past releasing
         * partly validated tables (read under the lock its walk takes).
         */
        pt_validation_preemptible(!pt->is_dying);
        /*
         * An old entry's de-validation that stops, or a refused new
         * entry's tree still to release, is kept in our slot, also for a
         * privileged caller's change of another domain's tables (Xen 4.17
         * keeps both in the caller's old_guest_table).
         */
        pt_devalidation_slot(!pt->is_dying && !d->is_dying ? &current_vcpu()->arch.old_guest_table
                                                           : NULL);
        rc = mmu_update_one(d, pt, &f, &req, &flush);
        pt_devalidation_slot(NULL);
        pt_validation_preemptible(false);
        pv_pt_unlock_pair(d, pt);
        if (rc == HYPERCALL_CONTINUE)
            rc = batch_continue_at(&b, i);
        if (rc)
            break;
        /* An old entry's tree stopped de-validating: the rest after it.
           (A refused request kept its tree there too: rc ended the batch.) */
        if (current_vcpu()->arch.old_guest_table && i + 1 < b.n) {
            rc = batch_continue_at(&b, ++i);
            break;
        }
    }
    /*
     * Upper-level changes drop translations the TLBs and paging-structure
     * caches may still hold: every CPU where pt's tables are loaded
     * flushes, now, before the next call of a multicall (as Xen).
     */
    if (flush)
        flush_tlb_domain(pt);
    if (rc == HYPERCALL_CONTINUE)
        return rc;
    rc = batch_end(&b, i, rc);
    return current_vcpu()->arch.old_guest_table ? continue_with_result(rc) : rc;
}

/* ---- mmuext_op ---- */

static const u64 pin_types[4] = { PGT_L1, PGT_L2, PGT_L3, PGT_L4 };

/* Why a pin of mfn as `type` for d failed (rate-limited; the table's own line, if any, came first). */
static void log_pin_refusal(struct domain *d, mfn_t mfn, u64 type, long rc)
{
    struct page_info *pg = pv_frame(mfn);
    char what[160];
    const char *why;

    if (!domain_refusal_log_allowed(d))
        return;
    pv_frame_describe(what, sizeof(what), mfn);
    if (!pg || page_state(pg) != PGS_ALLOCATED || pg->owner != d->domid)
        why = "it is not one of the domain's frames";
    else if (pg->type_info & PGT_PINNED && rc == 0)
        why = "it is pinned already";
    else if (page_type_count(pg) && page_type(pg) != type)
        why = "it has another type (a writable mapping or another table's entry holds it)";
    else if (pg->type_info & PGT_PARTIAL)
        why = "an entry was refused (the line before says which and why); the entries "
              "before it are released by the call's continuation";
    else if (page_type_count(pg) && !(pg->type_info & PGT_VALIDATED))
        why = "its validation is under way elsewhere";
    else if (!page_type_count(pg))
        why = "an entry was refused (the line before says which and why)";
    else
        why = "no reference could be taken";
    pr_info("d%u: pinning %s as %s failed (error %ld): %s\n", d->domid, what, pv_type_name(type),
            rc, why);
}

static long pin_table(struct domain *d, mfn_t mfn, u64 type)
{
    struct page_info *pg = pv_frame(mfn);
    long rc;

    if (!d)
        return -XEN_EINVAL;
    if (!pg || pg->owner != d->domid || (pg->type_info & PGT_PINNED)) {
        log_pin_refusal(d, mfn, type, 0);
        return -XEN_EINVAL;
    }
    /* (A dying owner's tables validate to the end: do_mmuext_op.) */
    rc = get_page_and_type(pg, d, type);
    if (rc == HYPERCALL_CONTINUE)
        return rc;              /* partly validated: the continued call goes on */
    if (rc) {
        log_pin_refusal(d, mfn, type, rc);
        return -XEN_EINVAL;
    }
    /*
     * A dying owner's teardown may be past its unpinning walk (it is
     * preemptible): as on Xen, the pin is dropped again at once.
     */
    if (d->is_dying) {
        put_page_and_type(pg);
        return 0;
    }
    /* Another CPU may have pinned it since the check above. */
    if (page_test_and_set_pinned(pg)) {
        put_page_and_type(pg);
        return -XEN_EINVAL;
    }
    return 0;
}

static long unpin_table(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_frame(mfn);

    if (!d || !pg || pg->owner != d->domid || !page_test_and_clear_pinned(pg))
        return -XEN_EINVAL;
    /*
     * A dying owner's table (a privileged caller's foreign unpin): no slot
     * may keep a stop for it (do_mmuext_op), but its teardown has not
     * unpinned this frame yet (the pin was still there, under the owner's
     * pt_lock), so it has not begun releasing partial tables either: a
     * stop leaves the table standing alone, partly de-validated, for
     * TD_PARTIAL to release preemptibly, instead of the whole tree going
     * here in one stretch.
     */
    if (d->is_dying) {
        (void)put_page_type_preemptible(pg, true);
        put_page(pg);
        return 0;
    }
    put_page_and_type(pg);
    return 0;
}

/* Replaces a root: the new one's L4 reference taken before the old one's goes. */
static long set_root(struct domain *d, mfn_t *root, mfn_t mfn, bool allow_none)
{
    mfn_t old = *root;

    if (!mfn && allow_none) {
        *root = 0;
    } else {
        long rc = get_page_and_type(pv_frame(mfn), d, PGT_L4);

        if (rc)
            return rc == HYPERCALL_CONTINUE ? rc : -XEN_EINVAL;
        *root = mfn;
    }
    if (old)
        put_page_and_type(pv_frame(old));
    return 0;
}

static long writable_frame_op(struct domain *d, mfn_t dst, mfn_t src, bool copy)
{
    struct page_info *dpg = pv_frame(dst), *spg = pv_frame(src);

    if (!d)
        return -XEN_EINVAL;
    if (copy && !get_page(spg, d))
        return -XEN_EINVAL;
    if (get_page_and_type(dpg, d, PGT_WRITABLE)) {
        if (copy)
            put_page(spg);
        return -XEN_EINVAL;
    }
    if (copy)
        memcpy(maddr_to_virt(dst << PAGE_SHIFT), maddr_to_virt(src << PAGE_SHIFT), PAGE_SIZE);
    else
        memset(maddr_to_virt(dst << PAGE_SHIFT), 0, PAGE_SIZE);
    pv_mark_dirty(d, dst);
    put_page_and_type(dpg);
    if (copy)
        put_page(spg);
    return 0;
}

/* As Xen 4.17: an address outside the guest's range is not flushed, and that is no error. */
static long invlpg_mask(const cpumask_t *mask, u64 va)
{
    if (!guest_range_ok(va, 1))
        return 0;
    if (mask)
        flush_tlb_one_mask(mask, va);
    else
        flush_tlb_one_local(va);
    return 0;
}

/*
 * `owner` is the domain foreigndom names (NULL for DOMID_IO/DOMID_XEN):
 * pins and page clears/copies act on its frames, as a domain builder
 * needs; everything about the caller's own vCPU refuses a foreign owner.
 */
static long mmuext_one(struct vcpu *v, struct domain *owner, const struct mmuext_op *op)
{
    struct domain *d = v->domain;
    cpumask_t mask;
    long rc;

    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
        return pin_table(owner, op->arg1.mfn, pin_types[op->cmd - MMUEXT_PIN_L1_TABLE]);
    case MMUEXT_UNPIN_TABLE:
        return unpin_table(owner, op->arg1.mfn);
    case MMUEXT_CLEAR_PAGE:
        return writable_frame_op(owner, op->arg1.mfn, 0, false);
    case MMUEXT_COPY_PAGE:
        return writable_frame_op(owner, op->arg1.mfn, op->arg2.src_mfn, true);
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
        return -XEN_EOPNOTSUPP;
    }
    if (owner != d && (op->cmd <= MMUEXT_SET_LDT || op->cmd == MMUEXT_NEW_USER_BASEPTR ||
                       op->cmd == MMUEXT_FLUSH_CACHE_GLOBAL))
        return -XEN_EPERM;
    /*
     * A new root whose old one stopped de-validating is continued at this
     * request itself, as on Xen 4.17: the re-run finds the root in place
     * (its reference taken and dropped again) and counts it done.
     */
    switch (op->cmd) {
    case MMUEXT_NEW_BASEPTR:
        if ((rc = set_root(d, &v->arch.guest_table, op->arg1.mfn, false)))
            return rc;
        if (v->arch.kernel_mode) {
            write_cr3(v->arch.guest_table << PAGE_SHIFT);
            xpti_guest_root_loaded();
        }
        return v->arch.old_guest_table ? HYPERCALL_CONTINUE : 0;
    case MMUEXT_NEW_USER_BASEPTR:
        if ((rc = set_root(d, &v->arch.guest_table_user, op->arg1.mfn, true)))
            return rc;
        if (!v->arch.kernel_mode) {
            write_cr3(v->arch.guest_table_user << PAGE_SHIFT);
            xpti_guest_root_loaded();
        }
        return v->arch.old_guest_table ? HYPERCALL_CONTINUE : 0;
    /*
     * TLB operations (Xen 4.17): LOCAL this CPU; MULTI the CPUs where the
     * vCPUs in the guest's bitmap have their tables loaded (an unreadable
     * bitmap is -EINVAL); ALL every CPU in d's dirty mask.
     */
    case MMUEXT_TLB_FLUSH_LOCAL:
        flush_tlb_local();
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        return invlpg_mask(NULL, op->arg1.linear_addr);
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI:
        if (vcpumask_to_pcpumask(d, op->arg2.vcpumask, &mask))
            return -XEN_EINVAL;
        if (op->cmd == MMUEXT_INVLPG_MULTI)
            return invlpg_mask(&mask, op->arg1.linear_addr);
        flush_tlb_mask(&mask);
        return 0;
    case MMUEXT_TLB_FLUSH_ALL:
        flush_tlb_domain(d);
        return 0;
    case MMUEXT_INVLPG_ALL:
        smp_mb();
        cpumask_copy(&mask, &d->arch.dirty_cpumask);
        return invlpg_mask(&mask, op->arg1.linear_addr);
    case MMUEXT_FLUSH_CACHE:
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        /* Only a domain driving hardware has a reason to write back caches. */
        if (!is_control_domain(d))
            return op->cmd == MMUEXT_FLUSH_CACHE ? -XEN_EACCES : -XEN_EINVAL;
        __asm__ volatile("wbinvd" ::: "memory");
        return 0;
    case MMUEXT_SET_LDT:
        return pv_set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
    default:
        return -XEN_ENOSYS;
    }
}

long do_mmuext_op(u64 ops, u64 count, u64 pdone, u64 foreigndom)
{
    struct vcpu *v = current_vcpu();
    struct mmuext_op op;
    struct foreign f;
    struct batch b;
    long rc;
    u32 i;

    if ((rc = finish_old_table(v)))
        return rc;
    if (is_result_carrier(ops, count))
        return (long)(s32)(u32)foreigndom;
    if ((rc = batch_start(&b, ops, count, pdone, sizeof(op))))
        return rc;
    if ((rc = foreign_decode(v->domain, (domid_t)foreigndom, &f)))
        return rc;
    /* Unlike mmu_update, DOMID_IO needs the privilege too. */
    if (!may_name(v->domain, f.d))
        return -XEN_EPERM;
    for (i = 0; i < b.n; i++) {
        if (batch_yield(&b, i, &rc))
            break;
        if (copy_from_guest(&op, ops + (u64)i * sizeof(op), sizeof(op))) {
            rc = -XEN_EFAULT;
            break;
        }
        /* As in mmu_update: a dying foreigndom may be gone since the last op. */
        if (i && (rc = foreign_decode(v->domain, (domid_t)foreigndom, &f)))
            break;
        perfc_inc_idx(mmuext, op.cmd);
        pv_pt_lock_pair(v->domain, f.d);
        /* Pins and new roots validate whole trees: they may stop part
           way, except in a dying domain (as in mmu_update). */
        pt_validation_preemptible(!(f.d && f.d->is_dying));
        /* Unpins, old roots: their de-validation may stop (also a foreign
           owner's unpin, kept in our vCPU's slot as Xen 4.17 does). */
        pt_devalidation_slot(f.d && !f.d->is_dying && !v->domain->is_dying
                                 ? &v->arch.old_guest_table : NULL);
        rc = mmuext_one(v, f.d, &op);
        pt_devalidation_slot(NULL);
        pt_validation_preemptible(false);
        pv_pt_unlock_pair(v->domain, f.d);
        if (rc == HYPERCALL_CONTINUE)
            rc = batch_continue_at(&b, i);
        if (rc)
            break;
        if (v->arch.old_guest_table && i + 1 < b.n) {
            rc = batch_continue_at(&b, ++i);
            break;
        }
    }
    if (rc == HYPERCALL_CONTINUE)
        return rc;
    rc = batch_end(&b, i, rc);
    return v->arch.old_guest_table ? continue_with_result(rc) : rc;
}
