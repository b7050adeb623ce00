/*
 * bzImage setup header parsing (Linux boot protocol, Documentation/x86/boot).
 *
 * The image may come from anyone who can hand us a kernel, so every field
 * is read exactly once into a local and checked before it is used.
 */
#include <mica/bzimage.h>
#include <mica/decompress.h>
#include <mica/lib.h>

#define HDR_SETUP_SECTS     0x1f1
#define HDR_BOOT_FLAG       0x1fe
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_PAYLOAD_OFFSET  0x248
#define HDR_PAYLOAD_LENGTH  0x24c
#define HDR_END_2_08        0x250   /* the header through payload_length */

#define BOOT_FLAG    0xaa55
#define HDRS_MAGIC   0x53726448u    /* "HdrS" */
#define MIN_VERSION  0x0208

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

bool bzimage_detect(const u8 *img, size_t len)
{
    if (!img || len < HDR_END_2_08)
        return false;
    return rd16(img + HDR_BOOT_FLAG) == BOOT_FLAG && rd32(img + HDR_MAGIC) == HDRS_MAGIC;
}

int bzimage_parse(const u8 *img, size_t len, struct bzimage_info *info)
{
    if (!img || !info || len < HDR_END_2_08) {
        pr_err("bzimage: %zu bytes is too short for a boot protocol 2.08 setup header\n", len);
        return BZIMAGE_ENOTBZ;
    }
    u16 boot_flag = rd16(img + HDR_BOOT_FLAG);
    u32 magic = rd32(img + HDR_MAGIC);
    if (boot_flag != BOOT_FLAG || magic != HDRS_MAGIC) {
        pr_err("bzimage: no setup header (boot flag %#06x, magic %#010x; want 0xaa55, \"HdrS\")\n",
               boot_flag, magic);
        return BZIMAGE_ENOTBZ;
    }
    u16 version = rd16(img + HDR_VERSION);
    if (version < MIN_VERSION) {
        pr_err("bzimage: boot protocol %u.%02u predates payload fields (2.08 needed)\n",
               version >> 8, version & 0xff);
        return BZIMAGE_EOLD;
    }
    u8 setup_sects = img[HDR_SETUP_SECTS];
    u32 payload_offset = rd32(img + HDR_PAYLOAD_OFFSET);
    u32 payload_length = rd32(img + HDR_PAYLOAD_LENGTH);

    /* The real-mode part is the boot sector plus setup_sects sectors; 0 means 4. */
    u64 pm_offset = ((u64)(setup_sects ? setup_sects : 4) + 1) * 512;
    u64 start = pm_offset + payload_offset;
    u64 end = start + payload_length;
    if (pm_offset > len || start > len || end > len || payload_length == 0) {
        pr_err("bzimage: payload [%#llx, %#llx) lies outside the %zu-byte image\n",
               (unsigned long long)start, (unsigned long long)end, len);
        return BZIMAGE_ERANGE;
    }

    info->version = version;
    info->setup_sects = setup_sects;
    info->pm_offset = (size_t)pm_offset;
    info->payload_offset = (size_t)start;
    info->payload_length = payload_length;
    info->stream = img + start;
    info->stream_len = payload_length;
    info->has_size_trailer = false;
    info->size_trailer = 0;

    const u8 *p = img + start;
    size_t n = payload_length;
    u32 last = n >= 4 ? rd32(p + n - 4) : 0;
    u32 before_last = n >= 8 ? rd32(p + n - 8) : 0;
    enum decomp_format fmt = decompress_detect(p, n);
    bool strip;
    if (fmt == DECOMP_FMT_ELF) {
        strip = false;
    } else if (fmt == DECOMP_FMT_GZIP) {
        /*
         * Linux appends nothing to gzip, whose ISIZE is already the last
         * word.  Should a build append anyway, the last two words are both
         * the size; an unmodified member ends in CRC32 then ISIZE, which
         * agree only by a 1-in-2^32 accident.
         */
        strip = n >= 8 && before_last == last;
    } else {
        strip = n >= 4;
    }
    if (strip) {
        info->has_size_trailer = true;
        info->size_trailer = last;
        info->stream_len = n - 4;
    }
    return BZIMAGE_OK;
}

int bzimage_payload(const u8 *img, size_t len, const u8 **payload, size_t *payload_len)
{
    struct bzimage_info info;
    if (!payload || !payload_len)
        return BZIMAGE_ENOTBZ;
    int rc = bzimage_parse(img, len, &info);
    if (rc)
        return rc;
    *payload = info.stream;
    *payload_len = info.stream_len;
    return BZIMAGE_OK;
}
