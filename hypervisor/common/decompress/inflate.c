/*
 * DEFLATE (RFC 1951) and the gzip member format (RFC 1952).
 */
#include "decompress_priv.h"

struct bits {
    const u8 *in;
    size_t len;
    size_t pos;     /* next byte to load into buf */
    u64 buf;        /* bits not yet consumed, LSB first */
    unsigned cnt;   /* valid bits in buf */
};

/*
 * Loads whole bytes while there is room.  Past the end of input nothing is
 * loaded, so cnt may stay below what a caller wants: callers compare against
 * cnt before consuming, which turns every overrun into DECOMP_ETRUNC.
 */
static inline void bits_fill(struct bits *b)
{
    while (b->cnt <= 56 && b->pos < b->len) {
        b->buf |= (u64)b->in[b->pos++] << b->cnt;
        b->cnt += 8;
    }
}

/* n <= 32. */
static inline bool bits_get(struct bits *b, unsigned n, u32 *val)
{
    if (b->cnt < n) {
        bits_fill(b);
        if (b->cnt < n)
            return false;
    }
    *val = (u32)(b->buf & ((1ull << n) - 1));
    b->buf >>= n;
    b->cnt -= n;
    return true;
}

struct huff {
    u16 *table;
    unsigned bits;   /* table has 1 << bits entries */
};

static unsigned reverse_bits(unsigned code, unsigned len)
{
    unsigned r = 0;
    for (unsigned i = 0; i < len; i++) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/*
 * Builds the canonical code of RFC 1951 3.2.2 for lens[0, n).  Incomplete
 * codes are accepted (a lone distance code is legal); patterns they leave
 * unused stay 0 and fail when met.  Over-subscribed codes are corrupt.
 */
static int huff_build(struct huff *h, u16 *table, const u8 *lens, unsigned n)
{
    u16 count[INFLATE_MAX_BITS + 1] = { 0 };
    u16 next[INFLATE_MAX_BITS + 1];
    unsigned maxlen = 0;

    for (unsigned i = 0; i < n; i++) {
        count[lens[i]]++;
        if (lens[i] > maxlen)
            maxlen = lens[i];
    }
    count[0] = 0;
    int left = 1;
    for (unsigned l = 1; l <= INFLATE_MAX_BITS; l++) {
        left = (left << 1) - count[l];
        if (left < 0)
            return DECOMP_ECORRUPT;
    }
    unsigned code = 0;
    next[0] = 0;
    for (unsigned l = 1; l <= INFLATE_MAX_BITS; l++) {
        code = (code + count[l - 1]) << 1;
        next[l] = (u16)code;
    }
    if (maxlen == 0)
        maxlen = 1;
    h->table = table;
    h->bits = maxlen;
    memset(table, 0, sizeof(u16) << maxlen);
    for (unsigned sym = 0; sym < n; sym++) {
        unsigned len = lens[sym];
        if (!len)
            continue;
        unsigned rev = reverse_bits(next[len]++, len);
        for (unsigned i = rev; i < (1u << maxlen); i += 1u << len)
            table[i] = (u16)(sym << 4 | len);
    }
    return DECOMP_OK;
}

/* Returns the symbol, or -1 (truncated) / -2 (no such code). */
static inline int huff_decode(struct bits *b, const struct huff *h)
{
    if (b->cnt < h->bits)
        bits_fill(b);
    /* Short of bits at the very end: the zero bits above cnt act as padding. */
    u16 e = h->table[b->buf & ((1u << h->bits) - 1)];
    unsigned len = e & 15;
    if (!len)
        return -2;
    if (len > b->cnt)
        return -1;
    b->buf >>= len;
    b->cnt -= len;
    return e >> 4;
}

static const u16 len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258
};
static const u8 len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0
};
static const u16 dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577
};
static const u8 dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13
};
static const u8 clen_order[19] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
};

