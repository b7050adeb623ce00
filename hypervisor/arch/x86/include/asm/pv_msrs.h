/*
 * The per-vCPU MSRs of a PV guest that Mica keeps beyond the segment
 * bases, and XEN_DOMCTL_{get,set}_vcpu_msrs over them (save/restore's
 * X86_PV_VCPU_MSRS record, Xen 4.17's semantics).
 *
 * Of the MSRs Xen 4.17 carries in that record (SPEC_CTRL,
 * MISC_FEATURES_ENABLES, TSC_AUX and the AMD DR0-3 address masks) a Mica
 * PV vCPU has TSC_AUX alone, and only when its CPUID view offers RDTSCP or
 * RDPID: the others #GP in the guest and are neither reported nor taken.
 */
#ifndef ASM_PV_MSRS_H
#define ASM_PV_MSRS_H

#include <mica/domain.h>
#include <public/domctl.h>

#define MSR_SPEC_CTRL                    0x00000048
#define MSR_INTEL_MISC_FEATURES_ENABLES  0x00000140
#define MSR_TSC_AUX                      0xc0000103
#define MSR_AMD64_DR0_ADDRESS_MASK       0xc0011027
#define MSR_AMD64_DR1_ADDRESS_MASK       0xc0011019
#define MSR_AMD64_DR2_ADDRESS_MASK       0xc001101a
#define MSR_AMD64_DR3_ADDRESS_MASK       0xc001101b

/*
 * The guest's RDMSR/WRMSR of one of these MSRs on its own vCPU v (the
 * running one): true when done, false for #GP.
 */
bool pv_msr_read(const struct vcpu *v, u32 msr, u64 *val);
bool pv_msr_write(struct vcpu *v, u32 msr, u64 val);

/* Loads next's TSC_AUX on this CPU (context switch), when the CPU has one. */
void pv_msrs_switch_to(const struct vcpu *next);

/*
 * The domctls, on a vCPU that is not running (the caller pauses it).
 * get: op->msr_count and the array as the header above says; set: 0, or
 * -XEN_EINVAL / -XEN_EFAULT with msr_count the index of the entry that
 * stopped it and *copyback set.
 */
long pv_get_vcpu_msrs(const struct vcpu *v, struct xen_domctl_vcpu_msrs *op);
long pv_set_vcpu_msrs(struct vcpu *v, struct xen_domctl_vcpu_msrs *op, bool *copyback);

#endif
