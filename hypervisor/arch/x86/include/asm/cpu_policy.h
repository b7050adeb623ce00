/*
 * CPU policies: the CPUID leaves (and the two MSRs) a domain is allowed
 * to see, in the shape Xen 4.17's toolstack reads and writes them
 * (XEN_SYSCTL_get_cpu_featureset / get_cpu_policy, XEN_DOMCTL_get/
 * set_cpu_policy; the serialised form is an array of struct
 * xen_cpuid_leaf and one of struct xen_msr_entry).
 *
 * The system policies (raw, host, PV max and PV default) are built from
 * the CPU and from Mica's PV view of it (pv_cpuid_base).  A domain starts
 * without a policy of its own, answering CPUID with the PV view; once the
 * toolstack sets one, the guest's CPUID answers come from it
 * (pv/emulate.c).  See docs/xl-compat.md.
 */
#ifndef ASM_CPU_POLICY_H
#define ASM_CPU_POLICY_H

#include <mica/types.h>

/* Xen 4.17's array bounds (lib/x86/cpu-policy.h): leaves beyond are not kept. */
#define CPU_POLICY_NR_BASIC  14         /* leaves 0 .. 0xd */
#define CPU_POLICY_NR_CACHE   6         /* leaf 4 subleaves */
#define CPU_POLICY_NR_FEAT    3         /* leaf 7 subleaves */
#define CPU_POLICY_NR_TOPO    2         /* leaf 0xb subleaves */
#define CPU_POLICY_NR_XSTATE 63         /* leaf 0xd subleaves */
#define CPU_POLICY_NR_EXTD   34         /* leaves 0x80000000 .. 0x80000021 */
/* Most leaves one policy serialises to: the arrays, less the four leaves
 * that hang subleaf arrays off basic, plus the two hypervisor limits. */
#define CPU_POLICY_MAX_LEAVES (CPU_POLICY_NR_BASIC + CPU_POLICY_NR_CACHE - 1 +      \
                               CPU_POLICY_NR_FEAT - 1 + CPU_POLICY_NR_TOPO - 1 +   \
                               CPU_POLICY_NR_XSTATE - 1 + CPU_POLICY_NR_EXTD + 2)
#define CPU_POLICY_MAX_MSRS   2
/* Words of Xen 4.17.7's featureset (FEATURESET_NR_ENTRIES). */
#define CPU_FEATURESET_WORDS 19

struct cpuid_regs {
    u32 a, b, c, d;
};

struct cpu_policy {
    struct cpuid_regs basic[CPU_POLICY_NR_BASIC];   /* [0].a: max basic leaf */
    struct cpuid_regs cache[CPU_POLICY_NR_CACHE];
    struct cpuid_regs feat[CPU_POLICY_NR_FEAT];     /* [0].a: max subleaf */
    struct cpuid_regs topo[CPU_POLICY_NR_TOPO];
    struct cpuid_regs xstate[CPU_POLICY_NR_XSTATE];
    struct cpuid_regs extd[CPU_POLICY_NR_EXTD];     /* [0].a: max extended leaf */
    u32 hv_limit, hv2_limit;        /* kept and reported; Mica's 0x4000xxxx leaves are fixed */
    u32 platform_info;              /* MSR 0xce (bit 31: CPUID faulting) */
    u64 arch_caps;                  /* MSR 0x10a */
};

/* Mica's PV view of leaf/sub without vCPU state (pv/emulate.c). */
void pv_cpuid_base(bool privileged, u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d);

/* A guest's CPUID answer from policy p (zeros outside what p describes). */
void cpu_policy_cpuid(const struct cpu_policy *p, u32 leaf, u32 sub,
                      u32 *a, u32 *b, u32 *c, u32 *d);

struct xen_sysctl_cpu_featureset;
struct xen_sysctl_cpu_policy;
struct xen_domctl_cpu_policy;
struct domain;

/*
 * The first n words of the host's featureset (Xen's FEATURESET_* order):
 * physinfo's hw_cap[8], which Xen fills with its boot CPU's first eight
 * capability words, the same words in the same order.
 */
void cpu_policy_host_featureset(u32 *words, unsigned n);
long cpu_policy_sysctl_featureset(struct xen_sysctl_cpu_featureset *op);
long cpu_policy_sysctl_get(struct xen_sysctl_cpu_policy *op);
/* *copyback: whether the domctl goes back to the caller (as on Xen). */
long cpu_policy_domctl_get(struct domain *d, struct xen_domctl_cpu_policy *op, bool *copyback);
long cpu_policy_domctl_set(struct domain *self, struct domain *d,
                           struct xen_domctl_cpu_policy *op, bool *copyback);

#endif