static int trunc_err(void)
{
    pr_err("gzip: truncated input inside a DEFLATE block\n");
    return DECOMP_ETRUNC;
}

static int corrupt(const char *what)
{
    pr_err("gzip: corrupt DEFLATE data: %s\n", what);
    return DECOMP_ECORRUPT;
}

static int read_dynamic_tables(struct bits *b, struct inflate_work *w,
                               struct huff *lit, struct huff *dist)
{
    u32 hlit, hdist, hclen, v;
    if (!bits_get(b, 5, &hlit) || !bits_get(b, 5, &hdist) || !bits_get(b, 4, &hclen))
        return trunc_err();
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > 286 || hdist > 30)
        return corrupt("too many length or distance codes");

    u8 clens[19] = { 0 };
    for (unsigned i = 0; i < hclen; i++) {
        if (!bits_get(b, 3, &v))
            return trunc_err();
        clens[clen_order[i]] = (u8)v;
    }
    struct huff ch;
    /* The code-length code is at most 7 bits: build it in the distance table. */
    if (huff_build(&ch, w->dist, clens, 19))
        return corrupt("over-subscribed code-length code");

    unsigned n = 0, total = hlit + hdist;
    while (n < total) {
        int sym = huff_decode(b, &ch);
        if (sym == -1)
            return trunc_err();
        if (sym < 0)
            return corrupt("invalid code-length code");
        if (sym < 16) {
            w->lens[n++] = (u8)sym;
            continue;
        }
        unsigned rep;
        u8 val = 0;
        if (sym == 16) {
            if (n == 0)
                return corrupt("repeat of a code length with no previous length");
            if (!bits_get(b, 2, &v))
                return trunc_err();
            val = w->lens[n - 1];
            rep = 3 + v;
        } else if (sym == 17) {
            if (!bits_get(b, 3, &v))
                return trunc_err();
            rep = 3 + v;
        } else {
            if (!bits_get(b, 7, &v))
                return trunc_err();
            rep = 11 + v;
        }
        if (rep > total - n)
            return corrupt("code lengths overrun the declared count");
        memset(&w->lens[n], val, rep);
        n += rep;
    }
    if (w->lens[256] == 0)
        return corrupt("no end-of-block code");
    if (huff_build(lit, w->lit, w->lens, hlit))
        return corrupt("over-subscribed literal/length code");
    if (huff_build(dist, w->dist, w->lens + hlit, hdist))
        return corrupt("over-subscribed distance code");
    return DECOMP_OK;
}

static int build_fixed_tables(struct inflate_work *w, struct huff *lit, struct huff *dist)
{
    unsigned i = 0;
    for (; i < 144; i++) w->lens[i] = 8;
    for (; i < 256; i++) w->lens[i] = 9;
    for (; i < 280; i++) w->lens[i] = 7;
    for (; i < 288; i++) w->lens[i] = 8;
    for (i = 0; i < 32; i++) w->lens[288 + i] = 5;
    if (huff_build(lit, w->lit, w->lens, 288) || huff_build(dist, w->dist, w->lens + 288, 32))
        return corrupt("fixed tables");
    return DECOMP_OK;
}

