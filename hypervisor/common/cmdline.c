/*
 * Boot command-line parsing: splits "opt opt=value ..." into words and
 * applies each to the matching boot_param.
 */
#include <mica/lib.h>
#include <mica/param.h>

#define WORD_MAX 256

int parse_uint(const char *s, const char **end, u64 *out)
{
    unsigned base = 10;
    u64 v = 0;
    bool any = false;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (v > (~(u64)0 - d) / base)
            return -1;                  /* overflow */
        v = v * base + d;
        any = true;
    }
    if (!any)
        return -1;
    *out = v;
    if (end)
        *end = s;
    else if (*s)
        return -1;                      /* trailing junk */
    return 0;
}

int parse_size(const char *s, u64 *out)
{
    const char *end;
    u64 v;
    unsigned shift = 0;

    if (parse_uint(s, &end, &v))
        return -1;
    switch (*end) {
    case 'T': case 't': shift = 40; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'K': case 'k': shift = 10; end++; break;
    case 'B': case 'b': end++; break;
    default: break;
    }
    if (*end || (shift && v > (~(u64)0 >> shift)))
        return -1;
    *out = v << shift;
    return 0;
}

int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "yes", "on", "true", "enable" };
    static const char *const no[] = { "0", "no", "off", "false", "disable" };

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcmp(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static const struct boot_param *find_param(const struct boot_param *params,
                                           size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(params[i].name, name))
            return &params[i];
    return NULL;
}

static int store_uint(const struct boot_param *p, u64 v)
{
    switch (p->size) {
    case 1: if (v > 0xff) return -1; *(u8 *)p->var = (u8)v; return 0;
    case 2: if (v > 0xffff) return -1; *(u16 *)p->var = (u16)v; return 0;
    case 4: if (v > 0xffffffffULL) return -1; *(u32 *)p->var = (u32)v; return 0;
    case 8: *(u64 *)p->var = v; return 0;
    }
    return -1;
}

/* Applies one option; on failure fills err and returns non-zero. */
static int apply(const struct boot_param *p, const char *value, bool negated,
                 char *err, size_t errlen)
{
    u64 v;
    bool b;

    if (negated && p->kind != PARAM_BOOL) {
        snprintf(err, errlen, "only on/off options take a 'no-' prefix");
        return -1;
    }
    switch (p->kind) {
    case PARAM_BOOL:
        if (!value) {
            *(bool *)p->var = !negated;
            return 0;
        }
        if (parse_bool(value, &b)) {
            snprintf(err, errlen, "'%s' is not on/off (use 1/0, yes/no, on/off, true/false)", value);
            return -1;
        }
        *(bool *)p->var = negated ? !b : b;
        return 0;
    case PARAM_UINT:
        if (!value || parse_uint(value, NULL, &v) || store_uint(p, v)) {
            snprintf(err, errlen, "needs a number that fits in %zu bits, like %s=16",
                     p->size * 8, p->name);
            return -1;
        }
        return 0;
    case PARAM_SIZE:
        if (!value || parse_size(value, &v)) {
            snprintf(err, errlen, "needs a size, like %s=512M (suffixes K, M, G, T)", p->name);
            return -1;
        }
        *(u64 *)p->var = v;
        return 0;
    case PARAM_STRING:
        if (!value) {
            snprintf(err, errlen, "needs a value, like %s=<value>", p->name);
            return -1;
        }
        if (strlen(value) >= p->size) {
            snprintf(err, errlen, "value is longer than %zu characters", p->size - 1);
            return -1;
        }
        strlcpy(p->var, value, p->size);
        return 0;
    case PARAM_CUSTOM:
        return p->parse(value, err, errlen);
    }
    snprintf(err, errlen, "internal error: unknown option kind");
    return -1;
}

unsigned cmdline_parse(const char *cmdline, const struct boot_param *params, size_t n)
{
    unsigned problems = 0;
    const char *s = cmdline ? cmdline : "";

    for (;;) {
        char word[WORD_MAX], err[PARAM_ERR_LEN];
        const struct boot_param *p;
        char *name, *value;
        bool negated = false;
        size_t len = 0;
        int rc;

        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        while (s[len] && s[len] != ' ' && s[len] != '\t')
            len++;
        if (len >= sizeof(word)) {
            pr_err("command line: option starting '%.24s...' is longer than %zu characters; ignored\n",
                   s, sizeof(word) - 1);
            problems++;
            s += len;
            continue;
        }
        memcpy(word, s, len);
        word[len] = '\0';
        s += len;

        if (word[0] == '=') {
            pr_err("command line: '%s' has no option name; ignored\n", word);
            problems++;
            continue;
        }
        name = word;
        value = strchr(word, '=');
        if (value)
            *value++ = '\0';

        p = find_param(params, n, name);
        if (!p && !strncmp(name, "no-", 3)) {
            p = find_param(params, n, name + 3);
            negated = p != NULL;
        }
        if (!p) {
            pr_warn("command line: unknown option '%s' ignored\n", name);
            problems++;
            continue;
        }
        err[0] = '\0';
        rc = apply(p, value, negated, err, sizeof(err));
        if (rc) {
            /* rc > 0: a custom parser took part of the value, and err says what. */
            pr_err("command line: option '%s%s%s': %s%s\n", name, value ? "=" : "",
                   value ? value : "", err,
                   rc > 0 ? "" : "; ignored (the setting stays as it was)");
            problems++;
        }
    }
    return problems;
}

#ifndef MICA_HOST_TEST
void cmdline_parse_builtin(const char *cmdline)
{
    /* Both ends bound the one linker-built table. */
    // cppcheck-suppress comparePointers
    cmdline_parse(cmdline, __param_start, (size_t)(__param_end - __param_start));
}
#endif
