/*
 * Mica toolstack ABI: domctl (hypercall 36), the domain-management calls
 * a privileged domain's toolstack makes.
 *
 * One argument: the guest address of a struct xen_domctl.  The numbers and
 * layouts are those of Xen 4.17's interface version 0x15, so that Xen's
 * toolstack libraries (libxc/libxl, and libvirt on top of them) can drive
 * Mica unchanged; an operation Xen does not have gets a number Xen does
 * not use.  Only the operations Mica implements or answers explicitly are
 * declared here; docs/domctl.md says which work and how Mica differs.
 *
 * Conventions are those of public/xen.h: explicit-width types, guest
 * pointers as uint64_t, every struct followed by size and offset
 * assertions (compared with Xen's headers by tests/abi).
 */
#ifndef MICA_PUBLIC_DOMCTL_H
#define MICA_PUBLIC_DOMCTL_H

#include <public/xen.h>

/* struct xen_domctl.interface_version must hold exactly this. */
#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015

/* A domain's 16-byte handle (the toolstack's UUID for it). */
typedef uint8_t xen_domain_handle_t[16];

/* ------------------------------------------------------------------ */
/* Operation numbers (xen_domctl.cmd).                                 */

#define XEN_DOMCTL_createdomain      1
#define XEN_DOMCTL_destroydomain     2
#define XEN_DOMCTL_pausedomain       3
#define XEN_DOMCTL_unpausedomain     4
#define XEN_DOMCTL_getdomaininfo     5
#define XEN_DOMCTL_setvcpuaffinity   9
#define XEN_DOMCTL_shadow_op        10
#define XEN_DOMCTL_max_mem          11
#define XEN_DOMCTL_setvcpucontext   12
#define XEN_DOMCTL_getvcpucontext   13
#define XEN_DOMCTL_getvcpuinfo      14
#define XEN_DOMCTL_max_vcpus        15
#define XEN_DOMCTL_scheduler_op     16
#define XEN_DOMCTL_getvcpuaffinity  25
#define XEN_DOMCTL_resumedomain     27
#define XEN_DOMCTL_set_address_size 35
#define XEN_DOMCTL_get_address_size 36
#define XEN_DOMCTL_set_ext_vcpucontext 42
#define XEN_DOMCTL_get_ext_vcpucontext 43
#define XEN_DOMCTL_gettscinfo       59
#define XEN_DOMCTL_settscinfo       60
#define XEN_DOMCTL_getpageframeinfo3 61
#define XEN_DOMCTL_setvcpuextstate  62
#define XEN_DOMCTL_getvcpuextstate  63
#define XEN_DOMCTL_setnodeaffinity  68
#define XEN_DOMCTL_getnodeaffinity  69
#define XEN_DOMCTL_get_vcpu_msrs    72
#define XEN_DOMCTL_set_vcpu_msrs    73
#define XEN_DOMCTL_get_cpu_policy   82
#define XEN_DOMCTL_set_cpu_policy   83

/* ------------------------------------------------------------------ */
/* Per-architecture part of a domain's configuration (x86).            */

/* emulation_flags: devices the hypervisor emulates (HVM; 0 for PV). */
#define _XEN_X86_EMU_PIT   8
#define XEN_X86_EMU_PIT    (1U << _XEN_X86_EMU_PIT)
/* misc_flags: unhandled MSR accesses read 0 / are dropped instead of #GP. */
#define XEN_X86_MSR_RELAXED (1U << 0)

struct xen_arch_domainconfig {
    uint32_t emulation_flags;
    uint32_t misc_flags;
};
XEN_ABI_SIZE(struct xen_arch_domainconfig, 8);
XEN_ABI_OFFSET(struct xen_arch_domainconfig, emulation_flags, 0);
XEN_ABI_OFFSET(struct xen_arch_domainconfig, misc_flags, 4);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_createdomain.  xen_domctl.domain is in and out: a valid   */
/* free id is used as asked; 0 or a reserved id asks the hypervisor to  */
/* choose, and the chosen id is written back.                           */

