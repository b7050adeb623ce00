/* Request dispatch: one function per message type, each turning a parsed
 * request into store operations and exactly one reply. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "ops.h"
#include "path.h"

static void reply(struct xs_conn *c, const struct xs_request *rq, const void *p, size_t len)
{
    if (xs_msg_append(&c->out, rq->type, rq->req_id, rq->tx_id, p, len) != 0) {
        const char msg[] = "ENOMEM";
        xs_msg_append(&c->out, XSW_ERROR, rq->req_id, rq->tx_id, msg, sizeof(msg));
    }
}

static void reply_str(struct xs_conn *c, const struct xs_request *rq, const char *s)
{
    reply(c, rq, s, strlen(s) + 1);
}

static void reply_error(struct xs_conn *c, const struct xs_request *rq, int err)
{
    const char *name = xs_errno_name(err);
    xs_trace("conn %u: %s -> %s", c->id, xs_type_name(rq->type), name);
    xs_msg_append(&c->out, XSW_ERROR, rq->req_id, rq->tx_id, name, strlen(name) + 1);
}

static void reply_status(struct xs_conn *c, const struct xs_request *rq, int err)
{
    if (err)
        reply_error(c, rq, err);
    else
        reply_str(c, rq, "OK");
}

/* Strict decimal domid: digits only, no sign, no overflow. */
static int parse_domid(const char *s, uint32_t *out)
{
    if (!*s || strlen(s) > 5)
        return EINVAL;
    uint32_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return EINVAL;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    if (v > 0xffff)
        return EINVAL;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out, bool allow_minus)
{
    bool neg = false;
    if (allow_minus && *s == '-') {
        neg = true;
        s++;
    }
    if (!*s || strlen(s) > 20)
        return EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return EINVAL;
        uint64_t nv = v * 10 + (uint64_t)(*s - '0');
        if (nv / 10 != v)
            return EINVAL;
        v = nv;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return 0;
}

struct ctx {
    struct xs_conn *c;
    const struct xs_request *rq;
    struct xs_view view;
    struct xs_op_ctx op;
};

static int canonical(struct ctx *x, const char *in, bool special, char *out, bool *rel)
{
    return xs_path_canonical(in, x->c->who.domid, special, out, rel);
}

static void do_read(struct ctx *x)
{
    char path[XS_PATH_BUF];
    const struct xs_node *n;
    int err = canonical(x, x->rq->args[0], false, path, NULL);
    if (!err)
        err = xs_op_read(&x->op, path, &n);
    if (err)
        return reply_error(x->c, x->rq, err);
    reply(x->c, x->rq, n->value, n->value_len);
}

static void do_write(struct ctx *x)
{
    char path[XS_PATH_BUF];
    int err = canonical(x, x->rq->args[0], false, path, NULL);
    if (!err)
        err = xs_op_write(&x->op, path, x->rq->value, x->rq->value_len);
    reply_status(x->c, x->rq, err);
}

static void do_mkdir(struct ctx *x)
{
    char path[XS_PATH_BUF];
    int err = canonical(x, x->rq->args[0], false, path, NULL);
    if (!err)
        err = xs_op_mkdir(&x->op, path);
    reply_status(x->c, x->rq, err);
}

static void do_rm(struct ctx *x)
{
    char path[XS_PATH_BUF];
    int err = canonical(x, x->rq->args[0], false, path, NULL);
    if (!err)
        err = xs_op_rm(&x->op, path);
    reply_status(x->c, x->rq, err);
}

/* Children as NUL-terminated names; 0 or E2BIG if over max bytes. */
static int list_children(const struct xs_node *n, char *out, size_t max, size_t *len)
{
    size_t used = 0;
    for (uint32_t i = 0; i < n->nchildren; i++) {
        size_t l = strlen(n->children[i]) + 1;
        if (used + l > max)
            return E2BIG;
        memcpy(out + used, n->children[i], l);
        used += l;
    }
    *len = used;
    return 0;
}

