/*
 * The body of MICA_XENSTORE records (and of libxl's EMULATOR_XENSTORE_DATA,
 * which uses the same encoding): "key\0value\0" pairs, keys relative to
 * the domain's xenstore home.  A builder for the saver, a checked
 * iterator for the restorer.
 */
#ifndef MICA_MS_XENSTORE_H
#define MICA_MS_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>

/* Keys and values a record may hold: xenstore's own limits. */
#define MS_XS_KEY_MAX   256u
#define MS_XS_VALUE_MAX 4096u
#define MS_XS_BODY_MAX  (1u << 20)

struct ms_xs_blob {
    char *buf;
    size_t len, cap;
};

/* Appends one pair; 0, -EINVAL (empty key, a key that is absolute, has
   "..", or is too long; a value too long) or -ENOMEM/-E2BIG. */
int ms_xs_blob_add(struct ms_xs_blob *b, const char *key, const char *value);
void ms_xs_blob_free(struct ms_xs_blob *b);

struct ms_xs_iter {
    const char *body;
    size_t len, pos;
    unsigned index;                  /* pairs returned so far */
};

void ms_xs_iter_init(struct ms_xs_iter *it, const void *body, size_t len);
/* 1: *key and *value point into the body; 0: the end; -EINVAL: the body
   is not a list of pairs (why: a sentence naming the pair and offset). */
int ms_xs_iter_next(struct ms_xs_iter *it, const char **key, const char **value, char *why,
                    size_t whylen);

/* Whether key is one a restore may write under the guest's home. */
bool ms_xs_key_ok(const char *key);

#endif
