/*
 * Multiboot2 boot information parser.
 *
 * The information block is a u32 total size, a u32 reserved word, then
 * tags of {u32 type, u32 size, payload} each starting on an 8-byte
 * boundary, ended by a tag of type 0 and size 8 (Multiboot2 spec, §3.6).
 * Every size and offset is checked against the block before use: a
 * loader bug must give a clear message, not a wild read.
 */
#include <mica/bootinfo.h>
#include <mica/lib.h>

enum {
    TAG_END = 0,
    TAG_CMDLINE = 1,
    TAG_LOADER_NAME = 2,
    TAG_MODULE = 3,
    TAG_BASIC_MEMINFO = 4,
    TAG_BOOTDEV = 5,
    TAG_MMAP = 6,
    TAG_VBE = 7,
    TAG_FRAMEBUFFER = 8,
    TAG_ELF_SECTIONS = 9,
    TAG_APM = 10,
    TAG_EFI32 = 11,
    TAG_EFI64 = 12,
    TAG_SMBIOS = 13,
    TAG_ACPI_OLD = 14,
    TAG_ACPI_NEW = 15,
    TAG_NETWORK = 16,
    TAG_EFI_MMAP = 17,
    TAG_EFI_BS = 18,
    TAG_EFI32_IH = 19,
    TAG_EFI64_IH = 20,
    TAG_LOAD_BASE_ADDR = 21,
};

#define TAG_HEADER 8u
#define MMAP_TAG_HEADER 16u     /* type, size, entry_size, entry_version */
#define MMAP_ENTRY_MIN 24u
#define MODULE_TAG_HEADER 16u   /* type, size, mod_start, mod_end */
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u

