/* Ring-page logic on a plain memory buffer standing in for a guest page. */
#define UNIT_SUITE "xenstored/ring"
#include "unit.h"

#include <stdlib.h>

#include "ring_conn.h"

/* The guest's side, as a PV kernel would drive it. */
static size_t guest_send(struct xsw_domain_interface *in, const void *data, size_t len)
{
    size_t sent = 0;
    const uint8_t *p = data;
    while (sent < len && in->req_prod - in->req_cons < XSW_RING_SIZE) {
        in->req[XSW_RING_MASK(in->req_prod)] = (char)p[sent++];
        in->req_prod++;
    }
    return sent;
}

static size_t guest_recv(struct xsw_domain_interface *in, void *data, size_t max)
{
    size_t got = 0;
    uint8_t *p = data;
    while (got < max && in->rsp_cons != in->rsp_prod) {
        p[got++] = (uint8_t)in->rsp[XSW_RING_MASK(in->rsp_cons)];
        in->rsp_cons++;
    }
    return got;
}

UNIT_TEST(requests_wrap_around)
{
    struct xsw_domain_interface *in = calloc(1, sizeof(*in));
    /* Indexes need not start at 0, and may wrap the u32. */
    in->req_cons = in->req_prod = 0xfffffff0u;
    uint8_t msg[700], out[1024];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    for (int round = 0; round < 5; round++) {
        CHECK_EQ(guest_send(in, msg, sizeof(msg)), sizeof(msg));
        CHECK_EQ(xs_ring_read_requests(in, out, sizeof(out)), sizeof(msg));
        CHECK(memcmp(out, msg, sizeof(msg)) == 0);
    }
    CHECK_EQ(in->req_cons, in->req_prod);
    /* Partial reads leave the rest in place. */
    guest_send(in, msg, 10);
    CHECK_EQ(xs_ring_read_requests(in, out, 4), 4);
    CHECK_EQ(xs_ring_read_requests(in, out + 4, 100), 6);
    CHECK(memcmp(out, msg, 10) == 0);
    CHECK_EQ(xs_ring_read_requests(in, out, 100), 0);
    free(in);
}

UNIT_TEST(responses_respect_free_space)
{
    struct xsw_domain_interface *in = calloc(1, sizeof(*in));
    in->rsp_cons = in->rsp_prod = 1000;
    uint8_t data[1500], got[1500];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    CHECK_EQ(xs_ring_write_responses(in, data, sizeof(data)), XSW_RING_SIZE);
    CHECK_EQ(xs_ring_write_responses(in, data, 1), 0);        /* full: nothing overwritten */
    CHECK_EQ(guest_recv(in, got, 100), 100);
    CHECK_EQ(xs_ring_write_responses(in, data + XSW_RING_SIZE, sizeof(data) - XSW_RING_SIZE), 100);
    CHECK_EQ(guest_recv(in, got + 100, sizeof(got)), XSW_RING_SIZE);
    CHECK(memcmp(got, data, XSW_RING_SIZE + 100) == 0);
    free(in);
}

UNIT_TEST(corrupt_indexes_are_refused)
{
    struct xsw_domain_interface *in = calloc(1, sizeof(*in));
    uint8_t buf[XSW_RING_SIZE];
    in->req_cons = 0;
    in->req_prod = XSW_RING_SIZE + 1;        /* claims more than a ring holds */
    CHECK(xs_ring_read_requests(in, buf, sizeof(buf)) == -1);
    CHECK_EQ(in->error, XSW_ERROR_RINGIDX);

    in->error = 0;
    in->rsp_prod = 5;
    in->rsp_cons = 10;                       /* consumer ahead of producer */
    CHECK(xs_ring_write_responses(in, buf, 1) == -1);
    CHECK_EQ(in->error, XSW_ERROR_RINGIDX);
    free(in);
}

UNIT_TEST(reconnect_resets)
{
    struct xsw_domain_interface *in = calloc(1, sizeof(*in));
    xs_ring_advertise(in);
    CHECK(in->server_features & XSW_SERVER_FEATURE_RECONNECTION);
    CHECK(!xs_ring_handle_reconnect(in));
    in->req_prod = 17;
    in->connection = XSW_RECONNECT;
    CHECK(xs_ring_handle_reconnect(in));
    CHECK(in->req_prod == 0 && in->req_cons == 0 && in->connection == XSW_CONNECTED);
    free(in);
}

static size_t frame(uint8_t *out, uint32_t type, uint32_t req, const void *p, uint32_t len)
{
    struct xsw_header h = { type, req, 0, len };
    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), p, len);
    return sizeof(h) + len;
}

UNIT_TEST(conn_over_ring_end_to_end)
{
    struct xs_daemon *d = malloc(sizeof(*d));
    CHECK(xs_daemon_init(d) == 0);
    struct xs_conn *c = xs_conn_new(d, 3, false);
    struct xsw_domain_interface *in = calloc(1, sizeof(*in));
    in->req_cons = in->req_prod = in->rsp_cons = in->rsp_prod = 4000;

    /* GET_DOMAIN_PATH needs no permissions; many of them overflow the
     * response ring, so the pump must hold back and resume. */
    uint8_t req[64];
    size_t rlen = frame(req, XSW_GET_DOMAIN_PATH, 0, "3\0", 2);
    unsigned sent = 0, received = 0;
    uint8_t acc[8192];
    size_t have = 0;
    for (int iter = 0; iter < 1000 && received < 200; iter++) {
        while (sent < 200 && guest_send(in, req, 0) == 0 &&
               XSW_RING_SIZE - (in->req_prod - in->req_cons) >= rlen) {
            ((struct xsw_header *)req)->req_id = sent++;
            guest_send(in, req, rlen);
        }
        CHECK(xs_ring_conn_pump(c, in) != XS_PUMP_BROKEN);
        have += guest_recv(in, acc + have, sizeof(acc) - have);
        while (have >= sizeof(struct xsw_header)) {
            struct xsw_header h;
            memcpy(&h, acc, sizeof(h));
            if (have < sizeof(h) + h.len)
                break;
            CHECK_EQ(h.type, XSW_GET_DOMAIN_PATH);
            CHECK_EQ(h.req_id, received);
            CHECK(strcmp((char *)acc + sizeof(h), "/local/domain/3") == 0);
            received++;
            memmove(acc, acc + sizeof(h) + h.len, have - sizeof(h) - h.len);
            have -= sizeof(h) + h.len;
        }
    }
    CHECK_EQ(received, 200);

    /* An oversized header breaks the connection and flags the page. */
    struct xsw_header bad = { XSW_READ, 1, 0, XSW_PAYLOAD_MAX + 1 };
    guest_send(in, &bad, sizeof(bad));
    CHECK(xs_ring_conn_pump(c, in) == XS_PUMP_BROKEN);
    CHECK_EQ(in->error, XSW_ERROR_PROTO);
    /* The guest may ask to start over. */
    in->connection = XSW_RECONNECT;
    CHECK(xs_ring_conn_pump(c, in) == XS_PUMP_NOTIFY);
    CHECK(!c->broken);

    free(in);
    xs_daemon_destroy(d);
    free(d);
}

UNIT_MAIN()
