/*
 * The .xz container (The .xz File Format, version 1.1.0): streams, blocks,
 * index and the integrity checks.  Filter chains we decode: LZMA2 alone,
 * or the x86 BCJ filter followed by LZMA2 (what Linux's build writes).
 */
#include "decompress_priv.h"

#define XZ_HDR_SIZE   12
#define XZ_FTR_SIZE   12
#define XZ_VLI_MAX    ((u64)-1 >> 1)

#define XZ_CHECK_NONE   0x0
#define XZ_CHECK_CRC32  0x1
#define XZ_CHECK_CRC64  0x4
#define XZ_CHECK_SHA256 0xa

#define XZ_FILTER_X86   0x04
#define XZ_FILTER_LZMA2 0x21

static const u8 xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

/* Sizes the check IDs occupy, including the ones we cannot verify. */
static size_t check_size(unsigned id)
{
    if (id == 0)
        return 0;
    return (size_t)4 << ((id - 1) / 3);
}

static const char *check_name(unsigned id)
{
    switch (id) {
    case XZ_CHECK_NONE:   return "none";
    case XZ_CHECK_CRC32:  return "CRC32";
    case XZ_CHECK_CRC64:  return "CRC64";
    case XZ_CHECK_SHA256: return "SHA-256";
    }
    return "reserved";
}

/* Table-free CRC-32 for the few bytes xz_size() looks at without a work area. */
static u32 crc32_bitwise(const u8 *p, size_t len)
{
    u32 c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? 0xedb88320u : 0);
    }
    return ~c;
}

/* Variable-length integer; false if malformed or running past end. */
static bool get_vli(const u8 *in, size_t end, size_t *pos, u64 *val)
{
    u64 v = 0;
    for (unsigned i = 0; i < 9; i++) {
        if (*pos >= end)
            return false;
        u8 b = in[(*pos)++];
        v |= (u64)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            /* A zero byte after the first would be a non-minimal encoding. */
            if (b == 0 && i > 0)
                return false;
            *val = v;
            return true;
        }
    }
    return false;
}

struct stream_flags {
    u8 bytes[2];
    unsigned check;
};

static int parse_stream_flags(const struct crc_tables *crc, const u8 *p, struct stream_flags *sf,
                              const char *where)
{
    u32 want = get_le32(p + 2);
    u32 got = crc32_update(crc, 0, p, 2);
    if (want != got) {
        pr_err("xz: stream %s CRC32 mismatch (stored %#010x, computed %#010x)\n", where, want, got);
        return DECOMP_ECHECK;
    }
    if (p[0] != 0 || (p[1] & 0xf0)) {
        pr_err("xz: stream %s has reserved flags set (%02x %02x)\n", where, p[0], p[1]);
        return DECOMP_EUNSUPP;
    }
    sf->bytes[0] = p[0];
    sf->bytes[1] = p[1];
    sf->check = p[1] & 0x0f;
    return DECOMP_OK;
}

/* Running summary of the blocks, compared against the index at the end. */
struct block_sums {
    u64 count;
    u64 unpadded;
    u64 uncompressed;
    u32 hash;       /* CRC32 over the records, so order and values both count */
};

static void sums_add(const struct crc_tables *crc, struct block_sums *s, u64 unpadded, u64 uncomp)
{
    u8 rec[16];
    for (int i = 0; i < 8; i++) {
        rec[i] = (u8)(unpadded >> (8 * i));
        rec[8 + i] = (u8)(uncomp >> (8 * i));
    }
    s->count++;
    s->unpadded += unpadded;
    s->uncompressed += uncomp;
    s->hash = crc32_update(crc, s->hash, rec, sizeof(rec));
}

struct block_header {
    size_t size;
    u64 comp_size, uncomp_size;   /* XZ_VLI_MAX + 1 when absent */
    bool have_bcj;
    u32 bcj_start;
    u32 dict_size;
};

#define SIZE_ABSENT (XZ_VLI_MAX + 1)

