/*
 * Console output through console_io(CONSOLEIO_write), as a dom0 writes
 * it, with a small printf.  Output is sent a line at a time so that lines
 * of the test are not interleaved mid-line with hypervisor messages.
 */
#include "guest.h"

void console_write(const char *s, size_t len)
{
    while (len > 0) {
        long rc = HYPERVISOR_console_io(CONSOLEIO_write, len, s);
        /* Nothing else can report the failure; give up on the text. */
        if (rc < 0)
            return;
        /* Xen returns 0 for a full write; treat a positive count as partial. */
        if (rc == 0 || (size_t)rc >= len)
            return;
        s += rc;
        len -= (size_t)rc;
    }
}

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool neg,
                    int width, bool zero, bool alt, bool upper)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0) + (alt && base == 16 ? 2 : 0);
    if (!zero)
        for (; width > len; width--)
            put(o, ' ');
    if (neg)
        put(o, '-');
    if (alt && base == 16) {
        put(o, '0');
        put(o, 'x');
    }
    if (zero)
        for (; width > len; width--)
            put(o, '0');
    while (n)
        put(o, tmp[--n]);
}

int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        bool zero = false, alt = false;
        int width = 0, lng = 0;
        for (;; fmt++) {
            if (*fmt == '0')
                zero = true;
            else if (*fmt == '#')
                alt = true;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        if (*fmt == 'z') {
            lng = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(unsigned long long)v : (unsigned long long)v,
                    10, v < 0, width, zero, false, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = lng ? va_arg(ap, unsigned long long)
                                       : va_arg(ap, unsigned);
            put_num(&o, v, *fmt == 'u' ? 10 : 16, false, width, zero, alt, *fmt == 'X');
            break;
        }
        case 'p':
            put_num(&o, (unsigned long)va_arg(ap, void *), 16, false, 0, false, true, false);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t l = strlen(s);
            for (; width > (int)l; width--)
                put(&o, ' ');
            while (*s)
                put(&o, *s++);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:
            put(&o, '%');
            put(&o, *fmt ? *fmt : '?');
            if (!*fmt)
                fmt--;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintk(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintk(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printk(const char *fmt, ...)
{
    static char line[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintk(line, sizeof(line), fmt, ap);
    va_end(ap);
    console_write(line, strnlen(line, sizeof(line)));
    return n;
}
