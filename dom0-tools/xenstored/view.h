/* What a request operates on: the live store, or the store as seen
 * through one transaction's overlay.  Operations are written once
 * against this and work the same either way. */
#ifndef XS_VIEW_H
#define XS_VIEW_H

#include <errno.h>

#include "store.h"
#include "txn.h"

struct xs_view {
    struct xs_store *store;
    struct xs_txn *txn;        /* NULL: the live store */
};

static inline struct xs_node *xs_view_get(const struct xs_view *v, const char *path, int *err)
{
    if (v->txn)
        return xs_txn_get(v->store, v->txn, path, err);
    struct xs_node *n = xs_store_get(v->store, path);
    if (!n)
        *err = ENOENT;
    return n;
}

static inline int xs_view_create(const struct xs_view *v, const char *path,
                                 const struct xs_perms *perms, struct xs_node **out)
{
    return v->txn ? xs_txn_create(v->store, v->txn, path, perms, out)
                  : xs_store_create(v->store, path, perms, out);
}

static inline int xs_view_set_value(const struct xs_view *v, struct xs_node *n,
                                    const void *val, size_t len)
{
    return v->txn ? xs_txn_set_value(v->txn, n, val, len)
                  : xs_store_set_value(v->store, n, val, len);
}

static inline int xs_view_set_perms(const struct xs_view *v, struct xs_node *n,
                                    const struct xs_perms *perms)
{
    return v->txn ? xs_txn_set_perms(v->txn, n, perms)
                  : xs_store_set_perms(v->store, n, perms);
}

static inline int xs_view_remove(const struct xs_view *v, struct xs_node *n)
{
    if (v->txn)
        return xs_txn_remove_tree(v->store, v->txn, n);
    xs_store_remove_tree(v->store, n);
    return 0;
}

/* Nodes domid would own if this view were committed now. */
static inline int64_t xs_view_owner_nodes(const struct xs_view *v, uint32_t domid)
{
    int64_t n = xs_store_owner_nodes(v->store, domid);
    if (v->txn && v->txn->domid == domid)
        n += v->txn->owner_delta;
    return n;
}

#endif
