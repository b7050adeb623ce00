/*
 * xenbus client over the xenstore ring (see xenbus.h).  The ring page
 * layout and message format are those of dom0-tools/include/
 * xenstore_wire.h (the same ABI the store serves).  The store is a peer
 * we do not trust blindly: indices that claim more than a ring's worth
 * and replies longer than the protocol allows end the call with an error.
 */
#include "xenbus.h"

#include <stdarg.h>

#include "pv_error.h"
#include "pv_wait.h"
#include "xenstore_wire.h"

#define XS_REPLY_TIMEOUT_S 30
#define XS_WATCH_QUEUE 4

static struct xsw_domain_interface *ring;
static evtchn_port_t port;
static uint32_t next_req_id = 1;
static char err[96];
static char reply[XSW_PAYLOAD_MAX + 1];

/* Tokens of watch events received while waiting for something else. */
static char watch_queue[XS_WATCH_QUEUE][32];
static unsigned watch_queued;

const char *xs_error(void)
{
    return err;
}

#define fail(...) pv_fail(err, sizeof(err), __VA_ARGS__)

int xs_init(void)
{
    uint64_t mfn = start_info->store_mfn, pfn = m2p(mfn);

    if (!mfn || !start_info->store_evtchn)
        return fail("start_info names no xenstore page or port");
    /* The builder puts the page in our bootstrap region, so it is mapped
     * at its pseudo-physical address already. */
    if (pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != mfn ||
        VIRT_BASE + pfn * PAGE_SIZE >= bootstrap_end())
        return fail("xenstore mfn %#lx is not a mapped page of ours", mfn);
    ring = (struct xsw_domain_interface *)(VIRT_BASE + pfn * PAGE_SIZE);
    port = start_info->store_evtchn;
    err[0] = 0;
    return 0;
}

static uint32_t rd(const uint32_t *p)
{
    return *(const volatile uint32_t *)p;
}

static void wr(uint32_t *p, uint32_t v)
{
    *(volatile uint32_t *)p = v;
}

/* Copies len bytes into the request ring, waiting for room. */
static int ring_put(const void *data, uint32_t len, uint64_t deadline)
{
    const char *src = data;

    while (len) {
        pv_port_ack(port);
        uint32_t cons = rd(&ring->req_cons), prod = ring->req_prod;
        uint32_t used = prod - cons;
        if (used > XSW_RING_SIZE)
            return fail("store's req_cons %u is past our req_prod %u", cons, prod);
        uint32_t room = XSW_RING_SIZE - used;
        if (!room) {
            if (pv_deadline_passed(deadline))
                return fail("store did not drain the request ring in %u s", XS_REPLY_TIMEOUT_S);
            pv_port_wait(port, deadline);
            continue;
        }
        uint32_t n = len < room ? len : room;
        for (uint32_t i = 0; i < n; i++)
            ring->req[XSW_RING_MASK(prod + i)] = src[i];
        __asm__ volatile("" ::: "memory");       /* bytes before the index */
        wr(&ring->req_prod, prod + n);
        evtchn_send(port);
        src += n;
        len -= n;
    }
    return 0;
}

/* Copies len bytes out of the response ring, waiting for them. */
static int ring_get(void *data, uint32_t len, uint64_t deadline)
{
    char *dst = data;

    while (len) {
        pv_port_ack(port);
        uint32_t cons = ring->rsp_cons, prod = rd(&ring->rsp_prod);
        uint32_t avail = prod - cons;
        if (avail > XSW_RING_SIZE)
            return fail("store's rsp_prod %u is more than a ring past rsp_cons %u", prod, cons);
        if (!avail) {
            if (pv_deadline_passed(deadline))
                return fail("no reply from the store in %u s", XS_REPLY_TIMEOUT_S);
            pv_port_wait(port, deadline);
            continue;
        }
        __asm__ volatile("" ::: "memory");       /* index before the bytes */
        uint32_t n = len < avail ? len : avail;
        for (uint32_t i = 0; i < n; i++)
            dst[i] = ring->rsp[XSW_RING_MASK(cons + i)];
        __asm__ volatile("" ::: "memory");
        wr(&ring->rsp_cons, cons + n);
        evtchn_send(port);
        dst += n;
        len -= n;
    }
    return 0;
}

static void queue_watch_event(uint32_t len)
{
    /* payload: path NUL token NUL */
    size_t plen = strnlen(reply, len);
    const char *token = plen < len ? reply + plen + 1 : "";

    if (watch_queued < XS_WATCH_QUEUE) {
        snprintk(watch_queue[watch_queued], sizeof(watch_queue[0]), "%s", token);
        watch_queued++;
    }
}

/* Reads one message into reply[]; returns its type, or -1. */
static int read_message(struct xsw_header *h, uint64_t deadline)
{
    if (ring_get(h, sizeof(*h), deadline))
        return -1;
    if (h->len > XSW_PAYLOAD_MAX)
        return fail("store sent a %u-byte payload (limit %u)", h->len, XSW_PAYLOAD_MAX);
    if (ring_get(reply, h->len, deadline))
        return -1;
    reply[h->len] = 0;
    return (int)h->type;
}

