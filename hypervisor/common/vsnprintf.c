/*
 * Formatted output for printk() and friends.
 *
 * Supports what Mica's own code uses: %d %i %u %x %X %o %c %s %p %%, the
 * flags '-' '0' '#' and ' ', a field width and precision (also '*'), and
 * the length modifiers hh h l ll z.  Output is always NUL-terminated when
 * size > 0; the return value is the length the full output would have.
 */
#include <mica/lib.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padding(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, alt, space, plus;
    int width;
    int precision;      /* -1: none */
};

static void put_string(struct out *o, const char *s, const struct spec *sp)
{
    size_t n;

    if (!s)
        s = "(null)";
    n = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
    if (!sp->left)
        put_padding(o, ' ', sp->width - (int)n);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        put_padding(o, ' ', sp->width - (int)n);
}

static void put_number(struct out *o, u64 v, bool negative, unsigned base,
                       bool upper, const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0, len, pad;
    char sign = 0;
    const char *prefix = "";

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);

    if (negative)
        sign = '-';
    else if (sp->plus)
        sign = '+';
    else if (sp->space)
        sign = ' ';
    if (sp->alt && base == 16)
        prefix = upper ? "0X" : "0x";
    else if (sp->alt && base == 8 && tmp[n - 1] != '0')
        prefix = "0";

    len = n > sp->precision ? n : sp->precision;
    len += (sign ? 1 : 0) + (int)strlen(prefix);
    pad = sp->width - len;

    if (!sp->left && !(sp->zero && sp->precision < 0))
        put_padding(o, ' ', pad);
    if (sign)
        put(o, sign);
    for (; *prefix; prefix++)
        put(o, *prefix);
    if (!sp->left && sp->zero && sp->precision < 0)
        put_padding(o, '0', pad);
    put_padding(o, '0', sp->precision - n);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_padding(o, ' ', pad);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        struct spec sp = { .precision = -1 };
        int lng = 0;            /* -2 hh, -1 h, 0 int, 1 long, 2 long long */
        bool is_signed = false, upper = false;
        unsigned base = 10;
        u64 v;

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        for (;;) {
            char f = *++fmt;
            if (f == '-') sp.left = true;
            else if (f == '0') sp.zero = true;
            else if (f == '#') sp.alt = true;
            else if (f == ' ') sp.space = true;
            else if (f == '+') sp.plus = true;
            else break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.precision = 0;
            if (*fmt == '*') {
                sp.precision = va_arg(ap, int);
                if (sp.precision < 0)
                    sp.precision = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.precision = sp.precision * 10 + (*fmt++ - '0');
            }
        }
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'h') lng--;
            else if (*fmt == 'z') lng = 1;
            else break;
        }

        switch (*fmt) {
        case '\0':
            fmt--;      /* a lone '%' at the end: stop at the terminator */
            continue;
        case '%':
            put(&o, '%');
            continue;
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!sp.left)
                put_padding(&o, ' ', sp.width - 1);
            put(&o, c);
            if (sp.left)
                put_padding(&o, ' ', sp.width - 1);
            continue;
        }
        case 's':
            put_string(&o, va_arg(ap, const char *), &sp);
            continue;
        case 'p':
            sp.alt = true;
            put_number(&o, (u64)(uintptr_t)va_arg(ap, void *), false, 16,
                       false, &sp);
            continue;
        case 'd':
        case 'i':
            is_signed = true;
            break;
        case 'u':
            break;
        case 'X':
            upper = true;
            /* fall through */
        case 'x':
            base = 16;
            break;
        case 'o':
            base = 8;
            break;
        default:
            /* Unknown conversion: show it rather than guess its argument. */
            put(&o, '%');
            put(&o, *fmt);
            continue;
        }

        if (is_signed) {
            s64 sv;
            if (lng >= 2) sv = va_arg(ap, long long);
            else if (lng == 1) sv = va_arg(ap, long);
            else sv = va_arg(ap, int);
            if (lng == -1) sv = (short)sv;
            if (lng <= -2) sv = (signed char)sv;
            put_number(&o, sv < 0 ? -(u64)sv : (u64)sv, sv < 0, base, upper, &sp);
        } else {
            if (lng >= 2) v = va_arg(ap, unsigned long long);
            else if (lng == 1) v = va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned int);
            if (lng == -1) v = (unsigned short)v;
            if (lng <= -2) v = (unsigned char)v;
            put_number(&o, v, false, base, upper, &sp);
        }
    }
    if (size)
        o.buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
