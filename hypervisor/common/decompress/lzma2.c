/*
 * LZMA2 chunk framing and the LZMA decoder behind it, written from the
 * .xz file format specification and the LZMA algorithm description.
 *
 * The output buffer is the dictionary: bytes since the last dictionary
 * reset are out[dict_start, pos), so no circular window is kept and matches
 * are plain copies within out.
 */
#include "decompress_priv.h"

#define PROB_BITS  11
#define PROB_INIT  (1u << (PROB_BITS - 1))
#define MOVE_BITS  5
#define TOP        (1u << 24)

struct rc {
    const u8 *in;
    size_t pos, len;
    u32 range, code;
    bool overrun;
};

static inline void rc_normalize(struct rc *rc)
{
    if (rc->range < TOP) {
        rc->range <<= 8;
        rc->code <<= 8;
        if (likely(rc->pos < rc->len))
            rc->code |= rc->in[rc->pos++];
        else
            rc->overrun = true;   /* checked once per symbol by the caller */
    }
}

static inline unsigned rc_bit(struct rc *rc, u16 *prob)
{
    u32 p = *prob;
    u32 bound = (rc->range >> PROB_BITS) * p;
    unsigned bit;
    if (rc->code < bound) {
        rc->range = bound;
        *prob = (u16)(p + (((1u << PROB_BITS) - p) >> MOVE_BITS));
        bit = 0;
    } else {
        rc->range -= bound;
        rc->code -= bound;
        *prob = (u16)(p - (p >> MOVE_BITS));
        bit = 1;
    }
    rc_normalize(rc);
    return bit;
}

/* n-bit symbol, most significant bit first, probs[1 .. 2^n - 1]. */
static inline u32 rc_tree(struct rc *rc, u16 *probs, unsigned n)
{
    u32 m = 1;
    for (unsigned i = 0; i < n; i++)
        m = (m << 1) | rc_bit(rc, &probs[m]);
    return m - (1u << n);
}

/* n-bit symbol, least significant bit first. */
static inline u32 rc_tree_rev(struct rc *rc, u16 *probs, unsigned n)
{
    u32 m = 1, sym = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned bit = rc_bit(rc, &probs[m]);
        m = (m << 1) | bit;
        sym |= (u32)bit << i;
    }
    return sym;
}

/* Bits with probability 1/2, most significant first. */
static inline u32 rc_direct(struct rc *rc, unsigned n)
{
    u32 v = 0;
    while (n--) {
        rc->range >>= 1;
        u32 bit = rc->code >= rc->range;
        if (bit)
            rc->code -= rc->range;
        v = (v << 1) | bit;
        rc_normalize(rc);
    }
    return v;
}

static inline u32 decode_len(struct rc *rc, struct lzma_len_probs *l, unsigned ps)
{
    if (!rc_bit(rc, &l->choice))
        return rc_tree(rc, l->low[ps], 3);
    if (!rc_bit(rc, &l->choice2))
        return 8 + rc_tree(rc, l->mid[ps], 3);
    return 16 + rc_tree(rc, l->high, 8);
}

/* len is the length code (match length - 2). */
static inline u32 decode_dist(struct rc *rc, struct lzma_probs *p, u32 len)
{
    u32 slot = rc_tree(rc, p->dist_slot[len < 3 ? len : 3], 6);
    if (slot < 4)
        return slot;
    unsigned nbits = (slot >> 1) - 1;
    u32 dist = (2 | (slot & 1)) << nbits;
    if (slot < LZMA_END_POS_SLOT)
        return dist + rc_tree_rev(rc, p->dist_special + dist - slot, nbits);
    dist += rc_direct(rc, nbits - 4) << 4;
    return dist + rc_tree_rev(rc, p->align, 4);
}

static void lzma_reset_state(struct lzma_state *s)
{
    u16 *p = (u16 *)&s->p;
    size_t n = offsetof(struct lzma_probs, literal) / sizeof(u16) +
               (0x300u << (s->lc + s->lp));
    for (size_t i = 0; i < n; i++)
        p[i] = PROB_INIT;
    s->state = 0;
    s->rep[0] = s->rep[1] = s->rep[2] = s->rep[3] = 0;
}

