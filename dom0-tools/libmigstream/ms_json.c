/*
 * The strict JSON reader (ms_json.h): recursive descent over the whole
 * text, a tree of values, every refusal with offset, line and column.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_json.h"

struct parser {
    const unsigned char *s;
    size_t len, pos;
    uint64_t base;
    unsigned depth;
    char *err;
    size_t errlen;
};

static int perr(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, size_t at, const char *fmt, ...)
{
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    int n = snprintf(p->err, p->errlen, "JSON at offset %llu (line %u, column %u): ",
                     (unsigned long long)(p->base + at), line, col);
    if (n > 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

/* What stands at pos, for messages. */
static const char *describe(const struct parser *p, char buf[32])
{
    if (p->pos >= p->len)
        return "the end of the text";
    unsigned c = p->s[p->pos];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, 32, "'%c'", (char)c);
    else
        snprintf(buf, 32, "octet 0x%02x", c);
    return buf;
}

static void free_contents(struct ms_json *v)
{
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        free_contents(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof(*v));
}

void ms_json_free(struct ms_json *v)
{
    if (!v)
        return;
    free_contents(v);
    free(v);
}

static int parse_value(struct parser *p, struct ms_json *v);

static int hex4(struct parser *p, size_t at, unsigned *out)
{
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        if (at + (size_t)i >= p->len)
            return perr(p, at, "a \\u escape needs four hex digits; the text ends");
        unsigned c = p->s[at + (size_t)i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return perr(p, at + (size_t)i, "a \\u escape needs four hex digits");
        x = x * 16 + d;
    }
    *out = x;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One UTF-8 sequence at pos (first octet >= 0x80): its length, or -1. */
static int utf8_seq(struct parser *p)
{
    const unsigned char *s = p->s + p->pos;
    size_t left = p->len - p->pos;
    unsigned c = s[0], cp, need;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07;
    } else {
        return perr(p, p->pos, "octet 0x%02x cannot start a UTF-8 character", c);
    }
    if (left <= need)
        return perr(p, p->pos, "a UTF-8 character is cut off by the end of the text");
    for (unsigned i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return perr(p, p->pos + i, "octet 0x%02x does not continue the UTF-8 character"
                        " begun at offset %llu", s[i],
                        (unsigned long long)(p->base + p->pos));
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return perr(p, p->pos, "an overlong or out-of-range UTF-8 sequence");
    if (cp >= 0xd800 && cp <= 0xdfff)
        return perr(p, p->pos, "a UTF-8-encoded surrogate (U+%04X)", cp);
    return (int)need + 1;
}

/* A string at pos (its opening quote) into a new NUL-terminated buffer. */
static int parse_string(struct parser *p, char **out)
{
    size_t start = p->pos++, end = p->pos;
    /* Where it ends, to size the buffer: the decoded text is never longer. */
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len)
        return perr(p, start, "a string that is never closed");
    char *o = malloc(end - p->pos + 1);
    if (!o)
        return perr(p, start, "out of memory");
    size_t k = 0;
    while (p->s[p->pos] != '"') {
        unsigned c = p->s[p->pos];
        if (c < 0x20) {
            free(o);
            return perr(p, p->pos, "control character U+%04X inside a string (escape it)", c);
        }
        if (c >= 0x80) {
            int n = utf8_seq(p);
            if (n < 0) {
                free(o);
                return -1;
            }
            memcpy(o + k, p->s + p->pos, (size_t)n);
            k += (size_t)n;
            p->pos += (size_t)n;
            continue;
        }
        if (c != '\\') {
            o[k++] = (char)c;
            p->pos++;
            continue;
        }
        size_t esc = p->pos;
        unsigned e = p->s[p->pos + 1], cp;
        p->pos += 2;
        switch (e) {
        case '"': o[k++] = '"'; continue;
        case '\\': o[k++] = '\\'; continue;
        case '/': o[k++] = '/'; continue;
        case 'b': o[k++] = '\b'; continue;
        case 'f': o[k++] = '\f'; continue;
        case 'n': o[k++] = '\n'; continue;
        case 'r': o[k++] = '\r'; continue;
        case 't': o[k++] = '\t'; continue;
        case 'u':
            break;
        default:
            free(o);
            return perr(p, esc, "unknown escape \\%c", e >= 0x21 && e < 0x7f ? (char)e : '?');
        }
        if (hex4(p, p->pos, &cp)) {
            free(o);
            return -1;
        }
        p->pos += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            free(o);
            return perr(p, esc, "a low surrogate \\u%04X without a high one before it", cp);
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo;
            if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                free(o);
                return perr(p, esc, "a high surrogate \\u%04X not followed by a low one", cp);
            }
            if (hex4(p, p->pos + 2, &lo)) {
                free(o);
                return -1;
            }
            if (lo < 0xdc00 || lo > 0xdfff) {
                free(o);
                return perr(p, esc, "a high surrogate \\u%04X not followed by a low one", cp);
            }
            p->pos += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) {
            free(o);
            return perr(p, esc, "\\u0000 inside a string is not taken");
        }
        k += put_utf8(o + k, cp);
    }
    p->pos++;
    o[k] = 0;
    *out = o;
    return 0;
}

static bool digit(const struct parser *p, size_t at)
{
    return at < p->len && p->s[at] >= '0' && p->s[at] <= '9';
}

static int parse_number(struct parser *p, struct ms_json *v)
{
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    if (!digit(p, p->pos))
        return perr(p, start, "a number needs a digit after its sign");
    if (p->s[p->pos] == '0' && digit(p, p->pos + 1))
        return perr(p, start, "a number with a leading zero");
    while (digit(p, p->pos))
        p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        if (!digit(p, p->pos))
            return perr(p, p->pos, "a fraction needs a digit after the point");
        while (digit(p, p->pos))
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!digit(p, p->pos))
            return perr(p, p->pos, "an exponent needs a digit");
        while (digit(p, p->pos))
            p->pos++;
    }
    v->type = MS_JSON_NUMBER;
    v->str = strndup((const char *)p->s + start, p->pos - start);
    return v->str ? 0 : perr(p, start, "out of memory");
}

