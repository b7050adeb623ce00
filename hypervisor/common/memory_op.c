/*
 * memory_op (hypercall 12): what a PV guest may learn about memory, and
 * growing its reservation.
 *
 * Giving memory back (decrease_reservation) and exchanging it need the
 * reference counts of the PV memory-management work (a frame may only be
 * freed once no page table maps it) and are refused as not implemented
 * until then.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/m2p.h>
#include <asm/paging.h>
#include <mica/bootinfo.h>
#include <mica/domain.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <public/arch-x86_64.h>
#include <public/errno.h>
#include <public/memory.h>

extern struct frame_pool host_frames;
extern const struct boot_info *boot_info_get(void);

#define MEMOP_CMD_MASK 0x3f
#define MAX_ORDER_DOMU 9        /* 2 MiB, as Xen allows an ordinary guest */
#define MAX_ORDER_HWDOM 12
#define EXTENTS_PER_PASS 512

static struct domain *target_domain(struct domain *self, domid_t id)
{
    if (id == DOMID_SELF || id == self->domid)
        return self;
    return self->is_privileged ? domain_by_id(id) : NULL;
}

/*
 * A PV guest keeps its own p2m, so its highest frame number is what it
 * says it is: shared_info's max_pfn, which it maintains (0 until it does).
 */
static u64 highest_gpfn(const struct domain *d)
{
    u64 max_pfn = d->shared_info->arch.max_pfn;

    return max_pfn ? max_pfn - 1 : 0;
}

/* Allocates one extent for d and records it as d's, zeroed. */
static mfn_t give_extent(struct domain *d, unsigned order)
{
    mfn_t mfn;

    if (d->tot_pages + (1ULL << order) > d->max_pages)
        return INVALID_MFN;
    mfn = alloc_frames(&host_frames, order);
    if (mfn == INVALID_MFN)
        return INVALID_MFN;
    for (u64 i = 0; i < (1ULL << order); i++) {
        struct page_info *pg = mfn_to_page(&host_frames, mfn + i);
        pg->owner = d->domid;
        pg->count_info = 1;
        memset(maddr_to_virt((mfn + i) << PAGE_SHIFT), 0, PAGE_SIZE);
    }
    d->tot_pages += 1ULL << order;
    return mfn;
}

/*
 * increase_reservation (populate = false) hands back MFNs; populate_physmap
 * takes the guest frame numbers to back, records them in the M2P, and
 * hands back the MFNs too (a PV guest keeps its own p2m).
 *
 * A privileged caller may grow another domain (a domain builder), within
 * that domain's max_pages.  As on Xen 4.17 the answer is always the number
 * of extents done: an unknown domain, one the caller may not name, an
 * extent order above the caller's limit or an unreadable list end the
 * call at `start`.
 */
static long grow(struct domain *self, u64 arg, bool populate, unsigned start)
{
    struct xen_memory_reservation r;
    struct domain *d;
    unsigned max_order;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return start;
    /* The count must fit the continuation encoding (cmd | done << 6). */
    if (r.nr_extents > (0xffffffffULL >> 6) || start >= r.nr_extents)
        return start;
    d = target_domain(self, r.domid);
    if (!d)
        return start;
    max_order = self->is_privileged ? MAX_ORDER_HWDOM : MAX_ORDER_DOMU;
    if (r.extent_order > max_order)
        return start;
    for (u64 i = start; i < r.nr_extents; i++) {
        u64 slot = r.extent_start + i * sizeof(u64), gpfn = 0;
        mfn_t mfn;

        if (i - start == EXTENTS_PER_PASS && hypercall_may_continue()) {
            hypercall_continue_args(((u64)i << 6) | (populate ? XENMEM_populate_physmap
                                                               : XENMEM_increase_reservation),
                                    arg, 0);
            return HYPERCALL_CONTINUE;
        }
        if (populate && copy_from_guest(&gpfn, slot, sizeof(gpfn)))
            return (long)i;
        mfn = give_extent(d, r.extent_order);
        if (mfn == INVALID_MFN)
            return (long)i;
        if (populate)
            for (u64 k = 0; k < (1ULL << r.extent_order); k++)
                m2p_set(mfn + k, gpfn + k);
        /* The extent stays the domain's; the caller is told it was not done. */
        if (r.extent_start && copy_to_guest(slot, &mfn, sizeof(mfn)))
            return (long)i;
    }
    return (long)r.nr_extents;
}

