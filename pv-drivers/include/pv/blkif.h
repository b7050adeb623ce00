/*
 * The PV block protocol (blkif) as the front end and back end share it.
 *
 * ABI facts from Xen 4.17 public/io/blkif.h (Linux's xen-blkback and
 * xen-blkfront speak exactly this on x86-64).  The text and helpers are
 * Mica's; names follow the ABI where both ends know them.
 *
 * A request names a run of 512-byte sectors of the virtual disk and up to
 * BLKIF_MAX_SEGMENTS_PER_REQUEST segments, each a granted page and the
 * first and last sector (0..7) of that page to transfer.  An indirect
 * request instead grants pages that themselves hold segment descriptors.
 * The back end answers every request exactly once, in any order, echoing
 * the id.  Sector numbers are always in 512-byte units, whatever the
 * disk's sector-size.
 */
#ifndef MICA_PV_BLKIF_H
#define MICA_PV_BLKIF_H

#include <pv/ring.h>
#include <public/grant_table.h>

typedef uint16_t blkif_vdev_t;      /* the handle: the device's virtual-device number */
typedef uint64_t blkif_sector_t;    /* a 512-byte sector of the virtual disk */

#define BLKIF_SECTOR_SIZE 512u      /* Mica-only name: the unit of sector numbers */

/* operation */
#define BLKIF_OP_READ              0
#define BLKIF_OP_WRITE             1
#define BLKIF_OP_WRITE_BARRIER     2   /* "feature-barrier" */
#define BLKIF_OP_FLUSH_DISKCACHE   3   /* "feature-flush-cache"; may carry data like a write */
#define BLKIF_OP_RESERVED_1        4   /* was a blktap extension; never send */
#define BLKIF_OP_DISCARD           5   /* "feature-discard"; struct blkif_request_discard */
#define BLKIF_OP_INDIRECT          6   /* "feature-max-indirect-segments"; struct blkif_request_indirect */

/* Segments carried in the request itself; more is a protocol error. */
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11

/* Grant references an indirect request may carry (each to a page of
 * segment descriptors, 512 per page). */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* blkif_request_discard.flag: "feature-discard-secure" erase. */
#define BLKIF_DISCARD_SECURE (1 << 0)

/* Response status */
#define BLKIF_RSP_EOPNOTSUPP  -2    /* operation not supported (barrier, flush, discard) */
#define BLKIF_RSP_ERROR       -1    /* failed: bad request or I/O error */
#define BLKIF_RSP_OKAY         0

/* "info" node of the back end: the disk's properties. */
#define VDISK_CDROM        0x1
#define VDISK_REMOVABLE    0x2
#define VDISK_READONLY     0x4

struct blkif_request_segment {
    grant_ref_t gref;           /* page granted by the front end */
    uint8_t first_sect;         /* first 512-byte sector of that page, inclusive */
    uint8_t last_sect;          /* last one, inclusive; at most 7 on 4 KiB pages */
    uint8_t pad[2];
};
XEN_ABI_SIZE(struct blkif_request_segment, 8);
XEN_ABI_OFFSET(struct blkif_request_segment, gref, 0);
XEN_ABI_OFFSET(struct blkif_request_segment, first_sect, 4);
XEN_ABI_OFFSET(struct blkif_request_segment, last_sect, 5);
MICA_ABI_OFFSET(struct blkif_request_segment, pad, 6);