#define _XEN_DOMCTL_CDF_hvm           0
#define XEN_DOMCTL_CDF_hvm            (1U << _XEN_DOMCTL_CDF_hvm)
#define _XEN_DOMCTL_CDF_hap           1
#define XEN_DOMCTL_CDF_hap            (1U << _XEN_DOMCTL_CDF_hap)
#define _XEN_DOMCTL_CDF_s3_integrity  2
#define XEN_DOMCTL_CDF_s3_integrity   (1U << _XEN_DOMCTL_CDF_s3_integrity)
#define _XEN_DOMCTL_CDF_oos_off       3
#define XEN_DOMCTL_CDF_oos_off        (1U << _XEN_DOMCTL_CDF_oos_off)
#define _XEN_DOMCTL_CDF_xs_domain     4
#define XEN_DOMCTL_CDF_xs_domain      (1U << _XEN_DOMCTL_CDF_xs_domain)
#define _XEN_DOMCTL_CDF_iommu         5
#define XEN_DOMCTL_CDF_iommu          (1U << _XEN_DOMCTL_CDF_iommu)
#define _XEN_DOMCTL_CDF_nested_virt   6
#define XEN_DOMCTL_CDF_nested_virt    (1U << _XEN_DOMCTL_CDF_nested_virt)
#define XEN_DOMCTL_CDF_vpmu           (1U << 7)
#define XEN_DOMCTL_CDF_MAX            XEN_DOMCTL_CDF_vpmu

#define _XEN_DOMCTL_IOMMU_no_sharept  0
#define XEN_DOMCTL_IOMMU_no_sharept   (1U << _XEN_DOMCTL_IOMMU_no_sharept)
#define XEN_DOMCTL_IOMMU_MAX          XEN_DOMCTL_IOMMU_no_sharept

/* grant_opts: the highest grant-table version allowed, in the low 4 bits. */
#define XEN_DOMCTL_GRANT_version_mask 0xf
#define XEN_DOMCTL_GRANT_version(v)   ((v) & XEN_DOMCTL_GRANT_version_mask)

