/*
 * PV guests edit their own page tables only through Mica.  For now that
 * is update_va_mapping on the tables the domain builder made; the full
 * set (mmu_update, mmuext_op, pinning, type and reference counts,
 * writable page-table emulation) is the PV memory-management work.
 *
 * Rules already enforced for every new L1 entry: the frame belongs to the
 * calling domain; a frame holding page tables is never mapped writable;
 * reserved and large-page/PAT bits are refused; Mica's address range is
 * out of bounds; the user bit is forced, since the guest kernel runs in
 * ring 3, and the global bit cleared.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/errno.h>
#include <public/xen.h>

extern struct frame_pool host_frames;

#define L1_RESERVED_BITS   0x7ff0000000000000ULL   /* bits 52-62 */
#define L1_PAT_BIT         PTE_PS                  /* bit 7 in an L1 entry is PAT */

static u64 *table_at(u64 entry)
{
    return maddr_to_virt(entry & PTE_ADDR_MASK);
}

/* The L1 entry mapping va in the current vCPU's tables, or NULL. */
static u64 *find_l1e(struct vcpu *v, u64 va)
{
    u64 *l4 = maddr_to_virt(v->arch.guest_table << PAGE_SHIFT);
    u64 e;

    if (!v->arch.kernel_mode && v->arch.guest_table_user)
        l4 = maddr_to_virt(v->arch.guest_table_user << PAGE_SHIFT);
    e = l4[L4_SLOT(va)];
    if (!(e & PTE_P)) return NULL;
    e = table_at(e)[L3_SLOT(va)];
    if (!(e & PTE_P) || (e & PTE_PS)) return NULL;
    e = table_at(e)[L2_SLOT(va)];
    if (!(e & PTE_P) || (e & PTE_PS)) return NULL;
    return &table_at(e)[L1_SLOT(va)];
}

static bool is_page_table_type(u64 type_info)
{
    u64 t = type_info & PGT_TYPE_MASK;
    return t == PGT_L1 || t == PGT_L2 || t == PGT_L3 || t == PGT_L4 || t == PGT_SEG_DESC;
}

/* Checks a new L1 entry; returns it as it will be written, or an error. */
static long check_l1e(struct domain *d, u64 val, u64 *out)
{
    struct page_info *pg;
    mfn_t mfn;

    if (!(val & PTE_P)) {
        *out = val;
        return 0;
    }
    if (val & (L1_RESERVED_BITS | L1_PAT_BIT))
        return -XEN_EINVAL;
    mfn = (val & PTE_ADDR_MASK) >> PAGE_SHIFT;
    pg = mfn_to_page(&host_frames, mfn);
    if (!pg || pg->owner != d->domid)
        return -XEN_EINVAL;
    if ((val & PTE_RW) && is_page_table_type(pg->type_info))
        return -XEN_EINVAL;
    *out = (val | PTE_US) & ~PTE_G;
    return 0;
}

long domain_writable_frame(struct domain *d, u64 mfn)
{
    struct page_info *pg = mfn_to_page(&host_frames, mfn);

    if (!pg || pg->owner != d->domid || is_page_table_type(pg->type_info))
        return -XEN_EINVAL;
    return 0;
}

long do_update_va_mapping(u64 va, u64 val, u64 flags)
{
    struct vcpu *v = current_vcpu();
    u64 *l1e, newe;
    struct page_info *l1pg;
    long rc;

    if (!guest_range_ok(va, 1))
        return -XEN_EINVAL;
    l1e = find_l1e(v, va);
    if (!l1e)
        return -XEN_EINVAL;
    l1pg = mfn_to_page(&host_frames, virt_to_maddr(l1e) >> PAGE_SHIFT);
    if (!l1pg || l1pg->owner != v->domain->domid || (l1pg->type_info & PGT_TYPE_MASK) != PGT_L1)
        return -XEN_EINVAL;
    if ((rc = check_l1e(v->domain, val, &newe)))
        return rc;
    *l1e = newe;

    switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_TLB_FLUSH:
        write_cr3(read_cr3());
        break;
    case UVMF_INVLPG:
        __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
        break;
    default:
        /* The ABI leaves stale entries to the guest; flush anyway if removing rights. */
        __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
        break;
    }
    return 0;
}

/* An L4 the domain owns and Mica has validated (today: the builder's). */
static bool validated_l4(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = mfn_to_page(&host_frames, mfn);

    return pg && pg->owner == d->domid &&
           (pg->type_info & PGT_TYPE_MASK) == PGT_L4 && (pg->type_info & PGT_VALIDATED);
}

static long mmuext_one(struct vcpu *v, const struct mmuext_op *op)
{
    struct domain *d = v->domain;

    switch (op->cmd) {
    case MMUEXT_NEW_BASEPTR:
        if (!validated_l4(d, op->arg1.mfn))
            return -XEN_EINVAL;
        v->arch.guest_table = op->arg1.mfn;
        if (v->arch.kernel_mode)
            write_cr3(op->arg1.mfn << PAGE_SHIFT);
        return 0;
    case MMUEXT_NEW_USER_BASEPTR:
        if (op->arg1.mfn && !validated_l4(d, op->arg1.mfn))
            return -XEN_EINVAL;
        v->arch.guest_table_user = op->arg1.mfn;
        return 0;
    case MMUEXT_TLB_FLUSH_LOCAL:
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_TLB_FLUSH_ALL:
        /* One vCPU per domain runs at a time today: local is everything. */
        write_cr3(read_cr3());
        return 0;
    case MMUEXT_INVLPG_LOCAL:
    case MMUEXT_INVLPG_MULTI:
    case MMUEXT_INVLPG_ALL:
        if (!guest_range_ok(op->arg1.linear_addr, 1))
            return -XEN_EINVAL;
        __asm__ volatile("invlpg (%0)" :: "r"(op->arg1.linear_addr) : "memory");
        return 0;
    case MMUEXT_FLUSH_CACHE:
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        return 0;               /* caches are coherent for guest memory */
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
    case MMUEXT_UNPIN_TABLE:
    case MMUEXT_SET_LDT:
    case MMUEXT_CLEAR_PAGE:
    case MMUEXT_COPY_PAGE:
        return -XEN_ENOSYS;     /* page-table validation is still to come */
    default:
        return -XEN_EINVAL;
    }
}

/*
 * mmuext_op(ops, count, pdone, foreigndom): ops run in order until one
 * fails; *pdone (if given) reports how many succeeded.
 */
long do_mmuext_op(u64 ops, u64 count, u64 pdone, u64 foreigndom)
{
    struct vcpu *v = current_vcpu();
    struct mmuext_op op;
    u32 n = (u32)count, done = 0;
    long rc = 0;

    if (n & MMU_UPDATE_PREEMPTED)
        return -XEN_EINVAL;     /* Mica never preempts these batches yet */
    if ((domid_t)foreigndom != DOMID_SELF && (domid_t)foreigndom != v->domain->domid)
        return -XEN_ESRCH;
    for (; done < n; done++) {
        if (copy_from_guest(&op, ops + (u64)done * sizeof(op), sizeof(op))) {
            rc = -XEN_EFAULT;
            break;
        }
        if ((rc = mmuext_one(v, &op)))
            break;
    }
    if (pdone && copy_to_guest(pdone, &done, sizeof(done)))
        return -XEN_EFAULT;
    return rc;
}
