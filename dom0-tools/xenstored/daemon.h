/* The daemon's state independent of any transport: the store, the
 * connections with their watches and transactions, and the introduced
 * domains.  Transports (unix socket, domain rings) feed bytes in with
 * xs_conn_feed and drain each connection's out buffer. */
#ifndef XS_DAEMON_H
#define XS_DAEMON_H

#include "perms.h"
#include "proto.h"
#include "quota.h"
#include "store.h"
#include "txn.h"

struct xs_watch {
    char *path;                /* absolute, or "@..." */
    char *token;
    bool relative;             /* report event paths relative to the home */
    struct xs_watch *next;
};

struct xs_daemon;

struct xs_conn {
    struct xs_daemon *d;
    uint32_t id;
    struct xs_caller who;
    struct xs_reader reader;
    struct xs_buf out;
    struct xs_watch *watches;
    unsigned nwatches;
    struct xs_txn *txns;
    unsigned ntxns;
    uint32_t next_txn_id;
    uint64_t dropped_events;
    bool broken;               /* protocol violation: the transport must drop it */
    struct xs_conn *next;
};

struct xs_domain {
    uint32_t domid;
    int64_t gfn;
    uint32_t evtchn;
    uint32_t target;           /* XS_NO_TARGET unless SET_TARGET */
    struct xs_conn *conn;      /* NULL when no transport serves domains */
    void *transport_state;
    struct xs_domain *next;
};

/* How domains reach the daemon.  With none (the --no-domains mode)
 * INTRODUCE only records the domain: nobody can talk for it. */
struct xs_domain_transport {
    /* Creates dom->conn and whatever the transport needs; 0 or errno. */
    int (*attach)(struct xs_daemon *d, struct xs_domain *dom, void *ctx);
    void (*detach)(struct xs_daemon *d, struct xs_domain *dom, void *ctx);
    void *ctx;
};

struct xs_daemon {
    struct xs_store store;
    struct xs_quota quota;
    struct xs_conn *conns;
    struct xs_domain *domains;
    struct xs_perms special_introduce;   /* perms of "@introduceDomain" */
    struct xs_perms special_release;     /* perms of "@releaseDomain" */
    const struct xs_domain_transport *transport;
    uint32_t next_conn_id;
    uint64_t requests_handled;
};

int xs_daemon_init(struct xs_daemon *d);
void xs_daemon_destroy(struct xs_daemon *d);

struct xs_conn *xs_conn_new(struct xs_daemon *d, uint32_t domid, bool privileged);
void xs_conn_free(struct xs_conn *c);

/* Feeds bytes received from the client; replies and events are appended
 * to c->out.  Returns 0, or -1 when the stream broke the protocol (an
 * oversized message), after which the connection must be closed. */
int xs_conn_feed(struct xs_conn *c, const uint8_t *data, size_t len);

/* Handles one complete message (used by xs_conn_feed, and by tests). */
void xs_conn_handle(struct xs_conn *c, const struct xsw_header *hdr,
                    const uint8_t *payload);

/* Queues watch events for a change at path (see xs_fire_fn). */
void xs_daemon_fire(void *daemon, const char *path, const struct xs_perms *perms,
                    bool recursive);

struct xs_domain *xs_daemon_find_domain(struct xs_daemon *d, uint32_t domid);

/* Forgets an introduced domain: its transport lets go of the ring, its
 * connection goes, its nodes pass to dom0.  0 or ENOENT.  The caller fires
 * @releaseDomain (after its reply, for a RELEASE request). */
int xs_daemon_release_domain(struct xs_daemon *d, uint32_t domid);

void xs_conn_drop_watches(struct xs_conn *c);
void xs_conn_drop_txns(struct xs_conn *c);

#endif
