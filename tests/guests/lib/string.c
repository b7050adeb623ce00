/* The few C library string functions the tests use (freestanding build). */
#include "guest.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

const char *strstr(const char *h, const char *n)
{
    size_t l = strlen(n);
    for (; *h; h++)
        if (!strncmp(h, n, l))
            return h;
    return l ? NULL : h;
}

unsigned long cmdline_number(const char *key, unsigned long def)
{
    const char *cl = start_info->cmd_line;
    size_t kl = strlen(key);

    for (const char *p = cl; (p = strstr(p, key)) != NULL; p++) {
        if ((p != cl && p[-1] != ' ') || p[kl] != '=')
            continue;
        unsigned long v = 0;
        const char *q = p + kl + 1;
        if (*q < '0' || *q > '9')
            return def;
        while (*q >= '0' && *q <= '9')
            v = v * 10 + (unsigned long)(*q++ - '0');
        return v;
    }
    return def;
}
