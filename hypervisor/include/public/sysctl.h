/*
 * Mica toolstack ABI: sysctl (hypercall 35), host-wide queries and
 * controls for a privileged domain's toolstack.
 *
 * One argument: the guest address of a struct xen_sysctl.  Numbers and
 * layouts are those of Xen 4.17 (interface version 0x15); only the
 * operations Mica implements are declared.  See docs/domctl.md.
 */
#ifndef MICA_PUBLIC_SYSCTL_H
#define MICA_PUBLIC_SYSCTL_H

#include <public/xen.h>
#include <public/domctl.h>

/* struct xen_sysctl.interface_version must hold exactly this. */
#define XEN_SYSCTL_INTERFACE_VERSION 0x00000015

/* Operation numbers (xen_sysctl.cmd). */
#define XEN_SYSCTL_physinfo           3
#define XEN_SYSCTL_sched_id           4
#define XEN_SYSCTL_getdomaininfolist  6

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_physinfo: the host's CPUs and memory.                    */

/* capabilities */
#define _XEN_SYSCTL_PHYSCAP_hvm          0
#define XEN_SYSCTL_PHYSCAP_hvm           (1U << _XEN_SYSCTL_PHYSCAP_hvm)
#define _XEN_SYSCTL_PHYSCAP_pv           1
#define XEN_SYSCTL_PHYSCAP_pv            (1U << _XEN_SYSCTL_PHYSCAP_pv)
#define _XEN_SYSCTL_PHYSCAP_directio     2
#define XEN_SYSCTL_PHYSCAP_directio      (1U << _XEN_SYSCTL_PHYSCAP_directio)
#define _XEN_SYSCTL_PHYSCAP_hap          3
#define XEN_SYSCTL_PHYSCAP_hap           (1U << _XEN_SYSCTL_PHYSCAP_hap)
#define _XEN_SYSCTL_PHYSCAP_shadow       4
#define XEN_SYSCTL_PHYSCAP_shadow        (1U << _XEN_SYSCTL_PHYSCAP_shadow)
#define _XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share 5
#define XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share (1U << _XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share)
#define XEN_SYSCTL_PHYSCAP_vmtrace       (1U << 6)
#define XEN_SYSCTL_PHYSCAP_vpmu          (1U << 7)
#define XEN_SYSCTL_PHYSCAP_gnttab_v1     (1U << 8)
#define XEN_SYSCTL_PHYSCAP_gnttab_v2     (1U << 9)
#define XEN_SYSCTL_PHYSCAP_MAX           XEN_SYSCTL_PHYSCAP_gnttab_v2

struct xen_sysctl_physinfo {
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_cpus;             /* CPUs online */
    uint32_t max_cpu_id;
    uint32_t nr_nodes;            /* NUMA nodes online */
    uint32_t max_node_id;
    uint32_t cpu_khz;
    uint32_t capabilities;        /* XEN_SYSCTL_PHYSCAP_* */
    uint32_t arch_capabilities;
    uint32_t pad;
    uint64_t total_pages;         /* frames the hypervisor manages */
    uint64_t free_pages;          /* of which free now */
    uint64_t scrub_pages;         /* freed, not yet scrubbed */
    uint64_t outstanding_pages;   /* claimed, not yet allocated */
    uint64_t max_mfn;
    uint32_t hw_cap[8];           /* host CPUID feature words */
};
XEN_ABI_SIZE(struct xen_sysctl_physinfo, 112);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, threads_per_core, 0);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, cores_per_socket, 4);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, nr_cpus, 8);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, max_cpu_id, 12);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, nr_nodes, 16);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, max_node_id, 20);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, cpu_khz, 24);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, capabilities, 28);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, arch_capabilities, 32);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, pad, 36);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, total_pages, 40);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, free_pages, 48);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, scrub_pages, 56);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, outstanding_pages, 64);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, max_mfn, 72);
XEN_ABI_OFFSET(struct xen_sysctl_physinfo, hw_cap, 80);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_sched_id: the scheduler domains run under.               */

struct xen_sysctl_sched_id {
    uint32_t sched_id;            /* out: XEN_SCHEDULER_* */
};
XEN_ABI_SIZE(struct xen_sysctl_sched_id, 4);
XEN_ABI_OFFSET(struct xen_sysctl_sched_id, sched_id, 0);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_getdomaininfolist: up to max_domains records, in domain-  */
/* id order, of the domains with id >= first_domain.                    */

struct xen_sysctl_getdomaininfolist {
    domid_t  first_domain;        /* in */
    uint16_t _pad;
    uint32_t max_domains;         /* in: room in buffer */
    xen_guest_handle_t buffer;    /* in: struct xen_domctl_getdomaininfo[] */
    uint32_t num_domains;         /* out: records written */
    uint32_t _pad2;
};
XEN_ABI_SIZE(struct xen_sysctl_getdomaininfolist, 24);
XEN_ABI_OFFSET(struct xen_sysctl_getdomaininfolist, first_domain, 0);
MICA_ABI_OFFSET(struct xen_sysctl_getdomaininfolist, _pad, 2);
XEN_ABI_OFFSET(struct xen_sysctl_getdomaininfolist, max_domains, 4);
XEN_ABI_OFFSET(struct xen_sysctl_getdomaininfolist, buffer, 8);
XEN_ABI_OFFSET(struct xen_sysctl_getdomaininfolist, num_domains, 16);
MICA_ABI_OFFSET(struct xen_sysctl_getdomaininfolist, _pad2, 20);

/* ------------------------------------------------------------------ */
/* The argument of every sysctl.                                       */

struct xen_sysctl {
    uint32_t cmd;                 /* XEN_SYSCTL_* */
    uint32_t interface_version;   /* XEN_SYSCTL_INTERFACE_VERSION */
    union {
        struct xen_sysctl_physinfo          physinfo;
        struct xen_sysctl_sched_id          sched_id;
        struct xen_sysctl_getdomaininfolist getdomaininfolist;
        uint8_t pad[128];         /* fixes the union's size for every op */
    } u;
};
XEN_ABI_SIZE(struct xen_sysctl, 136);
XEN_ABI_OFFSET(struct xen_sysctl, cmd, 0);
XEN_ABI_OFFSET(struct xen_sysctl, interface_version, 4);
XEN_ABI_OFFSET(struct xen_sysctl, u, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.physinfo, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.sched_id, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.getdomaininfolist, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.pad, 8);

#endif