/* READ, WRITE, WRITE_BARRIER, FLUSH_DISKCACHE. */
struct blkif_request {
    uint8_t operation;
    uint8_t nr_segments;        /* 1..BLKIF_MAX_SEGMENTS_PER_REQUEST (0 for a bare flush) */
    blkif_vdev_t handle;
    uint8_t pad[4];
    uint64_t id;                /* the front end's cookie, echoed in the response */
    blkif_sector_t sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
XEN_ABI_SIZE(struct blkif_request, 112);
XEN_ABI_OFFSET(struct blkif_request, operation, 0);
XEN_ABI_OFFSET(struct blkif_request, nr_segments, 1);
XEN_ABI_OFFSET(struct blkif_request, handle, 2);
MICA_ABI_OFFSET(struct blkif_request, pad, 4);
XEN_ABI_OFFSET(struct blkif_request, id, 8);
XEN_ABI_OFFSET(struct blkif_request, sector_number, 16);
XEN_ABI_OFFSET(struct blkif_request, seg, 24);

/* DISCARD: a sector range, no data pages. */
struct blkif_request_discard {
    uint8_t operation;          /* BLKIF_OP_DISCARD */
    uint8_t flag;               /* 0 or BLKIF_DISCARD_SECURE */
    blkif_vdev_t handle;
    uint8_t pad[4];
    uint64_t id;
    blkif_sector_t sector_number;
    uint64_t nr_sectors;
};
XEN_ABI_SIZE(struct blkif_request_discard, 32);
XEN_ABI_OFFSET(struct blkif_request_discard, operation, 0);
XEN_ABI_OFFSET(struct blkif_request_discard, flag, 1);
XEN_ABI_OFFSET(struct blkif_request_discard, handle, 2);
MICA_ABI_OFFSET(struct blkif_request_discard, pad, 4);
XEN_ABI_OFFSET(struct blkif_request_discard, id, 8);
XEN_ABI_OFFSET(struct blkif_request_discard, sector_number, 16);
XEN_ABI_OFFSET(struct blkif_request_discard, nr_sectors, 24);

/* INDIRECT: indirect_op is READ or WRITE; the segments live in granted
 * pages (struct blkif_request_segment[512] each). */
struct blkif_request_indirect {
    uint8_t operation;          /* BLKIF_OP_INDIRECT */
    uint8_t indirect_op;
    uint16_t nr_segments;       /* up to the back end's feature-max-indirect-segments */
    uint8_t pad[4];
    uint64_t id;
    blkif_sector_t sector_number;
    blkif_vdev_t handle;
    uint8_t pad2[2];
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    uint8_t pad3[4];
};
XEN_ABI_SIZE(struct blkif_request_indirect, 64);
XEN_ABI_OFFSET(struct blkif_request_indirect, operation, 0);
XEN_ABI_OFFSET(struct blkif_request_indirect, indirect_op, 1);
XEN_ABI_OFFSET(struct blkif_request_indirect, nr_segments, 2);
MICA_ABI_OFFSET(struct blkif_request_indirect, pad, 4);
XEN_ABI_OFFSET(struct blkif_request_indirect, id, 8);
XEN_ABI_OFFSET(struct blkif_request_indirect, sector_number, 16);
XEN_ABI_OFFSET(struct blkif_request_indirect, handle, 24);
MICA_ABI_OFFSET(struct blkif_request_indirect, pad2, 26);
XEN_ABI_OFFSET(struct blkif_request_indirect, indirect_grefs, 28);
MICA_ABI_OFFSET(struct blkif_request_indirect, pad3, 60);

#define BLKIF_SEGMENTS_PER_INDIRECT_PAGE 512u   /* Mica-only name: 4096 / 8 */

struct blkif_response {
    uint64_t id;                /* the request's id */
    uint8_t operation;          /* the request's operation */
    uint8_t pad;
    int16_t status;             /* BLKIF_RSP_* */
    uint8_t pad2[4];
};
XEN_ABI_SIZE(struct blkif_response, 16);
XEN_ABI_OFFSET(struct blkif_response, id, 0);
XEN_ABI_OFFSET(struct blkif_response, operation, 8);
MICA_ABI_OFFSET(struct blkif_response, pad, 9);
XEN_ABI_OFFSET(struct blkif_response, status, 10);
MICA_ABI_OFFSET(struct blkif_response, pad2, 12);

/* One slot of the ring: every request form and the response overlay. */
union blkif_sring_entry {
    struct blkif_request req;
    struct blkif_response rsp;
};
XEN_ABI_SIZE(union blkif_sring_entry, 112);

struct blkif_sring {
    struct pv_sring_hdr hdr;
    union blkif_sring_entry ring[];
};
MICA_ABI_SIZE(struct blkif_sring, 64);
MICA_ABI_OFFSET(struct blkif_sring, hdr, 0);
XEN_ABI_OFFSET(struct blkif_sring, ring, 64);

/* Slots of a one-page ring: (4096 - 64) / 112 = 36, rounded down to 32. */
#define BLKIF_RING_SLOTS_1PAGE PV_RING_SLOTS(4096, sizeof(union blkif_sring_entry))
_Static_assert(BLKIF_RING_SLOTS_1PAGE == 32, "one-page blkif ring");

#endif