static int lzma_corrupt(const char *what, size_t pos)
{
    pr_err("xz: corrupt LZMA data: %s (output offset %zu)\n", what, pos);
    return DECOMP_ECORRUPT;
}

/* Decodes out[*posp, end) from one LZMA chunk. */
static int lzma_chunk(struct lzma_state *s, struct rc *rc, u8 *out,
                      size_t dict_start, size_t *posp, size_t end, u32 dict_size)
{
    struct lzma_probs *p = &s->p;
    u32 state = s->state;
    u32 rep0 = s->rep[0], rep1 = s->rep[1], rep2 = s->rep[2], rep3 = s->rep[3];
    const u32 pos_mask = (1u << s->pb) - 1, lp_mask = (1u << s->lp) - 1;
    const unsigned lc = s->lc;
    size_t pos = *posp;
    int rc_err = DECOMP_OK;

    while (pos < end) {
        size_t rel = pos - dict_start;   /* bytes in the dictionary */
        unsigned ps = (unsigned)rel & pos_mask;

        if (!rc_bit(rc, &p->is_match[state][ps])) {
            u32 prev = rel ? out[pos - 1] : 0;
            u16 *probs = p->literal +
                         0x300u * (((((u32)rel) & lp_mask) << lc) + (prev >> (8 - lc)));
            u32 sym = 1;
            if (state >= 7) {
                /* After a match the literal is coded relative to the byte at rep0. */
                if (rep0 >= rel) {
                    rc_err = lzma_corrupt("distance beyond the dictionary", pos);
                    break;
                }
                u32 match = out[pos - rep0 - 1];
                do {
                    u32 mbit = (match >> 7) & 1;
                    match <<= 1;
                    u32 bit = rc_bit(rc, &probs[0x100 + (mbit << 8) + sym]);
                    sym = (sym << 1) | bit;
                    if (bit != mbit)
                        break;
                } while (sym < 0x100);
            }
            while (sym < 0x100)
                sym = (sym << 1) | rc_bit(rc, &probs[sym]);
            out[pos++] = (u8)sym;
            state = state < 4 ? 0 : (state < 10 ? state - 3 : state - 6);
        } else {
            u32 len;
            if (!rc_bit(rc, &p->is_rep[state])) {
                len = decode_len(rc, &p->len, ps);
                state = state < 7 ? 7 : 10;
                u32 dist = decode_dist(rc, p, len);
                if (dist == 0xffffffffu) {
                    rc_err = lzma_corrupt("end marker inside an LZMA2 chunk", pos);
                    break;
                }
                rep3 = rep2;
                rep2 = rep1;
                rep1 = rep0;
                rep0 = dist;
            } else {
                if (!rc_bit(rc, &p->is_rep0[state])) {
                    if (!rc_bit(rc, &p->is_rep0_long[state][ps])) {
                        /* One byte from rep0. */
                        state = state < 7 ? 9 : 11;
                        if (rep0 >= rel) {
                            rc_err = lzma_corrupt("distance beyond the dictionary", pos);
                            break;
                        }
                        out[pos] = out[pos - rep0 - 1];
                        pos++;
                        goto next;
                    }
                } else {
                    u32 d;
                    if (!rc_bit(rc, &p->is_rep1[state])) {
                        d = rep1;
                    } else {
                        if (!rc_bit(rc, &p->is_rep2[state])) {
                            d = rep2;
                        } else {
                            d = rep3;
                            rep3 = rep2;
                        }
                        rep2 = rep1;
                    }
                    rep1 = rep0;
                    rep0 = d;
                }
                len = decode_len(rc, &p->rep_len, ps);
                state = state < 7 ? 8 : 11;
            }
            len += 2;
            if (rep0 >= rel || rep0 >= dict_size) {
                rc_err = lzma_corrupt("distance beyond the dictionary", pos);
                break;
            }
            if (len > end - pos) {
                rc_err = lzma_corrupt("match runs past the end of its chunk", pos);
                break;
            }
            const u8 *src = out + pos - rep0 - 1;
            u8 *dst = out + pos;
            for (u32 i = 0; i < len; i++)
                dst[i] = src[i];
            pos += len;
        }
next:
        if (unlikely(rc->overrun)) {
            rc_err = lzma_corrupt("chunk needs more input than its packed size", pos);
            break;
        }
    }
    s->state = state;
    s->rep[0] = rep0;
    s->rep[1] = rep1;
    s->rep[2] = rep2;
    s->rep[3] = rep3;
    *posp = pos;
    return rc_err;
}

