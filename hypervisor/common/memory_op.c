/*
 * memory_op (hypercall 12): what a PV guest may learn about memory,
 * growing its reservation, giving frames back (decrease_reservation) and
 * trading frames for others (exchange, e.g. for memory below an address
 * limit).  The reference rules of giving frames back are the PV MM's
 * (asm/mm_release.h); the extent bookkeeping, continuations and answers
 * follow Xen 4.17's common/memory.c.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/logdirty.h>
#include <asm/m2p.h>
#include <asm/mm_release.h>
#include <asm/paging.h>
#include <mica/bootinfo.h>
#include <mica/domain.h>
#include <mica/heap.h>
#include <mica/hypercall.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <mica/rcu.h>
#include <mica/unknown_op.h>
#include <public/arch-x86_64.h>
#include <public/errno.h>
#include <public/memory.h>

#define MEMOP_CMD_MASK 0x3f
#define MAX_ORDER_DOMU 9        /* 2 MiB, as Xen allows an ordinary guest */
#define MAX_ORDER_CTLDOM 18     /* Xen 4.17: a control domain may use its allocator's largest */

static struct domain *target_domain(struct domain *self, domid_t id)
{
    if (id == DOMID_SELF || id == self->domid)
        return self;
    return is_control_domain(self) ? domain_by_id(id) : NULL;
}

