/*
 * bzImage setup-header parsing: crafted headers, every field pushed out of
 * range, and real payloads wrapped the way Linux's build wraps them.
 * unit-sources: hypervisor/common/bzimage.c hypervisor/common/decompress/decompress.c hypervisor/common/decompress/inflate.c hypervisor/common/decompress/xz.c hypervisor/common/decompress/lzma2.c hypervisor/common/decompress/bcj_x86.c hypervisor/common/decompress/sha256.c hypervisor/common/decompress/lz4.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "bzimage"
#include "unit.h"
#include "log_capture.h"

#include <stdarg.h>
#include <stdlib.h>
#include <libgen.h>
#include <unistd.h>
#include <mica/lib.h>
#include <mica/bzimage.h>
#include <mica/decompress.h>

static void put16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void put32(u8 *p, u32 v) { put16(p, (u16)v); put16(p + 2, (u16)(v >> 16)); }

/*
 * A fake bzImage: setup_sects sectors of setup, a pad, the payload, and
 * (if trailer) the 4-byte size Linux appends.  Exact-size heap block.
 */
static u8 *make_image(u8 setup_sects, const u8 *payload, size_t plen, bool trailer,
                      u32 size, size_t *len)
{
    size_t pm = ((size_t)(setup_sects ? setup_sects : 4) + 1) * 512, pad = 0x2cc;
    size_t total = pm + pad + plen + (trailer ? 4 : 0);
    u8 *img = calloc(1, total);
    img[0x1f1] = setup_sects;
    put16(img + 0x1fe, 0xaa55);
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, 0x020f);
    put32(img + 0x248, (u32)pad);
    put32(img + 0x24c, (u32)(plen + (trailer ? 4 : 0)));
    memcpy(img + pm + pad, payload, plen);
    if (trailer)
        put32(img + pm + pad + plen, size);
    *len = total;
    return img;
}

static u8 *load_fixture(const char *name, size_t *len)
{
    char exe[4096], path[8192];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = 0;
    snprintf(path, sizeof(path), "%s/../fixtures/decompress/%s", dirname(exe), name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  missing fixture %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    u8 *p = malloc((size_t)sz);
    if (fread(p, 1, (size_t)sz, f) != (size_t)sz) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)sz;
    return p;
}

/* Wraps a fixture, extracts it, decompresses it, compares with the original. */
static void wrapped_roundtrip(const char *comp, const char *orig, bool trailer, u8 setup_sects)
{
    size_t clen, olen, ilen;
    u8 *c = load_fixture(comp, &clen), *o = load_fixture(orig, &olen);
    CHECK(c && o);
    u8 *img = make_image(setup_sects, c, clen, trailer, (u32)olen, &ilen);
    struct bzimage_info bi;
    CHECK_EQ(bzimage_parse(img, ilen, &bi), BZIMAGE_OK);
    CHECK_EQ(bi.version, 0x020f);
    CHECK_EQ(bi.pm_offset, ((size_t)(setup_sects ? setup_sects : 4) + 1) * 512);
    CHECK_EQ(bi.has_size_trailer, trailer);
    if (trailer)
        CHECK_EQ(bi.size_trailer, olen);
    const u8 *pl;
    size_t pl_len;
    CHECK_EQ(bzimage_payload(img, ilen, &pl, &pl_len), BZIMAGE_OK);
    CHECK(pl == img + bi.payload_offset);
    CHECK_EQ(pl_len, clen);
    u8 *out = malloc(olen + 1);
    void *work = malloc(DECOMPRESS_WORK_SIZE);
    size_t got;
    CHECK_EQ(decompress(pl, pl_len, out, olen + 1, &got, work, DECOMPRESS_WORK_SIZE), DECOMP_OK);
    CHECK_EQ(got, olen);
    CHECK(memcmp(out, o, olen) == 0);
    free(out);
    free(work);
    free(img);
    free(c);
    free(o);
}

