#include "txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

struct xs_txn *xs_txn_new(uint32_t id, uint32_t domid, unsigned max_entries)
{
    struct xs_txn *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->id = id;
    t->domid = domid;
    t->max_entries = max_entries;
    return t;
}

void xs_txn_free(struct xs_txn *t)
{
    if (!t)
        return;
    xs_nodemap_destroy(&t->overlay);
    free(t);
}

static bool owned_by(const struct xs_node *n, uint32_t domid)
{
    return n->perms.n && n->perms.p[0].domid == domid;
}

/* The overlay entry for path, copying it from the live store on first
 * touch; absent nodes get an entry too so that a later creation by
 * someone else is seen as a conflict. */
static struct xs_node *entry(const struct xs_store *s, struct xs_txn *t,
                             const char *path, int *err)
{
    struct xs_node *e = xs_nodemap_get(&t->overlay, path);
    if (e)
        return e;
    if (t->max_entries && t->overlay.count >= t->max_entries) {
        *err = ENOSPC;
        return NULL;
    }
    const struct xs_node *live = xs_store_get(s, path);
    if (live) {
        e = xs_node_clone(live);
        if (e)
            e->base_gen = live->gen;
    } else {
        e = xs_node_new(path);
        if (e)
            e->present = false;
    }
    if (!e || xs_nodemap_insert(&t->overlay, e) != 0) {
        xs_node_free(e);
        *err = ENOMEM;
        return NULL;
    }
    return e;
}

struct xs_node *xs_txn_get(const struct xs_store *s, struct xs_txn *t,
                           const char *path, int *err)
{
    struct xs_node *e = entry(s, t, path, err);
    if (e && !e->present) {
        *err = ENOENT;
        return NULL;
    }
    return e;
}

static struct xs_node *parent_entry(const struct xs_store *s, struct xs_txn *t,
                                    const char *path, int *err)
{
    char parent[XS_PATH_BUF];
    size_t plen = xs_path_parent_len(path);
    if (plen == 0 || plen >= sizeof(parent)) {
        *err = ENOENT;
        return NULL;
    }
    memcpy(parent, path, plen);
    parent[plen] = '\0';
    return xs_txn_get(s, t, parent, err);
}

int xs_txn_create(const struct xs_store *s, struct xs_txn *t, const char *path,
                  const struct xs_perms *perms, struct xs_node **out)
{
    int err = 0;
    struct xs_node *parent = parent_entry(s, t, path, &err);
    if (!parent)
        return err;
    struct xs_node *e = entry(s, t, path, &err);
    if (!e)
        return err;
    if (e->present)
        return EEXIST;
    if (xs_perms_copy(&e->perms, perms) != 0 || xs_node_set_value(e, "", 0) != 0 ||
        xs_node_add_child(parent, xs_path_basename(path)) != 0)
        return ENOMEM;
    xs_node_clear_children(e);
    e->present = true;
    e->dirty = true;
    if (owned_by(e, t->domid))
        t->owner_delta++;
    *out = e;
    return 0;
}

int xs_txn_set_value(struct xs_txn *t, struct xs_node *n, const void *v, size_t len)
{
    (void)t;
    int err = xs_node_set_value(n, v, len);
    if (err == 0)
        n->dirty = true;
    return err;
}

int xs_txn_set_perms(struct xs_txn *t, struct xs_node *n, const struct xs_perms *perms)
{
    bool was = owned_by(n, t->domid);
    int err = xs_perms_copy(&n->perms, perms);
    if (err)
        return err;
    t->owner_delta += (int)owned_by(n, t->domid) - (int)was;
    n->dirty = true;
    return 0;
}

/* Every descendant is pulled into the overlay so that commit can check
 * none of them changed and can delete exactly them. */
static int remove_below(const struct xs_store *s, struct xs_txn *t, struct xs_node *n)
{
    char path[XS_PATH_BUF];
    for (uint32_t i = 0; i < n->nchildren; i++) {
        size_t plen = strlen(n->path), clen = strlen(n->children[i]);
        if (plen + 1 + clen >= sizeof(path))
            continue;
        memcpy(path, n->path, plen);
        size_t at = plen;
        if (strcmp(n->path, "/") != 0)
            path[at++] = '/';
        memcpy(path + at, n->children[i], clen + 1);
        int err = 0;
        struct xs_node *child = xs_txn_get(s, t, path, &err);
        if (!child) {
            if (err == ENOENT)
                continue;
            return err;
        }
        err = remove_below(s, t, child);
        if (err)
            return err;
        if (owned_by(child, t->domid))
            t->owner_delta--;
        child->present = false;
        child->dirty = true;
    }
    xs_node_clear_children(n);
    return 0;
}