static long memory_domain_query(struct domain *self, u64 arg, int cmd)
{
    struct xen_memory_domain q;
    struct domain *d;

    if (copy_from_guest(&q, arg, sizeof(q)))
        return -XEN_EFAULT;
    d = target_domain(self, q.domid);
    if (!d)
        return self->is_privileged ? -XEN_ESRCH : -XEN_EPERM;
    switch (cmd) {
    case XENMEM_current_reservation: return (long)d->tot_pages;
    case XENMEM_maximum_reservation: return (long)d->max_pages;
    default:                         return (long)highest_gpfn(d);
    }
}

static long machine_memory_map(struct domain *self, u64 arg)
{
    const struct boot_info *bi = boot_info_get();
    struct xen_memory_map m;
    u32 n;

    if (!self->is_privileged)
        return -XEN_EPERM;
    if (copy_from_guest(&m, arg, sizeof(m)))
        return -XEN_EFAULT;
    n = MIN(m.nr_entries, bi->nr_mmap);
    for (u32 i = 0; i < n; i++) {
        struct e820entry e = {
            .addr = bi->mmap[i].addr, .size = bi->mmap[i].len, .type = bi->mmap[i].type,
        };
        if (copy_to_guest(m.buffer + i * sizeof(e), &e, sizeof(e)))
            return -XEN_EFAULT;
    }
    m.nr_entries = n;
    return copy_to_guest(arg, &m, sizeof(m)) ? -XEN_EFAULT : 0;
}

static long machphys_mfn_list(u64 arg)
{
    struct xen_machphys_mfn_list l;
    u64 chunks = (m2p_nr_frames() * sizeof(u64) + MiB(2) - 1) / MiB(2);
    u32 n;

    if (copy_from_guest(&l, arg, sizeof(l)))
        return -XEN_EFAULT;
    n = (u32)MIN((u64)l.max_extents, chunks);
    for (u32 i = 0; i < n; i++) {
        u64 mfn = m2p_chunk_mfn(i);
        if (copy_to_guest(l.extent_start + i * sizeof(u64), &mfn, sizeof(mfn)))
            return -XEN_EFAULT;
    }
    l.nr_extents = n;
    return copy_to_guest(arg, &l, sizeof(l)) ? -XEN_EFAULT : 0;
}

long do_memory_op(u64 cmd, u64 arg)
{
    struct domain *d = current_vcpu()->domain;
    unsigned start = (unsigned)(cmd >> 6);

    switch (cmd & MEMOP_CMD_MASK) {
    case XENMEM_increase_reservation:
        return grow(d, arg, false, start);
    case XENMEM_populate_physmap:
        return grow(d, arg, true, start);
    case XENMEM_maximum_ram_page:
        return (long)m2p_nr_frames();
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return memory_domain_query(d, arg, (int)(cmd & MEMOP_CMD_MASK));
    case XENMEM_machphys_mapping: {
        struct xen_machphys_mapping m = {
            .v_start = MACH2PHYS_VIRT_START, .v_end = MACH2PHYS_VIRT_END,
            .max_mfn = m2p_nr_frames() - 1,
        };
        return copy_to_guest(arg, &m, sizeof(m)) ? -XEN_EFAULT : 0;
    }
    case XENMEM_machphys_mfn_list:
        return machphys_mfn_list(arg);
    case XENMEM_memory_map:
        return -XEN_ENOSYS;     /* no toolstack-set map: the guest assumes nr_pages of RAM */
    case XENMEM_machine_memory_map:
        return machine_memory_map(d, arg);
    case XENMEM_add_to_physmap:
    case XENMEM_add_to_physmap_batch:
    case XENMEM_remove_from_physmap:
        return -XEN_EACCES;     /* translated guests only, as on Xen */
    case XENMEM_decrease_reservation:
    case XENMEM_exchange:
        return -XEN_ENOSYS;     /* needs page reference counts: not yet */
    default:
        return -XEN_ENOSYS;
    }
}
