#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"

#define XS_PRIVILEGED_OUTQ_FACTOR 64

int xs_daemon_init(struct xs_daemon *d)
{
    memset(d, 0, sizeof(*d));
    xs_quota_defaults(&d->quota);
    if (xs_store_init(&d->store) != 0)
        return ENOMEM;
    /* Domain life-cycle events are for dom0 unless it grants more. */
    if (xs_perms_set_single(&d->special_introduce, 0, 0) != 0 ||
        xs_perms_set_single(&d->special_release, 0, 0) != 0) {
        xs_daemon_destroy(d);
        return ENOMEM;
    }
    d->next_conn_id = 1;
    return 0;
}

void xs_daemon_destroy(struct xs_daemon *d)
{
    while (d->domains) {
        struct xs_domain *dom = d->domains;
        d->domains = dom->next;
        if (d->transport && d->transport->detach)
            d->transport->detach(d, dom, d->transport->ctx);
        if (dom->conn)
            xs_conn_free(dom->conn);
        free(dom);
    }
    while (d->conns)
        xs_conn_free(d->conns);
    xs_perms_free(&d->special_introduce);
    xs_perms_free(&d->special_release);
    xs_store_destroy(&d->store);
}

struct xs_conn *xs_conn_new(struct xs_daemon *d, uint32_t domid, bool privileged)
{
    struct xs_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->d = d;
    c->id = d->next_conn_id++;
    c->who.domid = domid;
    c->who.privileged = privileged;
    c->who.target = XS_NO_TARGET;
    c->next_txn_id = 1;
    xs_reader_init(&c->reader);
    c->next = d->conns;
    d->conns = c;
    return c;
}

void xs_conn_drop_watches(struct xs_conn *c)
{
    while (c->watches) {
        struct xs_watch *w = c->watches;
        c->watches = w->next;
        free(w->path);
        free(w->token);
        free(w);
    }
    c->nwatches = 0;
}

void xs_conn_drop_txns(struct xs_conn *c)
{
    while (c->txns) {
        struct xs_txn *t = c->txns;
        c->txns = t->next;
        xs_txn_free(t);
    }
    c->ntxns = 0;
}

void xs_conn_free(struct xs_conn *c)
{
    struct xs_daemon *d = c->d;
    for (struct xs_conn **pp = &d->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    for (struct xs_domain *dom = d->domains; dom; dom = dom->next)
        if (dom->conn == c)
            dom->conn = NULL;
    xs_conn_drop_watches(c);
    xs_conn_drop_txns(c);
    xs_buf_free(&c->out);
    free(c);
}

int xs_conn_feed(struct xs_conn *c, const uint8_t *data, size_t len)
{
    if (c->broken)
        return -1;
    while (len > 0) {
        size_t used = 0;
        enum xs_read_status st = xs_reader_push(&c->reader, data, len, &used);
        data += used;
        len -= used;
        if (st == XS_READ_OVERSIZED) {
            xs_log("connection %u (domain %u) sent a %u-byte payload; closing it",
                   c->id, c->who.domid, c->reader.hdr.len);
            c->broken = true;
            return -1;
        }
        if (st == XS_READ_MESSAGE)
            xs_conn_handle(c, &c->reader.hdr, c->reader.payload);
    }
    return 0;
}

int xs_daemon_release_domain(struct xs_daemon *d, uint32_t domid)
{
    struct xs_domain **pp = &d->domains;
    while (*pp && (*pp)->domid != domid)
        pp = &(*pp)->next;
    if (!*pp)
        return ENOENT;
    struct xs_domain *dom = *pp;
    *pp = dom->next;
    if (d->transport && d->transport->detach)
        d->transport->detach(d, dom, d->transport->ctx);
    if (dom->conn)
        xs_conn_free(dom->conn);
    free(dom);
    /* A later domain reusing the id must not inherit these nodes. */
    xs_store_chown_all(&d->store, domid, 0);
    xs_log("domain %u released", domid);
    return 0;
}

struct xs_domain *xs_daemon_find_domain(struct xs_daemon *d, uint32_t domid)
{
    for (struct xs_domain *dom = d->domains; dom; dom = dom->next)
        if (dom->domid == domid)
            return dom;
    return NULL;
}

static void queue_event(struct xs_conn *c, const struct xs_watch *w, const char *path)
{
    char home[32];
    size_t hlen = xs_path_domain_home(c->who.domid, home, sizeof(home));
    if (w->relative && strncmp(path, home, hlen) == 0 && path[hlen] == '/')
        path += hlen + 1;

    size_t plen = strlen(path), tlen = strlen(w->token);
    if (plen + tlen + 2 > XSW_PAYLOAD_MAX)
        return;   /* cannot happen with validated paths and tokens */
    /* A client that stops reading must not make the daemon buffer for it
     * without end; dom0's tools get more room but not unlimited. */
    size_t limit = c->d->quota.outq_bytes;
    if (c->who.privileged)
        limit *= XS_PRIVILEGED_OUTQ_FACTOR;
    if (xs_buf_pending(&c->out) > limit) {
        if (c->dropped_events++ == 0)
            xs_log("connection %u (domain %u) is not reading its watch events; "
                   "dropping them", c->id, c->who.domid);
        return;
    }
    char payload[XSW_PAYLOAD_MAX];
    memcpy(payload, path, plen + 1);
    memcpy(payload + plen + 1, w->token, tlen + 1);
    if (xs_msg_append(&c->out, XSW_WATCH_EVENT, 0, 0, payload, plen + tlen + 2) != 0)
        c->dropped_events++;
}

void xs_daemon_fire(void *daemon, const char *path, const struct xs_perms *perms,
                    bool recursive)
{
    struct xs_daemon *d = daemon;
    bool special = xs_path_is_special(path);
    for (struct xs_conn *c = d->conns; c; c = c->next) {
        if (perms && !(xs_perms_access(perms, &c->who) & XS_ACCESS_READ))
            continue;
        for (struct xs_watch *w = c->watches; w; w = w->next) {
            if (special || xs_path_is_special(w->path)) {
                if (strcmp(w->path, path) == 0)
                    queue_event(c, w, path);
            } else if (xs_path_is_within(path, w->path)) {
                queue_event(c, w, path);
            } else if (recursive && xs_path_is_within(w->path, path)) {
                /* The watched node went with an ancestor. */
                queue_event(c, w, w->path);
            }
        }
    }
}