static void do_directory(struct ctx *x)
{
    char path[XS_PATH_BUF], out[XSW_PAYLOAD_MAX];
    const struct xs_node *n;
    size_t len = 0;
    int err = canonical(x, x->rq->args[0], false, path, NULL);
    if (!err)
        err = xs_op_directory(&x->op, path, &n);
    if (!err)
        err = list_children(n, out, sizeof(out), &len);
    if (err)
        return reply_error(x->c, x->rq, err);
    reply(x->c, x->rq, out, len);
}

/* Long child lists in pieces: the node's generation first, so the client
 * can tell the list changed between pieces, then whole names from the
 * byte offset; an extra NUL marks the end of the list. */
static void do_directory_part(struct ctx *x)
{
    char path[XS_PATH_BUF], out[XSW_PAYLOAD_MAX];
    const struct xs_node *n;
    uint64_t offset;
    int err = canonical(x, x->rq->args[0], false, path, NULL);
    if (!err)
        err = parse_u64(x->rq->args[1], &offset, false);
    if (!err)
        err = xs_op_directory(&x->op, path, &n);
    if (err)
        return reply_error(x->c, x->rq, err);

    int genlen = snprintf(out, sizeof(out), "%" PRIu64, n->gen) + 1;
    size_t used = (size_t)genlen, pos = 0;
    uint32_t i = 0;
    for (; i < n->nchildren && pos < offset; i++)
        pos += strlen(n->children[i]) + 1;
    if (pos != offset)
        return reply_error(x->c, x->rq, EINVAL);   /* not at a name boundary */
    for (; i < n->nchildren; i++) {
        size_t l = strlen(n->children[i]) + 1;
        if (used + l + 1 > sizeof(out))
            break;
        memcpy(out + used, n->children[i], l);
        used += l;
    }
    if (i == n->nchildren)
        out[used++] = '\0';
    reply(x->c, x->rq, out, used);
}

static struct xs_perms *special_perms(struct xs_daemon *d, const char *path)
{
    if (strcmp(path, "@introduceDomain") == 0)
        return &d->special_introduce;
    if (strcmp(path, "@releaseDomain") == 0)
        return &d->special_release;
    return NULL;
}

static void send_perms(struct ctx *x, const struct xs_perms *perms)
{
    char out[XSW_PAYLOAD_MAX];
    size_t len = xs_perms_format(perms, out, sizeof(out));
    if (len == 0)
        return reply_error(x->c, x->rq, E2BIG);
    reply(x->c, x->rq, out, len);
}

static void do_get_perms(struct ctx *x)
{
    char path[XS_PATH_BUF];
    int err = canonical(x, x->rq->args[0], true, path, NULL);
    if (err)
        return reply_error(x->c, x->rq, err);
    if (xs_path_is_special(path)) {
        struct xs_perms *sp = special_perms(x->c->d, path);
        if (!sp)
            return reply_error(x->c, x->rq, ENOENT);
        return send_perms(x, sp);
    }
    const struct xs_node *n;
    err = xs_op_get_perms(&x->op, path, &n);
    if (err)
        return reply_error(x->c, x->rq, err);
    send_perms(x, &n->perms);
}

static void do_set_perms(struct ctx *x)
{
    char path[XS_PATH_BUF];
    int err = canonical(x, x->rq->args[0], true, path, NULL);
    if (err)
        return reply_error(x->c, x->rq, err);
    struct xs_perms perms = { .n = x->rq->nargs - 1 };
    perms.p = calloc(perms.n, sizeof(*perms.p));
    if (!perms.p)
        return reply_error(x->c, x->rq, ENOMEM);
    for (unsigned i = 0; i < perms.n && !err; i++)
        err = xs_perm_parse(x->rq->args[i + 1], &perms.p[i]);
    if (!err && xs_path_is_special(path)) {
        struct xs_perms *sp = special_perms(x->c->d, path);
        if (!sp)
            err = ENOENT;
        else if (!(xs_perms_access(sp, &x->c->who) & XS_ACCESS_WRITE))
            err = EACCES;
        else if (!x->c->who.privileged && perms.p[0].domid != sp->p[0].domid)
            err = EPERM;
        else
            err = xs_perms_copy(sp, &perms);
    } else if (!err) {
        err = xs_op_set_perms(&x->op, path, &perms);
    }
    xs_perms_free(&perms);
    reply_status(x->c, x->rq, err);
}

