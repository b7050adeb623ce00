/*
 * The PV network protocol (netif): a transmit ring and a receive ring per
 * queue, both driven by the front end.
 *
 * ABI facts from Xen 4.17 public/io/netif.h; text and helpers are Mica's.
 *
 * Transmit: the front end grants a page holding (part of) a frame and
 * posts a tx request; a frame longer than one slot chains requests with
 * NETTXF_more_data, the first carrying the whole frame's size and the rest
 * their own; NETTXF_extra_info means the next slot is a netif_extra_info
 * (GSO, multicast, hash).  The back end answers each request id.
 * Receive: the front end posts empty granted pages (rx requests); the back
 * end copies a frame in and answers with offset, size (status > 0) and
 * flags.  A back end must accept frames of up to XEN_NETIF_NR_SLOTS_MIN
 * slots.  The control ring (feature-ctrl-ring, hashing) is not described
 * here: Mica's front ends do not use it.
 */
#ifndef MICA_PV_NETIF_H
#define MICA_PV_NETIF_H

#include <pv/ring.h>
#include <public/grant_table.h>

/* Slots a back end must accept for one frame. */
#define XEN_NETIF_NR_SLOTS_MIN 18

/* Largest frame on the tx ring (the size field is 16 bits). */
#define XEN_NETIF_MAX_TX_SIZE 0xFFFF

/* netif_tx_request.flags */
#define _NETTXF_csum_blank     0
#define  NETTXF_csum_blank     (1U << _NETTXF_csum_blank)      /* checksum still to fill in */
#define _NETTXF_data_validated 1
#define  NETTXF_data_validated (1U << _NETTXF_data_validated)  /* checksum known good */
#define _NETTXF_more_data      2
#define  NETTXF_more_data      (1U << _NETTXF_more_data)       /* frame continues in the next request */
#define _NETTXF_extra_info     3
#define  NETTXF_extra_info     (1U << _NETTXF_extra_info)      /* next slot is a netif_extra_info */

struct netif_tx_request {
    grant_ref_t gref;           /* page holding the data */
    uint16_t offset;            /* of the data in that page */
    uint16_t flags;             /* NETTXF_* */
    uint16_t id;                /* echoed in the response */
    uint16_t size;              /* first request: the whole frame; later: this piece */
};
XEN_ABI_SIZE(struct netif_tx_request, 12);
XEN_ABI_OFFSET(struct netif_tx_request, gref, 0);
XEN_ABI_OFFSET(struct netif_tx_request, offset, 4);
XEN_ABI_OFFSET(struct netif_tx_request, flags, 6);
XEN_ABI_OFFSET(struct netif_tx_request, id, 8);
XEN_ABI_OFFSET(struct netif_tx_request, size, 10);

/* netif_extra_info.type */
#define XEN_NETIF_EXTRA_TYPE_NONE      0   /* never valid */
#define XEN_NETIF_EXTRA_TYPE_GSO       1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_TYPE_HASH      4
#define XEN_NETIF_EXTRA_TYPE_MAX       5

/* netif_extra_info.flags: another extra slot follows. */
#define _XEN_NETIF_EXTRA_FLAG_MORE 0
#define XEN_NETIF_EXTRA_FLAG_MORE  (1U << _XEN_NETIF_EXTRA_FLAG_MORE)

/* netif_extra_info.u.gso.type */
#define XEN_NETIF_GSO_TYPE_NONE  0
#define XEN_NETIF_GSO_TYPE_TCPV4 1
#define XEN_NETIF_GSO_TYPE_TCPV6 2

/* Occupies a whole tx or rx slot after a request/response that flags it. */
struct netif_extra_info {
    uint8_t type;               /* XEN_NETIF_EXTRA_TYPE_* */
    uint8_t flags;              /* XEN_NETIF_EXTRA_FLAG_* */
    union {
        struct {
            uint16_t size;      /* MSS */
            uint8_t type;       /* XEN_NETIF_GSO_TYPE_* */
            uint8_t pad;
            uint16_t features;  /* none defined */
        } gso;
        struct {
            uint8_t addr[6];    /* Ethernet multicast address */
        } mcast;
        struct {
            uint8_t type;       /* hash type (control-ring values) */
            uint8_t algorithm;
            uint8_t value[4];
        } hash;
        uint16_t pad[3];
    } u;
};
XEN_ABI_SIZE(struct netif_extra_info, 8);
XEN_ABI_OFFSET(struct netif_extra_info, type, 0);
XEN_ABI_OFFSET(struct netif_extra_info, flags, 1);
XEN_ABI_OFFSET(struct netif_extra_info, u, 2);
XEN_ABI_OFFSET(struct netif_extra_info, u.gso.size, 2);
XEN_ABI_OFFSET(struct netif_extra_info, u.gso.type, 4);
XEN_ABI_OFFSET(struct netif_extra_info, u.gso.features, 6);
XEN_ABI_OFFSET(struct netif_extra_info, u.mcast.addr, 2);
XEN_ABI_OFFSET(struct netif_extra_info, u.hash.type, 2);
XEN_ABI_OFFSET(struct netif_extra_info, u.hash.algorithm, 3);
XEN_ABI_OFFSET(struct netif_extra_info, u.hash.value, 4);

