/*
 * The host's CPU and NUMA topology as the toolstack sees it
 * (XEN_SYSCTL_cputopoinfo, XEN_SYSCTL_numainfo): one NUMA node holding
 * all memory and all of the CPUs Mica runs; each CPU's core and socket
 * come from its APIC ID, so they agree with physinfo's threads_per_core
 * and cores_per_socket.  libxl's NUMA placement reads both before it
 * builds a domain.
 */
#include <asm/guest_access.h>
#include <asm/smp.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>
#include <mica/sysctl_ops.h>
#include <public/errno.h>

#define NODE_LOCAL_DISTANCE 10      /* ACPI SLIT's distance of a node to itself */

unsigned host_cpu_count(void)
{
    /* Online CPUs are numbered 0..n-1 (smpboot.c); physinfo's nr_cpus is the same. */
    return num_online_cpus();
}

/*
 * As Xen: at most the caller's nr_bits are written, whole bytes; bytes
 * the caller has room for beyond our nbits are zeroed.
 */
long xenctl_bitmap_write(const struct xenctl_bitmap *map, const u8 *bits, unsigned nbits)
{
    u32 guest_bytes = (u32)(((u64)map->nr_bits + 7) / 8);
    u32 ours = (nbits + 7) / 8;
    u32 copy = guest_bytes < ours ? guest_bytes : ours;
    u8 zero = 0;

    if (copy && copy_to_guest(map->bitmap, bits, copy))
        return -XEN_EFAULT;
    for (u32 i = copy; i < guest_bytes; i++)
        if (copy_to_guest(map->bitmap + i, &zero, 1))
            return -XEN_EFAULT;
    return 0;
}

long sysctl_cputopoinfo(struct xen_sysctl_cputopoinfo *ti)
{
    unsigned n = host_cpu_count();

    /* A null array asks for the count; a short one gets a prefix. */
    if (ti->cputopo) {
        if (n > ti->num_cpus)
            n = ti->num_cpus;
        for (unsigned i = 0; i < n; i++) {
            struct xen_sysctl_cputopo t = { .node = 0 };

            cpu_topology_ids(i, &t.core, &t.socket);
            if (copy_to_guest(ti->cputopo + (u64)i * sizeof(t), &t, sizeof(t)))
                return -XEN_EFAULT;
        }
    }
    ti->num_cpus = n;
    return 0;
}

long sysctl_numainfo(struct xen_sysctl_numainfo *ni)
{
    const unsigned nodes = 1;
    unsigned n = nodes;

    if (ni->meminfo || ni->distance) {
        if (n > ni->num_nodes)
            n = ni->num_nodes;
        if (n && ni->meminfo) {
            struct xen_sysctl_meminfo m = {
                .memsize = frame_pool_total_count(&host_frames) << PAGE_SHIFT,
                .memfree = frame_pool_free_count(&host_frames) << PAGE_SHIFT,
            };
            if (copy_to_guest(ni->meminfo, &m, sizeof(m)))
                return -XEN_EFAULT;
        }
        if (n && ni->distance) {
            u32 dist = NODE_LOCAL_DISTANCE;
            if (copy_to_guest(ni->distance, &dist, sizeof(dist)))
                return -XEN_EFAULT;
        }
    }
    ni->num_nodes = n;
    return 0;
}
