/*
 * PV block front end of Mica's test kernels: one virtual disk, one ring
 * page, requests with one data page per segment, answered by whatever back
 * end the toolstack named (Linux's xen-blkback in dom0).
 *
 * blkfront_connect() runs the blkif handshake of the device under
 * device/vbd/<id>: it waits for the back end's InitWait, grants the ring,
 * allocates the event channel, writes ring-ref, event-channel and
 * protocol, goes Initialised, waits for the back end's Connected and reads
 * the disk's size, then goes Connected.  blkfront_rw() does one
 * synchronous request.  The raw calls let hostile tests put any request
 * (or any req_prod) on the ring.
 */
#ifndef MICA_PV_BLKFRONT_H
#define MICA_PV_BLKFRONT_H

#include "guest.h"
#include <pv/blkif.h>
#include <pv/xenbus.h>
#include "xenbus_dev.h"

struct blkfront {
    struct xenbus_dev dev;      /* device/vbd/<id> and its back end */
    evtchn_port_t port;
    int ring_ref;
    struct blkif_sring *sring;
    struct pv_front_ring ring;
    unsigned long sectors;      /* disk size in 512-byte sectors */
    unsigned long sector_size;  /* the back end's sector-size */
    unsigned long info;         /* VDISK_* */
    uint64_t next_id;
};

/* Connects the first vbd in device/vbd (devid NULL) or the named one,
 * waiting up to wait_s seconds for it to appear.  0, or -1 with a message
 * in blkfront_error(). */
int blkfront_connect(struct blkfront *b, const char *devid, unsigned wait_s);

/* One read or write of nsect 512-byte sectors from `sector`, through the
 * page-aligned buffer buf (nsect <= 8 * BLKIF_MAX_SEGMENTS_PER_REQUEST).
 * Returns the response status (BLKIF_RSP_*) or -100 on a protocol failure. */
int blkfront_rw(struct blkfront *b, uint8_t op, uint64_t sector, void *buf, unsigned nsect);

/* Raw access for hostile tests: queue a copy of req (its id is replaced
 * by a fresh one, returned), publish, notify. */
uint64_t blkfront_post(struct blkfront *b, const struct blkif_request *req);
/* Publishes an arbitrary req_prod and notifies the back end. */
void blkfront_push_raw(struct blkfront *b, pv_ring_idx_t req_prod);
/* Waits for the next response; 0, or -1 when none came by the deadline or
 * the back end broke the protocol. */
int blkfront_next_response(struct blkfront *b, struct blkif_response *rsp, uint64_t deadline);

/* Goes Closing, waits for the back end to close, then Closed; ends the
 * ring grant.  0 or -1. */
int blkfront_close(struct blkfront *b, unsigned wait_s);

const char *blkfront_error(void);

#endif