static struct xs_watch **find_watch(struct xs_conn *c, const char *path, const char *token)
{
    for (struct xs_watch **pp = &c->watches; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->path, path) == 0 && strcmp((*pp)->token, token) == 0)
            return pp;
    return NULL;
}

static void do_watch(struct ctx *x)
{
    struct xs_conn *c = x->c;
    char path[XS_PATH_BUF];
    bool rel;
    int err = canonical(x, x->rq->args[0], true, path, &rel);
    const char *token = x->rq->args[1];
    if (!err && find_watch(c, path, token))
        err = EEXIST;
    if (!err && !c->who.privileged && c->nwatches >= c->d->quota.watches)
        err = E2BIG;
    struct xs_watch *w = NULL;
    if (!err) {
        w = calloc(1, sizeof(*w));
        if (!w || !(w->path = strdup(path)) || !(w->token = strdup(token))) {
            if (w) {
                free(w->path);
                free(w);
            }
            err = ENOMEM;
        }
    }
    if (err)
        return reply_error(c, x->rq, err);
    w->relative = rel;
    w->next = c->watches;
    c->watches = w;
    c->nwatches++;
    reply_str(c, x->rq, "OK");

    /* Every new watch fires once at once, so the client can read the
     * current state knowing it will hear of later changes. */
    const char *ev = rel ? x->rq->args[0] : path;
    size_t elen = strlen(ev), tlen = strlen(token);
    char payload[XSW_PAYLOAD_MAX];
    if (elen + tlen + 2 <= sizeof(payload)) {
        memcpy(payload, ev, elen + 1);
        memcpy(payload + elen + 1, token, tlen + 1);
        xs_msg_append(&c->out, XSW_WATCH_EVENT, 0, 0, payload, elen + tlen + 2);
    }
}

static void do_unwatch(struct ctx *x)
{
    char path[XS_PATH_BUF];
    int err = canonical(x, x->rq->args[0], true, path, NULL);
    struct xs_watch **pp = err ? NULL : find_watch(x->c, path, x->rq->args[1]);
    if (!err && !pp)
        err = ENOENT;
    if (!err) {
        struct xs_watch *w = *pp;
        *pp = w->next;
        free(w->path);
        free(w->token);
        free(w);
        x->c->nwatches--;
    }
    reply_status(x->c, x->rq, err);
}

static struct xs_txn **find_txn(struct xs_conn *c, uint32_t id)
{
    for (struct xs_txn **pp = &c->txns; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id)
            return pp;
    return NULL;
}

static void do_transaction_start(struct ctx *x)
{
    struct xs_conn *c = x->c;
    if (x->rq->tx_id != 0)
        return reply_error(c, x->rq, EBUSY);
    if (!c->who.privileged && c->ntxns >= c->d->quota.transactions)
        return reply_error(c, x->rq, ENOSPC);
    uint32_t id = c->next_txn_id;
    while (id == 0 || find_txn(c, id))
        id++;
    c->next_txn_id = id + 1;
    struct xs_txn *t = xs_txn_new(id, c->who.domid,
                                  c->who.privileged ? 0 : c->d->quota.txn_nodes);
    if (!t)
        return reply_error(c, x->rq, ENOMEM);
    t->next = c->txns;
    c->txns = t;
    c->ntxns++;
    char buf[16];
    snprintf(buf, sizeof(buf), "%u", id);
    reply_str(c, x->rq, buf);
}

static void do_transaction_end(struct ctx *x)
{
    struct xs_conn *c = x->c;
    struct xs_txn **pp = find_txn(c, x->rq->tx_id);
    if (!pp)
        return reply_error(c, x->rq, ENOENT);
    bool commit = strcmp(x->rq->args[0], "T") == 0;
    if (!commit && strcmp(x->rq->args[0], "F") != 0)
        return reply_error(c, x->rq, EINVAL);
    struct xs_txn *t = *pp;
    *pp = t->next;
    c->ntxns--;
    int err = 0;
    if (commit)
        err = xs_txn_commit(&c->d->store, t, c->who.privileged ? 0 : c->d->quota.nodes,
                            xs_daemon_fire, c->d);
    xs_txn_free(t);
    reply_status(c, x->rq, err);
}

