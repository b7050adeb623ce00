#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

static uint64_t next_gen(struct xs_store *s)
{
    return ++s->gen_counter;
}

static void account(struct xs_store *s, const struct xs_perms *perms, int delta)
{
    if (perms->n)
        s->owner_nodes[perms->p[0].domid & 0xffff] += (uint32_t)delta;
}

int xs_store_init(struct xs_store *s)
{
    memset(s, 0, sizeof(*s));
    s->owner_nodes = calloc(XS_DOMID_COUNT, sizeof(uint32_t));
    if (!s->owner_nodes)
        return ENOMEM;
    struct xs_node *root = xs_node_new("/");
    if (!root || xs_perms_set_single(&root->perms, 0, 0) != 0 ||
        xs_node_set_value(root, "", 0) != 0 ||
        xs_nodemap_insert(&s->nodes, root) != 0) {
        xs_node_free(root);
        free(s->owner_nodes);
        return ENOMEM;
    }
    root->gen = next_gen(s);
    account(s, &root->perms, +1);
    return 0;
}

void xs_store_destroy(struct xs_store *s)
{
    xs_nodemap_destroy(&s->nodes);
    free(s->owner_nodes);
    s->owner_nodes = NULL;
}

struct xs_node *xs_store_get(const struct xs_store *s, const char *path)
{
    return xs_nodemap_get(&s->nodes, path);
}

static struct xs_node *parent_of(const struct xs_store *s, const char *path)
{
    char parent[XS_PATH_BUF];
    size_t plen = xs_path_parent_len(path);
    if (plen == 0 || plen >= sizeof(parent))
        return NULL;
    memcpy(parent, path, plen);
    parent[plen] = '\0';
    return xs_store_get(s, parent);
}

int xs_store_create(struct xs_store *s, const char *path,
                    const struct xs_perms *perms, struct xs_node **out)
{
    struct xs_node *parent = parent_of(s, path);
    if (!parent)
        return ENOENT;
    struct xs_node *n = xs_node_new(path);
    if (!n || xs_perms_copy(&n->perms, perms) != 0 ||
        xs_node_set_value(n, "", 0) != 0 ||
        xs_node_add_child(parent, xs_path_basename(path)) != 0) {
        xs_node_free(n);
        return ENOMEM;
    }
    if (xs_nodemap_insert(&s->nodes, n) != 0) {
        xs_node_remove_child(parent, xs_path_basename(path));
        xs_node_free(n);
        return ENOMEM;
    }
    n->gen = next_gen(s);
    parent->gen = next_gen(s);
    account(s, &n->perms, +1);
    *out = n;
    return 0;
}

int xs_store_set_value(struct xs_store *s, struct xs_node *n, const void *v, size_t len)
{
    int err = xs_node_set_value(n, v, len);
    if (err == 0)
        n->gen = next_gen(s);
    return err;
}

int xs_store_set_perms(struct xs_store *s, struct xs_node *n, const struct xs_perms *perms)
{
    struct xs_perms copy = {0};
    if (xs_perms_copy(&copy, perms) != 0)
        return ENOMEM;
    account(s, &n->perms, -1);
    xs_perms_free(&n->perms);
    n->perms = copy;
    account(s, &n->perms, +1);
    n->gen = next_gen(s);
    return 0;
}

/* path holds n's path on entry and is used as scratch below it, so deep
 * trees cost one buffer rather than one per level. */
static void remove_below(struct xs_store *s, struct xs_node *n, char *path, size_t len)
{
    for (uint32_t i = 0; i < n->nchildren; i++) {
        size_t clen = strlen(n->children[i]);
        if (len + 1 + clen >= XS_PATH_BUF)
            continue;   /* cannot exist: creation enforces the limit */
        size_t at = len;
        if (!(len == 1 && path[0] == '/'))
            path[at++] = '/';
        memcpy(path + at, n->children[i], clen + 1);
        struct xs_node *child = xs_store_get(s, path);
        if (child) {
            remove_below(s, child, path, at + clen);
            xs_nodemap_remove(&s->nodes, child);
            account(s, &child->perms, -1);
            xs_node_free(child);
        }
        path[len] = '\0';
    }
    xs_node_clear_children(n);
}

void xs_store_remove_tree(struct xs_store *s, struct xs_node *n)
{
    char path[XS_PATH_BUF];
    size_t len = strlen(n->path);
    if (len >= sizeof(path))
        return;
    memcpy(path, n->path, len + 1);
    remove_below(s, n, path, len);

    struct xs_node *parent = parent_of(s, n->path);
    if (parent) {
        xs_node_remove_child(parent, xs_path_basename(n->path));
        parent->gen = next_gen(s);
    }
    xs_nodemap_remove(&s->nodes, n);
    account(s, &n->perms, -1);
    xs_node_free(n);
}

uint32_t xs_store_owner_nodes(const struct xs_store *s, uint32_t domid)
{
    return s->owner_nodes[domid & 0xffff];
}

void xs_store_chown_all(struct xs_store *s, uint32_t from, uint32_t to)
{
    XS_NODEMAP_FOREACH(&s->nodes, n) {
        if (n->perms.n && n->perms.p[0].domid == from) {
            n->perms.p[0].domid = to;
            n->gen = next_gen(s);
        }
    }
    s->owner_nodes[to & 0xffff] += s->owner_nodes[from & 0xffff];
    s->owner_nodes[from & 0xffff] = 0;
}

int xs_store_check(const struct xs_store *s, char *why, size_t whysz)
{
    uint32_t *counts = calloc(XS_DOMID_COUNT, sizeof(uint32_t));
    int rc = 0;
    if (!counts) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    size_t seen = 0;
    XS_NODEMAP_FOREACH(&s->nodes, n) {
        seen++;
        if (n->perms.n == 0) {
            snprintf(why, whysz, "%s has no permissions", n->path);
            rc = -1;
            break;
        }
        counts[n->perms.p[0].domid & 0xffff]++;
        if (strcmp(n->path, "/") == 0)
            continue;
        struct xs_node *parent = parent_of(s, n->path);
        bool listed = false;
        for (uint32_t i = 0; parent && i < parent->nchildren; i++)
            listed |= strcmp(parent->children[i], xs_path_basename(n->path)) == 0;
        if (!listed) {
            snprintf(why, whysz, "%s is not listed by its parent", n->path);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && seen != s->nodes.count) {
        snprintf(why, whysz, "map holds %zu nodes but counts %zu", seen, s->nodes.count);
        rc = -1;
    }
    for (uint32_t d = 0; rc == 0 && d < XS_DOMID_COUNT; d++) {
        if (counts[d] != s->owner_nodes[d]) {
            snprintf(why, whysz, "domain %u owns %u nodes but is charged %u",
                     d, counts[d], s->owner_nodes[d]);
            rc = -1;
        }
    }
    /* Every listed child must exist too. */
    if (rc == 0) {
        char path[XS_PATH_BUF];
        XS_NODEMAP_FOREACH(&s->nodes, n) {
            for (uint32_t i = 0; i < n->nchildren; i++) {
                snprintf(path, sizeof(path), "%s%s%s", n->path,
                         strcmp(n->path, "/") ? "/" : "", n->children[i]);
                if (!xs_store_get(s, path)) {
                    snprintf(why, whysz, "%s lists missing child %s", n->path,
                             n->children[i]);
                    rc = -1;
                    goto out;
                }
            }
        }
    }
out:
    free(counts);
    return rc;
}