static unsigned max_order_of(const struct domain *self)
{
    return is_control_domain(self) ? MAX_ORDER_CTLDOM : MAX_ORDER_DOMU;
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

/*
 * The frame limit of mem_flags' address width (XENMEMF_address_bits):
 * every frame of an extent must lie below 2^bits bytes.  0 means no
 * limit; false for widths below what any allocation could meet.
 */
static bool frame_limit(u32 mem_flags, mfn_t *limit)
{
    unsigned bits = XENMEMF_get_address_bits(mem_flags);

    *limit = 0;
    if (!bits)
        return true;
    if (bits <= PAGE_SHIFT)
        return false;
    if (bits - PAGE_SHIFT < 63)
        *limit = 1ULL << (bits - PAGE_SHIFT);
    return true;
}

/*
 * 2^order zeroed frames below `limit` (0: anywhere), nobody's yet; for
 * domain `for_d` (or NULL), which may use its claim (XENMEM_claim_pages).
 */
static mfn_t alloc_extent(unsigned order, mfn_t limit, struct domain *for_d)
{
    mfn_t mfn = for_d ? alloc_frames_claimed(&host_frames, order, limit, &for_d->outstanding_pages)
              : limit ? alloc_frames_below(&host_frames, order, limit)
                      : alloc_frames(&host_frames, order);

    if (mfn == INVALID_MFN)
        return INVALID_MFN;
    for (u64 i = 0; i < (1ULL << order); i++)
        clear_frame(mfn + i);
    return mfn;
}

/* Makes an extent d's, each frame with its allocation reference. */
static void assign_extent(struct domain *d, mfn_t mfn, unsigned order)
{
    for (u64 i = 0; i < (1ULL << order); i++) {
        struct page_info *pg = mfn_to_page(&host_frames, mfn + i);
        pg->count_info = 1;
        smp_mb();               /* the count before the owner get_page() checks */
        WRITE_ONCE(pg->owner, d->domid);
    }
}

/* Allocates one extent for d and records it as d's, zeroed. */
static mfn_t give_extent(struct domain *d, unsigned order, mfn_t limit)
{
    mfn_t mfn;

    /* Claimed first, so two CPUs growing d cannot both pass max_pages. */
    spin_lock(&d->page_alloc_lock);
    if (d->is_dying || d->tot_pages + (1ULL << order) > d->max_pages) {
        spin_unlock(&d->page_alloc_lock);
        return INVALID_MFN;
    }
    d->tot_pages += 1ULL << order;
    spin_unlock(&d->page_alloc_lock);
    mfn = alloc_extent(order, limit, d);
    if (mfn == INVALID_MFN) {
        spin_lock(&d->page_alloc_lock);
        d->tot_pages -= 1ULL << order;
        spin_unlock(&d->page_alloc_lock);
        return INVALID_MFN;
    }
    assign_extent(d, mfn, order);
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
    mfn_t limit;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return start;
    /* The count must fit the continuation encoding (cmd | done << 6). */
    if (r.nr_extents > (0xffffffffULL >> 6) || start >= r.nr_extents)
        return start;
    if (!frame_limit(r.mem_flags, &limit))
        return start;
    d = target_domain(self, r.domid);
    if (!d)
        return start;
    max_order = max_order_of(self);
    if (r.extent_order > max_order)
        return start;
    for (u64 i = start; i < r.nr_extents; i++) {
        u64 slot = r.extent_start + i * sizeof(u64), gpfn = 0;
        mfn_t mfn;

        if (i != start && hypercall_preempt_check()) {
            hypercall_continue_args(((u64)i << 6) | (populate ? XENMEM_populate_physmap
                                                               : XENMEM_increase_reservation),
                                    arg, 0);
            return HYPERCALL_CONTINUE;
        }
        if (populate && copy_from_guest(&gpfn, slot, sizeof(gpfn)))
            return (long)i;
        mfn = give_extent(d, r.extent_order, limit);
        if (mfn == INVALID_MFN)
            return (long)i;
        if (populate)
            for (u64 k = 0; k < (1ULL << r.extent_order); k++) {
                m2p_set(mfn + k, gpfn + k);
                pv_mark_pfn_dirty(d, gpfn + k);     /* a new (zeroed) page at that PFN */
            }
        /* The extent stays the domain's; the caller is told it was not done. */
        if (r.extent_start && copy_to_guest(slot, &mfn, sizeof(mfn)))
            return (long)i;
    }
    return (long)r.nr_extents;
}

/*
 * decrease_reservation: each extent's frames (machine frame numbers, a
 * PV guest's gmfns) lose their allocation reference, as Xen's
 * guest_remove_page() does; a frame still referenced (mapped, pinned, a
 * root) stays until its last reference goes.  The answer is the number
 * of extents done: the first frame d does not own, or outside RAM, ends
 * the call, with the frames of that extent before it already given back
 * (as on Xen).  No alignment is asked of an extent's first frame.
 */
static long shrink(struct domain *self, u64 arg, unsigned start)
{
    struct xen_memory_reservation r;
    struct domain *d;
    mfn_t limit;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return start;
    if (r.nr_extents > (0xffffffffULL >> 6) || start >= r.nr_extents)
        return start;
    if (!guest_range_ok(r.extent_start + start * sizeof(u64), sizeof(u64)))
        return start;
    /* Xen refuses too narrow an address width before looking at the op. */
    if (!frame_limit(r.mem_flags, &limit))
        return start;
    d = target_domain(self, r.domid);
    if (!d || r.extent_order > max_order_of(self))
        return start;
    for (u64 i = start; i < r.nr_extents; i++) {
        u64 gmfn;

        if (i != start && hypercall_preempt_check()) {
            hypercall_continue_args(((u64)i << 6) | XENMEM_decrease_reservation, arg, 0);
            return HYPERCALL_CONTINUE;
        }
        if (copy_from_guest(&gmfn, r.extent_start + i * sizeof(u64), sizeof(gmfn)))
            return (long)i;
        for (u64 k = 0; k < (1ULL << r.extent_order); k++)
            if (pv_release_page(d, gmfn + k))
                return (long)i;
    }
    return (long)r.nr_extents;
}

/*
 * XENMEM_exchange: trades the frames of `in` (which must have no
 * reference but their allocation one: unmapped, untyped, not pinned) for
 * new frames meeting out.mem_flags' address width, chunk by chunk, a
 * chunk being the larger of one in-extent and one out-extent.  A chunk is
 * all or nothing up to its commit: on a failure before it, its in-frames
 * go back to the domain unchanged.  nr_exchanged (in-extents) says how
 * far finished chunks got; the call may resume from it.  tot_pages does
 * not change.  Returns 0 or a negative XEN_E* code, with Xen 4.17's order
 * of checks.
 *
 * A chunk's frames are linked through page_info.spare (frame number + 1,
 * 0 ends the list) while the chunk is in progress: no stolen frame is
 * read twice from the guest, and no array bounds a chunk of 2^18 frames.
 */
struct chunk_list {
    mfn_t head, tail;       /* INVALID_MFN when empty */
};

static void chunk_push(struct chunk_list *l, mfn_t mfn)
{
    mfn_to_page(&host_frames, mfn)->spare = 0;
    if (l->head == INVALID_MFN)
        l->head = mfn;
    else
        mfn_to_page(&host_frames, l->tail)->spare = (u32)(mfn + 1);
    l->tail = mfn;
}

static mfn_t chunk_pop(struct chunk_list *l)
{
    mfn_t mfn = l->head;
    struct page_info *pg;

    if (mfn == INVALID_MFN)
        return INVALID_MFN;
    pg = mfn_to_page(&host_frames, mfn);
    l->head = pg->spare ? (mfn_t)pg->spare - 1 : INVALID_MFN;
    pg->spare = 0;
    return mfn;
}

struct exchange_plan {
    struct domain *d;
    unsigned in_chunk_order, out_chunk_order;
    mfn_t limit;
    bool no_memory;         /* an address width no frame can meet */
};

static long exchange_chunk(const struct exchange_plan *p, const struct xen_memory_exchange *x,
                           u64 chunk)
{
    struct chunk_list in = { INVALID_MFN, INVALID_MFN }, out = { INVALID_MFN, INVALID_MFN };
    u64 in_frames = 1ULL << x->in.extent_order;
    mfn_t mfn;
    long rc = 0;

    /* Take the in-frames away from the domain. */
    for (u64 j = 0; j < (1ULL << p->in_chunk_order) && !rc; j++) {
        u64 gmfn, slot = x->in.extent_start + ((chunk << p->in_chunk_order) + j) * sizeof(u64);

        if (copy_from_guest(&gmfn, slot, sizeof(gmfn))) {
            rc = -XEN_EFAULT;
            break;
        }
        for (u64 k = 0; k < in_frames; k++) {
            if ((rc = pv_steal_page(p->d, gmfn + k)))
                break;
            chunk_push(&in, gmfn + k);
        }
    }
    /* Allocate the out-extents. */
    for (u64 j = 0; j < (1ULL << p->out_chunk_order) && !rc; j++) {
        mfn = p->no_memory ? INVALID_MFN : alloc_extent(x->out.extent_order, p->limit, NULL);
        if (mfn == INVALID_MFN)
            rc = -XEN_ENOMEM;
        else
            chunk_push(&out, mfn);
    }
    if (rc) {
        while ((mfn = chunk_pop(&in)) != INVALID_MFN)
            pv_unsteal_page(p->d, mfn);
        while ((mfn = chunk_pop(&out)) != INVALID_MFN)
            free_frames(&host_frames, mfn, x->out.extent_order);
        return rc;
    }

    /* Committed: the old frames go, the new ones become the domain's. */
    while ((mfn = chunk_pop(&in)) != INVALID_MFN)
        pv_free_stolen_page(p->d, mfn);
    for (u64 j = 0; (mfn = chunk_pop(&out)) != INVALID_MFN; j++) {
        u64 gpfn, slot = x->out.extent_start + ((chunk << p->out_chunk_order) + j) * sizeof(u64);

        assign_extent(p->d, mfn, x->out.extent_order);
        /* As on Xen, a list we cannot use fails the call, the frames stay given. */
        if (copy_from_guest(&gpfn, slot, sizeof(gpfn))) {
            rc = -XEN_EFAULT;
            continue;
        }
        for (u64 k = 0; k < (1ULL << x->out.extent_order); k++) {
            m2p_set(mfn + k, gpfn + k);
            pv_mark_pfn_dirty(p->d, gpfn + k);      /* a new page at that PFN */
        }
        if (copy_to_guest(slot, &mfn, sizeof(mfn)))
            rc = -XEN_EFAULT;
    }
    return rc;
}

/* Xen's propagate_node(): a NUMA node in mem_flags (Mica has node 0 only). */
static bool node_ok(const struct domain *self, u32 mem_flags)
{
    unsigned node = XENMEMF_get_node(mem_flags);

    if (node == XENMEMF_NO_NODE)
        return true;
    if (is_control_domain(self))
        return node < XENMEMF_MAX_NODES;
    return !(mem_flags & XENMEMF_exact_node_request);
}

static long exchange_finish(u64 arg, const struct xen_memory_exchange *x, long rc)
{
    if (copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged),
                      &x->nr_exchanged, sizeof(x->nr_exchanged)))
        return -XEN_EFAULT;
    return rc;
}

