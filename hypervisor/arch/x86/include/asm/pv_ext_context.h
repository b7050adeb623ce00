/*
 * XEN_DOMCTL_{get,set}_ext_vcpucontext for 64-bit PV vCPUs: the 32-bit
 * SYSCALL / SYSENTER callbacks that vcpu_guest_context does not carry,
 * and the virtual machine-check state, of which Mica has none.
 */
#ifndef ASM_PV_EXT_CONTEXT_H
#define ASM_PV_EXT_CONTEXT_H

#include <mica/domain.h>
#include <public/domctl.h>

/* Fills evc (size included) from v.  Always 0. */
long pv_get_ext_vcpucontext(const struct vcpu *v, struct xen_domctl_ext_vcpucontext *evc);
/* 0, or -XEN_EINVAL with nothing changed. */
long pv_set_ext_vcpucontext(struct vcpu *v, const struct xen_domctl_ext_vcpucontext *evc);

#endif
