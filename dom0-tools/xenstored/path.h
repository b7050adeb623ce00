/* Xenstore path syntax: validation, relative-to-absolute, ancestry. */
#ifndef XS_PATH_H
#define XS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenstore_wire.h"

/* Room for the longest absolute path plus its NUL. */
#define XS_PATH_BUF (XSW_ABS_PATH_MAX + 1)

/* Checks a client-supplied path and writes its absolute form to out
 * (XS_PATH_BUF bytes).  Relative paths are taken under
 * /local/domain/<domid>.  "@..." special names are accepted only if
 * allow_special.  *was_relative tells the caller whether to report
 * events relative again.  Returns 0 or EINVAL. */
int xs_path_canonical(const char *in, uint32_t domid, bool allow_special,
                      char *out, bool *was_relative);

bool xs_path_is_special(const char *path);

/* True if child is parent itself or lies below it. */
bool xs_path_is_within(const char *child, const char *parent);

/* Length of the parent's path ("/a/b" -> 2, "/a" -> 1); 0 for "/". */
size_t xs_path_parent_len(const char *path);

/* The last component ("" for the root). */
const char *xs_path_basename(const char *path);

/* Number of components ("/" is 0, "/a/b" is 2). */
unsigned xs_path_depth(const char *path);

/* Writes "/local/domain/<domid>" into out; returns its length. */
size_t xs_path_domain_home(uint32_t domid, char *out, size_t outsz);

#endif
