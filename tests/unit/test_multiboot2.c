/*
 * Multiboot2 parser on crafted and malformed boot information blocks.
 * unit-sources: hypervisor/common/multiboot2.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "multiboot2"
#include "unit.h"
#include "log_capture.h"

#include <stdarg.h>
#include <stdint.h>
#include <mica/bootinfo.h>
#include <mica/lib.h>

/* A builder for boot information blocks. */
static uint8_t blk[8192] __attribute__((aligned(8)));
static uint32_t pos;
static struct boot_info bi;

#define INFO_PA 0x10000
#define IMG_START 0x200000
#define IMG_END 0x300000

static void begin(void)
{
    memset(blk, 0, sizeof(blk));
    pos = 8;
    log_clear();
}

static void put32(uint32_t off, uint32_t v) { memcpy(blk + off, &v, 4); }
static void put64(uint32_t off, uint64_t v) { memcpy(blk + off, &v, 8); }

static uint32_t tag(uint32_t type, uint32_t size)
{
    uint32_t at = pos;
    put32(at, type);
    put32(at + 4, size);
    pos += (size + 7) & ~7u;
    return at;
}

static void tag_string(uint32_t type, const char *s)
{
    uint32_t at = tag(type, 8 + (uint32_t)strlen(s) + 1);
    memcpy(blk + at + 8, s, strlen(s) + 1);
}

static void tag_module(uint32_t start, uint32_t end, const char *cmd)
{
    uint32_t at = tag(3, 16 + (uint32_t)strlen(cmd) + 1);
    put32(at + 8, start);
    put32(at + 12, end);
    memcpy(blk + at + 16, cmd, strlen(cmd) + 1);
}

struct ent { uint64_t addr, len; uint32_t type; };

static void tag_mmap(const struct ent *e, unsigned n, uint32_t entry_size)
{
    uint32_t at = tag(6, 16 + n * entry_size);
    put32(at + 8, entry_size);
    put32(at + 12, 0);
    for (unsigned i = 0; i < n; i++) {
        put64(at + 16 + i * entry_size, e[i].addr);
        put64(at + 16 + i * entry_size + 8, e[i].len);
        put32(at + 16 + i * entry_size + 16, e[i].type);
    }
}

static const struct ent std_map[] = {
    { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0x100000, 0x7f00000, 1 },
};

static int end_and_parse(void)
{
    tag(0, 8);
    put32(0, pos);
    return mb2_parse(blk, sizeof(blk), INFO_PA, IMG_START, IMG_END, &bi);
}

UNIT_TEST(well_formed_block)
{
    begin();
    tag_string(1, "console=com1 loglvl=debug");
    tag_string(2, "GRUB 2.06");
    tag_mmap(std_map, 3, 24);
    tag_module(0x400000, 0x500000, "vmlinuz root=/dev/xvda");
    tag_module(0x500000, 0x500123, "");
    CHECK_EQ(end_and_parse(), 0);
    CHECK(!strcmp(bi.cmdline, "console=com1 loglvl=debug"));
    CHECK(!strcmp(bi.loader_name, "GRUB 2.06"));
    CHECK_EQ(bi.nr_mmap, 3);
    CHECK_EQ(bi.mmap[2].addr, 0x100000);
    CHECK_EQ(bi.mmap[2].len, 0x7f00000);
    CHECK_EQ(bi.nr_modules, 2);
    CHECK_EQ(bi.modules[0].start, 0x400000);
    CHECK_EQ(bi.modules[1].end, 0x500123);
    CHECK(!strcmp(bi.modules[0].cmdline, "vmlinuz root=/dev/xvda"));
    CHECK(!strcmp(bi.modules[1].cmdline, ""));
    CHECK_EQ(bi.info_start, INFO_PA);
    CHECK_EQ(bi.info_end, INFO_PA + pos);
}

UNIT_TEST(unknown_tags_are_skipped)
{
    begin();
    tag(77, 20);
    tag_mmap(std_map, 3, 24);
    tag(4000, 8);
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.unknown_tags, 2);
    CHECK_EQ(bi.nr_mmap, 3);
}

