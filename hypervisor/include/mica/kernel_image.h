/*
 * Kernels as users have them: a boot module may be a plain ELF, a
 * compressed ELF (gzip, xz, LZ4) or a Linux bzImage whose payload is one
 * of those.  kernel_image_open() gives the ELF, decompressing into frames
 * of its own that kernel_image_close() returns.
 */
#ifndef MICA_KERNEL_IMAGE_H
#define MICA_KERNEL_IMAGE_H

#include <mica/types.h>

/* Largest decompressed kernel Mica accepts. */
#define KERNEL_IMAGE_MAX MiB(256)

struct kernel_image {
    const u8 *elf;
    size_t elf_len;
    mfn_t buf_mfn;          /* INVALID_MFN when elf points into the module */
    unsigned buf_order;
};

/* 0, or negative after saying with pr_err() why the module is unusable. */
int kernel_image_open(const void *module, size_t len, struct kernel_image *img);
void kernel_image_close(struct kernel_image *img);

#endif
