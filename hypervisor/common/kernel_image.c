/*
 * Unpacking kernel modules (see mica/kernel_image.h).
 *
 * Sizes recorded inside an image are claims: they only choose how much
 * memory to set aside, bounded by KERNEL_IMAGE_MAX, and the decompressor
 * checks every byte it writes against that bound.
 */
#include <asm/paging.h>
#include <mica/bzimage.h>
#include <mica/decompress.h>
#include <mica/heap.h>
#include <mica/kernel_image.h>
#include <mica/lib.h>
#include <mica/page_alloc.h>

/*
 * A stream with no recorded size (LZ4 legacy outside a bzImage) gets room
 * for 16 times its length, between these bounds; kernels compress about
 * 3-5x, and going over is reported, not overrun.
 */
#define UNKNOWN_SIZE_MIN MiB(4)
#define UNKNOWN_SIZE_MAX MiB(128)
#define UNKNOWN_SIZE_RATIO 16

static unsigned order_for(u64 bytes)
{
    unsigned order = 0;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

int kernel_image_open(const void *module, size_t len, struct kernel_image *img)
{
    const u8 *stream = module;
    size_t stream_len = len;
    struct bzimage_info bz;
    enum decomp_format fmt;
    u64 size = 0;
    void *work;
    size_t out_len = 0;
    int rc;

    img->buf_mfn = INVALID_MFN;
    if (bzimage_detect(module, len)) {
        if (bzimage_parse(module, len, &bz))
            return -1;
        stream = bz.stream;
        stream_len = bz.stream_len;
        if (bz.has_size_trailer)
            size = bz.size_trailer;
    }
    fmt = decompress_detect(stream, stream_len);
    if (fmt == DECOMP_FMT_ELF) {
        img->elf = stream;
        img->elf_len = stream_len;
        return 0;
    }
    if (fmt == DECOMP_FMT_UNKNOWN) {
        pr_err("kernel: neither ELF, a bzImage, nor a gzip/xz/LZ4 stream\n");
        return -1;
    }
    if (!size && decompress_size(stream, stream_len, &size))
        size = MIN(MAX((u64)stream_len * UNKNOWN_SIZE_RATIO, UNKNOWN_SIZE_MIN), UNKNOWN_SIZE_MAX);
    if (size == 0 || size > KERNEL_IMAGE_MAX) {
        pr_err("kernel: %s image claims %llu bytes uncompressed (limit %llu MiB)\n",
               decompress_format_name(fmt), (unsigned long long)size,
               (unsigned long long)(KERNEL_IMAGE_MAX >> 20));
        return -1;
    }
    img->buf_order = order_for(size);
    img->buf_mfn = alloc_frames(&host_frames, img->buf_order);
    if (img->buf_mfn == INVALID_MFN) {
        pr_err("kernel: no %llu MiB block free to decompress the %s image into\n",
               (unsigned long long)((PAGE_SIZE << img->buf_order) >> 20),
               decompress_format_name(fmt));
        return -1;
    }
    work = xmalloc(DECOMPRESS_WORK_SIZE);
    if (!work) {
        kernel_image_close(img);
        pr_err("kernel: no heap for the decompressor's work area\n");
        return -1;
    }
    rc = decompress(stream, stream_len, maddr_to_virt(img->buf_mfn << PAGE_SHIFT),
                    PAGE_SIZE << img->buf_order, &out_len, work, DECOMPRESS_WORK_SIZE);
    xfree(work);
    if (rc) {
        pr_err("kernel: %s decompression failed: %s\n", decompress_format_name(fmt),
               decompress_strerror(rc));
        kernel_image_close(img);
        return -1;
    }
    printk("kernel: %s%s payload, %zu KiB unpacked to %zu KiB\n",
           bzimage_detect(module, len) ? "bzImage with " : "", decompress_format_name(fmt),
           stream_len >> 10, out_len >> 10);
    img->elf = maddr_to_virt(img->buf_mfn << PAGE_SHIFT);
    img->elf_len = out_len;
    return 0;
}

void kernel_image_close(struct kernel_image *img)
{
    if (img->buf_mfn != INVALID_MFN)
        free_frames(&host_frames, img->buf_mfn, img->buf_order);
    img->buf_mfn = INVALID_MFN;
    img->elf = NULL;
}
