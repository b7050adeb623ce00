/*
 * Shared by the decoders in this directory; not an interface for anyone
 * else (see <mica/decompress.h>).
 */
#ifndef MICA_DECOMPRESS_PRIV_H
#define MICA_DECOMPRESS_PRIV_H

#include <mica/decompress.h>
#include <mica/lib.h>

struct crc_tables {
    u32 crc32[256];
    u64 crc64[256];
};

/*
 * DEFLATE Huffman tables are single-level, indexed by the next
 * INFLATE_MAX_BITS (or fewer, if the code is shorter) input bits: simple,
 * and a table is filled once per block.  Entry = symbol << 4 | code length;
 * 0 marks bit patterns no code uses.
 */
#define INFLATE_MAX_BITS 15
struct inflate_work {
    u16 lit[1u << INFLATE_MAX_BITS];
    u16 dist[1u << INFLATE_MAX_BITS];
    u8 lens[288 + 32];
};

/* LZMA probability model; LZMA2 caps lc + lp at 4. */
#define LZMA_STATES        12
#define LZMA_POS_STATES    16
#define LZMA_LIT_PROBS     (0x300u << 4)
#define LZMA_FULL_DIST     128
#define LZMA_END_POS_SLOT  14

struct lzma_len_probs {
    u16 choice;
    u16 choice2;
    u16 low[LZMA_POS_STATES][8];
    u16 mid[LZMA_POS_STATES][8];
    u16 high[256];
};

struct lzma_probs {
    u16 is_match[LZMA_STATES][LZMA_POS_STATES];
    u16 is_rep[LZMA_STATES];
    u16 is_rep0[LZMA_STATES];
    u16 is_rep1[LZMA_STATES];
    u16 is_rep2[LZMA_STATES];
    u16 is_rep0_long[LZMA_STATES][LZMA_POS_STATES];
    u16 dist_slot[4][64];
    u16 dist_special[1 + LZMA_FULL_DIST - LZMA_END_POS_SLOT];
    u16 align[16];
    struct lzma_len_probs len;
    struct lzma_len_probs rep_len;
    u16 literal[LZMA_LIT_PROBS];
};

struct lzma_state {
    struct lzma_probs p;
    u32 state;
    u32 rep[4];
    unsigned lc, lp, pb;
};

struct decomp_work {
    struct crc_tables crc;
    union {
        struct inflate_work inflate;
        struct lzma_state lzma;
    } u;
};

void crc_tables_init(struct crc_tables *t);
u32 crc32_update(const struct crc_tables *t, u32 crc, const u8 *buf, size_t len);
u64 crc64_update(const struct crc_tables *t, u64 crc, const u8 *buf, size_t len);

/* SHA-256 of buf, for .xz check type 10. */
void sha256_digest(const u8 *buf, size_t len, u8 out[32]);

static inline u16 get_le16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static inline u32 get_le32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}
static inline u64 get_le64(const u8 *p)
{
    return (u64)get_le32(p) | (u64)get_le32(p + 4) << 32;
}

/* Each decoder: the stream fills in[0, in_len) exactly. */
int gzip_decode(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
                size_t *out_len, struct decomp_work *w);
int gzip_size(const u8 *in, size_t in_len, u64 *size);
int xz_decode(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
              size_t *out_len, struct decomp_work *w);
int xz_size(const u8 *in, size_t in_len, u64 *size);
int lz4_legacy_decode(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
                      size_t *out_len);

/*
 * Raw DEFLATE: decodes from in[*in_pos] into out[out_pos, out_cap),
 * back-references reaching no further than out[0].  Updates *in_pos to the
 * byte after the final block and *out_end to the end of output.
 */
int inflate_raw(const u8 *in, size_t in_len, size_t *in_pos,
                u8 *out, size_t out_cap, size_t out_pos, size_t *out_end,
                struct inflate_work *w);

/*
 * LZMA2 into out[out_pos, out_end_max): the output buffer is the
 * dictionary.  dict_size bounds match distances as the format requires.
 * Consumes from in[0, in_len) and reports bytes used and produced.
 */
int lzma2_decode(const u8 *in, size_t in_len, size_t *in_used,
                 u8 *out, size_t out_pos, size_t out_end_max, size_t *out_end,
                 u32 dict_size, struct lzma_state *s);

/* x86 BCJ decoding in place over one block's output. */
void bcj_x86_decode(u8 *buf, size_t len, u32 start_offset);

#endif