struct netif_tx_response {
    uint16_t id;
    int16_t status;             /* NETIF_RSP_* */
};
XEN_ABI_SIZE(struct netif_tx_response, 4);
XEN_ABI_OFFSET(struct netif_tx_response, id, 0);
XEN_ABI_OFFSET(struct netif_tx_response, status, 2);

struct netif_rx_request {
    uint16_t id;                /* echoed in the response */
    uint16_t pad;
    grant_ref_t gref;           /* empty page the back end copies a frame into */
};
XEN_ABI_SIZE(struct netif_rx_request, 8);
XEN_ABI_OFFSET(struct netif_rx_request, id, 0);
XEN_ABI_OFFSET(struct netif_rx_request, pad, 2);
XEN_ABI_OFFSET(struct netif_rx_request, gref, 4);

/* netif_rx_response.flags */
#define _NETRXF_data_validated 0
#define  NETRXF_data_validated (1U << _NETRXF_data_validated)
#define _NETRXF_csum_blank     1
#define  NETRXF_csum_blank     (1U << _NETRXF_csum_blank)
#define _NETRXF_more_data      2
#define  NETRXF_more_data      (1U << _NETRXF_more_data)
#define _NETRXF_extra_info     3
#define  NETRXF_extra_info     (1U << _NETRXF_extra_info)
#define _NETRXF_gso_prefix     4
#define  NETRXF_gso_prefix     (1U << _NETRXF_gso_prefix)

struct netif_rx_response {
    uint16_t id;
    uint16_t offset;            /* of the data in the page */
    uint16_t flags;             /* NETRXF_* */
    int16_t status;             /* > 0: bytes received; else NETIF_RSP_* */
};
XEN_ABI_SIZE(struct netif_rx_response, 8);
XEN_ABI_OFFSET(struct netif_rx_response, id, 0);
XEN_ABI_OFFSET(struct netif_rx_response, offset, 2);
XEN_ABI_OFFSET(struct netif_rx_response, flags, 4);
XEN_ABI_OFFSET(struct netif_rx_response, status, 6);

#define NETIF_RSP_DROPPED  -2
#define NETIF_RSP_ERROR    -1
#define NETIF_RSP_OKAY      0
#define NETIF_RSP_NULL      1   /* the slot held a netif_extra_info */

union netif_tx_sring_entry {
    struct netif_tx_request req;
    struct netif_tx_response rsp;
};
XEN_ABI_SIZE(union netif_tx_sring_entry, 12);

struct netif_tx_sring {
    struct pv_sring_hdr hdr;
    union netif_tx_sring_entry ring[];
};
MICA_ABI_SIZE(struct netif_tx_sring, 64);
MICA_ABI_OFFSET(struct netif_tx_sring, hdr, 0);
XEN_ABI_OFFSET(struct netif_tx_sring, ring, 64);

#define NETIF_TX_RING_SLOTS_1PAGE PV_RING_SLOTS(4096, sizeof(union netif_tx_sring_entry))
_Static_assert(NETIF_TX_RING_SLOTS_1PAGE == 256, "one-page tx ring: 336 rounded down");

union netif_rx_sring_entry {
    struct netif_rx_request req;
    struct netif_rx_response rsp;
};
XEN_ABI_SIZE(union netif_rx_sring_entry, 8);

struct netif_rx_sring {
    struct pv_sring_hdr hdr;
    union netif_rx_sring_entry ring[];
};
MICA_ABI_SIZE(struct netif_rx_sring, 64);
MICA_ABI_OFFSET(struct netif_rx_sring, hdr, 0);
XEN_ABI_OFFSET(struct netif_rx_sring, ring, 64);

#define NETIF_RX_RING_SLOTS_1PAGE PV_RING_SLOTS(4096, sizeof(union netif_rx_sring_entry))
_Static_assert(NETIF_RX_RING_SLOTS_1PAGE == 256, "one-page rx ring: 504 rounded down");

#endif
