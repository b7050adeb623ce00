#include "ops.h"

#include <string.h>

#include "path.h"

static void notify(const struct xs_op_ctx *c, const char *path,
                   const struct xs_perms *perms, bool recursive)
{
    if (!c->view->txn && c->fire)
        c->fire(c->fire_ctx, path, perms, recursive);
}

static int need(const struct xs_op_ctx *c, const struct xs_node *n, unsigned access)
{
    return (xs_perms_access(&n->perms, c->who) & access) == access ? 0 : EACCES;
}

int xs_op_read(const struct xs_op_ctx *c, const char *path, const struct xs_node **out)
{
    int err = 0;
    struct xs_node *n = xs_view_get(c->view, path, &err);
    if (!n)
        return err;
    if ((err = need(c, n, XS_ACCESS_READ)))
        return err;
    *out = n;
    return 0;
}

int xs_op_directory(const struct xs_op_ctx *c, const char *path, const struct xs_node **out)
{
    return xs_op_read(c, path, out);
}

int xs_op_get_perms(const struct xs_op_ctx *c, const char *path, const struct xs_node **out)
{
    return xs_op_read(c, path, out);
}

/* Makes path exist, creating missing ancestors with the permissions of
 * the nearest existing one; *created says whether path itself is new. */
static int ensure(const struct xs_op_ctx *c, const char *path, struct xs_node **out,
                  bool *created)
{
    int err = 0;
    struct xs_node *n = xs_view_get(c->view, path, &err);
    *created = false;
    if (n) {
        if ((err = need(c, n, XS_ACCESS_WRITE)))
            return err;
        *out = n;
        return 0;
    }
    if (err != ENOENT)
        return err;

    /* Find the nearest existing ancestor, counting what is missing. */
    char buf[XS_PATH_BUF];
    size_t len = strlen(path);
    memcpy(buf, path, len + 1);
    unsigned missing = 1;
    struct xs_node *anc = NULL;
    for (;;) {
        size_t plen = xs_path_parent_len(buf);
        if (plen == 0)
            return ENOENT;          /* the root always exists */
        buf[plen] = '\0';
        anc = xs_view_get(c->view, buf, &err);
        if (anc)
            break;
        if (err != ENOENT)
            return err;
        missing++;
    }
    if ((err = need(c, anc, XS_ACCESS_WRITE)))
        return err;
    if (!c->who->privileged) {
        if (len > c->quota->path_len)
            return ENOSPC;
        if (xs_view_owner_nodes(c->view, c->who->domid) + missing > c->quota->nodes)
            return ENOSPC;
    }

    /* New nodes inherit their parent's permissions, but a domain owns what
     * it creates, so it can always remove it again. */
    struct xs_perms perms = {0};
    if (xs_perms_copy(&perms, &anc->perms) != 0)
        return ENOMEM;
    if (!c->who->privileged)
        perms.p[0].domid = c->who->domid;

    size_t at = strlen(buf);
    while (at < len) {
        const char *slash = strchr(path + at + 1, '/');
        at = slash ? (size_t)(slash - path) : len;
        memcpy(buf, path, at);
        buf[at] = '\0';
        struct xs_node *made = NULL;
        err = xs_view_create(c->view, buf, &perms, &made);
        if (err)
            break;
        n = made;
    }
    xs_perms_free(&perms);
    if (err)
        return err;
    *out = n;
    *created = true;
    return 0;
}

int xs_op_write(const struct xs_op_ctx *c, const char *path, const void *value, size_t len)
{
    if (!c->who->privileged && len > c->quota->value_size)
        return ENOSPC;
    struct xs_node *n;
    bool created;
    int err = ensure(c, path, &n, &created);
    if (err)
        return err;
    if ((err = xs_view_set_value(c->view, n, value, len)))
        return err;
    notify(c, path, &n->perms, false);
    return 0;
}

int xs_op_mkdir(const struct xs_op_ctx *c, const char *path)
{
    struct xs_node *n;
    bool created;
    int err = ensure(c, path, &n, &created);
    if (err)
        return err;
    if (created)
        notify(c, path, &n->perms, false);
    return 0;
}

int xs_op_rm(const struct xs_op_ctx *c, const char *path)
{
    if (strcmp(path, "/") == 0)
        return EINVAL;
    int err = 0;
    struct xs_node *n = xs_view_get(c->view, path, &err);
    if (!n) {
        if (err != ENOENT)
            return err;
        /* Removing what is already gone is fine while the parent exists. */
        char parent[XS_PATH_BUF];
        size_t plen = xs_path_parent_len(path);
        memcpy(parent, path, plen);
        parent[plen] = '\0';
        return xs_view_get(c->view, parent, &err) ? 0 : err;
    }
    if ((err = need(c, n, XS_ACCESS_WRITE)))
        return err;
    /* The event goes out before the node does: it needs the perms. */
    if (!c->view->txn)
        notify(c, path, &n->perms, true);
    return xs_view_remove(c->view, n);
}

int xs_op_set_perms(const struct xs_op_ctx *c, const char *path, const struct xs_perms *perms)
{
    if (perms->n == 0)
        return EINVAL;
    if (!c->who->privileged && perms->n > c->quota->perms)
        return ENOSPC;
    int err = 0;
    struct xs_node *n = xs_view_get(c->view, path, &err);
    if (!n)
        return err;
    if ((err = need(c, n, XS_ACCESS_WRITE)))
        return err;
    /* Handing a node to another domain would let a guest charge its nodes
     * to someone else's quota, so only dom0 may change an owner. */
    if (!c->who->privileged && perms->p[0].domid != n->perms.p[0].domid)
        return EPERM;
    if ((err = xs_view_set_perms(c->view, n, perms)))
        return err;
    notify(c, path, &n->perms, false);
    return 0;
}
