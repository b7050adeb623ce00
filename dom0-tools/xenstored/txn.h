/* Transactions: a private overlay of the nodes a transaction touched,
 * each remembering the live generation it was copied at.  Commit fails
 * with EAGAIN if any of them changed meanwhile, which is what makes
 * concurrent transactions serialisable without locking the store. */
#ifndef XS_TXN_H
#define XS_TXN_H

#include "store.h"

struct xs_txn {
    uint32_t id;
    uint32_t domid;            /* the domain whose node quota applies */
    unsigned max_entries;      /* overlay size limit; 0 = unlimited */
    int64_t owner_delta;       /* change in nodes owned by domid if committed */
    struct xs_nodemap overlay;
    struct xs_txn *next;
};

struct xs_txn *xs_txn_new(uint32_t id, uint32_t domid, unsigned max_entries);
void xs_txn_free(struct xs_txn *t);

/* NULL with *err = ENOENT (absent in this view), ENOSPC (overlay full)
 * or ENOMEM. */
struct xs_node *xs_txn_get(const struct xs_store *s, struct xs_txn *t,
                           const char *path, int *err);
int xs_txn_create(const struct xs_store *s, struct xs_txn *t, const char *path,
                  const struct xs_perms *perms, struct xs_node **out);
int xs_txn_set_value(struct xs_txn *t, struct xs_node *n, const void *v, size_t len);
int xs_txn_set_perms(struct xs_txn *t, struct xs_node *n, const struct xs_perms *perms);
int xs_txn_remove_tree(const struct xs_store *s, struct xs_txn *t, struct xs_node *n);

/* Applies the transaction to the live store.  node_quota (0 = none) caps
 * the nodes t->domid may own afterwards.  Returns 0, EAGAIN (conflict),
 * ENOSPC (quota) or ENOMEM; on error the store is unchanged. */
int xs_txn_commit(struct xs_store *s, struct xs_txn *t, unsigned node_quota,
                  xs_fire_fn *fire, void *fire_ctx);

#endif