UNIT_TEST(larger_mmap_entries_are_walked_by_entry_size)
{
    begin();
    tag_mmap(std_map, 3, 32);
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.nr_mmap, 3);
    CHECK_EQ(bi.mmap[1].type, 2);
}

UNIT_TEST(bad_mmap_entry_size_is_refused)
{
    begin();
    tag_mmap(std_map, 3, 20);
    CHECK(end_and_parse() < 0);
    CHECK_STR(logbuf, "memory map entry size 20 is invalid");
    CHECK_STR(logbuf, "neither a memory map nor basic memory information");
}

UNIT_TEST(no_memory_map_falls_back_to_meminfo)
{
    uint32_t at;

    begin();
    at = tag(4, 16);
    put32(at + 8, 639);
    put32(at + 12, 130048);
    CHECK_EQ(end_and_parse(), 0);
    CHECK(bi.mmap_from_meminfo);
    CHECK_EQ(bi.nr_mmap, 2);
    CHECK_EQ(bi.mmap[1].addr, 0x100000);
    CHECK_EQ(bi.mmap[1].len, 130048ull * 1024);
    CHECK_STR(logbuf, "no memory map; using basic memory information");
}

UNIT_TEST(no_memory_information_at_all_is_fatal)
{
    begin();
    tag_string(1, "x");
    CHECK(end_and_parse() < 0);
    CHECK_STR(logbuf, "neither a memory map nor basic memory information");
}

UNIT_TEST(no_usable_memory_above_1m_is_fatal)
{
    static const struct ent low_only[] = { { 0, 0x9fc00, 1 }, { 0x100000, 0x1000000, 2 } };

    begin();
    tag_mmap(low_only, 2, 24);
    CHECK(end_and_parse() < 0);
    CHECK_STR(logbuf, "no usable RAM above 1 MiB");
}

UNIT_TEST(tag_running_past_the_block_is_fatal)
{
    uint32_t at;

    begin();
    tag_mmap(std_map, 3, 24);
    at = tag(1, 16);
    CHECK_EQ(end_and_parse(), 0);       /* sanity: well-formed first */
    begin();
    tag_mmap(std_map, 3, 24);
    at = tag(1, 16);
    tag(0, 8);
    put32(0, pos);
    put32(at + 4, 4096);                /* size claims past the end */
    CHECK(mb2_parse(blk, sizeof(blk), INFO_PA, IMG_START, IMG_END, &bi) < 0);
    CHECK_STR(logbuf, "outside the");
}

UNIT_TEST(tag_smaller_than_header_is_fatal)
{
    uint32_t at;

    begin();
    tag_mmap(std_map, 3, 24);
    at = tag(1, 8);
    tag(0, 8);
    put32(0, pos);
    put32(at + 4, 4);
    CHECK(mb2_parse(blk, sizeof(blk), INFO_PA, IMG_START, IMG_END, &bi) < 0);
}

UNIT_TEST(missing_end_tag_is_fatal)
{
    begin();
    tag_mmap(std_map, 3, 24);
    put32(0, pos);                      /* no end tag inside total_size */
    CHECK(mb2_parse(blk, sizeof(blk), INFO_PA, IMG_START, IMG_END, &bi) < 0);
    CHECK_STR(logbuf, "no end tag");
}

UNIT_TEST(truncated_or_huge_total_size_is_fatal)
{
    begin();
    put32(0, 8);
    CHECK(mb2_parse(blk, sizeof(blk), INFO_PA, IMG_START, IMG_END, &bi) < 0);
    put32(0, 0xffffffffu);
    CHECK(mb2_parse(blk, sizeof(blk), INFO_PA, IMG_START, IMG_END, &bi) < 0);
    put32(0, 4096);
    CHECK(mb2_parse(blk, 100, INFO_PA, IMG_START, IMG_END, &bi) < 0);
    CHECK_STR(logbuf, "claims");
}

UNIT_TEST(misaligned_info_is_fatal)
{
    begin();
    tag_mmap(std_map, 3, 24);
    tag(0, 8);
    put32(0, pos);
    CHECK(mb2_parse(blk, sizeof(blk), INFO_PA + 4, IMG_START, IMG_END, &bi) < 0);
    CHECK_STR(logbuf, "not 8-byte aligned");
}

