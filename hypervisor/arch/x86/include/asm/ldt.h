/*
 * Guest LDTs (mmuext_op MMUEXT_SET_LDT), mapped the way Xen 4.17 maps
 * them so that a guest sees the same behaviour: SET_LDT only records the
 * linear address and entry count; each LDT page is mapped into the
 * vCPU's LDT view (pages 16-31 of its slot in the per-domain area) when
 * the CPU first touches it, after the frame behind the guest's linear
 * address has taken a seg_desc type reference (its descriptors checked,
 * no writable mapping anywhere).  A page that cannot be mapped is the
 * guest's #PF at its own LDT address (#GP with the selector when that
 * address is not canonical).
 */
#ifndef ASM_LDT_H
#define ASM_LDT_H

#include <mica/domain.h>

#define LDT_MAX_ENTRIES 8192u
#define LDT_VIEW_PAGES  16u

/* MMUEXT_SET_LDT for the running vCPU: 0 or -XEN_EINVAL. */
long pv_set_ldt(struct vcpu *v, u64 linear, u32 ents);

/* Loads the LDT the CPU should use for v (none when v is NULL). */
void pv_load_ldt(const struct vcpu *v);

/* Unmaps v's LDT pages and drops their references; true if any was mapped. */
bool pv_destroy_ldt(struct vcpu *v);

enum pv_ldt_fault {
    PV_LDT_NOT_LDT,     /* not a fault on the LDT view */
    PV_LDT_MAPPED,      /* the page is mapped now: retry */
    PV_LDT_GUEST_PF,    /* the guest's #PF at *cr2 */
    PV_LDT_GUEST_GP,    /* the guest's #GP with error code *error */
};

/* A #PF at addr, from the guest or from Mica on the guest's behalf. */
enum pv_ldt_fault pv_ldt_fault(struct vcpu *v, u64 addr, u64 *cr2, u32 *error);

#endif