static int inflate_codes(struct bits *b, const struct huff *lit, const struct huff *dist,
                         u8 *out, size_t out_cap, size_t *posp)
{
    size_t pos = *posp;
    for (;;) {
        int sym = huff_decode(b, lit);
        if (sym < 256) {
            if (sym < 0) {
                *posp = pos;
                return sym == -1 ? trunc_err() : corrupt("invalid literal/length code");
            }
            if (pos >= out_cap) {
                *posp = pos;
                pr_err("gzip: output does not fit in %zu bytes\n", out_cap);
                return DECOMP_E2BIG;
            }
            out[pos++] = (u8)sym;
            continue;
        }
        if (sym == 256)
            break;
        sym -= 257;
        if (sym >= 29) {
            *posp = pos;
            return corrupt("length symbol 286/287");
        }
        u32 extra, len, d;
        if (!bits_get(b, len_extra[sym], &extra)) {
            *posp = pos;
            return trunc_err();
        }
        len = len_base[sym] + extra;
        int dsym = huff_decode(b, dist);
        if (dsym < 0 || dsym >= 30) {
            *posp = pos;
            return dsym == -1 ? trunc_err() : corrupt("invalid distance code");
        }
        if (!bits_get(b, dist_extra[dsym], &extra)) {
            *posp = pos;
            return trunc_err();
        }
        d = dist_base[dsym] + extra;
        if (d > pos) {
            *posp = pos;
            return corrupt("distance reaches before the start of the output");
        }
        if (len > out_cap - pos) {
            *posp = pos;
            pr_err("gzip: output does not fit in %zu bytes\n", out_cap);
            return DECOMP_E2BIG;
        }
        const u8 *src = out + pos - d;
        u8 *dst = out + pos;
        if (d >= len) {
            memcpy(dst, src, len);
        } else {
            for (u32 i = 0; i < len; i++)
                dst[i] = src[i];
        }
        pos += len;
    }
    *posp = pos;
    return DECOMP_OK;
}

int inflate_raw(const u8 *in, size_t in_len, size_t *in_pos,
                u8 *out, size_t out_cap, size_t out_pos, size_t *out_end,
                struct inflate_work *w)
{
    struct bits b = { .in = in, .len = in_len, .pos = *in_pos, .buf = 0, .cnt = 0 };
    size_t pos = out_pos;
    u32 last, type;
    int rc = DECOMP_OK;

    do {
        if (!bits_get(&b, 1, &last) || !bits_get(&b, 2, &type)) {
            rc = trunc_err();
            break;
        }
        if (type == 0) {
            /* Stored: drop to a byte boundary, then LEN and its complement. */
            u32 skip = b.cnt & 7, dummy, len, nlen;
            bits_get(&b, skip, &dummy);
            if (!bits_get(&b, 16, &len) || !bits_get(&b, 16, &nlen)) {
                rc = trunc_err();
                break;
            }
            if ((len ^ 0xffff) != nlen) {
                rc = corrupt("stored block length check");
                break;
            }
            /* Bytes still buffered in b.buf come first, then the input. */
            while (len && b.cnt) {
                if (pos >= out_cap)
                    goto too_big;
                out[pos++] = (u8)b.buf;
                b.buf >>= 8;
                b.cnt -= 8;
                len--;
            }
            if (len > b.len - b.pos) {
                rc = trunc_err();
                break;
            }
            if (len > out_cap - pos)
                goto too_big;
            memcpy(out + pos, b.in + b.pos, len);
            pos += len;
            b.pos += len;
        } else if (type == 1 || type == 2) {
            struct huff lit, dist;
            rc = type == 1 ? build_fixed_tables(w, &lit, &dist)
                           : read_dynamic_tables(&b, w, &lit, &dist);
            if (rc)
                break;
            /* Offsets relative to the member: out points at its start. */
            rc = inflate_codes(&b, &lit, &dist, out, out_cap, &pos);
            if (rc)
                break;
        } else {
            rc = corrupt("reserved block type 3");
            break;
        }
    } while (!last);

    *out_end = pos;
    /* Whole bytes left in the bit buffer were read ahead, not used. */
    *in_pos = b.pos - b.cnt / 8;
    return rc;

too_big:
    *out_end = pos;
    *in_pos = b.pos;
    pr_err("gzip: output does not fit in %zu bytes\n", out_cap);
    return DECOMP_E2BIG;
}

#define GZ_FTEXT    0x01
#define GZ_FHCRC    0x02
#define GZ_FEXTRA   0x04
#define GZ_FNAME    0x08
#define GZ_FCOMMENT 0x10
#define GZ_FRESERVED 0xe0

