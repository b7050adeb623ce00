/*
 * sysctl sub-operations that live in their own files (common/sysctl_*.c),
 * called from do_sysctl's dispatch with the argument already copied in.
 * Each returns 0 or a negative Xen errno; the caller copies the whole
 * struct xen_sysctl back afterwards, as it does for every sysctl.
 */
#ifndef MICA_SYSCTL_OPS_H
#define MICA_SYSCTL_OPS_H

#include <mica/types.h>
#include <public/sysctl.h>

/* CPUs Mica runs (all online, all in pool 0): the count CPU maps cover. */
unsigned host_cpu_count(void);

/* Writes a CPU or node bitmap of nbits with bits set as in bits[] (Xen's rules). */
long xenctl_bitmap_write(const struct xenctl_bitmap *map, const u8 *bits, unsigned nbits);

long sysctl_cpupool_op(struct xen_sysctl_cpupool_op *op);
long sysctl_scheduler_op(struct xen_sysctl_scheduler_op *op);
long sysctl_cputopoinfo(struct xen_sysctl_cputopoinfo *ti);
long sysctl_numainfo(struct xen_sysctl_numainfo *ni);

#endif