struct xen_domctl_createdomain {
    uint32_t ssidref;             /* security label (XSM); 0 without XSM */
    xen_domain_handle_t handle;
    uint32_t flags;               /* XEN_DOMCTL_CDF_* */
    uint32_t iommu_opts;          /* XEN_DOMCTL_IOMMU_* */
    uint32_t max_vcpus;
    uint32_t max_evtchn_port;
    int32_t  max_grant_frames;    /* < 0: the hypervisor's default */
    int32_t  max_maptrack_frames; /* < 0: the hypervisor's default */
    uint32_t grant_opts;          /* XEN_DOMCTL_GRANT_version(n) */
    uint32_t vmtrace_size;        /* per-vCPU trace buffer bytes, 0 = none */
    uint32_t cpupool_id;
    struct xen_arch_domainconfig arch;
};
XEN_ABI_SIZE(struct xen_domctl_createdomain, 64);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, ssidref, 0);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, handle, 4);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, flags, 20);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, iommu_opts, 24);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, max_vcpus, 28);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, max_evtchn_port, 32);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, max_grant_frames, 36);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, max_maptrack_frames, 40);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, grant_opts, 44);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, vmtrace_size, 48);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, cpupool_id, 52);
XEN_ABI_OFFSET(struct xen_domctl_createdomain, arch, 56);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_getdomaininfo (also the element of sysctl's               */
/* getdomaininfolist).  Asked for an id no domain has, the call reports */
/* the domain with the next higher id (-ESRCH when there is none) and   */
/* says which in xen_domctl.domain: that is how Xen 4.17's libxc walks  */
/* the domain list.                                                     */

#define _XEN_DOMINF_dying      0
#define XEN_DOMINF_dying       (1U << _XEN_DOMINF_dying)
#define _XEN_DOMINF_hvm_guest  1
#define XEN_DOMINF_hvm_guest   (1U << _XEN_DOMINF_hvm_guest)
#define _XEN_DOMINF_shutdown   2
#define XEN_DOMINF_shutdown    (1U << _XEN_DOMINF_shutdown)
#define _XEN_DOMINF_paused     3      /* paused by the toolstack */
#define XEN_DOMINF_paused      (1U << _XEN_DOMINF_paused)
#define _XEN_DOMINF_blocked    4      /* every online vCPU is blocked */
#define XEN_DOMINF_blocked     (1U << _XEN_DOMINF_blocked)
#define _XEN_DOMINF_running    5      /* some vCPU is on a CPU right now */
#define XEN_DOMINF_running     (1U << _XEN_DOMINF_running)
#define _XEN_DOMINF_debugged   6
#define XEN_DOMINF_debugged    (1U << _XEN_DOMINF_debugged)
#define _XEN_DOMINF_xs_domain  7
#define XEN_DOMINF_xs_domain   (1U << _XEN_DOMINF_xs_domain)
#define _XEN_DOMINF_hap        8
#define XEN_DOMINF_hap         (1U << _XEN_DOMINF_hap)
/* Bits 16-23 of flags: the shutdown code (SHUTDOWN_*), 255 for none yet. */
#define XEN_DOMINF_shutdownmask  255
#define XEN_DOMINF_shutdownshift 16

/* max_vcpu_id of a domain that has no vCPUs. */
#define XEN_INVALID_MAX_VCPU_ID (~0U)

struct xen_domctl_getdomaininfo {
    domid_t  domain;
    uint16_t pad1;
    uint32_t flags;               /* XEN_DOMINF_* */
    uint64_t tot_pages;
    uint64_t max_pages;
    uint64_t outstanding_pages;
    uint64_t shr_pages;
    uint64_t paged_pages;
    uint64_t shared_info_frame;   /* for PV: the MFN of shared_info */
    uint64_t cpu_time;            /* ns, all vCPUs */
    uint32_t nr_online_vcpus;
    uint32_t max_vcpu_id;
    uint32_t ssidref;
    xen_domain_handle_t handle;
    uint32_t cpupool;
    uint8_t  gpaddr_bits;
    uint8_t  pad2[7];
    struct xen_arch_domainconfig arch_config;
};
XEN_ABI_SIZE(struct xen_domctl_getdomaininfo, 112);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, domain, 0);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, pad1, 2);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, flags, 4);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, tot_pages, 8);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, max_pages, 16);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, outstanding_pages, 24);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, shr_pages, 32);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, paged_pages, 40);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, shared_info_frame, 48);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, cpu_time, 56);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, nr_online_vcpus, 64);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, max_vcpu_id, 68);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, ssidref, 72);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, handle, 76);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, cpupool, 92);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, gpaddr_bits, 96);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, pad2, 97);
XEN_ABI_OFFSET(struct xen_domctl_getdomaininfo, arch_config, 104);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_max_mem: the domain's memory limit, in KiB.               */

struct xen_domctl_max_mem {
    uint64_t max_memkb;
};
XEN_ABI_SIZE(struct xen_domctl_max_mem, 8);
XEN_ABI_OFFSET(struct xen_domctl_max_mem, max_memkb, 0);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_setvcpucontext / getvcpucontext: ctxt is the guest        */
/* address of a struct vcpu_guest_context.                              */

struct xen_domctl_vcpucontext {
    uint32_t vcpu;
    uint32_t _pad;
    xen_guest_handle_t ctxt;
};
XEN_ABI_SIZE(struct xen_domctl_vcpucontext, 16);
XEN_ABI_OFFSET(struct xen_domctl_vcpucontext, vcpu, 0);
MICA_ABI_OFFSET(struct xen_domctl_vcpucontext, _pad, 4);
XEN_ABI_OFFSET(struct xen_domctl_vcpucontext, ctxt, 8);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_getvcpuinfo.                                              */