static u32 rd32(const u8 *p)
{
    u32 v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static u64 rd64(const u8 *p)
{
    u64 v;

    memcpy(&v, p, sizeof(v));
    return v;
}

u32 mb2_total_size(const void *buf)
{
    return rd32(buf);
}

/*
 * Copies a string payload, which must end inside its tag, into dst.
 * Returns false (dst untouched) when it does not.
 */
static bool copy_tag_string(char *dst, size_t dstlen, const u8 *p, u32 avail,
                            const char *what)
{
    size_t n;

    if (avail == 0 || strnlen((const char *)p, avail) == avail) {
        pr_err("multiboot2: %s is not NUL-terminated inside its tag; ignored\n", what);
        return false;
    }
    n = strlen((const char *)p);
    if (n >= dstlen)
        pr_warn("multiboot2: %s is %zu characters; only the first %zu are kept\n",
                what, n, dstlen - 1);
    strlcpy(dst, (const char *)p, dstlen);
    return true;
}

static void parse_mmap(const u8 *tag, u32 size, struct boot_info *bi)
{
    u32 entry_size, nr;

    if (size < MMAP_TAG_HEADER) {
        pr_err("multiboot2: memory map tag of %u bytes is shorter than its header; ignored\n", size);
        return;
    }
    entry_size = rd32(tag + 8);
    if (entry_size < MMAP_ENTRY_MIN || entry_size % 8) {
        pr_err("multiboot2: memory map entry size %u is invalid (need a multiple of 8, at least %u); map ignored\n",
               entry_size, MMAP_ENTRY_MIN);
        return;
    }
    nr = (size - MMAP_TAG_HEADER) / entry_size;
    if ((size - MMAP_TAG_HEADER) % entry_size)
        pr_warn("multiboot2: memory map tag has %u trailing bytes; ignored\n",
                (size - MMAP_TAG_HEADER) % entry_size);
    bi->nr_mmap = 0;
    for (u32 i = 0; i < nr; i++) {
        const u8 *e = tag + MMAP_TAG_HEADER + (size_t)i * entry_size;
        u64 addr = rd64(e), len = rd64(e + 8);
        u32 type = rd32(e + 16);

        if (len == 0)
            continue;
        if (addr + len < addr) {
            pr_err("multiboot2: memory map entry %u [%#llx, +%#llx) wraps around; ignored\n",
                   i, (unsigned long long)addr, (unsigned long long)len);
            continue;
        }
        if (bi->nr_mmap == BOOT_MAX_MMAP) {
            pr_warn("multiboot2: memory map has more than %u entries; the rest are ignored\n",
                    BOOT_MAX_MMAP);
            break;
        }
        bi->mmap[bi->nr_mmap++] = (struct boot_mmap_entry){ addr, len, type };
    }
}

static void parse_module(const u8 *tag, u32 size, struct boot_info *bi)
{
    struct boot_module m;

    if (size < MODULE_TAG_HEADER) {
        pr_err("multiboot2: module tag of %u bytes is shorter than its header; module ignored\n", size);
        return;
    }
    m.start = rd32(tag + 8);
    m.end = rd32(tag + 12);
    m.cmdline[0] = '\0';
    if (size > MODULE_TAG_HEADER)
        copy_tag_string(m.cmdline, sizeof(m.cmdline), tag + MODULE_TAG_HEADER,
                        size - MODULE_TAG_HEADER, "a module command line");
    if (m.end <= m.start) {
        pr_err("multiboot2: module %u at %#llx has end %#llx not after its start; module ignored\n",
               bi->nr_modules, (unsigned long long)m.start, (unsigned long long)m.end);
        return;
    }
    if (bi->nr_modules == BOOT_MAX_MODULES) {
        pr_err("multiboot2: more than %u modules; module at %#llx ignored\n",
               BOOT_MAX_MODULES, (unsigned long long)m.start);
        return;
    }
    bi->modules[bi->nr_modules++] = m;
}

static bool overlaps(paddr_t a0, paddr_t a1, paddr_t b0, paddr_t b1)
{
    return a0 < b1 && b0 < a1;
}

/*
 * A module that overlaps Mica, the boot information or another module
 * would be corrupted (or corrupt them) the moment either is used, so it
 * is dropped with a message rather than trusted.
 */
static void check_modules(struct boot_info *bi, paddr_t image_start, paddr_t image_end)
{
    bool bad[BOOT_MAX_MODULES] = { false };
    unsigned n = 0;

    for (unsigned i = 0; i < bi->nr_modules; i++) {
        struct boot_module *m = &bi->modules[i];

        if (overlaps(m->start, m->end, image_start, image_end)) {
            pr_err("multiboot2: module %u [%#llx-%#llx) overlaps Mica's image [%#llx-%#llx); module ignored\n",
                   i, (unsigned long long)m->start, (unsigned long long)m->end,
                   (unsigned long long)image_start, (unsigned long long)image_end);
            bad[i] = true;
        }
        if (overlaps(m->start, m->end, bi->info_start, bi->info_end)) {
            pr_err("multiboot2: module %u [%#llx-%#llx) overlaps the boot information; module ignored\n",
                   i, (unsigned long long)m->start, (unsigned long long)m->end);
            bad[i] = true;
        }
        for (unsigned j = i + 1; j < bi->nr_modules; j++) {
            struct boot_module *o = &bi->modules[j];
            if (overlaps(m->start, m->end, o->start, o->end)) {
                pr_err("multiboot2: modules %u [%#llx-%#llx) and %u [%#llx-%#llx) overlap; both ignored\n",
                       i, (unsigned long long)m->start, (unsigned long long)m->end,
                       j, (unsigned long long)o->start, (unsigned long long)o->end);
                bad[i] = bad[j] = true;
            }
        }
    }
    for (unsigned i = 0; i < bi->nr_modules; i++)
        if (!bad[i])
            bi->modules[n++] = bi->modules[i];
    bi->nr_modules = n;
}

static bool has_usable_memory_above_1m(const struct boot_info *bi)
{
    for (unsigned i = 0; i < bi->nr_mmap; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        if (e->type == MEM_AVAILABLE && e->addr + e->len > MiB(1) &&
            e->addr + e->len - MAX(e->addr, MiB(1)) >= PAGE_SIZE)
            return true;
    }
    return false;
}

int mb2_parse(const void *buf, size_t len, paddr_t info_pa,
              paddr_t image_start, paddr_t image_end, struct boot_info *bi)
{
    const u8 *base = buf;
    u32 total, off;
    bool have_mmap = false, have_meminfo = false, seen_end = false;
    u32 mem_lower = 0, mem_upper = 0;

    memset(bi, 0, sizeof(*bi));
    strlcpy(bi->loader_name, "(unknown)", sizeof(bi->loader_name));

    if (info_pa % 8) {
        pr_err("multiboot2: boot information at %#llx is not 8-byte aligned\n",
               (unsigned long long)info_pa);
        return -1;
    }
    if (len < MB2_INFO_MIN) {
        pr_err("multiboot2: boot information is only %zu bytes\n", len);
        return -1;
    }
    total = rd32(base);
    if (total < MB2_INFO_MIN || total > MB2_INFO_MAX || total > len) {
        pr_err("multiboot2: boot information claims %u bytes (valid: %u to %u, %zu readable)\n",
               total, MB2_INFO_MIN, MB2_INFO_MAX, len);
        return -1;
    }
    bi->info_start = info_pa;
    bi->info_end = info_pa + total;

    for (off = 8; off + TAG_HEADER <= total; ) {
        const u8 *tag = base + off;
        u32 type = rd32(tag), size = rd32(tag + 4);

        if (size < TAG_HEADER || size > total - off) {
            pr_err("multiboot2: tag type %u at offset %u has size %u, outside the %u-byte block\n",
                   type, off, size, total);
            return -1;
        }
        if (type == TAG_END) {
            if (size != TAG_HEADER)
                pr_warn("multiboot2: end tag has size %u (expected 8)\n", size);
            seen_end = true;
            break;
        }
        switch (type) {
        case TAG_CMDLINE:
            copy_tag_string(bi->cmdline, sizeof(bi->cmdline), tag + TAG_HEADER,
                            size - TAG_HEADER, "the command line");
            break;
        case TAG_LOADER_NAME:
            copy_tag_string(bi->loader_name, sizeof(bi->loader_name), tag + TAG_HEADER,
                            size - TAG_HEADER, "the loader name");
            break;
        case TAG_MODULE:
            parse_module(tag, size, bi);
            break;
        case TAG_BASIC_MEMINFO:
            if (size >= 16) {
                mem_lower = rd32(tag + 8);
                mem_upper = rd32(tag + 12);
                have_meminfo = true;
            }
            break;
        case TAG_MMAP:
            if (have_mmap)
                pr_warn("multiboot2: second memory map tag replaces the first\n");
            parse_mmap(tag, size, bi);
            have_mmap = bi->nr_mmap > 0;
            break;
        case TAG_ACPI_OLD:
        case TAG_ACPI_NEW: {
            u32 need = type == TAG_ACPI_NEW ? RSDP_V2_LEN : RSDP_V1_LEN;
            if (size - TAG_HEADER < need) {
                pr_err("multiboot2: ACPI RSDP tag holds %u bytes, needs %u; ignored\n",
                       size - TAG_HEADER, need);
                break;
            }
            /* The new (ACPI 2.0+) RSDP wins over the old one. */
            if (type == TAG_ACPI_NEW || !bi->rsdp_v2) {
                bi->rsdp_len = MIN(size - TAG_HEADER, (u32)sizeof(bi->rsdp));
                memcpy(bi->rsdp, tag + TAG_HEADER, bi->rsdp_len);
                bi->rsdp_v2 = type == TAG_ACPI_NEW;
            }
            break;
        }
        case TAG_BOOTDEV: case TAG_VBE: case TAG_FRAMEBUFFER:
        case TAG_ELF_SECTIONS: case TAG_APM: case TAG_EFI32: case TAG_EFI64:
        case TAG_SMBIOS: case TAG_NETWORK: case TAG_EFI_MMAP: case TAG_EFI_BS:
        case TAG_EFI32_IH: case TAG_EFI64_IH: case TAG_LOAD_BASE_ADDR:
            break;              /* known, not needed */
        default:
            pr_debug("multiboot2: skipping unknown tag type %u (%u bytes)\n", type, size);
            bi->unknown_tags++;
            break;
        }
        off += ALIGN_UP(size, 8u);
    }

    if (!seen_end) {
        pr_err("multiboot2: no end tag within the %u-byte boot information\n", total);
        return -1;
    }

    if (!have_mmap) {
        if (!have_meminfo) {
            pr_err("multiboot2: the loader gave neither a memory map nor basic memory information; "
                   "Mica cannot know where RAM is\n");
            return -1;
        }
        pr_warn("multiboot2: no memory map; using basic memory information (%u KiB low, %u KiB high)\n",
                mem_lower, mem_upper);
        bi->mmap[0] = (struct boot_mmap_entry){ 0, KiB(mem_lower), MEM_AVAILABLE };
        bi->mmap[1] = (struct boot_mmap_entry){ MiB(1), KiB(mem_upper), MEM_AVAILABLE };
        bi->nr_mmap = 2;
        bi->mmap_from_meminfo = true;
    }
    if (!has_usable_memory_above_1m(bi)) {
        pr_err("multiboot2: the memory map has no usable RAM above 1 MiB; nothing to run on\n");
        return -1;
    }
    check_modules(bi, image_start, image_end);
    return 0;
}
