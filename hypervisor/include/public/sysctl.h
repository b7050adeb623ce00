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
#define XEN_SYSCTL_readconsole        1
#define XEN_SYSCTL_physinfo           3
#define XEN_SYSCTL_sched_id           4
#define XEN_SYSCTL_getdomaininfolist  6
#define XEN_SYSCTL_cputopoinfo       16
#define XEN_SYSCTL_numainfo          17
#define XEN_SYSCTL_cpupool_op        18
#define XEN_SYSCTL_scheduler_op      19
#define XEN_SYSCTL_get_cpu_featureset 26
#define XEN_SYSCTL_get_cpu_policy    29

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_readconsole: copy out the hypervisor's console ring.      */

struct xen_sysctl_readconsole {
    uint8_t clear;                /* in: non-zero: mark what was read as consumed */
    uint8_t incremental;          /* in: non-zero: start at index */
    uint8_t pad0, pad1;
    uint32_t index;               /* in: start (incremental); out: end of what was read */
    xen_guest_handle_t buffer;    /* in: char[count] */
    uint32_t count;               /* in: room in buffer; out: bytes written */
};
XEN_ABI_SIZE(struct xen_sysctl_readconsole, 24);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, clear, 0);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, incremental, 1);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, pad0, 2);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, pad1, 3);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, index, 4);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, buffer, 8);
XEN_ABI_OFFSET(struct xen_sysctl_readconsole, count, 16);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_cputopoinfo: core, socket and node of each CPU.  A null   */
/* handle asks for the number of CPUs; a short array gets that many     */
/* entries and num_cpus says how many there are.                        */

#define XEN_INVALID_CORE_ID   (~0U)
#define XEN_INVALID_SOCKET_ID (~0U)
#define XEN_INVALID_NODE_ID   (~0U)

struct xen_sysctl_cputopo {
    uint32_t core;
    uint32_t socket;
    uint32_t node;
};
XEN_ABI_SIZE(struct xen_sysctl_cputopo, 12);
XEN_ABI_OFFSET(struct xen_sysctl_cputopo, core, 0);
XEN_ABI_OFFSET(struct xen_sysctl_cputopo, socket, 4);
XEN_ABI_OFFSET(struct xen_sysctl_cputopo, node, 8);

struct xen_sysctl_cputopoinfo {
    uint32_t num_cpus;            /* in: entries in cputopo; out: CPUs there are */
    xen_guest_handle_t cputopo;   /* struct xen_sysctl_cputopo[] */
};
XEN_ABI_SIZE(struct xen_sysctl_cputopoinfo, 16);
XEN_ABI_OFFSET(struct xen_sysctl_cputopoinfo, num_cpus, 0);
XEN_ABI_OFFSET(struct xen_sysctl_cputopoinfo, cputopo, 8);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_numainfo: memory of each node and the distance matrix.    */

#define XEN_INVALID_MEM_SZ    (~0U)
#define XEN_INVALID_NODE_DIST (~0U)

struct xen_sysctl_meminfo {
    uint64_t memsize;             /* bytes */
    uint64_t memfree;             /* bytes */
};
XEN_ABI_SIZE(struct xen_sysctl_meminfo, 16);
XEN_ABI_OFFSET(struct xen_sysctl_meminfo, memsize, 0);
XEN_ABI_OFFSET(struct xen_sysctl_meminfo, memfree, 8);

struct xen_sysctl_numainfo {
    uint32_t num_nodes;           /* in: room; out: nodes there are */
    xen_guest_handle_t meminfo;   /* struct xen_sysctl_meminfo[num_nodes] */
    xen_guest_handle_t distance;  /* uint32_t[num_nodes * num_nodes] */
};
XEN_ABI_SIZE(struct xen_sysctl_numainfo, 24);
XEN_ABI_OFFSET(struct xen_sysctl_numainfo, num_nodes, 0);
XEN_ABI_OFFSET(struct xen_sysctl_numainfo, meminfo, 8);
XEN_ABI_OFFSET(struct xen_sysctl_numainfo, distance, 16);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_cpupool_op: CPU pools, each with its own scheduler.       */

#define XEN_SYSCTL_CPUPOOL_OP_CREATE     1
#define XEN_SYSCTL_CPUPOOL_OP_DESTROY    2
#define XEN_SYSCTL_CPUPOOL_OP_INFO       3
#define XEN_SYSCTL_CPUPOOL_OP_ADDCPU     4
#define XEN_SYSCTL_CPUPOOL_OP_RMCPU      5
#define XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN 6
#define XEN_SYSCTL_CPUPOOL_OP_FREEINFO   7
#define XEN_SYSCTL_CPUPOOL_PAR_ANY       0xFFFFFFFF

struct xen_sysctl_cpupool_op {
    uint32_t op;                  /* XEN_SYSCTL_CPUPOOL_OP_* */
    uint32_t cpupool_id;
    uint32_t sched_id;
    uint32_t domid;
    uint32_t cpu;
    uint32_t n_dom;
    struct xenctl_bitmap cpumap;
};
XEN_ABI_SIZE(struct xen_sysctl_cpupool_op, 40);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, op, 0);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, cpupool_id, 4);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, sched_id, 8);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, domid, 12);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, cpu, 16);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, n_dom, 20);
XEN_ABI_OFFSET(struct xen_sysctl_cpupool_op, cpumap, 24);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_scheduler_op: a pool's scheduler-wide parameters.         */