struct xen_domctl_getvcpuinfo {
    uint32_t vcpu;                /* in */
    uint8_t  online;              /* out: brought up */
    uint8_t  blocked;             /* out: waiting for an event */
    uint8_t  running;             /* out: on a CPU right now */
    uint8_t  _pad;
    uint64_t cpu_time;            /* out: ns spent running */
    uint32_t cpu;                 /* out: the CPU it runs on / last ran on */
    uint32_t _pad2;
};
XEN_ABI_SIZE(struct xen_domctl_getvcpuinfo, 24);
XEN_ABI_OFFSET(struct xen_domctl_getvcpuinfo, vcpu, 0);
XEN_ABI_OFFSET(struct xen_domctl_getvcpuinfo, online, 4);
XEN_ABI_OFFSET(struct xen_domctl_getvcpuinfo, blocked, 5);
XEN_ABI_OFFSET(struct xen_domctl_getvcpuinfo, running, 6);
MICA_ABI_OFFSET(struct xen_domctl_getvcpuinfo, _pad, 7);
XEN_ABI_OFFSET(struct xen_domctl_getvcpuinfo, cpu_time, 8);
XEN_ABI_OFFSET(struct xen_domctl_getvcpuinfo, cpu, 16);
MICA_ABI_OFFSET(struct xen_domctl_getvcpuinfo, _pad2, 20);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_setvcpuaffinity / getvcpuaffinity: the physical CPUs a    */
/* vCPU may run on (hard) and prefers (soft), as byte bitmaps of        */
/* nr_bits bits (bit n of byte n / 8 is CPU n).  set writes back the    */
/* effective masks; get returns the masks as set.                       */

/* (struct xenctl_bitmap is in xen.h, as in Xen.) */

#define XEN_VCPUAFFINITY_HARD  (1U << 0)
#define XEN_VCPUAFFINITY_SOFT  (1U << 1)
#define XEN_VCPUAFFINITY_FORCE (1U << 2)   /* undo SCHEDOP_pin_override */

struct xen_domctl_vcpuaffinity {
    uint32_t vcpu;
    uint32_t flags;               /* XEN_VCPUAFFINITY_* */
    struct xenctl_bitmap cpumap_hard;
    struct xenctl_bitmap cpumap_soft;
};
XEN_ABI_SIZE(struct xen_domctl_vcpuaffinity, 40);
XEN_ABI_OFFSET(struct xen_domctl_vcpuaffinity, vcpu, 0);
XEN_ABI_OFFSET(struct xen_domctl_vcpuaffinity, flags, 4);
XEN_ABI_OFFSET(struct xen_domctl_vcpuaffinity, cpumap_hard, 8);
XEN_ABI_OFFSET(struct xen_domctl_vcpuaffinity, cpumap_soft, 24);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_max_vcpus: must repeat the count given at creation.       */

struct xen_domctl_max_vcpus {
    uint32_t max;
};
XEN_ABI_SIZE(struct xen_domctl_max_vcpus, 4);
XEN_ABI_OFFSET(struct xen_domctl_max_vcpus, max, 0);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_scheduler_op: per-domain scheduler parameters.  sched_id  */
/* must name the scheduler the domain runs under (sysctl sched_id).     */

#define XEN_SCHEDULER_CREDIT   5
#define XEN_SCHEDULER_CREDIT2  6
#define XEN_SCHEDULER_ARINC653 7
#define XEN_SCHEDULER_RTDS     8
#define XEN_SCHEDULER_NULL     9

#define XEN_DOMCTL_SCHEDOP_putinfo     0
#define XEN_DOMCTL_SCHEDOP_getinfo     1
#define XEN_DOMCTL_SCHEDOP_putvcpuinfo 2
#define XEN_DOMCTL_SCHEDOP_getvcpuinfo 3

/* Credit: weight (relative share; 0 in putinfo = unchanged) and cap
 * (percent of one CPU, 0 = none; 0xffff in putinfo = unchanged). */
struct xen_domctl_sched_credit {
    uint16_t weight;
    uint16_t cap;
};
XEN_ABI_SIZE(struct xen_domctl_sched_credit, 4);
XEN_ABI_OFFSET(struct xen_domctl_sched_credit, weight, 0);
XEN_ABI_OFFSET(struct xen_domctl_sched_credit, cap, 2);

