/* Limits that keep one unprivileged domain from exhausting the daemon.
 * Privileged (dom0) connections are not held to them. */
#ifndef XS_QUOTA_H
#define XS_QUOTA_H

#include <stddef.h>

struct xs_quota {
    unsigned nodes;          /* nodes one domain may own */
    unsigned value_size;     /* bytes in one node's value */
    unsigned path_len;       /* length of an absolute path a domain may create */
    unsigned perms;          /* entries in one permission list */
    unsigned watches;        /* watches per connection */
    unsigned transactions;   /* open transactions per connection */
    unsigned txn_nodes;      /* nodes one transaction may touch */
    size_t outq_bytes;       /* queued output beyond which watch events are dropped */
};

/* The defaults follow the values Xen's own daemon ships with where it
 * has one, so guests written against Xen fit comfortably. */
static inline void xs_quota_defaults(struct xs_quota *q)
{
    q->nodes = 1000;
    q->value_size = 2048;
    q->path_len = 2048;
    q->perms = 5;
    q->watches = 128;
    q->transactions = 10;
    q->txn_nodes = 1024;
    q->outq_bytes = 256 * 1024;
}

#endif
