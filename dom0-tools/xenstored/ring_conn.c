#include "ring_conn.h"

#include "log.h"

enum xs_pump_result xs_ring_conn_pump(struct xs_conn *c, struct xsw_domain_interface *intf)
{
    bool moved = false;

    if (xs_ring_handle_reconnect(intf)) {
        xs_conn_drop_watches(c);
        xs_conn_drop_txns(c);
        xs_buf_clear(&c->out);
        xs_reader_init(&c->reader);
        c->broken = false;
        moved = true;
    }
    if (c->broken)
        return XS_PUMP_BROKEN;

    /* Replies first: a guest waiting on a full response ring must be
     * drained before we take more of its requests (and queue more for it). */
    for (int round = 0; round < 2; round++) {
        while (xs_buf_pending(&c->out) > 0) {
            long n = xs_ring_write_responses(intf, xs_buf_front(&c->out),
                                             xs_buf_pending(&c->out));
            if (n < 0)
                goto corrupt;
            if (n == 0)
                break;
            xs_buf_consume(&c->out, (size_t)n);
            moved = true;
        }
        if (round == 1 || xs_buf_pending(&c->out) > c->d->quota.outq_bytes)
            break;
        uint8_t buf[XSW_RING_SIZE];
        long n = xs_ring_read_requests(intf, buf, sizeof(buf));
        if (n < 0)
            goto corrupt;
        if (n > 0) {
            moved = true;
            if (xs_conn_feed(c, buf, (size_t)n) != 0) {
                __atomic_store_n(&intf->error, XSW_ERROR_PROTO, __ATOMIC_RELEASE);
                return XS_PUMP_BROKEN;
            }
        }
    }
    return moved ? XS_PUMP_NOTIFY : XS_PUMP_IDLE;

corrupt:
    xs_log("domain %u: ring indexes are corrupt; no longer serving it", c->who.domid);
    c->broken = true;
    return XS_PUMP_BROKEN;
}
