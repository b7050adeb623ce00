#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool valid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
           c == '@';
}

bool xs_path_is_special(const char *path)
{
    return path[0] == '@';
}

size_t xs_path_domain_home(uint32_t domid, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "/local/domain/%u", domid);
    return n < 0 ? 0 : (size_t)n;
}

int xs_path_canonical(const char *in, uint32_t domid, bool allow_special,
                      char *out, bool *was_relative)
{
    size_t inlen = strlen(in);
    bool relative = in[0] != '/' && in[0] != '@';

    if (was_relative)
        *was_relative = relative;
    if (inlen == 0)
        return EINVAL;
    for (size_t i = 0; i < inlen; i++)
        if (!valid_char(in[i]))
            return EINVAL;

    if (in[0] == '@') {
        if (!allow_special || inlen == 1 || strchr(in, '/'))
            return EINVAL;
        if (inlen > XSW_ABS_PATH_MAX)
            return EINVAL;
        memcpy(out, in, inlen + 1);
        return 0;
    }

    size_t used = 0;
    if (relative) {
        if (inlen > XSW_REL_PATH_MAX)
            return EINVAL;
        used = xs_path_domain_home(domid, out, XS_PATH_BUF);
        out[used++] = '/';
    }
    if (used + inlen > XSW_ABS_PATH_MAX)
        return EINVAL;
    memcpy(out + used, in, inlen + 1);
    used += inlen;

    /* Doubled and trailing slashes would give one node two names. */
    if (strstr(out, "//"))
        return EINVAL;
    if (used > 1 && out[used - 1] == '/')
        return EINVAL;
    return 0;
}

bool xs_path_is_within(const char *child, const char *parent)
{
    size_t plen = strlen(parent);
    if (strcmp(parent, "/") == 0)
        return child[0] == '/';
    if (strncmp(child, parent, plen) != 0)
        return false;
    return child[plen] == '\0' || child[plen] == '/';
}

size_t xs_path_parent_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || (slash == path && path[1] == '\0'))
        return 0;
    if (slash == path)
        return 1;
    return (size_t)(slash - path);
}

const char *xs_path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

unsigned xs_path_depth(const char *path)
{
    unsigned depth = 0;
    if (strcmp(path, "/") == 0)
        return 0;
    for (const char *p = path; *p; p++)
        if (*p == '/')
            depth++;
    return depth;
}
