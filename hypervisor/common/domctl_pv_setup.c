/*
 * The per-domain settings libxl makes before it builds a PV domain:
 * the guest's word size (XEN_DOMCTL_set/get_address_size), how its TSC
 * behaves (settscinfo/gettscinfo) and the NUMA nodes its memory should
 * come from (set/getnodeaffinity).  Semantics are Xen 4.17's
 * (arch/x86/domctl.c, arch/x86/time.c, common/domain.c); where Mica
 * cannot do what Xen would, the request is refused with -EOPNOTSUPP:
 * 32-bit PV guests, and TSC emulation (Mica always gives guests the
 * native TSC, which is what Xen's default mode does when the guest's
 * frequency is the host's).  docs/xl-compat.md lists these.
 */
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/time.h>
#include <mica/domctl_ops.h>
#include <mica/lib.h>
#include <mica/sysctl_ops.h>
#include <public/errno.h>

/* Xen's TSC modes (asm-x86/time.h). */
#define TSC_MODE_DEFAULT         0
#define TSC_MODE_ALWAYS_EMULATE  1
#define TSC_MODE_NEVER_EMULATE   2

#define ONLINE_NODES   1ULL         /* node 0 only */
#define MAX_NODE_BITS  64           /* Xen 4.17 x86's MAX_NUMNODES */

static long set_address_size(const struct xen_domctl_address_size *a)
{
    if (a->size == 64)
        return 0;
    return a->size == 32 ? -XEN_EOPNOTSUPP : -XEN_EINVAL;
}

static long set_tsc_info(struct domain *d, const struct xen_domctl_tsc_info *t)
{
    switch (t->tsc_mode) {
    case TSC_MODE_DEFAULT:
        /* Native unless another frequency is asked for, which needs emulation. */
        if (t->gtsc_khz && t->gtsc_khz != (u32)tsc_khz())
            return -XEN_EOPNOTSUPP;
        break;
    case TSC_MODE_NEVER_EMULATE:
        break;
    case TSC_MODE_ALWAYS_EMULATE:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_EINVAL;
    }
    d->tsc_mode = t->tsc_mode;
    d->tsc_incarnation = t->incarnation + 1;    /* as Xen: a new incarnation */
    return 0;
}

static void get_tsc_info(const struct domain *d, struct xen_domctl_tsc_info *t)
{
    u64 khz = tsc_khz();

    memset(t, 0, sizeof(*t));
    t->tsc_mode = d->tsc_mode;
    t->incarnation = d->tsc_incarnation;
    if (d->tsc_mode == TSC_MODE_DEFAULT && khz) {
        /* Native TSC in default mode: the TSC's own time and rate. */
        t->elapsed_nsec = tsc_to_ns(rdtsc());
        t->gtsc_khz = (u32)khz;
    }
}

static long set_node_affinity(struct domain *d, const struct xenctl_bitmap *map)
{
    u32 bytes = (u32)(((u64)map->nr_bits + 7) / 8);
    u64 nodes = 0;

    if (bytes > MAX_NODE_BITS / 8)
        bytes = MAX_NODE_BITS / 8;
    if (bytes && copy_from_guest(&nodes, map->bitmap, bytes))
        return -XEN_EFAULT;
    if (map->nr_bits < MAX_NODE_BITS)
        nodes &= (1ULL << map->nr_bits) - 1;
    if (!(nodes & ONLINE_NODES))
        return -XEN_EINVAL;             /* no online node in the map */
    d->node_affinity = nodes & ONLINE_NODES;
    return 0;
}

static long get_node_affinity(const struct domain *d, const struct xenctl_bitmap *map)
{
    u8 bits[MAX_NODE_BITS / 8] = { 0 };

    bits[0] = (u8)(d->node_affinity ? d->node_affinity : ONLINE_NODES);
    return xenctl_bitmap_write(map, bits, MAX_NODE_BITS);
}

long domctl_pv_setup(struct domain *self, struct domain *d, struct xen_domctl *op,
                     bool *copyback)
{
    switch (op->cmd) {
    case XEN_DOMCTL_set_address_size:
        return set_address_size(&op->u.address_size);
    case XEN_DOMCTL_get_address_size:
        op->u.address_size.size = 64;
        *copyback = true;
        return 0;
    case XEN_DOMCTL_settscinfo:
        return d == self ? -XEN_EINVAL : set_tsc_info(d, &op->u.tsc_info);
    case XEN_DOMCTL_gettscinfo:
        if (d == self)
            return -XEN_EINVAL;
        get_tsc_info(d, &op->u.tsc_info);
        *copyback = true;
        return 0;
    case XEN_DOMCTL_setnodeaffinity:
        return set_node_affinity(d, &op->u.nodeaffinity.nodemap);
    case XEN_DOMCTL_getnodeaffinity:
        return get_node_affinity(d, &op->u.nodeaffinity.nodemap);
    default:
        return -XEN_ENOSYS;
    }
}