static long exchange(struct domain *self, u64 arg)
{
    struct xen_memory_exchange x;
    struct exchange_plan p = { 0 };
    u64 first, end, i, out_first;
    unsigned bits;
    long rc = 0;

    if (copy_from_guest(&x, arg, sizeof(x)))
        return -XEN_EFAULT;
    if (MAX(x.in.extent_order, x.out.extent_order) > max_order_of(self))
        return exchange_finish(arg, &x, -XEN_EPERM);
    if (x.nr_exchanged > x.in.nr_extents || x.in.domid != x.out.domid ||
        (~0ULL >> x.in.extent_order) < x.in.nr_extents ||
        (~0ULL >> x.out.extent_order) < x.out.nr_extents ||
        (x.in.nr_extents << x.in.extent_order) != (x.out.nr_extents << x.out.extent_order))
        return exchange_finish(arg, &x, -XEN_EINVAL);
    if (x.nr_exchanged == x.in.nr_extents)
        return 0;
    if (x.in.extent_order <= x.out.extent_order) {
        p.in_chunk_order = x.out.extent_order - x.in.extent_order;
        out_first = x.nr_exchanged >> p.in_chunk_order;
    } else {
        p.out_chunk_order = x.in.extent_order - x.out.extent_order;
        out_first = x.nr_exchanged << p.out_chunk_order;
    }
    /* Both lists must start in guest space (their ends are found by use). */
    if (x.in.nr_extents - x.nr_exchanged >= ~0ULL / sizeof(u64) ||
        !guest_range_ok(x.in.extent_start + x.nr_exchanged * sizeof(u64), sizeof(u64)) ||
        x.out.nr_extents - out_first >= ~0ULL / sizeof(u64) ||
        !guest_range_ok(x.out.extent_start + out_first * sizeof(u64), sizeof(u64)))
        return exchange_finish(arg, &x, -XEN_EFAULT);
    if (!node_ok(self, x.out.mem_flags))
        return exchange_finish(arg, &x, -XEN_EINVAL);
    if (x.in.domid == DOMID_SELF || x.in.domid == self->domid)
        p.d = self;
    else if (!(p.d = domain_by_id(x.in.domid)))
        return exchange_finish(arg, &x, -XEN_ESRCH);
    else if (!is_control_domain(self))
        return exchange_finish(arg, &x, -XEN_EPERM);
    bits = XENMEMF_get_address_bits(x.out.mem_flags);
    /* Xen's lowest zone for guests starts at frame 2: 13 bits or fewer get nothing. */
    p.no_memory = bits && bits <= PAGE_SHIFT + 1;
    if (!p.no_memory)
        frame_limit(x.out.mem_flags, &p.limit);

    first = x.nr_exchanged >> p.in_chunk_order;
    end = x.in.nr_extents >> p.in_chunk_order;
    for (i = first; i < end; i++) {
        if (i != first && hypercall_preempt_check()) {
            x.nr_exchanged = i << p.in_chunk_order;
            if (exchange_finish(arg, &x, 0))
                return -XEN_EFAULT;
            hypercall_continue_args(XENMEM_exchange, arg, 0);
            return HYPERCALL_CONTINUE;
        }
        if ((rc = exchange_chunk(&p, &x, i)))
            break;
    }
    x.nr_exchanged = rc ? i << p.in_chunk_order : x.in.nr_extents;
    return exchange_finish(arg, &x, rc);
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

    if (!is_control_domain(self))
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

/*
 * XENMEM_set_memory_map and XENMEM_memory_map: the E820 map a toolstack
 * gives a PV guest and the guest reads back at boot.  libxl sets one RAM
 * entry the size of the domain's maximum plus its slack
 * (xc_domain_set_memmap_limit) before it builds a PV domain; Linux sizes
 * its RAM and its balloon's room from it.  A guest no toolstack gave a map
 * gets -ENOSYS and assumes its nr_pages of RAM, as on Xen.
 *
 * Xen 4.17's rules: at most E820MAX (1024) entries, else -EINVAL; the
 * domain by id or DOMID_SELF (-ESRCH when there is none); a guest may set
 * its own map, only a privileged caller another's (-EPERM); the entries
 * are taken as given (the toolstack's statement to its guest: Mica
 * neither uses nor checks them); a new map replaces the old one whole.
 * With no entries, the domain is back to having none (Xen keeps an empty
 * map, which its XENMEM_memory_map answers with -ENOSYS all the same).
 */
#define GUEST_E820_MAX 1024u

struct guest_memory_map {
    struct rcu_head rcu;
    u32 nr;
    struct e820entry entry[];
};

static void memory_map_free_rcu(struct rcu_head *head)
{
    xfree((char *)head - __builtin_offsetof(struct guest_memory_map, rcu));
}

static long set_memory_map(struct domain *self, u64 arg)
{
    struct xen_foreign_memory_map f;
    struct guest_memory_map *map = NULL, *old;
    struct domain *d;

    if (copy_from_guest(&f, arg, sizeof(f)))
        return -XEN_EFAULT;
    if (f.map.nr_entries > GUEST_E820_MAX)
        return -XEN_EINVAL;
    d = (f.domid == DOMID_SELF) ? self : domain_by_id(f.domid);
    if (!d)
        return -XEN_ESRCH;
    if (!evaluate_nospec(d == self) && !is_control_domain(self))
        return -XEN_EPERM;
    if (f.map.nr_entries) {
        size_t bytes = (size_t)f.map.nr_entries * sizeof(struct e820entry);

        map = xmalloc(sizeof(*map) + bytes);
        if (!map)
            return -XEN_ENOMEM;
        map->nr = f.map.nr_entries;
        if (copy_from_guest(map->entry, f.map.buffer, bytes)) {
            xfree(map);
            return -XEN_EFAULT;
        }
    }
    old = __atomic_exchange_n(&d->memory_map, map, __ATOMIC_ACQ_REL);
    if (old)
        call_rcu(&old->rcu, memory_map_free_rcu);
    return 0;
}

/*
 * XENMEM_claim_pages: the toolstack stakes a claim on free memory for the
 * domain it is about to build (libxl with xl.conf's claim_mode, the
 * default), so that the build cannot fail half way for want of memory
 * another domain took meanwhile; nr_extents 0 drops it (libxc does once
 * the domain is built).  Xen 4.17's rules: start 0, no extent list, order
 * 0 and no flags, else -EINVAL; an unknown domain -EINVAL; a privileged
 * caller only (-EPERM); the rest is frame_pool_claim's (one claim at a
 * time, above the domain's frames and not above its maximum, within the
 * unclaimed free memory).  The claim shrinks as the domain is given
 * frames, and goes when it dies.
 */
static long claim_pages(struct domain *self, u64 arg, unsigned start)
{
    struct xen_memory_reservation r;
    struct domain *d;
    long rc;

    if (start)
        return -XEN_EINVAL;
    if (copy_from_guest(&r, arg, sizeof(r)))
        return -XEN_EFAULT;
    if (r.extent_start || r.extent_order || r.mem_flags)
        return -XEN_EINVAL;
    d = domain_by_id(r.domid);
    if (!d)
        return -XEN_EINVAL;
    if (!is_control_domain(self))
        return -XEN_EPERM;
    spin_lock(&d->page_alloc_lock);
    rc = d->is_dying ? -XEN_EINVAL
                     : frame_pool_claim(&host_frames, &d->outstanding_pages, r.nr_extents,
                                        d->tot_pages, d->max_pages);
    spin_unlock(&d->page_alloc_lock);
    return rc;
}

static long memory_map(struct domain *self, u64 arg)
{
    const struct guest_memory_map *map = __atomic_load_n(&self->memory_map, __ATOMIC_ACQUIRE);
    struct xen_memory_map m;
    u32 n;

    if (copy_from_guest(&m, arg, sizeof(m)))
        return -XEN_EFAULT;
    if (!map)
        return -XEN_ENOSYS;
    n = MIN(m.nr_entries, map->nr);
    if (copy_to_guest(m.buffer, map->entry, (size_t)n * sizeof(struct e820entry)))
        return -XEN_EFAULT;
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
        return memory_map(d, arg);
    case XENMEM_set_memory_map:
        return set_memory_map(d, arg);
    case XENMEM_claim_pages:
        return claim_pages(d, arg, start);
    case XENMEM_machine_memory_map:
        return machine_memory_map(d, arg);
    case XENMEM_add_to_physmap:
    case XENMEM_add_to_physmap_batch:
    case XENMEM_remove_from_physmap:
        return -XEN_EACCES;     /* translated guests only, as on Xen */
    case XENMEM_decrease_reservation:
        return shrink(d, arg, start);
    case XENMEM_acquire_resource:
        /*
         * Xen's answer where the resource cannot be mapped this way: libxc
         * then falls back (to the grant table's frames mapped one by one,
         * to the console ring's gfn in xenstore).
         */
        return -XEN_EOPNOTSUPP;
    case XENMEM_get_vnumainfo:
        return -XEN_EOPNOTSUPP;     /* no virtual NUMA topology, as Xen without one */
    case XENMEM_get_sharing_freed_pages:
    case XENMEM_get_sharing_shared_pages:
        /*
         * Mica shares no frames between domains, so both counts are 0:
         * Xen 4.17 built without memory sharing (Debian's build) answers
         * the same, to any domain, and `xl info` asks at every call.
         */
        return 0;
    case XENMEM_exchange:
        return start ? -XEN_EINVAL : exchange(d, arg);
    default:
        return unknown_op(__HYPERVISOR_memory_op, (u32)(cmd & MEMOP_CMD_MASK));
    }
}
