/*
 * Differential ABI test: Xen's side, from Debian's libxen-dev headers
 * (/usr/include/xen).  Read as the toolstack reads them (__XEN_TOOLS__):
 * that selects the newest interface version and also shows numbers Xen
 * reserves for the toolstack, such as XENMEM_claim_pages.
 */
#include <stddef.h>
#include <stdint.h>
#define __XEN_TOOLS__ 1
#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/domctl.h>
#include <xen/elfnote.h>
#include <xen/event_channel.h>
#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/nmi.h>
#include <xen/physdev.h>
#include <xen/platform.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/sysctl.h>
#include <xen/arch-x86/xen-mca.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

/*
 * errno.h hides EINTR and ERESTART unless it is read as the hypervisor's
 * own header; expand its list directly, as an enum, to see all values.
 */
#define __XEN__
#define XEN_ERRNO(name, value) XEN_##name = value,
enum xen_errno_all {
#include <xen/errno.h>
};
#undef __XEN__

#include "abi_table.h"

#define ABI_PROBLEM(text)   /* checked on our side only */

const struct abi_item abi_xen_items[] = {
#include "abi-items.h"
#define SRING_ITEMS(ring)                                                   \
    ABI_SRING(ring, req_prod, offsetof(struct ring##_sring, req_prod))       \
    ABI_SRING(ring, req_event, offsetof(struct ring##_sring, req_event))     \
    ABI_SRING(ring, rsp_prod, offsetof(struct ring##_sring, rsp_prod))       \
    ABI_SRING(ring, rsp_event, offsetof(struct ring##_sring, rsp_event))
    SRING_ITEMS(blkif)
    SRING_ITEMS(netif_tx)
    SRING_ITEMS(netif_rx)
    ABI_RING_SLOTS(blkif, __CONST_RING_SIZE(blkif, 4096))
    ABI_RING_SLOTS(netif_tx, __CONST_RING_SIZE(netif_tx, 4096))
    ABI_RING_SLOTS(netif_rx, __CONST_RING_SIZE(netif_rx, 4096))
};
const unsigned abi_xen_count = sizeof(abi_xen_items) / sizeof(abi_xen_items[0]);
