/*
 * LZ4 legacy frames (magic 0x184C2102, what `lz4 -l` and Linux's build
 * write) carrying LZ4 blocks.  A legacy frame is the magic followed by
 * blocks, each a 4-byte little-endian compressed size and the block; every
 * block decodes on its own to at most 8 MiB.  The frame has no end marker
 * and no checksum: it ends with the input, or where another legacy magic
 * starts a new frame.
 */
#include "decompress_priv.h"

#define LZ4_LEGACY_MAGIC   0x184C2102u
#define LZ4_LEGACY_BLOCK   (8u << 20)
/* Worst case growth of an incompressible 8 MiB block, as the format bounds it. */
#define LZ4_LEGACY_MAXIN   (LZ4_LEGACY_BLOCK + LZ4_LEGACY_BLOCK / 255 + 16)

static int lz4_corrupt(const char *what, size_t in_off)
{
    pr_err("lz4: corrupt block: %s (input offset %zu)\n", what, in_off);
    return DECOMP_ECORRUPT;
}

/* Adds 255-continued length bytes to *len; false if the input runs out. */
static inline bool lz4_more_len(const u8 *in, size_t end, size_t *ip, size_t *len)
{
    u8 b;
    do {
        if (*ip >= end)
            return false;
        b = in[(*ip)++];
        *len += b;
    } while (b == 255);
    return true;
}

/* Decodes one block in[ip, end) to out[*op, limit); back-references stay in the block. */
static int lz4_block(const u8 *in, size_t ip, size_t end, u8 *out, size_t *opp, size_t limit,
                     size_t out_cap)
{
    size_t op = *opp, block_start = op;
    int rc = DECOMP_OK;

    for (;;) {
        if (ip >= end) {
            rc = lz4_corrupt("block ends without a final literal run", ip);
            break;
        }
        u8 token = in[ip++];
        size_t lit = token >> 4;
        if (lit == 15 && !lz4_more_len(in, end, &ip, &lit)) {
            rc = lz4_corrupt("literal length runs past the block", ip);
            break;
        }
        if (lit > end - ip) {
            rc = lz4_corrupt("literals run past the block", ip);
            break;
        }
        if (lit > limit - op) {
            rc = op - block_start + lit > LZ4_LEGACY_BLOCK ?
                 lz4_corrupt("block decodes to more than 8 MiB", ip) : DECOMP_E2BIG;
            break;
        }
        memcpy(out + op, in + ip, lit);
        op += lit;
        ip += lit;
        if (ip == end)
            break;   /* the last sequence has literals only */
        if (end - ip < 2) {
            rc = lz4_corrupt("truncated match offset", ip);
            break;
        }
        size_t off = get_le16(in + ip);
        ip += 2;
        if (off == 0 || off > op - block_start) {
            rc = lz4_corrupt("match offset reaches outside the block", ip);
            break;
        }
        size_t mlen = token & 15;
        if (mlen == 15 && !lz4_more_len(in, end, &ip, &mlen)) {
            rc = lz4_corrupt("match length runs past the block", ip);
            break;
        }
        mlen += 4;
        if (mlen > limit - op) {
            rc = op - block_start + mlen > LZ4_LEGACY_BLOCK ?
                 lz4_corrupt("block decodes to more than 8 MiB", ip) : DECOMP_E2BIG;
            break;
        }
        const u8 *src = out + op - off;
        u8 *dst = out + op;
        if (off >= mlen) {
            memcpy(dst, src, mlen);
        } else {
            for (size_t i = 0; i < mlen; i++)
                dst[i] = src[i];
        }
        op += mlen;
    }
    if (rc == DECOMP_E2BIG)
        pr_err("lz4: output does not fit in %zu bytes\n", out_cap);
    *opp = op;
    return rc;
}

int lz4_legacy_decode(const u8 *in, size_t in_len, u8 *out, size_t out_cap, size_t *out_len)
{
    size_t ip = 0, op = 0;
    *out_len = 0;
    if (in_len < 4 || get_le32(in) != LZ4_LEGACY_MAGIC) {
        pr_err("lz4: not a legacy frame (magic 0x184C2102)\n");
        return DECOMP_EMAGIC;
    }
    ip = 4;
    while (ip < in_len) {
        if (in_len - ip < 4) {
            pr_err("lz4: %zu stray bytes after the last block\n", in_len - ip);
            return DECOMP_ETRUNC;
        }
        u32 csize = get_le32(in + ip);
        ip += 4;
        if (csize == LZ4_LEGACY_MAGIC)
            continue;   /* concatenated frames */
        if (csize == 0 || csize > LZ4_LEGACY_MAXIN) {
            pr_err("lz4: block size %u at offset %zu is impossible for a legacy frame\n",
                   csize, ip - 4);
            return DECOMP_ECORRUPT;
        }
        if (csize > in_len - ip) {
            pr_err("lz4: truncated block (needs %u bytes, %zu left)\n", csize, in_len - ip);
            return DECOMP_ETRUNC;
        }
        size_t limit = out_cap - op > LZ4_LEGACY_BLOCK ? op + LZ4_LEGACY_BLOCK : out_cap;
        int rc = lz4_block(in, ip, ip + csize, out, &op, limit, out_cap);
        *out_len = op;
        if (rc)
            return rc;
        ip += csize;
    }
    return DECOMP_OK;
}