int lzma2_decode(const u8 *in, size_t in_len, size_t *in_used,
                 u8 *out, size_t out_pos, size_t out_end_max, size_t *out_end,
                 u32 dict_size, struct lzma_state *s)
{
    size_t ip = 0, pos = out_pos, dict_start = out_pos;
    bool need_dict_reset = true, need_props = true;
    int err = DECOMP_OK;

    for (;;) {
        if (ip >= in_len) {
            pr_err("xz: truncated LZMA2 data (no end marker)\n");
            err = DECOMP_ETRUNC;
            break;
        }
        u8 ctrl = in[ip++];
        if (ctrl == 0x00)
            break;
        if (ctrl == 0x01 || ctrl >= 0xe0) {
            dict_start = pos;
            need_dict_reset = false;
        } else if (need_dict_reset) {
            err = lzma_corrupt("first LZMA2 chunk does not reset the dictionary", pos);
            break;
        }
        if (ctrl < 0x80) {
            if (ctrl > 0x02) {
                pr_err("xz: corrupt LZMA2 data: invalid control byte %#x\n", ctrl);
                err = DECOMP_ECORRUPT;
                break;
            }
            if (in_len - ip < 2) {
                pr_err("xz: truncated LZMA2 chunk header\n");
                err = DECOMP_ETRUNC;
                break;
            }
            size_t n = ((size_t)in[ip] << 8 | in[ip + 1]) + 1;
            ip += 2;
            if (n > in_len - ip) {
                pr_err("xz: truncated uncompressed LZMA2 chunk\n");
                err = DECOMP_ETRUNC;
                break;
            }
            if (n > out_end_max - pos) {
                err = DECOMP_E2BIG;
                break;
            }
            memcpy(out + pos, in + ip, n);
            pos += n;
            ip += n;
            continue;
        }

        size_t hdr = ctrl >= 0xc0 ? 5 : 4;
        if (in_len - ip < hdr) {
            pr_err("xz: truncated LZMA2 chunk header\n");
            err = DECOMP_ETRUNC;
            break;
        }
        size_t usize = ((size_t)(ctrl & 0x1f) << 16 | (size_t)in[ip] << 8 | in[ip + 1]) + 1;
        size_t psize = ((size_t)in[ip + 2] << 8 | in[ip + 3]) + 1;
        if (ctrl >= 0xc0) {
            unsigned props = in[ip + 4];
            if (props >= 9 * 5 * 5) {
                err = lzma_corrupt("invalid lc/lp/pb properties byte", pos);
                break;
            }
            s->lc = props % 9;
            props /= 9;
            s->lp = props % 5;
            s->pb = props / 5;
            if (s->lc + s->lp > 4) {
                err = lzma_corrupt("lc + lp exceeds 4", pos);
                break;
            }
            need_props = false;
        } else if (need_props) {
            err = lzma_corrupt("LZMA chunk before any properties", pos);
            break;
        }
        ip += hdr;
        if (ctrl >= 0xa0)
            lzma_reset_state(s);
        if (psize > in_len - ip) {
            pr_err("xz: truncated LZMA2 chunk (needs %zu bytes, %zu left)\n", psize, in_len - ip);
            err = DECOMP_ETRUNC;
            break;
        }
        if (usize > out_end_max - pos) {
            err = DECOMP_E2BIG;
            break;
        }
        if (psize < 5 || in[ip] != 0x00) {
            err = lzma_corrupt("bad range coder start", pos);
            break;
        }
        struct rc rc = {
            .in = in + ip, .pos = 5, .len = psize,
            .range = 0xffffffffu, .code = get_le32(in + ip + 1), .overrun = false,
        };
        rc.code = __builtin_bswap32(rc.code);
        err = lzma_chunk(s, &rc, out, dict_start, &pos, pos + usize, dict_size);
        if (err)
            break;
        if (rc.pos != rc.len || rc.code != 0) {
            err = lzma_corrupt("chunk does not end where its packed size says", pos);
            break;
        }
        ip += psize;
    }
    *in_used = ip;
    *out_end = pos;
    return err;
}