/* Sends type with the given NUL-separated parts, waits for its reply. */
static int transact(uint32_t type, const char *const *parts, unsigned nparts, bool nul_last)
{
    uint64_t deadline = pv_deadline_s(XS_REPLY_TIMEOUT_S);
    struct xsw_header h = { .type = type, .req_id = next_req_id++, .tx_id = 0, .len = 0 };

    if (!ring && xs_init())
        return -1;
    for (unsigned i = 0; i < nparts; i++)
        h.len += strlen(parts[i]) + ((i + 1 < nparts || nul_last) ? 1 : 0);
    if (h.len > XSW_PAYLOAD_MAX)
        return fail("request of %u bytes is over the store's limit", h.len);
    if (ring_put(&h, sizeof(h), deadline))
        return -1;
    for (unsigned i = 0; i < nparts; i++) {
        bool nul = i + 1 < nparts || nul_last;
        if (ring_put(parts[i], strlen(parts[i]) + (nul ? 1 : 0), deadline))
            return -1;
    }
    for (;;) {
        struct xsw_header r;
        int t = read_message(&r, deadline);
        if (t < 0)
            return -1;
        if (t == XSW_WATCH_EVENT) {
            queue_watch_event(r.len);
            continue;
        }
        if (r.req_id != h.req_id)
            return fail("reply for request %u while waiting for %u", r.req_id, h.req_id);
        if (t == XSW_ERROR)
            return fail("%s", reply);
        if ((uint32_t)t != type)
            return fail("reply of type %d to a request of type %u", t, type);
        return (int)r.len;
    }
}

int xs_read(const char *path, char *buf, size_t len)
{
    const char *parts[] = { path };
    int n = transact(XSW_READ, parts, 1, true);

    if (n < 0)
        return n;
    if ((size_t)n >= len)
        return fail("value of %s is %d bytes, buffer %zu", path, n, len);
    memcpy(buf, reply, (size_t)n);
    buf[n] = 0;
    return n;
}

int xs_read_ulong(const char *path, unsigned long *v)
{
    char buf[24];
    unsigned long x = 0;
    int n = xs_read(path, buf, sizeof(buf));

    if (n < 0)
        return n;
    if (n == 0)
        return fail("%s is empty, not a number", path);
    for (int i = 0; i < n; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return fail("%s is \"%s\", not a number", path, buf);
        x = x * 10 + (unsigned long)(buf[i] - '0');
    }
    *v = x;
    return 0;
}

int xs_write(const char *path, const char *value)
{
    const char *parts[] = { path, value };

    return transact(XSW_WRITE, parts, 2, false) < 0 ? -1 : 0;
}

int xs_printf(const char *path, const char *fmt, ...)
{
    char value[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintk(value, sizeof(value), fmt, ap);
    va_end(ap);
    return xs_write(path, value);
}

int xs_directory(const char *path, char *buf, size_t len)
{
    const char *parts[] = { path };
    int n = transact(XSW_DIRECTORY, parts, 1, true);

    if (n < 0)
        return n;
    if ((size_t)n > len)
        return fail("listing of %s is %d bytes, buffer %zu", path, n, len);
    memcpy(buf, reply, (size_t)n);
    return n;
}

int xs_watch(const char *path, const char *token)
{
    const char *parts[] = { path, token };

    return transact(XSW_WATCH, parts, 2, true) < 0 ? -1 : 0;
}

int xs_unwatch(const char *path, const char *token)
{
    const char *parts[] = { path, token };

    return transact(XSW_UNWATCH, parts, 2, true) < 0 ? -1 : 0;
}

int xs_wait_watch(const char *token, uint64_t deadline)
{
    for (;;) {
        for (unsigned i = 0; i < watch_queued; i++) {
            if (strcmp(watch_queue[i], token) == 0) {
                watch_queued--;
                memcpy(watch_queue[i], watch_queue[watch_queued], sizeof(watch_queue[0]));
                return 0;
            }
        }
        watch_queued = 0;             /* other tokens: nobody waits for them */
        struct xsw_header r;
        if (read_message(&r, deadline) < 0)
            return -1;
        if (r.type != XSW_WATCH_EVENT)
            return fail("unexpected message type %u outside a request", r.type);
        queue_watch_event(r.len);
    }
}

int xs_wait_ulong(const char *path, unsigned long want, uint64_t deadline)
{
    unsigned long v = ~0ul;
    int rc = 0;

    if (xs_watch(path, "wait"))
        return -1;
    for (;;) {
        /* The watch fires once at once; re-read after every event. */
        if (xs_read_ulong(path, &v) == 0 && v == want)
            break;
        if (xs_wait_watch("wait", deadline)) {
            rc = fail("%s is %lu, still not %lu", path, v, want);
            break;
        }
    }
    xs_unwatch(path, "wait");
    return rc;
}
