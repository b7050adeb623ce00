/*
 * Mica guest ABI: callback_op (hypercall 30) and nmi_op (hypercall 28).
 */
#ifndef MICA_PUBLIC_CALLBACK_H
#define MICA_PUBLIC_CALLBACK_H

#include <public/xen.h>

#define CALLBACKTYPE_event                0
#define CALLBACKTYPE_failsafe             1
#define CALLBACKTYPE_syscall              2
#define CALLBACKTYPE_sysenter_deprecated  3
#define CALLBACKTYPE_nmi                  4
#define CALLBACKTYPE_sysenter             5
#define CALLBACKTYPE_syscall32            7

/* Mask events (virtual cli) when the callback is entered. */
#define _CALLBACKF_mask_events  0
#define CALLBACKF_mask_events   (1U << 0)

#define CALLBACKOP_register    0
#define CALLBACKOP_unregister  1

struct callback_register {
    uint16_t type;               /* CALLBACKTYPE_* */
    uint16_t flags;              /* CALLBACKF_* */
    uint32_t _pad;
    uint64_t address;            /* guest VA of the handler */
};
XEN_ABI_SIZE(struct callback_register, 16);
XEN_ABI_OFFSET(struct callback_register, type, 0);
XEN_ABI_OFFSET(struct callback_register, flags, 2);
MICA_ABI_OFFSET(struct callback_register, _pad, 4);
XEN_ABI_OFFSET(struct callback_register, address, 8);

struct callback_unregister {
    uint16_t type;
    uint16_t _unused;
};
XEN_ABI_SIZE(struct callback_unregister, 4);
XEN_ABI_OFFSET(struct callback_unregister, type, 0);
XEN_ABI_OFFSET(struct callback_unregister, _unused, 2);

/* nmi_op */
#define XENNMI_register_callback    0
#define XENNMI_unregister_callback  1

struct xennmi_callback {
    uint64_t handler_address;
    uint64_t pad;
};
XEN_ABI_SIZE(struct xennmi_callback, 16);
XEN_ABI_OFFSET(struct xennmi_callback, handler_address, 0);
XEN_ABI_OFFSET(struct xennmi_callback, pad, 8);

/* arch_shared_info.nmi_reason bits (hardware domain). */
#define _XEN_NMIREASON_io_error  0
#define XEN_NMIREASON_io_error   (1UL << 0)
#define _XEN_NMIREASON_pci_serr  1
#define XEN_NMIREASON_pci_serr   (1UL << 1)
#define _XEN_NMIREASON_unknown   2
#define XEN_NMIREASON_unknown    (1UL << 2)

#endif /* MICA_PUBLIC_CALLBACK_H */
