/*
 * Linux bzImage files: finding the compressed kernel inside.
 *
 * A bzImage is real-mode setup code, then the protected-mode decompressor
 * with the compressed ELF vmlinux embedded.  Boot protocol 2.08 and later
 * record where that payload is, so a PV loader can pull the ELF out without
 * running any of the image's own code.
 */
#ifndef MICA_BZIMAGE_H
#define MICA_BZIMAGE_H

#include <mica/types.h>

#define BZIMAGE_OK        0
#define BZIMAGE_ENOTBZ  (-1)   /* no 0xAA55 boot flag or "HdrS" magic */
#define BZIMAGE_EOLD    (-2)   /* boot protocol older than 2.08: no payload fields */
#define BZIMAGE_ERANGE  (-3)   /* a header field points outside the image */

struct bzimage_info {
    u16 version;            /* boot protocol, e.g. 0x020f */
    u8 setup_sects;         /* as stored (0 means 4) */
    size_t pm_offset;       /* file offset of the protected-mode code */
    size_t payload_offset;  /* file offset of the payload */
    size_t payload_length;  /* as the header records it */
    /*
     * Linux's build appends the decompressed size, 4 bytes little-endian,
     * to the compressed payload for every format but gzip (whose own ISIZE
     * trailer is already there) and an uncompressed one.
     * stream/stream_len is the payload without that appendix: exactly the
     * compressed stream, as decompress() wants it.
     */
    const u8 *stream;
    size_t stream_len;
    bool has_size_trailer;
    u32 size_trailer;       /* the appended size, if has_size_trailer */
};

/* True if img starts like a bzImage (boot flag and "HdrS"). */
bool bzimage_detect(const u8 *img, size_t len);

/* Parses and bounds-checks the setup header; reports problems via pr_err(). */
int bzimage_parse(const u8 *img, size_t len, struct bzimage_info *info);

/*
 * The compressed stream inside the bzImage (bzimage_info.stream and
 * .stream_len): hand it to decompress().
 */
int bzimage_payload(const u8 *img, size_t len, const u8 **payload, size_t *payload_len);

#endif