static int need_privilege(struct ctx *x)
{
    return x->c->who.privileged ? 0 : EACCES;
}

static void do_introduce(struct ctx *x)
{
    struct xs_daemon *d = x->c->d;
    uint32_t domid = 0;
    uint64_t gfn = 0, port = 0;
    int err = need_privilege(x);
    if (!err)
        err = parse_domid(x->rq->args[0], &domid);
    if (!err)
        err = parse_u64(x->rq->args[1], &gfn, true);
    if (!err)
        err = parse_u64(x->rq->args[2], &port, false);
    if (!err && (domid == 0 || domid >= XSW_DOMID_FIRST_RESERVED || port > UINT32_MAX))
        err = EINVAL;
    if (err)
        return reply_error(x->c, x->rq, err);

    struct xs_domain *dom = xs_daemon_find_domain(d, domid);
    if (dom) {
        /* A repeat with the same page and port is a toolstack retry. */
        if (dom->gfn == (int64_t)gfn && dom->evtchn == port)
            return reply_str(x->c, x->rq, "OK");
        return reply_error(x->c, x->rq, EEXIST);
    }
    dom = calloc(1, sizeof(*dom));
    if (!dom)
        return reply_error(x->c, x->rq, ENOMEM);
    dom->domid = domid;
    dom->gfn = (int64_t)gfn;
    dom->evtchn = (uint32_t)port;
    dom->target = XS_NO_TARGET;
    if (d->transport && d->transport->attach) {
        err = d->transport->attach(d, dom, d->transport->ctx);
        if (err) {
            free(dom);
            return reply_error(x->c, x->rq, err);
        }
    }
    dom->next = d->domains;
    d->domains = dom;
    xs_log("domain %u introduced (gfn %" PRId64 ", event channel %u)%s", domid,
           dom->gfn, dom->evtchn, d->transport ? "" : " without a ring (--no-domains)");
    reply_str(x->c, x->rq, "OK");
    xs_daemon_fire(d, "@introduceDomain", &d->special_introduce, false);
}

static void do_release(struct ctx *x)
{
    struct xs_daemon *d = x->c->d;
    uint32_t domid = 0;
    int err = need_privilege(x);
    if (!err)
        err = parse_domid(x->rq->args[0], &domid);
    if (!err && domid == 0)
        err = EINVAL;
    if (!err)
        err = xs_daemon_release_domain(d, domid);
    if (err)
        return reply_error(x->c, x->rq, err);
    reply_str(x->c, x->rq, "OK");
    xs_daemon_fire(d, "@releaseDomain", &d->special_release, false);
}

static void do_get_domain_path(struct ctx *x)
{
    uint32_t domid;
    int err = parse_domid(x->rq->args[0], &domid);
    if (err)
        return reply_error(x->c, x->rq, err);
    char home[32];
    xs_path_domain_home(domid, home, sizeof(home));
    reply_str(x->c, x->rq, home);
}

static void do_is_domain_introduced(struct ctx *x)
{
    uint32_t domid = 0;
    int err = need_privilege(x);
    if (!err)
        err = parse_domid(x->rq->args[0], &domid);
    if (err)
        return reply_error(x->c, x->rq, err);
    bool known = domid == 0 || xs_daemon_find_domain(x->c->d, domid);
    reply_str(x->c, x->rq, known ? "T" : "F");
}

static void do_resume(struct ctx *x)
{
    uint32_t domid = 0;
    int err = need_privilege(x);
    if (!err)
        err = parse_domid(x->rq->args[0], &domid);
    if (!err && !xs_daemon_find_domain(x->c->d, domid))
        err = ENOENT;
    reply_status(x->c, x->rq, err);
}

