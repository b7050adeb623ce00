/*
 * XEN_DOMCTL_{get,set}_ext_vcpucontext with Xen 4.17's semantics for a
 * 64-bit PV vCPU: the 32-bit SYSCALL and SYSENTER callbacks (address,
 * whether delivery masks events, and a code selector that is only kept,
 * with its RPL raised to 3 as Xen's fixup_guest_code_selector does for a
 * 64-bit guest).  Mica emulates no machine-check banks: get reports the
 * vmce part as zeros and set accepts it only when it holds nothing (zeros,
 * or Xen's default two unconfigured banks), so a state saved where banks
 * were in use is refused rather than silently lost.
 */
#include <asm/layout.h>
#include <asm/pv_ext_context.h>
#include <mica/lib.h>
#include <public/errno.h>

/* Where the vmce part starts; a shorter set is refused, as on Xen. */
#define EXT_CTX_VMCE_OFFSET 32
/* The shortest vmce part Xen reads (caps alone); shorter ones are ignored. */
#define EXT_CTX_VMCE_MIN    8

_Static_assert(__builtin_offsetof(struct xen_domctl_ext_vcpucontext, vmce) == EXT_CTX_VMCE_OFFSET,
               "vmce follows the callbacks");

static u16 kernel_rpl_selector(u16 sel)
{
    return sel | 3;             /* a 64-bit PV kernel runs in ring 3 */
}

long pv_get_ext_vcpucontext(const struct vcpu *v, struct xen_domctl_ext_vcpucontext *evc)
{
    evc->size = sizeof(*evc);
    evc->syscall32_callback_eip = v->arch.syscall32_cb.address;
    evc->syscall32_callback_cs = v->arch.syscall32_cs;
    evc->syscall32_disables_events = v->arch.syscall32_cb.mask_events;
    evc->sysenter_callback_eip = v->arch.sysenter_cb.address;
    evc->sysenter_callback_cs = v->arch.sysenter_cs;
    evc->sysenter_disables_events = v->arch.sysenter_cb.mask_events;
    memset(&evc->vmce, 0, sizeof(evc->vmce));
    return 0;
}

/*
 * A vmce part that holds nothing: no capabilities, or the state Xen 4.17
 * gives every PV guest (MCG_CAP with at most its two banks and no other
 * capability, both banks' CTL2 and MCG_EXT_CTL 0), which a file saved on
 * Xen carries.  Those banks were never configured, so nothing is lost.
 */
#define MCG_CAP_COUNT   0xffULL
#define XEN_VMCE_BANKS  2
static bool vmce_is_empty(const struct xen_domctl_ext_vcpucontext *evc)
{
    u64 caps = evc->vmce.caps;

    if ((caps & ~MCG_CAP_COUNT) || (caps & MCG_CAP_COUNT) > XEN_VMCE_BANKS)
        return false;
    /* The later fields only when the caller gave them (Xen reads them by size). */
    if (evc->size >= EXT_CTX_VMCE_OFFSET + 16 && evc->vmce.mci_ctl2_bank0)
        return false;
    if (evc->size >= EXT_CTX_VMCE_OFFSET + 24 && evc->vmce.mci_ctl2_bank1)
        return false;
    if (evc->size >= EXT_CTX_VMCE_OFFSET + 32 && evc->vmce.mcg_ext_ctl)
        return false;
    return true;
}

long pv_set_ext_vcpucontext(struct vcpu *v, const struct xen_domctl_ext_vcpucontext *evc)
{
    if (evc->size < EXT_CTX_VMCE_OFFSET)
        return -XEN_EINVAL;
    if (!is_canonical(evc->syscall32_callback_eip) || !is_canonical(evc->sysenter_callback_eip))
        return -XEN_EINVAL;
    if (evc->size >= EXT_CTX_VMCE_OFFSET + EXT_CTX_VMCE_MIN && !vmce_is_empty(evc)) {
        printk("d%uv%u: ext_vcpucontext with machine-check state (capabilities %#llx, "
               "CTL2 %#llx %#llx, EXT_CTL %#llx) refused: Mica emulates no machine-check banks\n",
               v->domain->domid, v->vcpu_id, (unsigned long long)evc->vmce.caps,
               (unsigned long long)evc->vmce.mci_ctl2_bank0,
               (unsigned long long)evc->vmce.mci_ctl2_bank1,
               (unsigned long long)evc->vmce.mcg_ext_ctl);
        return -XEN_EINVAL;
    }
    v->arch.syscall32_cb.address = evc->syscall32_callback_eip;
    v->arch.syscall32_cb.mask_events = evc->syscall32_disables_events != 0;
    v->arch.syscall32_cs = kernel_rpl_selector(evc->syscall32_callback_cs);
    v->arch.sysenter_cb.address = evc->sysenter_callback_eip;
    v->arch.sysenter_cb.mask_events = evc->sysenter_disables_events != 0;
    v->arch.sysenter_cs = kernel_rpl_selector(evc->sysenter_callback_cs);
    return 0;
}
