/* The live store: every committed node, generation counting and the
 * per-domain node ownership counts that quotas are checked against. */
#ifndef XS_STORE_H
#define XS_STORE_H

#include "node.h"

#define XS_DOMID_COUNT 65536u

struct xs_store {
    struct xs_nodemap nodes;
    uint64_t gen_counter;          /* last generation handed out; never reused */
    uint32_t *owner_nodes;         /* XS_DOMID_COUNT counters */
};

/* Called for each change that watches must hear about.  recursive means
 * the subtree at path was removed, so watches below it fire as well. */
typedef void xs_fire_fn(void *ctx, const char *path,
                        const struct xs_perms *perms, bool recursive);

/* Creates the root node, owned by dom0 and unreadable to others. */
int xs_store_init(struct xs_store *s);
void xs_store_destroy(struct xs_store *s);

struct xs_node *xs_store_get(const struct xs_store *s, const char *path);
/* The parent must exist; 0, ENOMEM. */
int xs_store_create(struct xs_store *s, const char *path,
                    const struct xs_perms *perms, struct xs_node **out);
int xs_store_set_value(struct xs_store *s, struct xs_node *n, const void *v, size_t len);
int xs_store_set_perms(struct xs_store *s, struct xs_node *n, const struct xs_perms *perms);
/* Removes n and everything below it; n must not be the root. */
void xs_store_remove_tree(struct xs_store *s, struct xs_node *n);

uint32_t xs_store_owner_nodes(const struct xs_store *s, uint32_t domid);
/* Gives every node owned by from to to (a released domain's id may be
 * reused, and the newcomer must not inherit the old nodes). */
void xs_store_chown_all(struct xs_store *s, uint32_t from, uint32_t to);

/* Structural self-check; returns 0 or writes a reason and returns -1. */
int xs_store_check(const struct xs_store *s, char *why, size_t whysz);

#endif