static void do_set_target(struct ctx *x)
{
    uint32_t domid = 0, target = 0;
    int err = need_privilege(x);
    if (!err)
        err = parse_domid(x->rq->args[0], &domid);
    if (!err)
        err = parse_domid(x->rq->args[1], &target);
    struct xs_domain *dom = err ? NULL : xs_daemon_find_domain(x->c->d, domid);
    if (!err && (!dom || !xs_daemon_find_domain(x->c->d, target)))
        err = ENOENT;
    if (!err) {
        dom->target = target;
        if (dom->conn)
            dom->conn->who.target = target;
    }
    reply_status(x->c, x->rq, err);
}

static void do_reset_watches(struct ctx *x)
{
    xs_conn_drop_watches(x->c);
    xs_conn_drop_txns(x->c);
    reply_str(x->c, x->rq, "OK");
}

struct quota_field {
    const char *name;
    size_t offset;
    bool is_size;
};

static const struct quota_field quota_fields[] = {
    { "nodes", offsetof(struct xs_quota, nodes), false },
    { "value-size", offsetof(struct xs_quota, value_size), false },
    { "path-length", offsetof(struct xs_quota, path_len), false },
    { "permissions", offsetof(struct xs_quota, perms), false },
    { "watches", offsetof(struct xs_quota, watches), false },
    { "transactions", offsetof(struct xs_quota, transactions), false },
    { "transaction-nodes", offsetof(struct xs_quota, txn_nodes), false },
    { "output-bytes", offsetof(struct xs_quota, outq_bytes), true },
};

static uint64_t quota_get(const struct xs_quota *q, const struct quota_field *f)
{
    const char *base = (const char *)q + f->offset;
    if (f->is_size) {
        size_t v;
        memcpy(&v, base, sizeof(v));
        return v;
    }
    unsigned v;
    memcpy(&v, base, sizeof(v));
    return v;
}

static void quota_set(struct xs_quota *q, const struct quota_field *f, uint64_t v)
{
    char *base = (char *)q + f->offset;
    if (f->is_size) {
        size_t s = (size_t)v;
        memcpy(base, &s, sizeof(s));
    } else {
        unsigned u = (unsigned)v;
        memcpy(base, &u, sizeof(u));
    }
}

static void do_control(struct ctx *x)
{
    struct xs_daemon *d = x->c->d;
    const char *cmd = x->rq->args[0];
    char out[XSW_PAYLOAD_MAX];
    int err = need_privilege(x);
    if (err)
        return reply_error(x->c, x->rq, err);

    if (strcmp(cmd, "check") == 0) {
        char why[256];
        if (xs_store_check(&d->store, why, sizeof(why)) != 0) {
            xs_log("store check failed: %s", why);
            return reply_error(x->c, x->rq, EIO);
        }
        return reply_str(x->c, x->rq, "OK");
    }
    if (strcmp(cmd, "help") == 0)
        return reply_str(x->c, x->rq,
                         "check\nhelp\nlog on|off\nprint <string>\n"
                         "quota [<name> <value>]\nstats\n");
    if (strcmp(cmd, "log") == 0 && x->rq->nargs == 2) {
        bool on = strcmp(x->rq->args[1], "on") == 0;
        if (!on && strcmp(x->rq->args[1], "off") != 0)
            return reply_error(x->c, x->rq, EINVAL);
        xs_log_verbose = on;
        return reply_str(x->c, x->rq, "OK");
    }
    if (strcmp(cmd, "print") == 0 && x->rq->nargs == 2) {
        xs_log("%s", x->rq->args[1]);
        return reply_str(x->c, x->rq, "OK");
    }
    if (strcmp(cmd, "stats") == 0) {
        unsigned nconn = 0, ndom = 0;
        for (struct xs_conn *c = d->conns; c; c = c->next)
            nconn++;
        for (struct xs_domain *dom = d->domains; dom; dom = dom->next)
            ndom++;
        snprintf(out, sizeof(out), "nodes %zu\nconnections %u\ndomains %u\nrequests %" PRIu64 "\n",
                 d->store.nodes.count, nconn, ndom, d->requests_handled);
        return reply_str(x->c, x->rq, out);
    }
    if (strcmp(cmd, "quota") == 0) {
        size_t nf = sizeof(quota_fields) / sizeof(quota_fields[0]);
        if (x->rq->nargs == 1) {
            size_t used = 0;
            for (size_t i = 0; i < nf; i++)
                used += (size_t)snprintf(out + used, sizeof(out) - used, "%s %" PRIu64 "\n",
                                         quota_fields[i].name,
                                         quota_get(&d->quota, &quota_fields[i]));
            return reply_str(x->c, x->rq, out);
        }
        if (x->rq->nargs == 3) {
            uint64_t v;
            if (parse_u64(x->rq->args[2], &v, false) != 0 || v > UINT32_MAX)
                return reply_error(x->c, x->rq, EINVAL);
            for (size_t i = 0; i < nf; i++) {
                if (strcmp(quota_fields[i].name, x->rq->args[1]) == 0) {
                    quota_set(&d->quota, &quota_fields[i], v);
                    return reply_str(x->c, x->rq, "OK");
                }
            }
        }
        return reply_error(x->c, x->rq, EINVAL);
    }
    reply_error(x->c, x->rq, EINVAL);
}