struct xen_domctl_sched_credit2 {
    uint16_t weight;
    uint16_t cap;
};
XEN_ABI_SIZE(struct xen_domctl_sched_credit2, 4);
XEN_ABI_OFFSET(struct xen_domctl_sched_credit2, weight, 0);
XEN_ABI_OFFSET(struct xen_domctl_sched_credit2, cap, 2);

struct xen_domctl_scheduler_op {
    uint32_t sched_id;            /* XEN_SCHEDULER_* */
    uint32_t cmd;                 /* XEN_DOMCTL_SCHEDOP_* */
    union {
        struct xen_domctl_sched_credit  credit;
        struct xen_domctl_sched_credit2 credit2;
        struct {                  /* put/getvcpuinfo (per-vCPU schedulers) */
            xen_guest_handle_t vcpus;
            uint32_t nr_vcpus;
            uint32_t padding;
        } v;
    } u;
};
XEN_ABI_SIZE(struct xen_domctl_scheduler_op, 24);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, sched_id, 0);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, cmd, 4);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u, 8);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u.credit.weight, 8);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u.credit.cap, 10);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u.credit2.weight, 8);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u.v.vcpus, 8);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u.v.nr_vcpus, 16);
XEN_ABI_OFFSET(struct xen_domctl_scheduler_op, u.v.padding, 20);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_getpageframeinfo3: the page types of up to 1024 frames of */
/* the domain.  Each 64-bit entry of `array` is an MFN on the way in    */
/* and its XEN_DOMCTL_PFINFO_* type (nothing else) on the way out.      */

#define XEN_DOMCTL_PFINFO_LTAB_SHIFT 28
#define XEN_DOMCTL_PFINFO_NOTAB   (0x0U << 28)
#define XEN_DOMCTL_PFINFO_L1TAB   (0x1U << 28)
#define XEN_DOMCTL_PFINFO_L2TAB   (0x2U << 28)
#define XEN_DOMCTL_PFINFO_L3TAB   (0x3U << 28)
#define XEN_DOMCTL_PFINFO_L4TAB   (0x4U << 28)
#define XEN_DOMCTL_PFINFO_LTABTYPE_MASK (0x7U << 28)
#define XEN_DOMCTL_PFINFO_LPINTAB (0x1U << 31)
#define XEN_DOMCTL_PFINFO_XTAB    (0xfU << 28)   /* not a frame of the domain */
#define XEN_DOMCTL_PFINFO_XALLOC  (0xeU << 28)
#define XEN_DOMCTL_PFINFO_BROKEN  (0xdU << 28)
#define XEN_DOMCTL_PFINFO_LTAB_MASK (0xfU << 28)

struct xen_domctl_getpageframeinfo3 {
    uint64_t num;
    xen_guest_handle_t array;     /* uint64_t[num] */
};
XEN_ABI_SIZE(struct xen_domctl_getpageframeinfo3, 16);
XEN_ABI_OFFSET(struct xen_domctl_getpageframeinfo3, num, 0);
XEN_ABI_OFFSET(struct xen_domctl_getpageframeinfo3, array, 8);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_{set,get}vcpuextstate: a vCPU's XSAVE state.  The buffer  */
/* holds the vCPU's XCR0, its XCR0_ACCUM (every component it has ever   */
/* enabled) and then the XSAVE area in the standard (uncompressed)      */
/* format, as long as XCR0_ACCUM's components need (nothing when it is  */
/* 0).  get with size and xfeature_mask both 0, or no buffer, asks for  */
/* the largest size and the feature mask that identifies the format;    */
/* a real get must pass that mask back.  set ignores xfeature_mask.     */

