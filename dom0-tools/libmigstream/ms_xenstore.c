/* MICA_XENSTORE bodies (see ms_xenstore.h). */
#include "ms_xenstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ms_xs_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (!n || n >= MS_XS_KEY_MAX || key[0] == '/' || key[n - 1] == '/' || strstr(key, "//"))
        return false;
    for (const char *p = key; *p; p++) {
        unsigned char c = (unsigned char)*p;
        /* xenstore's path characters */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '/' || c == '_' || c == '@'))
            return false;
    }
    return true;
}

int ms_xs_blob_add(struct ms_xs_blob *b, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = strlen(value);
    if (!ms_xs_key_ok(key) || vl >= MS_XS_VALUE_MAX)
        return -EINVAL;
    size_t need = b->len + kl + 1 + vl + 1;
    if (need > MS_XS_BODY_MAX)
        return -E2BIG;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < need)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return -ENOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, key, kl + 1);
    memcpy(b->buf + b->len + kl + 1, value, vl + 1);
    b->len = need;
    return 0;
}

void ms_xs_blob_free(struct ms_xs_blob *b)
{
    free(b->buf);
    memset(b, 0, sizeof(*b));
}

void ms_xs_iter_init(struct ms_xs_iter *it, const void *body, size_t len)
{
    it->body = body;
    it->len = len;
    it->pos = 0;
    it->index = 0;
}

int ms_xs_iter_next(struct ms_xs_iter *it, const char **key, const char **value, char *why,
                    size_t whylen)
{
    if (it->pos == it->len)
        return 0;
    size_t at = it->pos;
    const char *k = it->body + at;
    const char *kend = memchr(k, 0, it->len - at);
    if (!kend) {
        snprintf(why, whylen, "pair %u at body offset %zu: the key has no terminating NUL",
                 it->index + 1, at);
        return -EINVAL;
    }
    const char *v = kend + 1;
    size_t vat = (size_t)(v - it->body);
    const char *vend = vat < it->len ? memchr(v, 0, it->len - vat) : NULL;
    if (!vend) {
        snprintf(why, whylen, "pair %u at body offset %zu: the value is missing or has no "
                 "terminating NUL", it->index + 1, at);
        return -EINVAL;
    }
    if (!ms_xs_key_ok(k) || (size_t)(vend - v) >= MS_XS_VALUE_MAX) {
        snprintf(why, whylen, "pair %u at body offset %zu: key '%.64s' is not a relative "
                 "xenstore path, or the value is too long", it->index + 1, at, k);
        return -EINVAL;
    }
    *key = k;
    *value = v;
    it->pos = (size_t)(vend - it->body) + 1;
    it->index++;
    return 1;
}