int xs_txn_remove_tree(const struct xs_store *s, struct xs_txn *t, struct xs_node *n)
{
    int err = 0;
    struct xs_node *parent = parent_entry(s, t, n->path, &err);
    if (!parent)
        return err == ENOENT ? EINVAL : err;
    err = remove_below(s, t, n);
    if (err)
        return err;
    xs_node_remove_child(parent, xs_path_basename(n->path));
    if (owned_by(n, t->domid))
        t->owner_delta--;
    n->present = false;
    n->dirty = true;
    return 0;
}

static int by_depth(const void *a, const void *b)
{
    const struct xs_node *x = *(const struct xs_node *const *)a;
    const struct xs_node *y = *(const struct xs_node *const *)b;
    unsigned dx = xs_path_depth(x->path), dy = xs_path_depth(y->path);
    if (dx != dy)
        return dx < dy ? -1 : 1;
    /* Same depth: path order, so siblings appear in a stable order. */
    return strcmp(x->path, y->path);
}

static bool parent_deleted(const struct xs_txn *t, const char *path)
{
    char parent[XS_PATH_BUF];
    size_t plen = xs_path_parent_len(path);
    if (plen == 0 || plen >= sizeof(parent))
        return false;
    memcpy(parent, path, plen);
    parent[plen] = '\0';
    const struct xs_node *p = xs_nodemap_get(&t->overlay, parent);
    return p && p->dirty && !p->present;
}

int xs_txn_commit(struct xs_store *s, struct xs_txn *t, unsigned node_quota,
                  xs_fire_fn *fire, void *fire_ctx)
{
    size_t ndirty = 0;
    XS_NODEMAP_FOREACH(&t->overlay, e) {
        const struct xs_node *live = xs_store_get(s, e->path);
        if ((live ? live->gen : 0) != e->base_gen)
            return EAGAIN;
        ndirty += e->dirty;
    }
    if (node_quota && t->owner_delta > 0 &&
        (int64_t)xs_store_owner_nodes(s, t->domid) + t->owner_delta > (int64_t)node_quota)
        return ENOSPC;
    if (ndirty == 0)
        return 0;

    struct xs_node **dirty = malloc(sizeof(*dirty) * ndirty);
    if (!dirty)
        return ENOMEM;
    size_t k = 0;
    XS_NODEMAP_FOREACH(&t->overlay, e)
        if (e->dirty)
            dirty[k++] = e;
    qsort(dirty, ndirty, sizeof(*dirty), by_depth);

    /* Deletions deepest first so each live node is childless when it
     * goes; the no-conflict check above guarantees the overlay saw every
     * live descendant.  Watches hear once per removed subtree. */
    for (size_t i = ndirty; i-- > 0;) {
        struct xs_node *e = dirty[i];
        if (e->present)
            continue;
        struct xs_node *live = xs_store_get(s, e->path);
        if (!live)
            continue;
        if (fire && !parent_deleted(t, e->path))
            fire(fire_ctx, e->path, &live->perms, true);
        xs_store_remove_tree(s, live);
    }
    /* Creations and updates shallowest first so parents exist.  Memory
     * failures here would leave a half-applied commit; they can only come
     * from malloc, which the daemon treats as fatal anyway. */
    int rc = 0;
    for (size_t i = 0; i < ndirty; i++) {
        struct xs_node *e = dirty[i];
        if (!e->present)
            continue;
        struct xs_node *live = xs_store_get(s, e->path);
        int err = live ? 0 : xs_store_create(s, e->path, &e->perms, &live);
        if (!err && !xs_perms_equal(&live->perms, &e->perms))
            err = xs_store_set_perms(s, live, &e->perms);
        if (!err)
            err = xs_store_set_value(s, live, e->value, e->value_len);
        if (err) {
            rc = err;
            continue;
        }
        if (fire)
            fire(fire_ctx, e->path, &live->perms, false);
    }
    free(dirty);
    return rc;
}