UNIT_TEST(xz_payload_with_size_trailer)    { wrapped_roundtrip("ls.bin.x86.xz", "ls.bin", true, 39); }
UNIT_TEST(lz4_payload_with_size_trailer)   { wrapped_roundtrip("ls.bin.12.lz4", "ls.bin", true, 39); }
/* Linux appends nothing to gzip: its own ISIZE is the last word. */
UNIT_TEST(gzip_payload_without_trailer)    { wrapped_roundtrip("ls.bin.9.gz", "ls.bin", false, 39); }
UNIT_TEST(gzip_payload_with_trailer)       { wrapped_roundtrip("ls.bin.9.gz", "ls.bin", true, 39); }
UNIT_TEST(elf_payload_is_kept_whole)       { wrapped_roundtrip("ls.bin", "ls.bin", false, 39); }
UNIT_TEST(setup_sects_zero_means_four)     { wrapped_roundtrip("ls.bin.x86.xz", "ls.bin", true, 0); }

static u8 *good_image(size_t *len)
{
    static const u8 payload[] = { 0xfd, '7', 'z', 'X', 'Z', 0, 1, 2, 3, 4, 5, 6, 7, 8 };
    return make_image(2, payload, sizeof(payload), true, 1234, len);
}

UNIT_TEST(header_magic_and_version)
{
    size_t len;
    u8 *img = good_image(&len);
    struct bzimage_info bi;
    CHECK(bzimage_detect(img, len));
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_OK);
    CHECK_EQ(bi.stream_len, 14);
    CHECK_EQ(bi.size_trailer, 1234);

    img[0x1fe] = 0x54;
    log_clear();
    CHECK(!bzimage_detect(img, len));
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_ENOTBZ);
    CHECK_STR(logbuf, "boot flag 0xaa54");
    img[0x1fe] = 0x55;
    img[0x205] = 'T';
    log_clear();
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_ENOTBZ);
    CHECK_STR(logbuf, "HdrS");
    img[0x205] = 'S';
    put16(img + 0x206, 0x0207);
    log_clear();
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_EOLD);
    CHECK_STR(logbuf, "2.07");
    put16(img + 0x206, 0x0208);
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_OK);
    free(img);
}

UNIT_TEST(short_images_are_refused)
{
    size_t len;
    u8 *img = good_image(&len);
    struct bzimage_info bi;
    for (size_t n = 0; n < len; n++) {
        /* Exact-size copy: any read past n trips ASan. */
        u8 *cut = malloc(n ? n : 1);
        memcpy(cut, img, n);
        int rc = bzimage_parse(cut, n, &bi);
        if (n < 0x250)
            CHECK_EQ(rc, BZIMAGE_ENOTBZ);
        else
            CHECK_EQ(rc, BZIMAGE_ERANGE);
        free(cut);
    }
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_OK);
    CHECK_EQ(bzimage_parse(NULL, len, &bi), BZIMAGE_ENOTBZ);
    free(img);
}

UNIT_TEST(out_of_range_fields)
{
    size_t len;
    u8 *img = good_image(&len);
    struct bzimage_info bi;
    const u8 *pl;
    size_t pl_len;
    static const u32 bad_offsets[] = { 0xffffffffu, 0xfffffe00u, 0x80000000u, 0x10000 };
    for (size_t i = 0; i < ARRAY_SIZE(bad_offsets); i++) {
        put32(img + 0x248, bad_offsets[i]);
        log_clear();
        CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_ERANGE);
        CHECK_STR(logbuf, "outside");
        CHECK_EQ(bzimage_payload(img, len, &pl, &pl_len), BZIMAGE_ERANGE);
    }
    put32(img + 0x248, 0x2cc);
    static const u32 bad_lengths[] = { 0, 19, 0xffffffffu, 0xfffffd34u };
    for (size_t i = 0; i < ARRAY_SIZE(bad_lengths); i++) {
        put32(img + 0x24c, bad_lengths[i]);
        CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_ERANGE);
    }
    put32(img + 0x24c, 18);
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_OK);
    /* setup_sects pushing the code start past the end. */
    img[0x1f1] = 255;
    CHECK_EQ(bzimage_parse(img, len, &bi), BZIMAGE_ERANGE);
    free(img);
}

UNIT_MAIN()
