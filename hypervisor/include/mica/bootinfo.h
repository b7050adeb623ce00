/*
 * What the boot loader told Mica, in loader-neutral form.  The multiboot2
 * parser fills it, copying strings and tables out of the loader's block,
 * so nothing later depends on where the loader put that block.
 */
#ifndef MICA_BOOTINFO_H
#define MICA_BOOTINFO_H

#include <mica/types.h>

#define BOOT_MAX_MMAP     128
#define BOOT_MAX_MODULES  16
#define BOOT_CMDLINE_MAX  1024
#define BOOT_MODLINE_MAX  512
#define BOOT_LOADER_MAX   64
#define BOOT_RSDP_MAX     64

/* Memory map entry types, as the firmware (E820) numbers them. */
enum {
    MEM_AVAILABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIMABLE = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
};

struct boot_mmap_entry {
    u64 addr;
    u64 len;
    u32 type;
};

struct boot_module {
    paddr_t start;
    paddr_t end;            /* exclusive */
    char cmdline[BOOT_MODLINE_MAX];     /* "" when the loader gave none */
};

struct boot_info {
    char cmdline[BOOT_CMDLINE_MAX];
    char loader_name[BOOT_LOADER_MAX];
    paddr_t info_start, info_end;       /* the boot information itself */

    struct boot_mmap_entry mmap[BOOT_MAX_MMAP];
    unsigned nr_mmap;
    bool mmap_from_meminfo;             /* built from basic meminfo, no map given */

    struct boot_module modules[BOOT_MAX_MODULES];
    unsigned nr_modules;

    u8 rsdp[BOOT_RSDP_MAX];             /* copy of the ACPI RSDP */
    size_t rsdp_len;                    /* 0: the loader gave none */
    bool rsdp_v2;

    unsigned unknown_tags;              /* tags skipped as unknown */
};

/* Multiboot2 loader magic in EAX at entry. */
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
/* Bounds we accept for the boot information's total size. */
#define MB2_INFO_MIN 16u
#define MB2_INFO_MAX (1u << 20)

/*
 * Parses the multiboot2 boot information at buf (len bytes readable),
 * which the loader placed at physical address info_pa.  image_start/end
 * bound Mica's own image, which no module may overlap.  Returns 0, or a
 * negative value after printing why booting cannot go on.  Problems Mica
 * can live with (unknown tags, an odd module) are reported and skipped.
 */
int mb2_parse(const void *buf, size_t len, paddr_t info_pa,
              paddr_t image_start, paddr_t image_end, struct boot_info *out);

/* Total size field of a multiboot2 information block (first 4 bytes). */
u32 mb2_total_size(const void *buf);

/* What this boot was given, kept by the arch's boot code (setup.c). */
const struct boot_info *boot_info_get(void);
const char *boot_cmdline(void);

#endif