struct xen_domctl_vcpuextstate {
    uint32_t vcpu;
    uint32_t _pad;
    uint64_t xfeature_mask;       /* get: in/out */
    uint64_t size;                /* get: in (buffer) / out (used); set: in */
    xen_guest_handle_t buffer;    /* uint64_t[] */
};
XEN_ABI_SIZE(struct xen_domctl_vcpuextstate, 32);
XEN_ABI_OFFSET(struct xen_domctl_vcpuextstate, vcpu, 0);
MICA_ABI_OFFSET(struct xen_domctl_vcpuextstate, _pad, 4);
XEN_ABI_OFFSET(struct xen_domctl_vcpuextstate, xfeature_mask, 8);
XEN_ABI_OFFSET(struct xen_domctl_vcpuextstate, size, 16);
XEN_ABI_OFFSET(struct xen_domctl_vcpuextstate, buffer, 24);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_{get,set}_vcpu_msrs: the MSRs of a PV vCPU that           */
/* vcpu_guest_context does not carry (save/restore's X86_PV_VCPU_MSRS).  */
/* get with a zero `msrs` handle answers the most entries there can be  */
/* in msr_count; otherwise msr_count is the array's length in, and the  */
/* entries written out (only MSRs the vCPU has, and only non-zero       */
/* ones), -ENOBUFS with the count needed when it is too short.  set     */
/* takes msr_count entries; on an entry it cannot take it stops with    */
/* -EINVAL and msr_count the index of that entry.                       */

struct xen_domctl_vcpu_msr {
    uint32_t index;
    uint32_t reserved;            /* must be 0 */
    uint64_t value;
};
XEN_ABI_SIZE(struct xen_domctl_vcpu_msr, 16);
XEN_ABI_OFFSET(struct xen_domctl_vcpu_msr, index, 0);
XEN_ABI_OFFSET(struct xen_domctl_vcpu_msr, reserved, 4);
XEN_ABI_OFFSET(struct xen_domctl_vcpu_msr, value, 8);

struct xen_domctl_vcpu_msrs {
    uint32_t vcpu;
    uint32_t msr_count;           /* in/out */
    xen_guest_handle_t msrs;      /* struct xen_domctl_vcpu_msr[] */
};
XEN_ABI_SIZE(struct xen_domctl_vcpu_msrs, 16);
XEN_ABI_OFFSET(struct xen_domctl_vcpu_msrs, vcpu, 0);
XEN_ABI_OFFSET(struct xen_domctl_vcpu_msrs, msr_count, 4);
XEN_ABI_OFFSET(struct xen_domctl_vcpu_msrs, msrs, 8);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_{set,get}_ext_vcpucontext: a vCPU's state beyond          */
/* vcpu_guest_context: the 32-bit SYSCALL and SYSENTER callbacks and    */
/* the virtual machine-check registers (none on Mica).                  */

struct hvm_vmce_vcpu {
    uint64_t caps;
    uint64_t mci_ctl2_bank0;
    uint64_t mci_ctl2_bank1;
    uint64_t mcg_ext_ctl;
};
XEN_ABI_SIZE(struct hvm_vmce_vcpu, 32);
XEN_ABI_OFFSET(struct hvm_vmce_vcpu, caps, 0);
XEN_ABI_OFFSET(struct hvm_vmce_vcpu, mci_ctl2_bank0, 8);
XEN_ABI_OFFSET(struct hvm_vmce_vcpu, mci_ctl2_bank1, 16);
XEN_ABI_OFFSET(struct hvm_vmce_vcpu, mcg_ext_ctl, 24);

struct xen_domctl_ext_vcpucontext {
    uint32_t vcpu;
    uint32_t size;                /* set: octets given; get: octets returned */
    uint64_t syscall32_callback_eip;
    uint64_t sysenter_callback_eip;
    uint16_t syscall32_callback_cs;
    uint16_t sysenter_callback_cs;
    uint8_t  syscall32_disables_events;
    uint8_t  sysenter_disables_events;
    union {
        uint64_t mcg_cap;
        struct hvm_vmce_vcpu vmce;
    };
};
XEN_ABI_SIZE(struct xen_domctl_ext_vcpucontext, 64);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, vcpu, 0);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, size, 4);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, syscall32_callback_eip, 8);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, sysenter_callback_eip, 16);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, syscall32_callback_cs, 24);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, sysenter_callback_cs, 26);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, syscall32_disables_events, 28);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, sysenter_disables_events, 29);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, mcg_cap, 32);
XEN_ABI_OFFSET(struct xen_domctl_ext_vcpucontext, vmce, 32);
/* XEN_DOMCTL_set_address_size / get_address_size: a PV guest's word    */
/* size in bits (64; Mica runs no 32-bit PV guests).                    */

