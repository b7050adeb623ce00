/*
 * PV network front end of Mica's test kernels: one queue, one-page tx and
 * rx rings, one frame per tx request (no fragments, no offloads), receive
 * by copy into a few posted pages ("request-rx-copy", the only mode
 * Linux's netback serves).  Enough to send a frame and receive one.
 *
 * netfront_connect(): find device/vif/<id>, wait for the back end's
 * InitWait, grant both rings, allocate the event channel, write tx-ring-ref,
 * rx-ring-ref, event-channel, request-rx-copy and feature-rx-notify, post
 * the receive pages, go Connected and wait for the back end's Connected.
 */
#ifndef MICA_PV_NETFRONT_H
#define MICA_PV_NETFRONT_H

#include "guest.h"
#include <pv/netif.h>
#include "xenbus_dev.h"

#define NETFRONT_RX_PAGES 8u

struct netfront {
    struct xenbus_dev dev;      /* device/vif/<id> and its back end */
    evtchn_port_t port;
    int tx_ref, rx_ref;
    struct netif_tx_sring *tx;
    struct netif_rx_sring *rx;
    struct pv_front_ring txr, rxr;
    uint8_t mac[6];             /* from our "mac" node */
    int rx_page_ref[NETFRONT_RX_PAGES];
};

int netfront_connect(struct netfront *n, const char *devid, unsigned wait_s);
/* Sends one frame (at most a page) and waits for its tx response;
 * returns the status (NETIF_RSP_*) or -100 on a protocol failure. */
int netfront_send(struct netfront *n, const void *frame, unsigned len);
/* Copies the next received frame into buf; returns its length, or -1
 * (nothing by the deadline, or a broken response). */
int netfront_receive(struct netfront *n, void *buf, unsigned len, uint64_t deadline);
/* Closes the device and ends every grant. */
int netfront_close(struct netfront *n, unsigned wait_s);

const char *netfront_error(void);

#endif