void xs_conn_handle(struct xs_conn *c, const struct xsw_header *hdr, const uint8_t *payload)
{
    struct xs_request *rq = malloc(sizeof(*rq));
    if (!rq) {
        struct xs_request mini = { .type = hdr->type, .req_id = hdr->req_id,
                                   .tx_id = hdr->tx_id };
        return reply_error(c, &mini, ENOMEM);
    }
    c->d->requests_handled++;
    int err = xs_request_parse(hdr, payload, rq);
    xs_trace("conn %u (dom %u): %s req %u tx %u len %u%s", c->id, c->who.domid,
             xs_type_name(hdr->type), hdr->req_id, hdr->tx_id, hdr->len,
             err ? " (malformed)" : "");
    if (err) {
        reply_error(c, rq, err);
        free(rq);
        return;
    }

    struct ctx x = { .c = c, .rq = rq };
    x.view.store = &c->d->store;
    if (rq->tx_id != 0 && !xs_type_ignores_txn(rq->type) &&
        rq->type != XSW_TRANSACTION_START) {
        struct xs_txn **pp = find_txn(c, rq->tx_id);
        if (!pp) {
            reply_error(c, rq, ENOENT);
            free(rq);
            return;
        }
        x.view.txn = *pp;
    }
    x.op.view = &x.view;
    x.op.who = &c->who;
    x.op.quota = &c->d->quota;
    x.op.fire = xs_daemon_fire;
    x.op.fire_ctx = c->d;

    switch (rq->type) {
    case XSW_READ: do_read(&x); break;
    case XSW_WRITE: do_write(&x); break;
    case XSW_MKDIR: do_mkdir(&x); break;
    case XSW_RM: do_rm(&x); break;
    case XSW_DIRECTORY: do_directory(&x); break;
    case XSW_DIRECTORY_PART: do_directory_part(&x); break;
    case XSW_GET_PERMS: do_get_perms(&x); break;
    case XSW_SET_PERMS: do_set_perms(&x); break;
    case XSW_WATCH: do_watch(&x); break;
    case XSW_UNWATCH: do_unwatch(&x); break;
    case XSW_TRANSACTION_START: do_transaction_start(&x); break;
    case XSW_TRANSACTION_END: do_transaction_end(&x); break;
    case XSW_INTRODUCE: do_introduce(&x); break;
    case XSW_RELEASE: do_release(&x); break;
    case XSW_GET_DOMAIN_PATH: do_get_domain_path(&x); break;
    case XSW_IS_DOMAIN_INTRODUCED: do_is_domain_introduced(&x); break;
    case XSW_RESUME: do_resume(&x); break;
    case XSW_SET_TARGET: do_set_target(&x); break;
    case XSW_RESET_WATCHES: do_reset_watches(&x); break;
    case XSW_CONTROL: do_control(&x); break;
    default: reply_error(c, rq, ENOSYS); break;
    }
    free(rq);
}
