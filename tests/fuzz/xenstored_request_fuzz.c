/* libFuzzer target: arbitrary bytes as a client stream into xenstored.
 *
 * The first byte picks who is talking (dom0 over the socket or a guest),
 * the rest is fed in chunks whose sizes come from the input too, so
 * framing across reads is exercised.  Every message goes through the
 * request parser and the handlers against a real store; the store's own
 * consistency check must hold afterwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "proto.h"

static struct xs_daemon daemon_state;
static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (xs_daemon_init(&daemon_state) != 0)
            abort();
        ready = true;
    }
    if (size < 2)
        return 0;

    /* The parser on its own, on the input taken as one message. */
    if (size >= sizeof(struct xsw_header)) {
        static uint8_t payload[XSW_PAYLOAD_MAX + 1];
        static struct xs_request rq;
        struct xsw_header h;
        memcpy(&h, data, sizeof(h));
        size_t len = size - sizeof(h);
        if (len > XSW_PAYLOAD_MAX)
            len = XSW_PAYLOAD_MAX;
        h.len = (uint32_t)len;
        memcpy(payload, data + sizeof(h), len);
        payload[len] = '\0';
        if (xs_request_parse(&h, payload, &rq) == 0) {
            for (unsigned i = 0; i < rq.nargs; i++)
                if ((const uint8_t *)rq.args[i] < payload ||
                    (const uint8_t *)rq.args[i] + strlen(rq.args[i]) > payload + len)
                    abort();
        }
    }

    /* A fresh store now and then keeps inputs independent enough while
     * still letting state from earlier inputs reach odd corners. */
    if (daemon_state.store.nodes.count > 5000) {
        xs_daemon_destroy(&daemon_state);
        if (xs_daemon_init(&daemon_state) != 0)
            abort();
    }

    bool privileged = data[0] & 1;
    uint32_t domid = privileged ? 0 : 1 + (data[0] >> 1);
    size_t chunk = 1 + data[1] % 64;
    data += 2;
    size -= 2;

    struct xs_conn *c = xs_conn_new(&daemon_state, domid, privileged);
    if (!c)
        abort();
    while (size > 0) {
        size_t n = size < chunk ? size : chunk;
        if (xs_conn_feed(c, data, n) != 0)
            break;
        data += n;
        size -= n;
        /* Nobody reads the replies: drop them as a client would consume. */
        xs_buf_clear(&c->out);
    }
    xs_conn_free(c);
    for (struct xs_conn *o = daemon_state.conns; o; o = o->next)
        xs_buf_clear(&o->out);

    /* The full check walks every node and every domain's counter: worth
     * doing regularly, too slow to do for every input. */
    static unsigned inputs;
    char why[256];
    if (++inputs % 64 == 0 && xs_store_check(&daemon_state.store, why, sizeof(why)) != 0)
        abort();
    return 0;
}
