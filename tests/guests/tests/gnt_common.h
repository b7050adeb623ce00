/*
 * Helpers shared by the grant-table test kernels (gnt_*.c): the grant
 * table set up and mapped into our address space, one-op wrappers, and
 * pages of our own to grant.  A domain may map and copy its own grants
 * (Xen 4.17 allows it, naming itself by its real id), which is how these
 * single-domain kernels exercise the whole map/unmap/copy path.
 */
#ifndef GNT_COMMON_H
#define GNT_COMMON_H

#ifndef MMU_POOL_PAGES
#define MMU_POOL_PAGES 24
#endif
#include "mmu_common.h"
#include <public/grant_table.h>

#define GNT_FRAMES 2
#define DOMID_ME   0                /* these kernels run as dom0 */

/* Our grant table, mapped writable over pool pages 0..GNT_FRAMES-1. */
static volatile struct grant_entry_v1 *gnt;
static uint64_t gnt_mfns[GNT_FRAMES];

static inline long gntop(unsigned cmd, void *op, unsigned long count)
{
    return HC(__HYPERVISOR_grant_table_op, cmd, op, count);
}

/* Sets up GNT_FRAMES frames and maps them over pool pages 0.. (contiguous). */
static inline long gnt_init(void)
{
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = GNT_FRAMES };
    struct gnttab_set_version v = { .version = 1 };
    long rc;

    if ((rc = gntop(GNTTABOP_set_version, &v, 1)))
        return rc;
    s.frame_list = (uint64_t)gnt_mfns;
    if ((rc = gntop(GNTTABOP_setup_table, &s, 1)) || s.status)
        return rc ? rc : s.status;
    for (unsigned i = 0; i < GNT_FRAMES; i++)
        if ((rc = map_mfn(pool[i], gnt_mfns[i], PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)))
            return rc;
    gnt = (volatile struct grant_entry_v1 *)pool[0];
    return 0;
}

/* Grants frame mfn to domid at ref (frame and domid first, flags last). */
static inline void gnt_grant(unsigned ref, uint16_t domid, uint64_t mfn, uint16_t flags)
{
    gnt[ref].domid = domid;
    gnt[ref].frame = (uint32_t)mfn;
    __asm__ volatile("" ::: "memory");
    gnt[ref].flags = flags;
}

/* Linux's revocation: succeeds only while the grant is not in use. */
static inline bool gnt_revoke(unsigned ref)
{
    uint16_t f = gnt[ref].flags;

    if (f & (GTF_reading | GTF_writing))
        return false;
    return __sync_bool_compare_and_swap(&gnt[ref].flags, f, 0);
}

static inline int16_t gnt_map(uint64_t host_addr, uint32_t flags, uint32_t ref, uint16_t dom,
                              uint32_t *handle, uint64_t *bus)
{
    struct gnttab_map_grant_ref m = {
        .host_addr = host_addr, .flags = flags, .ref = ref, .dom = dom,
        .handle = 0xdeadbeef, .dev_bus_addr = 0x1234,
    };
    long rc = gntop(GNTTABOP_map_grant_ref, &m, 1);

    if (rc)
        return (int16_t)-1000 + (int16_t)rc;   /* never a GNTST value */
    if (handle)
        *handle = m.handle;
    if (bus)
        *bus = m.dev_bus_addr;
    return m.status;
}

static inline int16_t gnt_unmap(uint64_t host_addr, uint64_t bus, uint32_t handle)
{
    struct gnttab_unmap_grant_ref u = { .host_addr = host_addr, .dev_bus_addr = bus,
                                        .handle = handle, .status = 0x77 };
    long rc = gntop(GNTTABOP_unmap_grant_ref, &u, 1);

    return rc ? (int16_t)-1000 + (int16_t)rc : u.status;
}

/* Machine address of the L1 entry mapping va. */
static inline uint64_t pte_ma(void *va)
{
    uint64_t *slot = pte_slot((uint64_t)va);

    return (va_to_mfn((void *)((uint64_t)slot & ~0xfffUL)) << 12) | ((uint64_t)slot & 0xfff);
}

#endif
