/*
 * libFuzzer target for decompress(), decompress_size() and the bzImage
 * parser: whatever the input, no access outside the buffers given, no
 * output claimed beyond out_cap, and a decoded size never above it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mica/lib.h>
#include <mica/bzimage.h>
#include <mica/decompress.h>

void printk(const char *fmt, ...) { (void)fmt; }
void printk_level(enum log_level level, const char *fmt, ...) { (void)level; (void)fmt; }

#define OUT_CAP (256u << 10)

static u8 *out;
static void *work;

static void one(const u8 *in, size_t len)
{
    size_t olen = (size_t)-1;
    u64 sz;
    (void)decompress_size(in, len, &sz);
    int rc = decompress(in, len, out, OUT_CAP, &olen, work, DECOMPRESS_WORK_SIZE);
    if (olen > OUT_CAP)
        abort();
    if (rc > 0 || rc < DECOMP_ENOSIZE)
        abort();
    /* A tiny output buffer exercises every "does not fit" path. */
    rc = decompress(in, len, out, 7, &olen, work, DECOMPRESS_WORK_SIZE);
    if (olen > 7)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!out) {
        out = malloc(OUT_CAP);
        work = malloc(DECOMPRESS_WORK_SIZE);
    }
    /* An exact-size copy: ASan flags a read even one byte past the end. */
    u8 *in = malloc(size ? size : 1);
    memcpy(in, data, size);
    one(in, size);

    struct bzimage_info bi;
    if (bzimage_parse(in, size, &bi) == BZIMAGE_OK) {
        if (bi.stream < in || bi.stream_len > size || bi.stream + bi.stream_len > in + size)
            abort();
        one(bi.stream, bi.stream_len);
    }
    free(in);
    return 0;
}
