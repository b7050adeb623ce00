/*
 * Format dispatch, CRCs and the size query for <mica/decompress.h>.
 */
#include "decompress_priv.h"

BUILD_BUG_ON(sizeof(struct decomp_work) > DECOMPRESS_WORK_SIZE);

/* Reflected polynomials: CRC-32 as in gzip and .xz, CRC-64 as ECMA-182 in .xz. */
#define CRC32_POLY 0xEDB88320u
#define CRC64_POLY 0xC96C5795D7870F42ull

void crc_tables_init(struct crc_tables *t)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        u64 d = i;
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ ((c & 1) ? CRC32_POLY : 0);
            d = (d >> 1) ^ ((d & 1) ? CRC64_POLY : 0);
        }
        t->crc32[i] = c;
        t->crc64[i] = d;
    }
}

u32 crc32_update(const struct crc_tables *t, u32 crc, const u8 *buf, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = t->crc32[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

u64 crc64_update(const struct crc_tables *t, u64 crc, const u8 *buf, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = t->crc64[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

struct magic {
    enum decomp_format fmt;
    u8 len;
    u8 bytes[6];
};

static const struct magic magics[] = {
    { DECOMP_FMT_ELF,        4, { 0x7f, 'E', 'L', 'F' } },
    { DECOMP_FMT_GZIP,       2, { 0x1f, 0x8b } },
    { DECOMP_FMT_XZ,         6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
    { DECOMP_FMT_LZ4_LEGACY, 4, { 0x02, 0x21, 0x4c, 0x18 } },
    { DECOMP_FMT_LZ4_FRAME,  4, { 0x04, 0x22, 0x4d, 0x18 } },
    { DECOMP_FMT_BZIP2,      3, { 'B', 'Z', 'h' } },
    { DECOMP_FMT_LZO,        4, { 0x89, 'L', 'Z', 'O' } },
    { DECOMP_FMT_ZSTD,       4, { 0x28, 0xb5, 0x2f, 0xfd } },
    /* "lzma alone": properties byte 0x5d (lc=3 lp=0 pb=2), as Linux writes it. */
    { DECOMP_FMT_LZMA_ALONE, 3, { 0x5d, 0x00, 0x00 } },
};

enum decomp_format decompress_detect(const u8 *in, size_t in_len)
{
    for (size_t i = 0; i < ARRAY_SIZE(magics); i++) {
        const struct magic *m = &magics[i];
        if (in_len >= m->len && memcmp(in, m->bytes, m->len) == 0)
            return m->fmt;
    }
    return DECOMP_FMT_UNKNOWN;
}

const char *decompress_format_name(enum decomp_format fmt)
{
    switch (fmt) {
    case DECOMP_FMT_ELF:        return "ELF (uncompressed)";
    case DECOMP_FMT_GZIP:       return "gzip";
    case DECOMP_FMT_XZ:         return "xz";
    case DECOMP_FMT_LZ4_LEGACY: return "LZ4 legacy frame";
    case DECOMP_FMT_BZIP2:      return "bzip2";
    case DECOMP_FMT_LZMA_ALONE: return "lzma";
    case DECOMP_FMT_LZO:        return "lzo";
    case DECOMP_FMT_ZSTD:       return "zstd";
    case DECOMP_FMT_LZ4_FRAME:  return "LZ4 frame";
    case DECOMP_FMT_UNKNOWN:    break;
    }
    return "unknown";
}

const char *decompress_strerror(int err)
{
    switch (err) {
    case DECOMP_OK:       return "success";
    case DECOMP_ETRUNC:   return "truncated input";
    case DECOMP_EMAGIC:   return "unrecognised format";
    case DECOMP_ECORRUPT: return "corrupt data";
    case DECOMP_ECHECK:   return "checksum mismatch";
    case DECOMP_E2BIG:    return "output too small";
    case DECOMP_EUNSUPP:  return "unsupported format option";
    case DECOMP_EINVAL:   return "invalid arguments";
    case DECOMP_ENOSIZE:  return "size not recorded";
    }
    return "unknown error";
}

static int unsupported(enum decomp_format fmt)
{
    pr_err("decompress: %s compression is not supported (gzip, xz, LZ4 legacy and plain ELF are)\n",
           decompress_format_name(fmt));
    return DECOMP_EUNSUPP;
}

int decompress_size(const u8 *in, size_t in_len, u64 *size)
{
    if (!in || !size)
        return DECOMP_EINVAL;
    enum decomp_format fmt = decompress_detect(in, in_len);
    switch (fmt) {
    case DECOMP_FMT_ELF:
        *size = in_len;
        return DECOMP_OK;
    case DECOMP_FMT_GZIP:
        return gzip_size(in, in_len, size);
    case DECOMP_FMT_XZ:
        return xz_size(in, in_len, size);
    case DECOMP_FMT_LZ4_LEGACY:
        return DECOMP_ENOSIZE;
    case DECOMP_FMT_UNKNOWN:
        pr_err("decompress: unrecognised format (no known magic in the first bytes)\n");
        return DECOMP_EMAGIC;
    default:
        return unsupported(fmt);
    }
}

int decompress(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
               size_t *out_len, void *work, size_t work_len)
{
    if (!out_len)
        return DECOMP_EINVAL;
    *out_len = 0;
    if (!in || (!out && out_cap) || !work || work_len < sizeof(struct decomp_work) ||
        ((uintptr_t)work & 7)) {
        pr_err("decompress: invalid arguments (work area needs %zu bytes, 8-aligned)\n",
               sizeof(struct decomp_work));
        return DECOMP_EINVAL;
    }
    struct decomp_work *w = work;
    enum decomp_format fmt = decompress_detect(in, in_len);
    switch (fmt) {
    case DECOMP_FMT_ELF:
        if (in_len > out_cap) {
            pr_err("decompress: ELF image of %zu bytes does not fit in %zu\n", in_len, out_cap);
            return DECOMP_E2BIG;
        }
        memmove(out, in, in_len);
        *out_len = in_len;
        return DECOMP_OK;
    case DECOMP_FMT_GZIP:
        crc_tables_init(&w->crc);
        return gzip_decode(in, in_len, out, out_cap, out_len, w);
    case DECOMP_FMT_XZ:
        crc_tables_init(&w->crc);
        return xz_decode(in, in_len, out, out_cap, out_len, w);
    case DECOMP_FMT_LZ4_LEGACY:
        return lz4_legacy_decode(in, in_len, out, out_cap, out_len);
    case DECOMP_FMT_UNKNOWN:
        pr_err("decompress: unrecognised format (no known magic in the first bytes)\n");
        return DECOMP_EMAGIC;
    default:
        return unsupported(fmt);
    }
}
