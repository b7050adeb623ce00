/* One store node and a path-keyed hash map of nodes.  The live store and
 * every transaction's private overlay are both such maps. */
#ifndef XS_NODE_H
#define XS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perms.h"

struct xs_node {
    char *path;                 /* absolute, canonical; the map key */
    uint8_t *value;
    uint32_t value_len;
    struct xs_perms perms;
    char **children;            /* leaf names, in creation order */
    uint32_t nchildren, children_cap;
    uint64_t gen;               /* changes whenever the node or its child list does */

    /* Only meaningful inside a transaction overlay. */
    uint64_t base_gen;          /* live gen when first touched; 0 = did not exist */
    bool present;               /* false: the node does not exist in this view */
    bool dirty;                 /* value, perms or existence changed */

    struct xs_node *hash_next;
};

struct xs_node *xs_node_new(const char *path);
/* Deep copy of everything except the overlay fields and the hash link. */
struct xs_node *xs_node_clone(const struct xs_node *src);
void xs_node_free(struct xs_node *n);
int xs_node_set_value(struct xs_node *n, const void *value, size_t len);
int xs_node_add_child(struct xs_node *n, const char *name);
void xs_node_remove_child(struct xs_node *n, const char *name);
void xs_node_clear_children(struct xs_node *n);

struct xs_nodemap {
    struct xs_node **buckets;
    size_t nbuckets;
    size_t count;
};

struct xs_node *xs_nodemap_get(const struct xs_nodemap *m, const char *path);
/* The path must not be in the map yet.  0 or ENOMEM. */
int xs_nodemap_insert(struct xs_nodemap *m, struct xs_node *n);
/* Unlinks without freeing. */
void xs_nodemap_remove(struct xs_nodemap *m, struct xs_node *n);
/* Frees every node and the table. */
void xs_nodemap_destroy(struct xs_nodemap *m);

/* Iteration that tolerates nothing being inserted or removed meanwhile. */
#define XS_NODEMAP_FOREACH(m, var)                                        \
    for (size_t xs_b_ = 0; xs_b_ < (m)->nbuckets; xs_b_++)                \
        for (struct xs_node *var = (m)->buckets[xs_b_]; var; var = var->hash_next)

#endif