static int parse_block_header(const struct crc_tables *crc, const u8 *in, size_t in_len,
                              size_t pos, struct block_header *bh)
{
    size_t hsize = ((size_t)in[pos] + 1) * 4;
    if (hsize > in_len - pos) {
        pr_err("xz: truncated block header at offset %zu\n", pos);
        return DECOMP_ETRUNC;
    }
    const u8 *h = in + pos;
    size_t end = hsize - 4;
    u32 want = get_le32(h + end), got = crc32_update(crc, 0, h, end);
    if (want != got) {
        pr_err("xz: block header CRC32 mismatch at offset %zu (stored %#010x, computed %#010x)\n",
               pos, want, got);
        return DECOMP_ECHECK;
    }
    u8 flags = h[1];
    if (flags & 0x3c) {
        pr_err("xz: block header has reserved flags set (%#x)\n", flags);
        return DECOMP_EUNSUPP;
    }
    unsigned nfilters = (flags & 3) + 1;
    size_t p = 2;
    bh->size = hsize;
    bh->comp_size = bh->uncomp_size = SIZE_ABSENT;
    bh->have_bcj = false;
    bh->bcj_start = 0;
    if ((flags & 0x40) && (!get_vli(h, end, &p, &bh->comp_size) || bh->comp_size == 0))
        goto bad;
    if ((flags & 0x80) && !get_vli(h, end, &p, &bh->uncomp_size))
        goto bad;
    for (unsigned f = 0; f < nfilters; f++) {
        u64 id, psize;
        if (!get_vli(h, end, &p, &id) || !get_vli(h, end, &p, &psize) || psize > end - p)
            goto bad;
        const u8 *props = h + p;
        p += (size_t)psize;
        bool last = f + 1 == nfilters;
        if (last) {
            if (id != XZ_FILTER_LZMA2) {
                pr_err("xz: unsupported filter %#llx at the end of the chain (only LZMA2 is)\n",
                       (unsigned long long)id);
                return DECOMP_EUNSUPP;
            }
            if (psize != 1 || props[0] > 40) {
                pr_err("xz: invalid LZMA2 filter properties\n");
                return DECOMP_ECORRUPT;
            }
            unsigned d = props[0];
            bh->dict_size = d == 40 ? 0xffffffffu : (2u | (d & 1)) << (d / 2 + 11);
        } else if (id == XZ_FILTER_X86 && !bh->have_bcj) {
            if (psize == 4)
                bh->bcj_start = get_le32(props);
            else if (psize != 0)
                goto bad;
            bh->have_bcj = true;
        } else {
            pr_err("xz: unsupported filter %#llx (supported: x86 BCJ then LZMA2)\n",
                   (unsigned long long)id);
            return DECOMP_EUNSUPP;
        }
    }
    for (; p < end; p++)
        if (h[p])
            goto bad;
    return DECOMP_OK;
bad:
    pr_err("xz: malformed block header at offset %zu\n", pos);
    return DECOMP_ECORRUPT;
}

static int verify_check(const struct crc_tables *crc, unsigned check, const u8 *data, size_t len,
                        const u8 *stored, size_t block_out)
{
    switch (check) {
    case XZ_CHECK_NONE:
        return DECOMP_OK;
    case XZ_CHECK_CRC32:
        if (crc32_update(crc, 0, data, len) == get_le32(stored))
            return DECOMP_OK;
        break;
    case XZ_CHECK_CRC64:
        if (crc64_update(crc, 0, data, len) == get_le64(stored))
            return DECOMP_OK;
        break;
    case XZ_CHECK_SHA256: {
        u8 digest[32];
        sha256_digest(data, len, digest);
        if (memcmp(digest, stored, 32) == 0)
            return DECOMP_OK;
        break;
    }
    }
    pr_err("xz: %s mismatch in the block whose output starts at offset %zu\n",
           check_name(check), block_out);
    return DECOMP_ECHECK;
}

static int decode_block(struct decomp_work *w, const u8 *in, size_t in_len, size_t *posp,
                        u8 *out, size_t out_cap, size_t *opos, unsigned check,
                        struct block_sums *sums)
{
    struct block_header bh;
    size_t pos = *posp;
    int rc = parse_block_header(&w->crc, in, in_len, pos, &bh);
    if (rc)
        return rc;
    pos += bh.size;

