#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct xs_node *xs_node_new(const char *path)
{
    struct xs_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->path = strdup(path);
    if (!n->path) {
        free(n);
        return NULL;
    }
    n->present = true;
    return n;
}

void xs_node_free(struct xs_node *n)
{
    if (!n)
        return;
    xs_node_clear_children(n);
    free(n->children);
    free(n->value);
    xs_perms_free(&n->perms);
    free(n->path);
    free(n);
}

struct xs_node *xs_node_clone(const struct xs_node *src)
{
    struct xs_node *n = xs_node_new(src->path);
    if (!n)
        return NULL;
    if (xs_node_set_value(n, src->value, src->value_len) != 0 ||
        xs_perms_copy(&n->perms, &src->perms) != 0)
        goto fail;
    for (uint32_t i = 0; i < src->nchildren; i++)
        if (xs_node_add_child(n, src->children[i]) != 0)
            goto fail;
    n->gen = src->gen;
    return n;
fail:
    xs_node_free(n);
    return NULL;
}

int xs_node_set_value(struct xs_node *n, const void *value, size_t len)
{
    uint8_t *v = malloc(len ? len : 1);
    if (!v)
        return ENOMEM;
    if (len)
        memcpy(v, value, len);
    free(n->value);
    n->value = v;
    n->value_len = (uint32_t)len;
    return 0;
}

int xs_node_add_child(struct xs_node *n, const char *name)
{
    if (n->nchildren == n->children_cap) {
        uint32_t cap = n->children_cap ? n->children_cap * 2 : 4;
        char **c = realloc(n->children, sizeof(*c) * cap);
        if (!c)
            return ENOMEM;
        n->children = c;
        n->children_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return ENOMEM;
    n->children[n->nchildren++] = copy;
    return 0;
}

void xs_node_remove_child(struct xs_node *n, const char *name)
{
    for (uint32_t i = 0; i < n->nchildren; i++) {
        if (strcmp(n->children[i], name) == 0) {
            free(n->children[i]);
            memmove(&n->children[i], &n->children[i + 1],
                    sizeof(char *) * (n->nchildren - i - 1));
            n->nchildren--;
            return;
        }
    }
}

void xs_node_clear_children(struct xs_node *n)
{
    for (uint32_t i = 0; i < n->nchildren; i++)
        free(n->children[i]);
    n->nchildren = 0;
}

static size_t hash_path(const char *s)
{
    /* FNV-1a: cheap and spreads path-like keys well enough. */
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

struct xs_node *xs_nodemap_get(const struct xs_nodemap *m, const char *path)
{
    if (!m->nbuckets)
        return NULL;
    for (struct xs_node *n = m->buckets[hash_path(path) & (m->nbuckets - 1)]; n; n = n->hash_next)
        if (strcmp(n->path, path) == 0)
            return n;
    return NULL;
}

static int grow(struct xs_nodemap *m)
{
    size_t nb = m->nbuckets ? m->nbuckets * 2 : 64;
    struct xs_node **b = calloc(nb, sizeof(*b));
    if (!b)
        return ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct xs_node *n = m->buckets[i];
        while (n) {
            struct xs_node *next = n->hash_next;
            size_t slot = hash_path(n->path) & (nb - 1);
            n->hash_next = b[slot];
            b[slot] = n;
            n = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return 0;
}

int xs_nodemap_insert(struct xs_nodemap *m, struct xs_node *n)
{
    if (m->count + 1 > m->nbuckets && grow(m) != 0 && !m->nbuckets)
        return ENOMEM;
    size_t slot = hash_path(n->path) & (m->nbuckets - 1);
    n->hash_next = m->buckets[slot];
    m->buckets[slot] = n;
    m->count++;
    return 0;
}

void xs_nodemap_remove(struct xs_nodemap *m, struct xs_node *n)
{
    if (!m->nbuckets)
        return;
    struct xs_node **pp = &m->buckets[hash_path(n->path) & (m->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == n) {
            *pp = n->hash_next;
            n->hash_next = NULL;
            m->count--;
            return;
        }
    }
}

void xs_nodemap_destroy(struct xs_nodemap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct xs_node *n = m->buckets[i];
        while (n) {
            struct xs_node *next = n->hash_next;
            xs_node_free(n);
            n = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}
