/*
 * What a test kernel needs to act as a small toolstack: domctl and
 * physinfo calls, and a domain made with memory and page tables built
 * through foreign mappings (the way libxc's PV builder does it).
 */
#ifndef TOOLSTACK_H
#define TOOLSTACK_H

#include "mmu_common.h"
#include <public/domctl.h>
#include <public/memory.h>
#include <public/sysctl.h>

static struct xen_domctl ts_op;

static inline long ts_domctl(uint32_t cmd, domid_t dom)
{
    ts_op.cmd = cmd;
    ts_op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    ts_op.domain = dom;
    return HC(__HYPERVISOR_domctl, &ts_op, 0, 0);
}

/* A new domain with one vCPU: id `want`, or the hypervisor's pick for 0. */
static inline long ts_create_id(domid_t want)
{
    struct xen_domctl_createdomain *c = &ts_op.u.createdomain;

    memset(&ts_op, 0, sizeof(ts_op));
    c->max_vcpus = 1;
    c->max_evtchn_port = 1023;
    c->max_grant_frames = -1;
    c->max_maptrack_frames = -1;
    c->grant_opts = XEN_DOMCTL_GRANT_version(1);
    long rc = ts_domctl(XEN_DOMCTL_createdomain, want);
    if (rc)
        return rc;
    /* Xen 4.17 makes the vCPUs here (Mica at creation); mmu_update's
     * table-owner half needs vCPU 0 to exist. */
    domid_t id = ts_op.domain;
    ts_op.u.max_vcpus.max = 1;
    rc = ts_domctl(XEN_DOMCTL_max_vcpus, id);
    ts_op.domain = id;
    return rc;
}

static inline long ts_create(void)
{
    return ts_create_id(0);
}

static inline long ts_info(domid_t dom, struct xen_domctl_getdomaininfo *out)
{
    long rc;

    memset(&ts_op, 0, sizeof(ts_op));
    rc = ts_domctl(XEN_DOMCTL_getdomaininfo, dom);
    if (rc == 0)
        *out = ts_op.u.getdomaininfo;
    return rc;
}

static inline long ts_max_mem(domid_t dom, uint64_t pages)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.max_mem.max_memkb = pages * 4;
    return ts_domctl(XEN_DOMCTL_max_mem, dom);
}

static inline long ts_destroy(domid_t dom)
{
    memset(&ts_op, 0, sizeof(ts_op));
    return ts_domctl(XEN_DOMCTL_destroydomain, dom);
}

/* Whether dom is gone (getdomaininfo names a later domain, or none). */
static inline bool ts_gone(domid_t dom)
{
    struct xen_domctl_getdomaininfo di;
    return ts_info(dom, &di) != 0 || di.domain != dom;
}

/* Waits (yielding) up to 1 s for cond; Xen frees dead domains through RCU. */
#define TS_SETTLE(cond)                                                    \
    ({                                                                     \
        bool ok_ = (cond);                                                 \
        for (int i_ = 0; i_ < 100 && !ok_; i_++) {                         \
            uint64_t until_ = system_time_ns() + 10000000;                 \
            while (system_time_ns() < until_)                              \
                HYPERVISOR_sched_op(SCHEDOP_yield, NULL);                  \
            ok_ = (cond);                                                  \
        }                                                                  \
        ok_;                                                               \
    })

/*
 * Mica gives every frame of a dead domain back; Xen 4.17 keeps a page or
 * two in its allocator caches (docs/domctl.md), so there a small
 * shortfall is allowed.
 */
static inline bool ts_exact_memory(void)
{
    static xen_extraversion_t extra;

    if (HYPERVISOR_xen_version(XENVER_extraversion, extra))
        return false;
    extra[sizeof(extra) - 1] = 0;
    return strstr(extra, "mica") != NULL;
}

