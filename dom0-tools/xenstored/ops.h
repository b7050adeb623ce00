/* Store operations as requests see them: permission checks, quotas,
 * parent creation, and watch notification for live changes. */
#ifndef XS_OPS_H
#define XS_OPS_H

#include "quota.h"
#include "view.h"

struct xs_op_ctx {
    const struct xs_view *view;
    const struct xs_caller *who;
    const struct xs_quota *quota;
    xs_fire_fn *fire;          /* live changes only; transactions fire on commit */
    void *fire_ctx;
};

/* All return 0 or an errno for the error reply.  Paths are absolute and
 * already validated (see path.h). */
int xs_op_read(const struct xs_op_ctx *c, const char *path, const struct xs_node **out);
int xs_op_write(const struct xs_op_ctx *c, const char *path, const void *value, size_t len);
int xs_op_mkdir(const struct xs_op_ctx *c, const char *path);
int xs_op_rm(const struct xs_op_ctx *c, const char *path);
int xs_op_directory(const struct xs_op_ctx *c, const char *path, const struct xs_node **out);
int xs_op_get_perms(const struct xs_op_ctx *c, const char *path, const struct xs_node **out);
int xs_op_set_perms(const struct xs_op_ctx *c, const char *path, const struct xs_perms *perms);

#endif
