/*
 * Mica guest ABI: machine-check telemetry, hypercall 48 (`mca`,
 * __HYPERVISOR_arch_0), mca(struct xen_mc *).  Control domain only.
 * Numbers and layouts are Xen 4.17's (public/arch-x86/xen-mca.h,
 * XEN_MCA_INTERFACE_VERSION 0x01ecc003); Mica declares the commands and
 * records it answers (arch/x86/mca.c, docs/pv-domains.md): physcpuinfo,
 * and fetch, which always finds nothing queued (Mica keeps no telemetry:
 * every machine check stops the machine).
 */
#ifndef MICA_PUBLIC_XEN_MCA_H
#define MICA_PUBLIC_XEN_MCA_H

#include <public/xen.h>

#define XEN_MCA_INTERFACE_VERSION 0x01ecc003

/* fetch flags (IN) */
#define XEN_MC_NONURGENT  0x0001
#define XEN_MC_URGENT     0x0002
#define XEN_MC_ACK        0x0004
/* fetch flags (OUT) */
#define XEN_MC_OK           0x0
#define XEN_MC_FETCHFAILED  0x1
#define XEN_MC_NODATA       0x2

#define XEN_MC_fetch        1
#define XEN_MC_notifydomain 2
#define XEN_MC_physcpuinfo  3
#define XEN_MC_msrinject    4
#define XEN_MC_mceinject    5
#define XEN_MC_inject_v2    6

/* Indices into mcinfo_logical_cpu.mc_cpu_caps, as the public header names them. */
#define MC_CAPS_STD_EDX 0       /* CPUID 1 EDX */
#define MC_CAPS_AMD_EDX 1       /* CPUID 0x80000001 EDX */
#define MC_CAPS_TM      2       /* CPUID 0x80860001 (Transmeta) */
#define MC_CAPS_LINUX   3       /* Linux-defined */
#define MC_CAPS_STD_ECX 4       /* CPUID 1 ECX */
#define MC_CAPS_VIA     5       /* CPUID 0xc0000001 */
#define MC_CAPS_AMD_ECX 6       /* CPUID 0x80000001 ECX */
#define MC_NCAPS        7

#define __MC_MSR_ARRAYSIZE 8

struct mcinfo_msr {
    uint64_t reg;
    uint64_t value;
};
XEN_ABI_SIZE(struct mcinfo_msr, 16);
XEN_ABI_OFFSET(struct mcinfo_msr, reg, 0);
XEN_ABI_OFFSET(struct mcinfo_msr, value, 8);

/* One physical CPU, as XEN_MC_physcpuinfo reports it. */
struct mcinfo_logical_cpu {
    uint32_t mc_cpunr;              /* the hypervisor's CPU number */
    uint32_t mc_chipid;             /* package (socket) */
    uint16_t mc_coreid;
    uint16_t mc_threadid;
    uint32_t mc_apicid;
    uint32_t mc_clusterid;
    uint32_t mc_ncores;
    uint32_t mc_ncores_active;
    uint32_t mc_nthreads;
    int32_t mc_cpuid_level;         /* highest standard CPUID leaf */
    uint32_t mc_family;
    uint32_t mc_vendor;
    uint32_t mc_model;
    uint32_t mc_step;
    char mc_vendorid[16];
    char mc_brandid[64];
    uint32_t mc_cpu_caps[MC_NCAPS];
    uint32_t mc_cache_size;         /* KiB */
    uint32_t mc_cache_alignment;    /* bytes */
    int32_t mc_nmsrvals;
    struct mcinfo_msr mc_msrvalues[__MC_MSR_ARRAYSIZE];
};
XEN_ABI_SIZE(struct mcinfo_logical_cpu, 304);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_cpunr, 0);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_chipid, 4);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_coreid, 8);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_threadid, 10);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_apicid, 12);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_clusterid, 16);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_ncores, 20);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_ncores_active, 24);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_nthreads, 28);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_cpuid_level, 32);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_family, 36);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_vendor, 40);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_model, 44);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_step, 48);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_vendorid, 52);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_brandid, 68);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_cpu_caps, 132);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_cache_size, 160);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_cache_alignment, 164);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_nmsrvals, 168);
XEN_ABI_OFFSET(struct mcinfo_logical_cpu, mc_msrvalues, 176);

struct xen_mc_fetch {
    uint32_t flags;         /* IN: URGENT or NONURGENT, ACK; OUT: OK, NODATA, ... */
    uint32_t _pad0;
    uint64_t fetch_id;      /* OUT: the record's id; IN (ACK): the id acknowledged */
    uint64_t data;          /* guest handle: struct mc_info (not declared: never written) */
};
XEN_ABI_SIZE(struct xen_mc_fetch, 24);
XEN_ABI_OFFSET(struct xen_mc_fetch, flags, 0);
XEN_ABI_OFFSET(struct xen_mc_fetch, _pad0, 4);
XEN_ABI_OFFSET(struct xen_mc_fetch, fetch_id, 8);
XEN_ABI_OFFSET(struct xen_mc_fetch, data, 16);

struct xen_mc_physcpuinfo {
    uint32_t ncpus;         /* IN: room in info; OUT: CPUs reported (all, with a null info) */
    uint32_t _pad0;
    uint64_t info;          /* guest handle: struct mcinfo_logical_cpu[ncpus], or 0 */
};
XEN_ABI_SIZE(struct xen_mc_physcpuinfo, 16);
XEN_ABI_OFFSET(struct xen_mc_physcpuinfo, ncpus, 0);
XEN_ABI_OFFSET(struct xen_mc_physcpuinfo, _pad0, 4);
XEN_ABI_OFFSET(struct xen_mc_physcpuinfo, info, 8);

struct xen_mc {
    uint32_t cmd;
    uint32_t interface_version;     /* XEN_MCA_INTERFACE_VERSION, else -EACCES */
    union {
        struct xen_mc_fetch mc_fetch;
        struct xen_mc_physcpuinfo mc_physcpuinfo;
        uint8_t pad[144];           /* the largest member, xen_mc_msrinject */
    } u;
};
XEN_ABI_SIZE(struct xen_mc, 152);
XEN_ABI_OFFSET(struct xen_mc, cmd, 0);
XEN_ABI_OFFSET(struct xen_mc, interface_version, 4);
XEN_ABI_OFFSET(struct xen_mc, u, 8);

#endif