/* Parses a member header at in[*pos]; on success *pos is the DEFLATE data. */
static int gzip_header(const u8 *in, size_t in_len, size_t *pos, const struct crc_tables *crc)
{
    size_t p = *pos;
    if (in_len - p < 10) {
        pr_err("gzip: truncated member header\n");
        return DECOMP_ETRUNC;
    }
    const u8 *h = in + p;
    if (h[0] != 0x1f || h[1] != 0x8b) {
        pr_err("gzip: bad magic %02x %02x at offset %zu\n", h[0], h[1], p);
        return DECOMP_EMAGIC;
    }
    u8 cm = h[2], flg = h[3];
    if (cm != 8) {
        pr_err("gzip: compression method %u is not DEFLATE (8)\n", cm);
        return DECOMP_EUNSUPP;
    }
    if (flg & GZ_FRESERVED) {
        pr_err("gzip: reserved header flags %#x set\n", flg);
        return DECOMP_ECORRUPT;
    }
    p += 10;
    if (flg & GZ_FEXTRA) {
        if (in_len - p < 2)
            goto trunc;
        size_t xlen = get_le16(in + p);
        p += 2;
        if (in_len - p < xlen)
            goto trunc;
        p += xlen;
    }
    for (u8 f = GZ_FNAME; f <= GZ_FCOMMENT; f <<= 1) {
        if (!(flg & f))
            continue;
        while (p < in_len && in[p])
            p++;
        if (p >= in_len)
            goto trunc;
        p++;
    }
    if (flg & GZ_FHCRC) {
        if (in_len - p < 2)
            goto trunc;
        u16 want = get_le16(in + p);
        u16 got = (u16)crc32_update(crc, 0, in + *pos, p - *pos);
        if (want != got) {
            pr_err("gzip: header CRC16 mismatch (stored %#06x, computed %#06x)\n", want, got);
            return DECOMP_ECHECK;
        }
        p += 2;
    }
    *pos = p;
    return DECOMP_OK;
trunc:
    pr_err("gzip: truncated member header\n");
    return DECOMP_ETRUNC;
}

int gzip_decode(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
                size_t *out_len, struct decomp_work *w)
{
    size_t pos = 0, opos = 0;
    *out_len = 0;
    /* Concatenated members form one file (RFC 1952 2.2). */
    do {
        int rc = gzip_header(in, in_len, &pos, &w->crc);
        if (rc)
            return rc;
        size_t start = opos, end;
        rc = inflate_raw(in, in_len, &pos, out + start, out_cap - start, 0, &end,
                         &w->u.inflate);
        *out_len = start + end;
        if (rc)
            return rc;
        opos = start + end;
        if (in_len - pos < 8) {
            pr_err("gzip: truncated member trailer (CRC32 and ISIZE)\n");
            return DECOMP_ETRUNC;
        }
        u32 want_crc = get_le32(in + pos), want_size = get_le32(in + pos + 4);
        pos += 8;
        u32 got_crc = crc32_update(&w->crc, 0, out + start, end);
        if (got_crc != want_crc) {
            pr_err("gzip: CRC32 mismatch (stored %#010x, computed %#010x)\n", want_crc, got_crc);
            return DECOMP_ECHECK;
        }
        if ((u32)end != want_size) {
            pr_err("gzip: ISIZE mismatch (stored %u, decoded %zu)\n", want_size, end);
            return DECOMP_ECHECK;
        }
    } while (pos < in_len);
    return DECOMP_OK;
}

int gzip_size(const u8 *in, size_t in_len, u64 *size)
{
    /* Smallest member: 10 header + 2 for an empty fixed block + 8 trailer. */
    if (in_len < 20) {
        pr_err("gzip: truncated (%zu bytes)\n", in_len);
        return DECOMP_ETRUNC;
    }
    /* ISIZE of the last member only; multi-member files are rare here. */
    *size = get_le32(in + in_len - 4);
    return DECOMP_OK;
}
