/*
 * Decompression of guest kernel images: gzip (RFC 1951/1952), .xz (LZMA2
 * with an optional x86 BCJ filter) and the LZ4 legacy frame that Linux's
 * build writes.  A plain ELF is passed through.
 *
 * Everything decodes from one complete input buffer into one output buffer:
 * the loader has the whole module in memory, and a flat output doubles as
 * the LZMA/DEFLATE/LZ4 dictionary, so no window memory is needed.  The few
 * tables the decoders need live in a caller-provided work area so that no
 * function uses much stack and nothing is allocated here.
 *
 * Errors are reported once, through pr_err(), naming the format and what is
 * wrong; the return value says which class of problem it was.
 */
#ifndef MICA_DECOMPRESS_H
#define MICA_DECOMPRESS_H

#include <mica/types.h>

#define DECOMP_OK         0
#define DECOMP_ETRUNC   (-1)  /* input ends inside the stream */
#define DECOMP_EMAGIC   (-2)  /* not a format we recognise */
#define DECOMP_ECORRUPT (-3)  /* structurally invalid data */
#define DECOMP_ECHECK   (-4)  /* checksum or recorded size does not match */
#define DECOMP_E2BIG    (-5)  /* output does not fit in out_cap */
#define DECOMP_EUNSUPP  (-6)  /* valid, but a format/filter/check we lack */
#define DECOMP_EINVAL   (-7)  /* bad arguments or work area too small */
#define DECOMP_ENOSIZE  (-8)  /* the format records no decompressed size */

/* Bytes of work area decompress() needs, for every format. */
#define DECOMPRESS_WORK_SIZE (160u * 1024u)

enum decomp_format {
    DECOMP_FMT_UNKNOWN = 0,
    DECOMP_FMT_ELF,           /* stored as is */
    DECOMP_FMT_GZIP,
    DECOMP_FMT_XZ,
    DECOMP_FMT_LZ4_LEGACY,
    /* Recognised so the error can name them, but not decoded. */
    DECOMP_FMT_BZIP2,
    DECOMP_FMT_LZMA_ALONE,
    DECOMP_FMT_LZO,
    DECOMP_FMT_ZSTD,
    DECOMP_FMT_LZ4_FRAME,
};

/* Identifies the format by its magic bytes. */
enum decomp_format decompress_detect(const u8 *in, size_t in_len);
const char *decompress_format_name(enum decomp_format fmt);
const char *decompress_strerror(int err);

/*
 * The decompressed size as the stream records it, without decoding: the
 * gzip ISIZE trailer (modulo 2^32, as the format defines it), the sum of the
 * .xz indexes, the input length for ELF.  DECOMP_ENOSIZE for LZ4 legacy
 * frames, which record none: the caller picks a bound and decompress()
 * returns DECOMP_E2BIG if it is exceeded.  A size learned here is a claim,
 * not a promise: decompress() still checks every byte against out_cap.
 */
int decompress_size(const u8 *in, size_t in_len, u64 *size);

/*
 * Decodes the whole of in[0, in_len) into out[0, out_cap) and stores the
 * number of bytes produced in *out_len.  The input must be exactly the
 * stream: trailing bytes that are not part of the format (gzip members,
 * .xz stream padding and further streams, further LZ4 legacy frames) are an
 * error.  work must point to at least DECOMPRESS_WORK_SIZE bytes aligned to
 * 8.  On error *out_len holds how far decoding got, and out may have been
 * written anywhere below out_cap.  Memory safety never rests on checksums
 * or on input bytes staying put: every length is checked where it is used.
 */
int decompress(const u8 *in, size_t in_len, u8 *out, size_t out_cap,
               size_t *out_len, void *work, size_t work_len);

#endif