#define XEN_SYSCTL_SCHEDOP_putinfo 0
#define XEN_SYSCTL_SCHEDOP_getinfo 1
#define XEN_SYSCTL_SCHED_RATELIMIT_MAX 500000
#define XEN_SYSCTL_SCHED_RATELIMIT_MIN 100
#define XEN_SYSCTL_CSCHED_TSLICE_MAX   1000
#define XEN_SYSCTL_CSCHED_TSLICE_MIN   1
#define XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US (100 * 1000)

struct xen_sysctl_credit_schedule {
    uint32_t tslice_ms;
    uint32_t ratelimit_us;        /* 0: no rate limit */
    uint32_t vcpu_migr_delay_us;
};
XEN_ABI_SIZE(struct xen_sysctl_credit_schedule, 12);
XEN_ABI_OFFSET(struct xen_sysctl_credit_schedule, tslice_ms, 0);
XEN_ABI_OFFSET(struct xen_sysctl_credit_schedule, ratelimit_us, 4);
XEN_ABI_OFFSET(struct xen_sysctl_credit_schedule, vcpu_migr_delay_us, 8);

struct xen_sysctl_scheduler_op {
    uint32_t cpupool_id;
    uint32_t sched_id;            /* XEN_SCHEDULER_* */
    uint32_t cmd;                 /* XEN_SYSCTL_SCHEDOP_* */
    union {
        struct xen_sysctl_credit_schedule sched_credit;
        uint64_t pad[2];          /* other schedulers' parameters */
    } u;
};
XEN_ABI_SIZE(struct xen_sysctl_scheduler_op, 32);
XEN_ABI_OFFSET(struct xen_sysctl_scheduler_op, cpupool_id, 0);
XEN_ABI_OFFSET(struct xen_sysctl_scheduler_op, sched_id, 4);
XEN_ABI_OFFSET(struct xen_sysctl_scheduler_op, cmd, 8);
XEN_ABI_OFFSET(struct xen_sysctl_scheduler_op, u, 16);
XEN_ABI_OFFSET(struct xen_sysctl_scheduler_op, u.sched_credit, 16);
MICA_ABI_OFFSET(struct xen_sysctl_scheduler_op, u.pad, 16);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_get_cpu_featureset: a feature bitmap of 32-bit words in   */
/* Xen's featureset order.  A null handle asks for the word count.      */

#define XEN_SYSCTL_cpu_featureset_raw     0
#define XEN_SYSCTL_cpu_featureset_host    1
#define XEN_SYSCTL_cpu_featureset_pv      2
#define XEN_SYSCTL_cpu_featureset_hvm     3
#define XEN_SYSCTL_cpu_featureset_pv_max  4
#define XEN_SYSCTL_cpu_featureset_hvm_max 5

struct xen_sysctl_cpu_featureset {
    uint32_t index;               /* XEN_SYSCTL_cpu_featureset_* */
    uint32_t nr_features;         /* in: room; out: words written (or the count) */
    xen_guest_handle_t features;  /* uint32_t[] */
};
XEN_ABI_SIZE(struct xen_sysctl_cpu_featureset, 16);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_featureset, index, 0);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_featureset, nr_features, 4);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_featureset, features, 8);

/* ------------------------------------------------------------------ */
/* XEN_SYSCTL_get_cpu_policy: a system CPU policy, serialised as in the */
/* domctl get_cpu_policy.                                               */

#define XEN_SYSCTL_cpu_policy_raw         0
#define XEN_SYSCTL_cpu_policy_host        1
#define XEN_SYSCTL_cpu_policy_pv_max      2
#define XEN_SYSCTL_cpu_policy_hvm_max     3
#define XEN_SYSCTL_cpu_policy_pv_default  4
#define XEN_SYSCTL_cpu_policy_hvm_default 5

struct xen_sysctl_cpu_policy {
    uint32_t index;               /* XEN_SYSCTL_cpu_policy_* */
    uint32_t nr_leaves;           /* in/out */
    uint32_t nr_msrs;             /* in/out */
    uint32_t _rsvd;               /* must be zero */
    xen_guest_handle_t leaves;    /* struct xen_cpuid_leaf[] */
    xen_guest_handle_t msrs;      /* struct xen_msr_entry[] */
};
XEN_ABI_SIZE(struct xen_sysctl_cpu_policy, 32);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_policy, index, 0);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_policy, nr_leaves, 4);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_policy, nr_msrs, 8);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_policy, _rsvd, 12);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_policy, leaves, 16);
XEN_ABI_OFFSET(struct xen_sysctl_cpu_policy, msrs, 24);

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
        struct xen_sysctl_readconsole       readconsole;
        struct xen_sysctl_cputopoinfo       cputopoinfo;
        struct xen_sysctl_numainfo          numainfo;
        struct xen_sysctl_cpupool_op        cpupool_op;
        struct xen_sysctl_scheduler_op      scheduler_op;
        struct xen_sysctl_cpu_featureset    cpu_featureset;
        struct xen_sysctl_cpu_policy        cpu_policy;
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
XEN_ABI_OFFSET(struct xen_sysctl, u.readconsole, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.cputopoinfo, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.numainfo, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.cpupool_op, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.scheduler_op, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.cpu_featureset, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.cpu_policy, 8);
XEN_ABI_OFFSET(struct xen_sysctl, u.pad, 8);

#endif