struct xen_domctl_address_size {
    uint32_t size;
};
XEN_ABI_SIZE(struct xen_domctl_address_size, 4);
XEN_ABI_OFFSET(struct xen_domctl_address_size, size, 0);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_setnodeaffinity / getnodeaffinity: the NUMA nodes the     */
/* domain's memory should come from.                                    */

struct xen_domctl_nodeaffinity {
    struct xenctl_bitmap nodemap;
};
XEN_ABI_SIZE(struct xen_domctl_nodeaffinity, 16);
XEN_ABI_OFFSET(struct xen_domctl_nodeaffinity, nodemap, 0);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_settscinfo / gettscinfo: how the guest's TSC behaves.     */

struct xen_domctl_tsc_info {
    uint32_t tsc_mode;            /* 0 default, 1 always emulate, 2 never emulate */
    uint32_t gtsc_khz;
    uint32_t incarnation;
    uint32_t pad;
    uint64_t elapsed_nsec;
};
XEN_ABI_SIZE(struct xen_domctl_tsc_info, 24);
XEN_ABI_OFFSET(struct xen_domctl_tsc_info, tsc_mode, 0);
XEN_ABI_OFFSET(struct xen_domctl_tsc_info, gtsc_khz, 4);
XEN_ABI_OFFSET(struct xen_domctl_tsc_info, incarnation, 8);
XEN_ABI_OFFSET(struct xen_domctl_tsc_info, pad, 12);
XEN_ABI_OFFSET(struct xen_domctl_tsc_info, elapsed_nsec, 16);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_get_cpu_policy / set_cpu_policy: the domain's CPUID and   */
/* MSR policy as arrays of struct xen_cpuid_leaf / xen_msr_entry.       */
/* A null leaves (msrs) handle asks for the maximum count.              */

struct xen_domctl_cpu_policy {
    uint32_t nr_leaves;           /* in/out */
    uint32_t nr_msrs;             /* in/out */
    xen_guest_handle_t leaves;    /* struct xen_cpuid_leaf[] */
    xen_guest_handle_t msrs;      /* struct xen_msr_entry[] */
    uint32_t err_leaf, err_subleaf, err_msr;  /* out, set_cpu_policy refusals */
};
XEN_ABI_SIZE(struct xen_domctl_cpu_policy, 40);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, nr_leaves, 0);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, nr_msrs, 4);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, leaves, 8);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, msrs, 16);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, err_leaf, 24);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, err_subleaf, 28);
XEN_ABI_OFFSET(struct xen_domctl_cpu_policy, err_msr, 32);

/* ------------------------------------------------------------------ */
/* XEN_DOMCTL_shadow_op: for a PV domain, log-dirty tracking (the live   */
/* migration path of Xen's libxc) and the paging pool size queries.      */
/* docs/migration.md says how Mica tracks dirty pages without shadow     */
/* page tables.                                                          */

#define XEN_DOMCTL_SHADOW_OP_OFF               0
#define XEN_DOMCTL_SHADOW_OP_ENABLE_TEST       1   /* ENABLE with no mode bits */
#define XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY   2   /* ENABLE with ENABLE_LOG_DIRTY */
#define XEN_DOMCTL_SHADOW_OP_CLEAN            11   /* read the bitmap and stats, then clear both */
#define XEN_DOMCTL_SHADOW_OP_PEEK             12   /* read them, leave them */
#define XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION   30
#define XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION   31
#define XEN_DOMCTL_SHADOW_OP_ENABLE           32

/* mode bits of OP_ENABLE */
#define XEN_DOMCTL_SHADOW_ENABLE_REFCOUNT   (1U << 1)
#define XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY  (1U << 2)
#define XEN_DOMCTL_SHADOW_ENABLE_TRANSLATE  (1U << 3)
#define XEN_DOMCTL_SHADOW_ENABLE_EXTERNAL   (1U << 4)
/* mode bit of OP_CLEAN / OP_PEEK: the last round of a save */
#define XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL    (1U << 0)

