/*
 * The C string and memory functions the compiler and the rest of Mica
 * expect.  The bulk memory functions move eight bytes at a time, eight
 * words per loop: the dom0 builder zeroes and copies hundreds of MiB with
 * them, and byte loops made that the larger part of dom0's start under
 * QEMU (see docs/benchmarks.md).  Everything else stays a simple loop.
 */
#include <mica/lib.h>

typedef u64 __attribute__((may_alias, aligned(1))) unaligned_u64;

static void copy_words_up(u8 *d, const u8 *s, size_t words)
{
    unaligned_u64 *dw = (unaligned_u64 *)d;
    const unaligned_u64 *sw = (const unaligned_u64 *)s;

    for (; words >= 8; words -= 8, dw += 8, sw += 8) {
        u64 a = sw[0], b = sw[1], c = sw[2], e = sw[3];
        u64 f = sw[4], g = sw[5], h = sw[6], i = sw[7];
        dw[0] = a; dw[1] = b; dw[2] = c; dw[3] = e;
        dw[4] = f; dw[5] = g; dw[6] = h; dw[7] = i;
    }
    for (; words; words--)
        *dw++ = *sw++;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    size_t words = n / 8;

    copy_words_up(d, s, words);
    for (size_t i = words * 8; i < n; i++)
        d[i] = s[i];
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;

    if (d == s || n == 0)
        return dst;
    /* Forward is safe unless the destination starts inside the source. */
    if (d < s || d >= s + n) {
        if (d + 8 <= s || d >= s + n)
            return memcpy(dst, src, n);
        while (n--)
            *d++ = *s++;                /* overlap closer than a word */
        return dst;
    }
    /* Backwards, a word at a time while the gap allows it. */
    if ((size_t)(d - s) >= 8) {
        while (n % 8) {
            n--;
            d[n] = s[n];
        }
        while (n) {
            n -= 8;
            *(unaligned_u64 *)(d + n) = *(const unaligned_u64 *)(s + n);
        }
        return dst;
    }
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    u8 *d = dst;
    u64 pattern = 0x0101010101010101ULL * (u8)c;
    unaligned_u64 *dw;
    size_t words;

    /* Align the destination so the word stores do not straddle lines. */
    while (n && ((u64)d & 7)) {
        *d++ = (u8)c;
        n--;
    }
    dw = (unaligned_u64 *)d;
    words = n / 8;
    for (; words >= 8; words -= 8, dw += 8) {
        dw[0] = pattern; dw[1] = pattern; dw[2] = pattern; dw[3] = pattern;
        dw[4] = pattern; dw[5] = pattern; dw[6] = pattern; dw[7] = pattern;
    }
    for (; words; words--)
        *dw++ = pattern;
    d = (u8 *)dw;
    for (n %= 8; n; n--)
        *d++ = (u8)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;

    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
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

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