    size_t data_end = in_len;
    if (bh.comp_size != SIZE_ABSENT) {
        if (bh.comp_size > in_len - pos) {
            pr_err("xz: block claims %llu compressed bytes, only %zu remain\n",
                   (unsigned long long)bh.comp_size, in_len - pos);
            return DECOMP_ETRUNC;
        }
        data_end = pos + (size_t)bh.comp_size;
    }
    size_t start = *opos, out_max = out_cap;
    bool limited_by_header = false;
    if (bh.uncomp_size != SIZE_ABSENT) {
        if (bh.uncomp_size > out_cap - start) {
            pr_err("xz: block claims %llu bytes, which does not fit in the %zu bytes of output left\n",
                   (unsigned long long)bh.uncomp_size, out_cap - start);
            return DECOMP_E2BIG;
        }
        out_max = start + (size_t)bh.uncomp_size;
        limited_by_header = true;
    }
    size_t used, end;
    rc = lzma2_decode(in + pos, data_end - pos, &used, out, start, out_max, &end,
                      bh.dict_size, &w->u.lzma);
    *opos = end;
    if (rc == DECOMP_E2BIG) {
        if (limited_by_header) {
            pr_err("xz: block decodes to more than the %llu bytes its header records\n",
                   (unsigned long long)bh.uncomp_size);
            return DECOMP_ECORRUPT;
        }
        pr_err("xz: output does not fit in %zu bytes\n", out_cap);
        return rc;
    }
    if (rc)
        return rc;
    if ((bh.comp_size != SIZE_ABSENT && used != bh.comp_size) ||
        (bh.uncomp_size != SIZE_ABSENT && end - start != bh.uncomp_size)) {
        pr_err("xz: block sizes differ from those its header records\n");
        return DECOMP_ECORRUPT;
    }
    pos += used;
    /* Unpadded size: header, compressed data and check, without padding. */
    u64 unpadded = (u64)bh.size + used + check_size(check);
    /* Block padding brings the compressed data to a multiple of four. */
    for (size_t pad = used; pad & 3; pad++) {
        if (pos >= in_len) {
            pr_err("xz: truncated block padding\n");
            return DECOMP_ETRUNC;
        }
        if (in[pos++]) {
            pr_err("xz: non-zero block padding\n");
            return DECOMP_ECORRUPT;
        }
    }
    size_t csize = check_size(check);
    if (csize > in_len - pos) {
        pr_err("xz: truncated block check\n");
        return DECOMP_ETRUNC;
    }
    if (bh.have_bcj)
        bcj_x86_decode(out + start, end - start, bh.bcj_start);
    rc = verify_check(&w->crc, check, out + start, end - start, in + pos, start);
    if (rc)
        return rc;
    pos += csize;
    sums_add(&w->crc, sums, unpadded, end - start);
    *posp = pos;
    return DECOMP_OK;
}

/* Parses the index at in[*posp] and compares it with what the blocks gave. */
static int check_index(const struct crc_tables *crc, const u8 *in, size_t in_len, size_t *posp,
                       const struct block_sums *sums)
{
    size_t start = *posp, pos = start + 1;   /* past the 0x00 indicator */
    u64 count, unpadded, uncomp;
    struct block_sums got = { 0, 0, 0, 0 };

    if (!get_vli(in, in_len, &pos, &count))
        goto bad;
    /* Each record takes at least two bytes: a huge count is a lie. */
    if (count > (in_len - pos) / 2)
        goto bad;
    for (u64 i = 0; i < count; i++) {
        if (!get_vli(in, in_len, &pos, &unpadded) || !get_vli(in, in_len, &pos, &uncomp))
            goto bad;
        sums_add(crc, &got, unpadded, uncomp);
    }
    while ((pos - start) & 3) {
        if (pos >= in_len || in[pos])
            goto bad;
        pos++;
    }
    if (in_len - pos < 4)
        goto bad;
    u32 want = get_le32(in + pos);
    u32 have = crc32_update(crc, 0, in + start, pos - start);
    if (want != have) {
        pr_err("xz: index CRC32 mismatch (stored %#010x, computed %#010x)\n", want, have);
        return DECOMP_ECHECK;
    }
    pos += 4;
    if (got.count != sums->count || got.unpadded != sums->unpadded ||
        got.uncompressed != sums->uncompressed || got.hash != sums->hash) {
        pr_err("xz: index does not match the blocks (%llu records for %llu blocks)\n",
               (unsigned long long)got.count, (unsigned long long)sums->count);
        return DECOMP_ECHECK;
    }
    *posp = pos;
    return DECOMP_OK;
bad:
    pr_err("xz: malformed or truncated index at offset %zu\n", start);
    return DECOMP_ECORRUPT;
}

static int check_footer(const struct crc_tables *crc, const u8 *in, size_t in_len, size_t pos,
                        size_t index_size, const struct stream_flags *hsf)
{
    if (in_len - pos < XZ_FTR_SIZE) {
        pr_err("xz: truncated stream footer\n");
        return DECOMP_ETRUNC;
    }
    const u8 *f = in + pos;
    if (f[10] != 'Y' || f[11] != 'Z') {
        pr_err("xz: bad stream footer magic\n");
        return DECOMP_ECORRUPT;
    }
    u32 want = get_le32(f), have = crc32_update(crc, 0, f + 4, 6);
    if (want != have) {
        pr_err("xz: stream footer CRC32 mismatch (stored %#010x, computed %#010x)\n", want, have);
        return DECOMP_ECHECK;
    }
    if (((u64)get_le32(f + 4) + 1) * 4 != index_size) {
        pr_err("xz: stream footer backward size does not match the index\n");
        return DECOMP_ECORRUPT;
    }
    if (f[8] != hsf->bytes[0] || f[9] != hsf->bytes[1]) {
        pr_err("xz: stream footer flags differ from the header's\n");
        return DECOMP_ECORRUPT;
    }
    return DECOMP_OK;
}