struct xen_domctl_shadow_op_stats {
    uint32_t fault_count;         /* write faults taken for tracking since the last CLEAN */
    uint32_t dirty_count;         /* pages that became dirty since the last CLEAN */
};
XEN_ABI_SIZE(struct xen_domctl_shadow_op_stats, 8);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op_stats, fault_count, 0);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op_stats, dirty_count, 4);

struct xen_domctl_shadow_op {
    uint32_t op;                  /* XEN_DOMCTL_SHADOW_OP_* */
    uint32_t mode;                /* ENABLE: ENABLE_* bits; CLEAN/PEEK: LOGDIRTY_* bits */
    uint32_t mb;                  /* GET/SET_ALLOCATION: paging pool in MiB */
                                  /* (4 bytes of padding: the handle is 8-aligned) */
    xen_guest_handle_t dirty_bitmap;  /* CLEAN/PEEK: uint8_t[], one bit per PFN, may be null */
    uint64_t pages;               /* in: bits the buffer holds; out: bits written */
    struct xen_domctl_shadow_op_stats stats;  /* out */
};
XEN_ABI_SIZE(struct xen_domctl_shadow_op, 40);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op, op, 0);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op, mode, 4);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op, mb, 8);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op, dirty_bitmap, 16);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op, pages, 24);
XEN_ABI_OFFSET(struct xen_domctl_shadow_op, stats, 32);

/* ------------------------------------------------------------------ */
/* The argument of every domctl.  Operations on an existing domain name */
/* it in `domain` (a real id: DOMID_SELF is not accepted here).          */

struct xen_domctl {
    uint32_t cmd;                 /* XEN_DOMCTL_* */
    uint32_t interface_version;   /* XEN_DOMCTL_INTERFACE_VERSION */
    domid_t  domain;
    uint16_t _pad[3];
    union {
        struct xen_domctl_createdomain  createdomain;
        struct xen_domctl_getdomaininfo getdomaininfo;
        struct xen_domctl_max_mem       max_mem;
        struct xen_domctl_vcpucontext   vcpucontext;
        struct xen_domctl_getvcpuinfo   getvcpuinfo;
        struct xen_domctl_vcpuaffinity  vcpuaffinity;
        struct xen_domctl_max_vcpus     max_vcpus;
        struct xen_domctl_scheduler_op  scheduler_op;
        struct xen_domctl_getpageframeinfo3 getpageframeinfo3;
        struct xen_domctl_ext_vcpucontext ext_vcpucontext;
        struct xen_domctl_vcpuextstate  vcpuextstate;
        struct xen_domctl_vcpu_msrs     vcpu_msrs;
        struct xen_domctl_address_size  address_size;
        struct xen_domctl_nodeaffinity  nodeaffinity;
        struct xen_domctl_tsc_info      tsc_info;
        struct xen_domctl_cpu_policy    cpu_policy;
        struct xen_domctl_shadow_op     shadow_op;
        uint8_t pad[128];         /* fixes the union's size for every op */
    } u;
};
XEN_ABI_SIZE(struct xen_domctl, 144);
XEN_ABI_OFFSET(struct xen_domctl, cmd, 0);
XEN_ABI_OFFSET(struct xen_domctl, interface_version, 4);
XEN_ABI_OFFSET(struct xen_domctl, domain, 8);
XEN_ABI_OFFSET(struct xen_domctl, _pad, 10);
XEN_ABI_OFFSET(struct xen_domctl, u, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.createdomain, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.getdomaininfo, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.max_mem, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.vcpucontext, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.getvcpuinfo, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.max_vcpus, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.scheduler_op, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.getpageframeinfo3, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.ext_vcpucontext, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.vcpuextstate, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.vcpu_msrs, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.address_size, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.nodeaffinity, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.tsc_info, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.cpu_policy, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.shadow_op, 16);
XEN_ABI_OFFSET(struct xen_domctl, u.pad, 16);

#endif
