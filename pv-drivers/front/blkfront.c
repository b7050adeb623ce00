/* PV block front end (see blkfront.h). */
#include "blkfront.h"

#include "gnttab.h"
#include "pv_error.h"
#include "pv_wait.h"
#include "xenbus.h"

#define BLKFRONT_REPLY_S 30

static uint8_t ring_page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));
static char err[160];

const char *blkfront_error(void)
{
    return err;
}

#define fail(...) pv_fail(err, sizeof(err), __VA_ARGS__)

int blkfront_connect(struct blkfront *b, const char *devid, unsigned wait_s)
{
    struct xenbus_dev *d = &b->dev;
    uint64_t deadline;
    long rc;

    memset(b, 0, sizeof(*b));
    b->ring_ref = -1;
    if (xs_init())
        return fail("xenstore: %s", xs_error());
    if ((rc = gnttab_init()))
        return fail("grant table setup: %ld", rc);
    if (xenbus_dev_find(d, "vbd", devid, wait_s, err, sizeof(err)))
        return -1;
    deadline = pv_deadline_s(wait_s);
    if (xenbus_dev_wait_be_state(d, XenbusStateInitWait, deadline))
        return fail("back end %s never InitWait: %s", d->be, xs_error());

    b->sring = (struct blkif_sring *)ring_page;
    memset(ring_page, 0, sizeof(ring_page));
    pv_sring_init(&b->sring->hdr);
    pv_front_ring_init(&b->ring, &b->sring->hdr, pv_ring_slots(sizeof(ring_page),
                                                               sizeof(b->sring->ring[0])));
    b->ring_ref = gnttab_grant_page((uint16_t)d->be_id, ring_page, false);
    if (b->ring_ref < 0)
        return fail("no free grant reference for the ring");
    if ((rc = pv_port_alloc((domid_t)d->be_id, &b->port)))
        return fail("EVTCHNOP_alloc_unbound for d%lu: %ld", d->be_id, rc);

    if (xenbus_dev_write_fe(d, "ring-ref", "%d", b->ring_ref) ||
        xenbus_dev_write_fe(d, "event-channel", "%u", b->port) ||
        xenbus_dev_write_fe(d, "protocol", "x86_64-abi") ||
        xenbus_dev_set_state(d, XenbusStateInitialised))
        return fail("writing %s: %s", d->fe, xs_error());
    if (xenbus_dev_wait_be_state(d, XenbusStateConnected, deadline))
        return fail("back end %s never Connected: %s", d->be, xs_error());
    if (xenbus_dev_read_be_ulong(d, "sectors", &b->sectors) ||
        xenbus_dev_read_be_ulong(d, "sector-size", &b->sector_size))
        return fail("disk size in %s: %s", d->be, xs_error());
    if (xenbus_dev_read_be_ulong(d, "info", &b->info))
        b->info = 0;                 /* optional */
    if (xenbus_dev_set_state(d, XenbusStateConnected))
        return fail("writing %s/state: %s", d->fe, xs_error());
    return 0;
}

uint64_t blkfront_post(struct blkfront *b, const struct blkif_request *req)
{
    pv_ring_idx_t i = b->ring.req_prod_pvt;
    struct blkif_request *slot = &b->sring->ring[pv_ring_slot(b->ring.slots, i)].req;
    uint64_t id = ++b->next_id;

    *slot = *req;
    slot->id = id;
    b->ring.req_prod_pvt = i + 1;
    if (pv_front_ring_push(&b->ring))
        evtchn_send(b->port);
    return id;
}

void blkfront_push_raw(struct blkfront *b, pv_ring_idx_t req_prod)
{
    pv_wmb();
    pv_ring_write_idx(&b->sring->hdr.req_prod, req_prod);
    evtchn_send(b->port);
}

int blkfront_next_response(struct blkfront *b, struct blkif_response *rsp, uint64_t deadline)
{
    for (;;) {
        pv_port_ack(b->port);
        if (pv_front_ring_arm(&b->ring)) {
            const struct blkif_response *s =
                &b->sring->ring[pv_ring_slot(b->ring.slots, b->ring.rsp_cons)].rsp;
            *rsp = *(const volatile struct blkif_response *)s;
            b->ring.rsp_cons++;
            return 0;
        }
        if (pv_deadline_passed(deadline))
            return fail("no response from the back end (rsp_prod %u, rsp_cons %u)",
                        pv_ring_read_idx(&b->sring->hdr.rsp_prod), b->ring.rsp_cons);
        pv_port_wait(b->port, deadline);
    }
}

int blkfront_rw(struct blkfront *b, uint8_t op, uint64_t sector, void *buf, unsigned nsect)
{
    struct blkif_request req = { .operation = op, .handle = 0, .sector_number = sector };
    struct blkif_response rsp;
    unsigned pages = (nsect + 7) / 8;
    int refs[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    int status;

    if (!nsect || pages > BLKIF_MAX_SEGMENTS_PER_REQUEST || ((uint64_t)buf & 0xfff))
        return fail("blkfront_rw: %u sectors at %p is not 1..%u sectors in whole pages",
                    nsect, buf, 8 * BLKIF_MAX_SEGMENTS_PER_REQUEST), -100;
    if (pv_front_ring_free(&b->ring) == 0)
        return fail("ring full"), -100;
    for (unsigned i = 0; i < pages; i++) {
        /* A write only needs the back end to read our page. */
        refs[i] = gnttab_grant_page((uint16_t)b->dev.be_id, (uint8_t *)buf + i * PAGE_SIZE,
                                    op == BLKIF_OP_WRITE);
        if (refs[i] < 0) {
            while (i--)
                gnttab_end((unsigned)refs[i]);
            return fail("out of grant references"), -100;
        }
        unsigned last = nsect - i * 8 >= 8 ? 7 : nsect - i * 8 - 1;
        req.seg[i] = (struct blkif_request_segment){ .gref = (grant_ref_t)refs[i],
                                                     .first_sect = 0, .last_sect = (uint8_t)last };
    }
    req.nr_segments = (uint8_t)pages;
    uint64_t id = blkfront_post(b, &req);
    if (blkfront_next_response(b, &rsp, pv_deadline_s(BLKFRONT_REPLY_S)))
        status = -100;
    else if (rsp.id != id || rsp.operation != op) {
        fail("response id %lu op %u for request %lu op %u", rsp.id, rsp.operation, id, op);
        status = -100;
    }
    else
        status = rsp.status;
    for (unsigned i = 0; i < pages; i++)
        if (!gnttab_end((unsigned)refs[i]) && status != -100) {
            fail("grant %d still mapped by the back end after its response", refs[i]);
            status = -100;
        }
    return status;
}

int blkfront_close(struct blkfront *b, unsigned wait_s)
{
    if (xenbus_dev_close(&b->dev, pv_deadline_s(wait_s)))
        return fail("closing %s: %s", b->dev.fe, xs_error());
    if (b->ring_ref >= 0 && !gnttab_end((unsigned)b->ring_ref))
        return fail("ring grant %d still mapped after the back end closed", b->ring_ref);
    b->ring_ref = -1;
    return 0;
}