int xz_decode(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
              size_t *out_len, struct decomp_work *w)
{
    size_t pos = 0, opos = 0;
    int rc;
    *out_len = 0;

    /* One or more streams, each optionally followed by padding in 4-byte units. */
    do {
        if (in_len - pos < XZ_HDR_SIZE) {
            pr_err("xz: truncated stream header\n");
            return DECOMP_ETRUNC;
        }
        if (memcmp(in + pos, xz_magic, sizeof(xz_magic)) != 0) {
            pr_err("xz: bad stream header magic at offset %zu\n", pos);
            return DECOMP_EMAGIC;
        }
        struct stream_flags sf;
        rc = parse_stream_flags(&w->crc, in + pos + 6, &sf, "header");
        if (rc)
            return rc;
        if (sf.check != XZ_CHECK_NONE && sf.check != XZ_CHECK_CRC32 &&
            sf.check != XZ_CHECK_CRC64 && sf.check != XZ_CHECK_SHA256) {
            pr_err("xz: integrity check type %#x is not supported (none, CRC32, CRC64, SHA-256 are)\n",
                   sf.check);
            return DECOMP_EUNSUPP;
        }
        pos += XZ_HDR_SIZE;

        struct block_sums sums = { 0, 0, 0, 0 };
        for (;;) {
            if (pos >= in_len) {
                pr_err("xz: truncated stream (no index)\n");
                return DECOMP_ETRUNC;
            }
            if (in[pos] == 0x00)
                break;
            rc = decode_block(w, in, in_len, &pos, out, out_cap, &opos, sf.check, &sums);
            *out_len = opos;
            if (rc)
                return rc;
        }
        size_t index_start = pos;
        rc = check_index(&w->crc, in, in_len, &pos, &sums);
        if (rc)
            return rc;
        rc = check_footer(&w->crc, in, in_len, pos, pos - index_start, &sf);
        if (rc)
            return rc;
        pos += XZ_FTR_SIZE;

        size_t pad = 0;
        while (pos < in_len && in[pos] == 0) {
            pos++;
            pad++;
        }
        if (pad & 3) {
            pr_err("xz: stream padding of %zu bytes is not a multiple of 4\n", pad);
            return DECOMP_ECORRUPT;
        }
    } while (pos < in_len);
    return DECOMP_OK;
}

/*
 * Walks streams from the end: footer -> index -> block records.  Records
 * are summed without being checked against data; decoding checks them.
 */
int xz_size(const u8 *in, size_t in_len, u64 *size)
{
    size_t end = in_len;
    u64 total = 0;

    while (end > 0) {
        size_t pad = 0;
        while (end > 0 && in[end - 1] == 0) {
            end--;
            pad++;
        }
        if (pad & 3 || end < XZ_HDR_SIZE + XZ_FTR_SIZE)
            goto bad;
        const u8 *f = in + end - XZ_FTR_SIZE;
        if (f[10] != 'Y' || f[11] != 'Z' || get_le32(f) != crc32_bitwise(f + 4, 6))
            goto bad;
        u64 index_size = ((u64)get_le32(f + 4) + 1) * 4;
        if (index_size > end - XZ_FTR_SIZE - XZ_HDR_SIZE)
            goto bad;
        size_t istart = end - XZ_FTR_SIZE - (size_t)index_size;
        size_t iend = end - XZ_FTR_SIZE - 4, p = istart + 1;
        u64 count, blocks_size = 0, unpadded, uncomp;
        if (in[istart] != 0 || !get_vli(in, iend, &p, &count) || count > (iend - p) / 2)
            goto bad;
        for (u64 i = 0; i < count; i++) {
            if (!get_vli(in, iend, &p, &unpadded) || !get_vli(in, iend, &p, &uncomp))
                goto bad;
            if (unpadded > XZ_VLI_MAX || uncomp > XZ_VLI_MAX - total)
                goto bad;
            total += uncomp;
            blocks_size += (unpadded + 3) & ~(u64)3;
            if (blocks_size > istart)
                goto bad;
        }
        if (blocks_size + XZ_HDR_SIZE > istart)
            goto bad;
        end = istart - (size_t)blocks_size - XZ_HDR_SIZE;
        if (memcmp(in + end, xz_magic, sizeof(xz_magic)) != 0)
            goto bad;
    }
    *size = total;
    return DECOMP_OK;
bad:
    pr_err("xz: cannot read the stream index to learn the size\n");
    return DECOMP_ECORRUPT;
}