UNIT_TEST(unterminated_cmdline_is_ignored)
{
    uint32_t at;

    begin();
    tag_mmap(std_map, 3, 24);
    at = tag(1, 8 + 8);
    memcpy(blk + at + 8, "ABCDEFGH", 8);     /* no NUL inside the tag */
    CHECK_EQ(end_and_parse(), 0);
    CHECK(!strcmp(bi.cmdline, ""));
    CHECK_STR(logbuf, "not NUL-terminated");
}

UNIT_TEST(overlapping_modules_are_both_dropped)
{
    begin();
    tag_mmap(std_map, 3, 24);
    tag_module(0x400000, 0x480000, "a");
    tag_module(0x47f000, 0x500000, "b");
    tag_module(0x600000, 0x601000, "c");
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.nr_modules, 1);
    CHECK(!strcmp(bi.modules[0].cmdline, "c"));
    CHECK_STR(logbuf, "overlap; both ignored");
}

UNIT_TEST(module_overlapping_mica_or_info_is_dropped)
{
    begin();
    tag_mmap(std_map, 3, 24);
    tag_module(0x1ff000, 0x201000, "over-image");
    tag_module(INFO_PA, INFO_PA + 0x1000, "over-info");
    tag_module(0x700000, 0x701000, "fine");
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.nr_modules, 1);
    CHECK(!strcmp(bi.modules[0].cmdline, "fine"));
    CHECK_STR(logbuf, "overlaps Mica's image");
    CHECK_STR(logbuf, "overlaps the boot information");
}

UNIT_TEST(empty_or_reversed_module_is_dropped)
{
    begin();
    tag_mmap(std_map, 3, 24);
    tag_module(0x500000, 0x500000, "empty");
    tag_module(0x600000, 0x500000, "reversed");
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.nr_modules, 0);
    CHECK_STR(logbuf, "not after its start");
}

UNIT_TEST(too_many_modules_are_reported)
{
    begin();
    tag_mmap(std_map, 3, 24);
    for (unsigned i = 0; i < BOOT_MAX_MODULES + 2; i++)
        tag_module(0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, "m");
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.nr_modules, BOOT_MAX_MODULES);
    CHECK_STR(logbuf, "more than 16 modules");
}

UNIT_TEST(wrapping_mmap_entry_is_dropped)
{
    static const struct ent wrap[] = { { 0x100000, 0x1000000, 1 }, { 0xfffffffffffff000ull, 0x2000, 1 } };

    begin();
    tag_mmap(wrap, 2, 24);
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.nr_mmap, 1);
    CHECK_STR(logbuf, "wraps around");
}

UNIT_TEST(acpi_new_rsdp_wins_over_old)
{
    uint32_t at;

    begin();
    tag_mmap(std_map, 3, 24);
    at = tag(14, 8 + 20);
    memcpy(blk + at + 8, "RSD PTR old", 11);
    at = tag(15, 8 + 36);
    memcpy(blk + at + 8, "RSD PTR new", 11);
    CHECK_EQ(end_and_parse(), 0);
    CHECK(bi.rsdp_v2);
    CHECK_EQ(bi.rsdp_len, 36);
    CHECK(!memcmp(bi.rsdp, "RSD PTR new", 11));
}

UNIT_TEST(short_acpi_tag_is_ignored)
{
    begin();
    tag_mmap(std_map, 3, 24);
    tag(15, 8 + 10);
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(bi.rsdp_len, 0);
    CHECK_STR(logbuf, "ACPI RSDP tag holds 10 bytes");
}

UNIT_TEST(overlong_cmdline_is_truncated_not_overrun)
{
    static char longline[BOOT_CMDLINE_MAX + 100];

    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = 0;
    begin();
    tag_mmap(std_map, 3, 24);
    tag_string(1, longline);
    CHECK_EQ(end_and_parse(), 0);
    CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    CHECK_STR(logbuf, "only the first 1023 are kept");
}

UNIT_MAIN()