static inline bool ts_memory_back(uint64_t before)
{
    if (ts_exact_memory())
        return TS_SETTLE(physinfo_free_pages() == before);
    TS_SETTLE(physinfo_free_pages() + 16 >= before);
    uint64_t after = physinfo_free_pages();
    return after <= before && before - after <= 16;
}

/* populate_physmap for dom: n single frames at gpfns 0..n-1; MFNs into mfns. */
static inline long ts_populate(domid_t dom, uint64_t *mfns, unsigned n)
{
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)mfns, .nr_extents = n, .extent_order = 0, .domid = dom,
    };
    for (unsigned i = 0; i < n; i++)
        mfns[i] = i;
    return HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
}

/* Machine address of the L1 entry mapping our pool page i. */
static inline uint64_t ts_l1e_ma(unsigned i)
{
    uint64_t *slot = pte_slot((uint64_t)pool[i]);
    return (va_to_mfn((void *)((uint64_t)slot & ~0xfffUL)) << 12) | ((uint64_t)slot & 0xfff);
}

/* Linux's _PAGE_SPECIAL (a software bit), which privcmd sets on foreign PTEs. */
#define TS_PTE_SPECIAL 0x200UL

/* Maps dom's frame mfn at pool page i, as privcmd does (mmu_update, foreigndom = dom). */
static inline long ts_map_foreign(unsigned i, uint64_t mfn, bool rw, domid_t dom)
{
    struct mmu_update u = {
        .ptr = ts_l1e_ma(i) | MMU_NORMAL_PT_UPDATE,
        .val = (mfn << 12) | PTE_P | PTE_US | PTE_A | TS_PTE_SPECIAL | (rw ? PTE_RW | PTE_D : 0),
    };
    long rc = HYPERVISOR_mmu_update(&u, 1, NULL, dom);
    flush_va((uint64_t)pool[i]);
    return rc;
}

/* Puts pool page i back to its own frame, dropping a foreign mapping. */
static inline long ts_unmap_foreign(unsigned i)
{
    return pool_rw(i);
}

static inline long ts_ext(unsigned cmd, uint64_t mfn, domid_t dom)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = mfn };
    return HYPERVISOR_mmuext_op(&op, 1, NULL, dom);
}

/*
 * Builds a 4-level tree in dom's frames m[0..3] (L4, L3, L2, L1) mapping
 * m[4..n-1] writable at guest address 0, writing through foreign mappings
 * at our pool pages 8..11, which are dropped again before returning.
 */
static inline long ts_build_tables(domid_t dom, const uint64_t *m, unsigned n)
{
    const uint64_t f = PTE_P | PTE_RW | PTE_US | PTE_A;
    long rc;

    for (unsigned l = 0; l < 4; l++) {
        if ((rc = ts_map_foreign(8 + l, m[l], true, dom)))
            return rc;
        memset(pool[8 + l], 0, 4096);
    }
    pool_page(8)[0] = (m[1] << 12) | f;
    pool_page(9)[0] = (m[2] << 12) | f;
    pool_page(10)[0] = (m[3] << 12) | f;
    for (unsigned i = 4; i < n; i++)
        pool_page(11)[i - 4] = (m[i] << 12) | f | PTE_D;
    for (unsigned l = 0; l < 4; l++)
        if ((rc = ts_unmap_foreign(8 + l)))
            return rc;
    return 0;
}

/*
 * A new domain (ts_create) of nr frames m[0..nr-1], max_mem nr, with the
 * ts_build_tables tree over m[0..mapped-1]; *id is set once it exists.
 */
static inline long ts_create_with_tables(domid_t *id, uint64_t *m, unsigned nr, unsigned mapped)
{
    long rc;

    if ((rc = ts_create()))
        return rc;
    *id = ts_op.domain;
    if ((rc = ts_max_mem(*id, nr)))
        return rc;
    if ((rc = ts_populate(*id, m, nr)) != (long)nr)
        return rc < 0 ? rc : -1;
    return ts_build_tables(*id, m, mapped);
}

#endif
