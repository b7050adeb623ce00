/* Differential ABI test: Mica's side (hypervisor/include/public). */
#include <public/xen.h>
#include <public/arch-x86_64.h>
#include <public/callback.h>
#include <public/domctl.h>
#include <public/elfnote.h>
#include <public/errno.h>
#include <public/event_channel.h>
#include <public/features.h>
#include <public/grant_table.h>
#include <public/memory.h>
#include <public/physdev.h>
#include <public/platform.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/version.h>
#include <public/sysctl.h>
#include <public/xen_mca.h>
#include <pv/blkif.h>
#include <pv/netif.h>
#include <pv/xenbus.h>

#include <stddef.h>

#include "abi_table.h"

#define ABI_PROBLEM(text)  { "header-rules", 0, text },

const struct abi_item abi_ours_items[] = {
#include "abi-items.h"
    /* Shared-ring layout: our rings keep the indices in a header struct. */
#define SRING_ITEMS(ring)                                                   \
    ABI_SRING(ring, req_prod, offsetof(struct ring##_sring, hdr.req_prod))   \
    ABI_SRING(ring, req_event, offsetof(struct ring##_sring, hdr.req_event)) \
    ABI_SRING(ring, rsp_prod, offsetof(struct ring##_sring, hdr.rsp_prod))   \
    ABI_SRING(ring, rsp_event, offsetof(struct ring##_sring, hdr.rsp_event))
    SRING_ITEMS(blkif)
    SRING_ITEMS(netif_tx)
    SRING_ITEMS(netif_rx)
    ABI_RING_SLOTS(blkif, BLKIF_RING_SLOTS_1PAGE)
    ABI_RING_SLOTS(netif_tx, NETIF_TX_RING_SLOTS_1PAGE)
    ABI_RING_SLOTS(netif_rx, NETIF_RX_RING_SLOTS_1PAGE)
};
const unsigned abi_ours_count = sizeof(abi_ours_items) / sizeof(abi_ours_items[0]);
