/* PV network front end (see netfront.h). */
#include "netfront.h"

#include <pv/xenbus.h>
#include "gnttab.h"
#include "pv_error.h"
#include "pv_wait.h"
#include "xenbus.h"

#define NETFRONT_REPLY_S 30

static uint8_t tx_ring_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint8_t rx_ring_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint8_t tx_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint8_t rx_pages[NETFRONT_RX_PAGES][4096]
    __attribute__((aligned(4096), section(".bss.page_aligned")));
static char err[160];

const char *netfront_error(void)
{
    return err;
}

#define fail(...) pv_fail(err, sizeof(err), __VA_ARGS__)

static int hexdigit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
           c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "xx:xx:xx:xx:xx:xx" */
static bool parse_mac(const char *s, uint8_t mac[6])
{
    for (unsigned i = 0; i < 6; i++, s += 3) {
        int hi = hexdigit(s[0]), lo = hexdigit(s[1]);
        if (hi < 0 || lo < 0 || s[2] != (i < 5 ? ':' : 0))
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Offers rx page id to the back end in the next rx slot. */
static void post_rx(struct netfront *n, unsigned id)
{
    pv_ring_idx_t i = n->rxr.req_prod_pvt;
    struct netif_rx_request *r = &n->rx->ring[pv_ring_slot(n->rxr.slots, i)].req;

    r->id = (uint16_t)id;
    r->gref = (grant_ref_t)n->rx_page_ref[id];
    n->rxr.req_prod_pvt = i + 1;
}

int netfront_connect(struct netfront *n, const char *devid, unsigned wait_s)
{
    struct xenbus_dev *d = &n->dev;
    char mac[24];
    uint64_t deadline;
    long rc;

    memset(n, 0, sizeof(*n));
    n->tx_ref = n->rx_ref = -1;
    if (xs_init())
        return fail("xenstore: %s", xs_error());
    if ((rc = gnttab_init()))
        return fail("grant table setup: %ld", rc);
    if (xenbus_dev_find(d, "vif", devid, wait_s, err, sizeof(err)))
        return -1;
    if (xenbus_dev_read_fe(d, "mac", mac, sizeof(mac)) < 0 || !parse_mac(mac, n->mac))
        return fail("%s/mac: %s", d->fe, xs_error());
    deadline = pv_deadline_s(wait_s);
    if (xenbus_dev_wait_be_state(d, XenbusStateInitWait, deadline))
        return fail("back end %s never InitWait: %s", d->be, xs_error());

    memset(tx_ring_page, 0, sizeof(tx_ring_page));
    memset(rx_ring_page, 0, sizeof(rx_ring_page));
    n->tx = (struct netif_tx_sring *)tx_ring_page;
    n->rx = (struct netif_rx_sring *)rx_ring_page;
    pv_sring_init(&n->tx->hdr);
    pv_sring_init(&n->rx->hdr);
    pv_front_ring_init(&n->txr, &n->tx->hdr, NETIF_TX_RING_SLOTS_1PAGE);
    pv_front_ring_init(&n->rxr, &n->rx->hdr, NETIF_RX_RING_SLOTS_1PAGE);
    n->tx_ref = gnttab_grant_page((uint16_t)d->be_id, tx_ring_page, false);
    n->rx_ref = gnttab_grant_page((uint16_t)d->be_id, rx_ring_page, false);
    if (n->tx_ref < 0 || n->rx_ref < 0)
        return fail("no free grant references for the rings");
    for (unsigned i = 0; i < NETFRONT_RX_PAGES; i++) {
        if ((n->rx_page_ref[i] = gnttab_grant_page((uint16_t)d->be_id, rx_pages[i], false)) < 0)
            return fail("no free grant references for the receive pages");
        post_rx(n, i);
    }
    if ((rc = pv_port_alloc((domid_t)d->be_id, &n->port)))
        return fail("EVTCHNOP_alloc_unbound for d%lu: %ld", d->be_id, rc);

    if (xenbus_dev_write_fe(d, "tx-ring-ref", "%d", n->tx_ref) ||
        xenbus_dev_write_fe(d, "rx-ring-ref", "%d", n->rx_ref) ||
        xenbus_dev_write_fe(d, "event-channel", "%u", n->port) ||
        xenbus_dev_write_fe(d, "request-rx-copy", "1") ||
        xenbus_dev_write_fe(d, "feature-rx-notify", "1") ||
        xenbus_dev_set_state(d, XenbusStateConnected))
        return fail("writing %s: %s", d->fe, xs_error());
    if (xenbus_dev_wait_be_state(d, XenbusStateConnected, deadline))
        return fail("back end %s never Connected: %s", d->be, xs_error());
    /* The receive pages, now that the back end reads the ring. */
    if (pv_front_ring_push(&n->rxr))
        evtchn_send(n->port);
    return 0;
}

int netfront_send(struct netfront *n, const void *frame, unsigned len)
{
    pv_ring_idx_t i = n->txr.req_prod_pvt;
    struct netif_tx_request *r = &n->tx->ring[pv_ring_slot(n->txr.slots, i)].req;
    uint64_t deadline = pv_deadline_s(NETFRONT_REPLY_S);
    int ref, status;

    if (len == 0 || len > sizeof(tx_page) || !pv_front_ring_free(&n->txr))
        return fail("send: %u bytes, ring %s", len, pv_front_ring_free(&n->txr) ? "ok" : "full"),
               -100;
    memcpy(tx_page, frame, len);
    if ((ref = gnttab_grant_page((uint16_t)n->dev.be_id, tx_page, true)) < 0)
        return fail("send: out of grant references"), -100;
    *r = (struct netif_tx_request){ .gref = (grant_ref_t)ref, .offset = 0, .flags = 0,
                                    .id = (uint16_t)i, .size = (uint16_t)len };
    n->txr.req_prod_pvt = i + 1;
    if (pv_front_ring_push(&n->txr))
        evtchn_send(n->port);
    for (;;) {
        pv_port_ack(n->port);
        if (pv_front_ring_arm(&n->txr))
            break;
        if (pv_deadline_passed(deadline)) {
            fail("no tx response in %u s", NETFRONT_REPLY_S);
            return -100;
        }
        pv_port_wait(n->port, deadline);
    }
    const struct netif_tx_response *rsp =
        &n->tx->ring[pv_ring_slot(n->txr.slots, n->txr.rsp_cons)].rsp;
    uint16_t id = *(const volatile uint16_t *)&rsp->id;
    status = *(const volatile int16_t *)&rsp->status;
    n->txr.rsp_cons++;
    if (id != (uint16_t)i) {
        fail("tx response for id %u, sent %u", id, (unsigned)(uint16_t)i);
        status = -100;
    }
    if (!gnttab_end((unsigned)ref) && status != -100) {
        fail("tx grant %d still mapped after its response", ref);
        status = -100;
    }
    return status;
}

int netfront_receive(struct netfront *n, void *buf, unsigned len, uint64_t deadline)
{
    for (;;) {
        pv_port_ack(n->port);
        if (pv_front_ring_arm(&n->rxr))
            break;
        if (pv_deadline_passed(deadline))
            return fail("no frame received");
        pv_port_wait(n->port, deadline);
    }
    const struct netif_rx_response *s =
        &n->rx->ring[pv_ring_slot(n->rxr.slots, n->rxr.rsp_cons)].rsp;
    struct netif_rx_response rsp = *(const volatile struct netif_rx_response *)s;
    n->rxr.rsp_cons++;
    if (rsp.id >= NETFRONT_RX_PAGES)
        return fail("rx response names page %u of %u", rsp.id, NETFRONT_RX_PAGES);
    int got = -1;
    if (rsp.status <= 0)
        fail("rx response status %d", rsp.status);
    else if (rsp.offset + (unsigned)rsp.status > 4096 || (rsp.flags & NETRXF_more_data))
        fail("rx response of %d bytes at %u, flags %#x: not one frame in one page",
             rsp.status, rsp.offset, rsp.flags);
    else {
        got = rsp.status < (int)len ? rsp.status : (int)len;
        memcpy(buf, rx_pages[rsp.id] + rsp.offset, (size_t)got);
    }
    /* The page goes back to the back end either way. */
    post_rx(n, rsp.id);
    if (pv_front_ring_push(&n->rxr))
        evtchn_send(n->port);
    return got;
}

int netfront_close(struct netfront *n, unsigned wait_s)
{
    if (xenbus_dev_close(&n->dev, pv_deadline_s(wait_s)))
        return fail("closing %s: %s", n->dev.fe, xs_error());
    bool ok = gnttab_end((unsigned)n->tx_ref) & gnttab_end((unsigned)n->rx_ref);
    for (unsigned i = 0; i < NETFRONT_RX_PAGES; i++)
        ok &= gnttab_end((unsigned)n->rx_page_ref[i]);
    return ok ? 0 : fail("grants still mapped after the back end closed");
}
