/*
 * domctl / sysctl / the toolstack's event-channel and shutdown calls, with
 * Xen 4.17's structures (hypervisor/include/public) and Mica's build
 * domctl.  0 or -errno; arguments are checked here first, so an obviously
 * bad call never reaches the hypervisor.
 */
#ifndef MICA_DOMCTL_LIB_H
#define MICA_DOMCTL_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "privcmd.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/sysctl.h>

/* Any domctl on a real domain id (op's header is filled in here): for
   the modules that add operations (domctl_save.h). */
int mica_domctl(struct mica_hv *hv, struct xen_domctl *op, uint32_t cmd, uint16_t domid);

/* createdomain's per-domain limits; 0 in a field means xl's default
   (32 grant-table frames, event-channel ports up to 1023). */
struct mica_domain_limits {
    uint32_t max_grant_frames;
    uint32_t max_evtchn_port;
};

/* A new paused PV domain with max_vcpus vCPUs and grant tables up to
   version 2; *domid in: wanted id or 0; limits may be NULL (defaults). */
int mica_domain_create_limited(struct mica_hv *hv, uint32_t max_vcpus, const uint8_t uuid[16],
                               const struct mica_domain_limits *limits, uint16_t *domid);
int mica_domain_create(struct mica_hv *hv, uint32_t max_vcpus, const uint8_t uuid[16],
                       uint16_t *domid);
int mica_domain_destroy(struct mica_hv *hv, uint16_t domid);
int mica_domain_pause(struct mica_hv *hv, uint16_t domid);
int mica_domain_unpause(struct mica_hv *hv, uint16_t domid);
int mica_domain_max_mem(struct mica_hv *hv, uint16_t domid, uint64_t kb);
/* XENMEM_set_memory_map with one RAM entry of kb from address 0, as
   libxc's xc_domain_set_memmap_limit: the E820 map a PV guest reads at
   boot, from which Linux sizes its RAM and its balloon's room. */
int mica_domain_set_memmap_limit(struct mica_hv *hv, uint16_t domid, uint64_t kb);
/* Exactly domid (getdomaininfo answers the next one up: -ESRCH if not it). */
int mica_domain_info(struct mica_hv *hv, uint16_t domid, struct xen_domctl_getdomaininfo *out);
/* Up to max records from first up; number written or -errno. */
int mica_domain_list(struct mica_hv *hv, uint16_t first, struct xen_domctl_getdomaininfo *out,
                     uint32_t max);
int mica_physinfo(struct mica_hv *hv, struct xen_sysctl_physinfo *out);
/* SCHEDOP_remote_shutdown with SHUTDOWN_* reason. */
int mica_domain_shutdown(struct mica_hv *hv, uint16_t domid, uint32_t reason);
/* Credit scheduler parameters (XEN_DOMCTL_scheduler_op, sched_id credit).
   In set, weight 0 and cap MICA_SCHED_CAP_KEEP leave that one as it is,
   as Xen's credit scheduler reads putinfo. */
#define MICA_SCHED_CAP_KEEP 0xffffu
int mica_domain_sched_get(struct mica_hv *hv, uint16_t domid, uint16_t *weight, uint16_t *cap);
int mica_domain_sched_set(struct mica_hv *hv, uint16_t domid, uint16_t weight, uint16_t cap);
/* XEN_DOMCTL_getvcpuinfo: vCPU vcpu's state, CPU time and the CPU it is on. */
int mica_vcpu_info(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                   struct xen_domctl_getvcpuinfo *out);
/* XEN_DOMCTL_getvcpuaffinity: the hard and soft masks as Xen byte bitmaps
   of nbytes bytes (bit n of byte n / 8 is CPU n); either may be NULL. */
int mica_vcpu_affinity_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu, uint8_t *hard,
                           uint8_t *soft, uint32_t nbytes);
/* XEN_DOMCTL_setvcpuaffinity of the hard mask only (the soft one stays);
   on success hard holds what Mica will use (the mask's online CPUs). */
int mica_vcpu_affinity_set_hard(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                                uint8_t *hard, uint32_t nbytes);
/* An unbound port of dom that remote may bind; the port or -errno. */
int mica_evtchn_alloc_unbound(struct mica_hv *hv, uint16_t dom, uint16_t remote);

struct mica_build {
    const void *kernel;
    size_t kernel_len;
    const void *initrd;          /* NULL: none */
    size_t initrd_len;
    const char *cmdline;         /* NULL: empty */
    uint64_t mem_kb;
    uint32_t console_port, store_port;
    /* out */
    uint64_t console_mfn, store_mfn, nr_pages;
};
/* MICA_DOMCTL_build_pv; on failure Mica has destroyed the domain (unless -EEXIST). */
int mica_domain_build(struct mica_hv *hv, uint16_t domid, struct mica_build *b);

#endif
