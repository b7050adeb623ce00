/*
 * A small, strict JSON reader (RFC 8259) for the one JSON document Mica
 * reads: xl's domain configuration in the header of a file from Xen's
 * `xl save` (ms_xlheader.h, ms_xlconfig.h).  The whole text is parsed
 * into a tree; anything that is not JSON is refused with the offset,
 * line and column: trailing commas, comments, single quotes, leading
 * zeros, control characters and invalid UTF-8 in strings, lone
 * surrogates, duplicate keys in one object, text after the value (only
 * white space, and one final NUL as xl writes, may follow), nesting
 * deeper than MS_JSON_MAX_DEPTH.  Strings are decoded to UTF-8; one
 * holding U+0000 is refused (the callers want C strings).  Numbers are
 * kept as their text; ms_json_uint converts the integers callers need.
 */
#ifndef MICA_MS_JSON_H
#define MICA_MS_JSON_H

#include <stddef.h>
#include <stdint.h>

#define MS_JSON_MAX_DEPTH 32
#define MS_JSON_MAX_TEXT (1u << 20)

enum ms_json_type {
    MS_JSON_NULL,
    MS_JSON_FALSE,
    MS_JSON_TRUE,
    MS_JSON_NUMBER,
    MS_JSON_STRING,
    MS_JSON_ARRAY,
    MS_JSON_OBJECT,
};

struct ms_json {
    enum ms_json_type type;
    uint64_t offset;                 /* where the value starts (with the caller's base) */
    char *str;                       /* STRING: decoded, NUL-terminated; NUMBER: its text */
    size_t n;                        /* ARRAY, OBJECT: members */
    struct ms_json *items;           /* ARRAY: the values; OBJECT: the members' values */
    char **keys;                     /* OBJECT: the members' names */
};

/* Parses len octets of text.  Offsets in *out and in messages are
   base + the position in text.  0 with *out set (free with ms_json_free),
   or -1 with a message in err. */
int ms_json_parse(const char *text, size_t len, uint64_t base, struct ms_json **out,
                  char *err, size_t errlen);
void ms_json_free(struct ms_json *v);

/* An object's member, or NULL (also when obj is NULL or not an object). */
const struct ms_json *ms_json_get(const struct ms_json *obj, const char *key);
/* A non-negative integer written without fraction or exponent, at most
   max: 0, or -1 (not such a number). */
int ms_json_uint(const struct ms_json *v, uint64_t max, uint64_t *out);
const char *ms_json_type_name(enum ms_json_type t);

#endif