/* A new zeroed member slot (and key slot for objects). */
static struct ms_json *add_slot(struct parser *p, struct ms_json *v, size_t *cap, char *key)
{
    if (v->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct ms_json *ni = realloc(v->items, nc * sizeof(*ni));
        if (!ni)
            return NULL;
        v->items = ni;
        if (v->type == MS_JSON_OBJECT) {
            char **nk = realloc(v->keys, nc * sizeof(*nk));
            if (!nk)
                return NULL;
            v->keys = nk;
        }
        *cap = nc;
    }
    (void)p;
    memset(&v->items[v->n], 0, sizeof(v->items[0]));
    if (v->type == MS_JSON_OBJECT)
        v->keys[v->n] = key;
    return &v->items[v->n++];
}

static int parse_container(struct parser *p, struct ms_json *v, bool object)
{
    size_t open = p->pos, cap = 0;
    char close = object ? '}' : ']', buf[32];
    v->type = object ? MS_JSON_OBJECT : MS_JSON_ARRAY;
    if (++p->depth > MS_JSON_MAX_DEPTH)
        return perr(p, open, "nested deeper than %u levels", MS_JSON_MAX_DEPTH);
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (object) {
            size_t kat = p->pos;
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return perr(p, p->pos, "%s where a member name (a string) should be%s",
                            describe(p, buf),
                            p->pos < p->len && p->s[p->pos] == '}' ? " (a trailing comma?)"
                                                                   : "");
            if (parse_string(p, &key))
                return -1;
            for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->keys[i], key) == 0) {
                    free(key);
                    return perr(p, kat, "member \"%s\" appears twice in one object",
                                v->keys[i]);
                }
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return perr(p, p->pos, "%s where ':' should follow a member name",
                            describe(p, buf));
            }
            p->pos++;
            skip_ws(p);
        }
        struct ms_json *slot = add_slot(p, v, &cap, key);
        if (!slot) {
            free(key);
            return perr(p, p->pos, "out of memory");
        }
        if (parse_value(p, slot))
            return -1;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) {
            p->pos++;
            p->depth--;
            return 0;
        }
        return perr(p, p->pos, "%s where ',' or '%c' should be (the %s opened at offset %llu)",
                    describe(p, buf), close, object ? "object" : "array",
                    (unsigned long long)(p->base + open));
    }
}

static int parse_value(struct parser *p, struct ms_json *v)
{
    char buf[32];
    skip_ws(p);
    v->offset = p->base + p->pos;
    if (p->pos >= p->len)
        return perr(p, p->pos, "the text ends where a value should be");
    static const struct { const char *word; enum ms_json_type type; } lits[] = {
        { "true", MS_JSON_TRUE }, { "false", MS_JSON_FALSE }, { "null", MS_JSON_NULL } };
    unsigned c = p->s[p->pos];
    switch (c) {
    case '{':
        return parse_container(p, v, true);
    case '[':
        return parse_container(p, v, false);
    case '"':
        v->type = MS_JSON_STRING;
        return parse_string(p, &v->str);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(p, v);
    }
    for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
        size_t l = strlen(lits[i].word);
        if (p->len - p->pos >= l && memcmp(p->s + p->pos, lits[i].word, l) == 0) {
            p->pos += l;
            v->type = lits[i].type;
            return 0;
        }
    }
    return perr(p, p->pos, "%s where a value should be", describe(p, buf));
}

int ms_json_parse(const char *text, size_t len, uint64_t base, struct ms_json **out,
                  char *err, size_t errlen)
{
    struct parser p = { .s = (const unsigned char *)text, .len = len, .base = base,
                        .err = err, .errlen = errlen };
    char buf[32];
    *out = NULL;
    if (len > MS_JSON_MAX_TEXT)
        return perr(&p, 0, "%zu octets of JSON is more than the %u this reader takes", len,
                    MS_JSON_MAX_TEXT);
    struct ms_json *v = calloc(1, sizeof(*v));
    if (!v)
        return perr(&p, 0, "out of memory");
    if (parse_value(&p, v)) {
        ms_json_free(v);
        return -1;
    }
    skip_ws(&p);
    /* xl writes the text with its terminating NUL. */
    if (p.pos + 1 == p.len && p.s[p.pos] == 0)
        p.pos++;
    if (p.pos != p.len) {
        perr(&p, p.pos, "%s after the JSON value", describe(&p, buf));
        ms_json_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

const struct ms_json *ms_json_get(const struct ms_json *obj, const char *key)
{
    if (!obj || obj->type != MS_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

int ms_json_uint(const struct ms_json *v, uint64_t max, uint64_t *out)
{
    if (!v || v->type != MS_JSON_NUMBER || v->str[0] == '-' || strpbrk(v->str, ".eE"))
        return -1;
    uint64_t x = 0;
    for (const char *c = v->str; *c; c++) {
        unsigned d = (unsigned)(*c - '0');
        if (d > 9 || d > max || x > (max - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

const char *ms_json_type_name(enum ms_json_type t)
{
    switch (t) {
    case MS_JSON_NULL: return "null";
    case MS_JSON_FALSE: return "false";
    case MS_JSON_TRUE: return "true";
    case MS_JSON_NUMBER: return "a number";
    case MS_JSON_STRING: return "a string";
    case MS_JSON_ARRAY: return "an array";
    case MS_JSON_OBJECT: return "an object";
    }
    return "?";
}
