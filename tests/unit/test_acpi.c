/*
 * Tests of ACPI table discovery against crafted tables in fake physical
 * memory.  (QEMU's real tables are parsed at every boot test instead of
 * being copied here: they are another project's output.)
 * unit-sources: hypervisor/common/acpi_tables.c tests/unit/log_capture.c
 *
 * The map callback hands out a fresh heap copy of exactly the bytes asked
 * for, so ASan catches any read past what the parser mapped.
 */
#define UNIT_SUITE "acpi"
#include "unit.h"

#include <stdlib.h>
#include <mica/lib.h>
#include <mica/acpi.h>
#include "log_capture.h"


/* --- fake physical memory --------------------------------------------- */

#define LOWMEM_SIZE 0x800000u       /* 8 MiB from physical 0 */

struct region {
    paddr_t base;
    size_t size;
    u8 *bytes;
};

static u8 *mem;                     /* the region at physical 0 */
static struct region regions[4];
static unsigned nregions;
static void *maps[8192];
static unsigned nmaps;
static struct acpi_info info;

static const void *fake_map(paddr_t pa, size_t len, void *ctx)
{
    (void)ctx;
    for (unsigned i = 0; i < nregions; i++) {
        struct region *r = &regions[i];
        void *copy;

        if (pa < r->base || pa - r->base > r->size || len > r->size - (pa - r->base))
            continue;
        if (nmaps == ARRAY_SIZE(maps))
            return NULL;
        copy = malloc(len);
        memcpy(copy, r->bytes + (pa - r->base), len);
        maps[nmaps++] = copy;
        return copy;
    }
    return NULL;
}

static void release_maps(void)
{
    while (nmaps)
        free(maps[--nmaps]);
}

static void add_region(paddr_t base, const void *bytes, size_t size)
{
    regions[nregions].base = base;
    regions[nregions].size = size;
    regions[nregions].bytes = (u8 *)bytes;
    nregions++;
}

static void reset(void)
{
    release_maps();
    free(mem);
    mem = calloc(1, LOWMEM_SIZE);
    nregions = 0;
    add_region(0, mem, LOWMEM_SIZE);
    log_clear();
    memset(&info, 0xa5, sizeof(info));   /* the parser must clear it */
}

static int parse(const void *rsdp, size_t len)
{
    int rc = acpi_parse(rsdp, len, fake_map, NULL, &info);
    release_maps();
    return rc;
}

static void put8(paddr_t pa, u8 v) { mem[pa] = v; }
static void put16(paddr_t pa, u16 v) { put8(pa, (u8)v); put8(pa + 1, (u8)(v >> 8)); }
static void put32(paddr_t pa, u32 v) { put16(pa, (u16)v); put16(pa + 2, (u16)(v >> 16)); }
static void put64(paddr_t pa, u64 v) { put32(pa, (u32)v); put32(pa + 4, (u32)(v >> 32)); }

static u8 sum(const u8 *p, size_t n)
{
    u8 s = 0;
    while (n--)
        s = (u8)(s + *p++);
    return s;
}

/* --- table builders --------------------------------------------------- */

#define RSDP_PA  0xe0010u
#define RSDT_PA  0x100000u
#define XSDT_PA  0x101000u
#define MADT_PA  0x102000u
#define FADT_PA  0x103000u
#define DSDT_PA  0x104000u
#define HPET_PA  0x105000u
#define SSDT_PA  0x106000u
#define MADT2_PA 0x107000u

static void header(paddr_t pa, const char *sig, u32 len, u8 rev)
{
    memcpy(mem + pa, sig, 4);
    put32(pa + 4, len);
    put8(pa + 8, rev);
    memcpy(mem + pa + 10, "MICATS", 6);
    memcpy(mem + pa + 16, "UNITTEST", 8);
    put32(pa + 24, 1);
    memcpy(mem + pa + 28, "MICA", 4);
    put32(pa + 32, 1);
}

static void fix_checksum(paddr_t pa)
{
    u32 len = mem[pa + 4] | mem[pa + 5] << 8 | mem[pa + 6] << 16 | (u32)mem[pa + 7] << 24;
    mem[pa + 9] = 0;
    mem[pa + 9] = (u8)-sum(mem + pa, len);
}

/* A 36-byte RSDP image; revision 0 images only have 20 meaningful bytes. */
static void make_rsdp(u8 *r, u8 rev, u32 rsdt, u64 xsdt)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "MICARS", 6);
    r[15] = rev;
    memcpy(r + 16, &rsdt, 4);
    if (rev >= 2) {
        u32 len = 36;
        memcpy(r + 20, &len, 4);
        memcpy(r + 24, &xsdt, 8);
    }
    r[8] = (u8)-sum(r, 20);
    if (rev >= 2)
        r[32] = (u8)-sum(r, 36);
}

static void make_rsdt(paddr_t pa, const u32 *ents, unsigned n)
{
    header(pa, "RSDT", 36 + 4 * n, 1);
    for (unsigned i = 0; i < n; i++)
        put32(pa + 36 + 4 * i, ents[i]);
    fix_checksum(pa);
}

static void make_xsdt(paddr_t pa, const u64 *ents, unsigned n)
{
    header(pa, "XSDT", 36 + 8 * n, 1);
    for (unsigned i = 0; i < n; i++)
        put64(pa + 36 + 8 * i, ents[i]);
    fix_checksum(pa);
}

/* MADT under construction: entries are appended at madt_end. */
static paddr_t madt_pa, madt_end;

static void madt_begin(paddr_t pa, u8 rev, u32 lapic, u32 flags)
{
    madt_pa = pa;
    header(pa, "APIC", 44, rev);
    put32(pa + 36, lapic);
    put32(pa + 40, flags);
    madt_end = pa + 44;
}

static void madt_raw(const u8 *e, u8 len)
{
    memcpy(mem + madt_end, e, len);
    madt_end += len;
}

static void madt_lapic(u8 uid, u8 id, u32 flags)
{
    u8 e[8] = { 0, 8, uid, id };
    memcpy(e + 4, &flags, 4);
    madt_raw(e, 8);
}

static void madt_x2apic(u32 id, u32 flags, u32 uid)
{
    u8 e[16] = { 9, 16 };
    memcpy(e + 4, &id, 4);
    memcpy(e + 8, &flags, 4);
    memcpy(e + 12, &uid, 4);
    madt_raw(e, 16);
}

static void madt_ioapic(u8 id, u32 addr, u32 gsi)
{
    u8 e[12] = { 1, 12, id };
    memcpy(e + 4, &addr, 4);
    memcpy(e + 8, &gsi, 4);
    madt_raw(e, 12);
}

static void madt_iso(u8 src, u32 gsi, u16 flags)
{
    u8 e[10] = { 2, 10, 0, src };
    memcpy(e + 4, &gsi, 4);
    memcpy(e + 8, &flags, 2);
    madt_raw(e, 10);
}

static void madt_finish(void)
{
    put32(madt_pa + 4, (u32)(madt_end - madt_pa));
    fix_checksum(madt_pa);
}

/* A FADT of the given revision and length with recognisable values. */
static void make_fadt(paddr_t pa, u8 rev, u32 len, u32 dsdt, u64 x_dsdt)
{
    header(pa, "FACP", len, rev);
    put32(pa + 40, dsdt);
    put16(pa + 46, 9);              /* SCI_INT */
    put32(pa + 48, 0xb2);           /* SMI_CMD */
    put8(pa + 52, 0xf1);            /* ACPI_ENABLE */
    put8(pa + 53, 0xf0);
    put32(pa + 56, 0x600);          /* PM1a_EVT_BLK */
    put32(pa + 64, 0x604);          /* PM1a_CNT_BLK */
    put32(pa + 68, 0x804);          /* PM1b_CNT_BLK */
    put32(pa + 76, 0x608);          /* PM_TMR_BLK */
    put8(pa + 88, 4);
    put8(pa + 89, 2);
    put8(pa + 91, 4);
    put8(pa + 108, 0x32);           /* CENTURY */
    put16(pa + 109, 0x3);           /* IAPC_BOOT_ARCH */
    put32(pa + 112, ACPI_FADT_TMR_VAL_EXT | (rev >= 2 ? ACPI_FADT_RESET_REG_SUP : 0));
    if (len >= 129) {
        u8 gas[12] = { ACPI_GAS_IO, 8, 0, ACPI_ACCESS_BYTE };
        memcpy(mem + pa + 116, gas, 12);
        put64(pa + 120, 0xcf9);
        put8(pa + 128, 0x06);
    }
    if (len >= 148)
        put64(pa + 140, x_dsdt);
    fix_checksum(pa);
}

static void set_gas(paddr_t at, u8 space, u8 width, u8 access, u64 addr)
{
    put8(at, space);
    put8(at + 1, width);
    put8(at + 2, 0);
    put8(at + 3, access);
    put64(at + 4, addr);
}

static void make_aml_table(paddr_t pa, const char *sig, const void *aml, size_t n)
{
    header(pa, sig, (u32)(36 + n), 2);
    memcpy(mem + pa + 36, aml, n);
    fix_checksum(pa);
}

static void make_hpet(paddr_t pa)
{
    header(pa, "HPET", 56, 1);
    put32(pa + 36, 0x8086a201);
    set_gas(pa + 40, ACPI_GAS_MEMORY, 64, 0, 0xfed00000);
    put8(pa + 52, 0);
    put16(pa + 53, 128);
    fix_checksum(pa);
}

/* Some AML around a Name(_S5_, Package(){0x05, 0x07, 0, 0}). */
static const u8 aml_s5_bytes[] = {
    0x08, '_', 'S', '4', '_', 0x12, 0x08, 0x04, 0x0a, 0x06, 0x0a, 0x06, 0x00, 0x00,
    0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x07, 0x00, 0x00,
    0x10, 0x09, '\\', '_', 'S', 'B', '_', 0x5b, 0x82, 0x00,
};

/*
 * The usual platform: RSDP v2 -> XSDT (and an RSDT with the same tables)
 * -> MADT, FADT (rev 6) -> DSDT, HPET.  Returns the RSDP image.
 */
static u8 rsdp_img[36];

static void make_platform(void)
{
    u32 r[] = { MADT_PA, FADT_PA, HPET_PA };
    u64 x[] = { MADT_PA, FADT_PA, HPET_PA };

    madt_begin(MADT_PA, 5, 0xfee00000, 1);
    madt_lapic(0, 0, 1);
    madt_lapic(1, 1, 1);
    madt_ioapic(2, 0xfec00000, 0);
    madt_iso(0, 2, 0);
    madt_iso(9, 9, 0xd);
    madt_finish();
    make_fadt(FADT_PA, 6, 276, DSDT_PA, 0);
    make_aml_table(DSDT_PA, "DSDT", aml_s5_bytes, sizeof(aml_s5_bytes));
    make_hpet(HPET_PA);
    make_rsdt(RSDT_PA, r, 3);
    make_xsdt(XSDT_PA, x, 3);
    make_rsdp(rsdp_img, 2, RSDT_PA, XSDT_PA);
}

static const struct acpi_table_desc *find_desc(const char *sig)
{
    for (unsigned i = 0; i < info.ntables; i++)
        if (strcmp(info.tables[i].sig, sig) == 0)
            return &info.tables[i];
    return NULL;
}

/* --- RSDP and root tables --------------------------------------------- */

UNIT_TEST(rsdp_v1_walks_rsdt)
{
    u32 r[] = { MADT_PA };

    reset();
    make_platform();
    make_rsdt(RSDT_PA, r, 1);
    make_rsdp(rsdp_img, 0, RSDT_PA, 0);
    CHECK_EQ(parse(rsdp_img, 20), ACPI_OK);
    CHECK_EQ(info.revision, 0);
    CHECK(!info.via_xsdt);
    CHECK(!info.rsdp_pa_known);
    CHECK_EQ(info.root_pa, RSDT_PA);
    CHECK(strcmp(info.oem_id, "MICARS") == 0);
    CHECK(info.have_madt);
    CHECK(!info.have_fadt);
    CHECK(!info.have_hpet);
    CHECK_EQ(log_warnings, 0);
}

UNIT_TEST(rsdp_v2_prefers_xsdt)
{
    u64 x[] = { MADT2_PA };

    reset();
    make_platform();
    /* A MADT only the XSDT points to, recognisable by its LAPIC address. */
    madt_begin(MADT2_PA, 5, 0xfee11000, 0);
    madt_lapic(0, 7, 1);
    madt_finish();
    make_xsdt(XSDT_PA, x, 1);
    make_rsdp(rsdp_img, 2, RSDT_PA, XSDT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.via_xsdt);
    CHECK_EQ(info.root_pa, XSDT_PA);
    CHECK_EQ(info.lapic_addr, 0xfee11000);
    CHECK_EQ(info.ncpus, 1);
    CHECK_EQ(info.cpus[0].apic_id, 7);
    CHECK(!info.pcat_compat);
    CHECK_EQ(log_warnings, 0);
}

UNIT_TEST(rsdp_v2_zero_xsdt_uses_rsdt)
{
    reset();
    make_platform();
    make_rsdp(rsdp_img, 2, RSDT_PA, 0);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.via_xsdt);
    CHECK_EQ(info.root_pa, RSDT_PA);
    CHECK(info.have_madt && info.have_fadt && info.have_hpet);
}

UNIT_TEST(rsdp_bad_checksum_rejected)
{
    reset();
    make_platform();
    rsdp_img[16] ^= 0x40;          /* the RSDT pointer, inside the v1 checksum */
    CHECK_EQ(parse(rsdp_img, 36), ACPI_ERR_BAD_RSDP);
    CHECK(log_warnings > 0);
    CHECK_STR(logbuf, "bad checksum");
}

UNIT_TEST(rsdp_bad_signature_rejected)
{
    reset();
    make_platform();
    rsdp_img[0] = 'X';
    CHECK_EQ(parse(rsdp_img, 36), ACPI_ERR_BAD_RSDP);
    CHECK_EQ(parse(rsdp_img, 10), ACPI_ERR_BAD_RSDP);
}

UNIT_TEST(rsdp_bad_extended_checksum_falls_back_to_rsdt)
{
    reset();
    make_platform();
    rsdp_img[25] ^= 0x01;          /* XSDT pointer: only the extended sum covers it */
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.via_xsdt);
    CHECK_EQ(info.root_pa, RSDT_PA);
    CHECK_STR(logbuf, "extended checksum");
}

UNIT_TEST(rsdp_v2_short_copy_uses_rsdt)
{
    reset();
    make_platform();
    CHECK_EQ(parse(rsdp_img, 20), ACPI_OK);
    CHECK(!info.via_xsdt);
    CHECK(log_warnings > 0);
}

UNIT_TEST(bad_xsdt_falls_back_to_rsdt)
{
    reset();
    make_platform();
    mem[XSDT_PA + 40] ^= 1;        /* corrupt after the checksum was set */
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.via_xsdt);
    CHECK(info.have_madt && info.have_fadt);
    CHECK_STR(logbuf, "XSDT at 0x101000: bad checksum");
}

UNIT_TEST(no_usable_root)
{
    reset();
    make_platform();
    mem[XSDT_PA + 40] ^= 1;
    mem[RSDT_PA + 40] ^= 1;
    CHECK_EQ(parse(rsdp_img, 36), ACPI_ERR_NO_ROOT);
    CHECK_STR(logbuf, "RSDT at 0x100000: bad checksum");
}

UNIT_TEST(root_with_wrong_signature)
{
    reset();
    make_platform();
    make_rsdp(rsdp_img, 2, MADT_PA, 0);   /* "RSDT" pointer at a MADT */
    CHECK_EQ(parse(rsdp_img, 36), ACPI_ERR_NO_ROOT);
    CHECK_STR(logbuf, "expected RSDT at 0x102000");
}

UNIT_TEST(bad_table_checksum_skipped)
{
    const struct acpi_table_desc *d;

    reset();
    make_platform();
    mem[MADT_PA + 44 + 3] ^= 0x10;   /* an APIC ID */
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK_EQ(info.ncpus, 0);
    CHECK(info.have_fadt && info.have_hpet && info.have_s5);
    CHECK_STR(logbuf, "APIC at 0x102000: bad checksum, skipped");
    d = find_desc("APIC");
    CHECK(d != NULL);
    CHECK(!d->checksum_ok && !d->used);
    d = find_desc("FACP");
    CHECK(d != NULL && d->checksum_ok && d->used);
}

UNIT_TEST(truncated_table_skipped)
{
    reset();
    make_platform();
    put32(MADT_PA + 4, 20);          /* shorter than the header */
    fix_checksum(MADT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK_STR(logbuf, "APIC at 0x102000: length 20 is shorter than its header");
    CHECK(info.have_fadt);
}

UNIT_TEST(table_running_off_memory_skipped)
{
    /* A table whose length reaches past the end of mappable memory. */
    paddr_t pa = LOWMEM_SIZE - 64;
    u64 x[] = { pa, FADT_PA };

    reset();
    make_platform();
    header(pa, "APIC", 4096, 5);
    make_xsdt(XSDT_PA, x, 2);
    make_rsdp(rsdp_img, 2, RSDT_PA, XSDT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK(info.have_fadt);
    CHECK_STR(logbuf, "cannot map 4096 bytes");
}

UNIT_TEST(length_overflow_rejected)
{
    /* Lengths that would wrap or are absurd, and a pointer at the top of memory. */
    u64 x[] = { MADT_PA, HPET_PA, 0xfffffffffffffff0ull, 0, FADT_PA };

    reset();
    make_platform();
    put32(MADT_PA + 4, 0xffffffffu);    /* the length is refused before any checksum */
    header(HPET_PA, "HPET", 0x01000000u, 1);   /* 16 MiB: over the limit for fixed tables */
    make_xsdt(XSDT_PA, x, 5);
    make_rsdp(rsdp_img, 2, RSDT_PA, XSDT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK(!info.have_hpet);
    CHECK(info.have_fadt);
    CHECK_STR(logbuf, "APIC at 0x102000: length 4294967295 exceeds");
    CHECK_STR(logbuf, "cannot map a table header at 0xfffffffffffffff0");
    CHECK_STR(logbuf, "XSDT entry 3 is a null pointer");
}

UNIT_TEST(root_table_length_capped)
{
    /* A well-formed 2 MiB XSDT: only the size cap can refuse it. */
    u64 x[] = { MADT_PA, FADT_PA, HPET_PA };

    reset();
    make_platform();
    make_xsdt(0x200000, x, 3);
    put32(0x200000 + 4, 0x00200000u);
    fix_checksum(0x200000);
    make_rsdp(rsdp_img, 2, RSDT_PA, 0x200000);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.via_xsdt);
    CHECK_STR(logbuf, "XSDT at 0x200000: length 2097152 exceeds");
}

UNIT_TEST(root_partial_entry_ignored)
{
    reset();
    make_platform();
    put32(XSDT_PA + 4, 36 + 8 * 3 + 4);
    fix_checksum(XSDT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.via_xsdt);
    CHECK(info.have_madt && info.have_fadt && info.have_hpet);
    CHECK_STR(logbuf, "partial entry");
}

/* --- MADT ------------------------------------------------------------- */

static void platform_with_madt(void)
{
    u64 x[] = { MADT_PA };
    make_xsdt(XSDT_PA, x, 1);
    make_rsdp(rsdp_img, 2, 0, XSDT_PA);
}

UNIT_TEST(madt_entries)
{
    u8 nmi[6] = { 4, 6, 0xff, 5, 0, 1 };
    u8 lapic_override[12] = { 5, 12, 0, 0 };
    u64 lapic64 = 0xfee0000000ull;

    reset();
    memcpy(lapic_override + 4, &lapic64, 8);
    madt_begin(MADT_PA, 3, 0xfee00000, 1);
    madt_lapic(0, 0, 1);
    madt_lapic(1, 2, 0);              /* disabled */
    madt_raw(nmi, 6);
    madt_x2apic(300, 1, 77);
    madt_lapic(9, 0xff, 1);           /* the broadcast ID: no CPU */
    madt_ioapic(4, 0xfec00000, 0);
    madt_ioapic(5, 0xfec01000, 24);
    madt_iso(0, 2, 0);
    madt_iso(9, 9, ACPI_MPS_POLARITY_LOW | ACPI_MPS_TRIGGER_LEVEL);
    madt_raw(lapic_override, 12);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_madt);
    CHECK(info.pcat_compat);
    CHECK_EQ(info.lapic_addr, lapic64);
    CHECK_EQ(info.ncpus, 3);
    CHECK_EQ(info.ncpus_dropped, 0);
    CHECK_EQ(info.cpus[0].apic_id, 0);
    CHECK(info.cpus[0].enabled && !info.cpus[0].x2apic);
    CHECK_EQ(info.cpus[1].apic_id, 2);
    CHECK_EQ(info.cpus[1].acpi_uid, 1);
    CHECK(!info.cpus[1].enabled && !info.cpus[1].online_capable);
    CHECK_EQ(info.cpus[2].apic_id, 300);
    CHECK_EQ(info.cpus[2].acpi_uid, 77);
    CHECK(info.cpus[2].enabled && info.cpus[2].x2apic);
    CHECK_EQ(info.nioapics, 2);
    CHECK_EQ(info.ioapics[1].id, 5);
    CHECK_EQ(info.ioapics[1].address, 0xfec01000);
    CHECK_EQ(info.ioapics[1].gsi_base, 24);
    CHECK_EQ(info.noverrides, 2);
    CHECK_EQ(info.overrides[0].source, 0);
    CHECK_EQ(info.overrides[0].gsi, 2);
    CHECK_EQ(info.overrides[1].source, 9);
    CHECK_EQ(info.overrides[1].flags, 0xf);
    CHECK_EQ(log_warnings, 0);
}

UNIT_TEST(madt_online_capable_needs_rev5)
{
    reset();
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    madt_lapic(0, 0, 1 | 2);          /* enabled: online-capable is reserved */
    madt_lapic(1, 1, 2);
    madt_x2apic(400, 2, 2);
    madt_lapic(3, 3, 0);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.ncpus, 4);
    CHECK(info.cpus[0].enabled && !info.cpus[0].online_capable);
    CHECK(!info.cpus[1].enabled && info.cpus[1].online_capable);
    CHECK(!info.cpus[2].enabled && info.cpus[2].online_capable);
    CHECK(!info.cpus[3].enabled && !info.cpus[3].online_capable);

    reset();
    madt_begin(MADT_PA, 4, 0xfee00000, 0);
    madt_lapic(1, 1, 2);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.ncpus, 1);
    CHECK(!info.cpus[0].online_capable);
}

UNIT_TEST(madt_zero_length_entry_stops_walk)
{
    u8 bad[4] = { 0, 0, 0, 0 };

    reset();
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    madt_lapic(0, 0, 1);
    madt_raw(bad, 4);
    madt_lapic(1, 1, 1);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ(info.ncpus, 1);
    CHECK_STR(logbuf, "has length 0, walk stopped");

    /* Length 1 cannot even cover the type and length bytes. */
    reset();
    bad[0] = 4;
    bad[1] = 1;
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    madt_lapic(0, 0, 1);
    madt_raw(bad, 4);
    madt_lapic(1, 1, 1);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.ncpus, 1);
    CHECK_STR(logbuf, "has length 1, walk stopped");
}

UNIT_TEST(madt_entry_past_end_stops_walk)
{
    u8 bad[4] = { 1, 12, 0, 0 };      /* an I/O APIC entry cut short by the table end */

    reset();
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    madt_lapic(0, 0, 1);
    madt_raw(bad, 4);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.ncpus, 1);
    CHECK_EQ(info.nioapics, 0);
    CHECK_STR(logbuf, "runs past the table end");
}

UNIT_TEST(madt_short_entry_ignored)
{
    u8 shortio[6] = { 1, 6, 3, 0, 0, 0 };  /* I/O APIC entries are 12 bytes */

    reset();
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    madt_raw(shortio, 6);
    madt_lapic(0, 0, 1);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.nioapics, 0);
    CHECK_EQ(info.ncpus, 1);
    CHECK_STR(logbuf, "is only 6 bytes, ignored");
}

UNIT_TEST(madt_more_cpus_than_array)
{
    reset();
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    for (u32 i = 0; i < ACPI_MAX_CPUS + 5; i++)
        madt_x2apic(i, 1, i);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.ncpus, ACPI_MAX_CPUS);
    CHECK_EQ(info.ncpus_dropped, 5);
    CHECK_EQ(info.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
    CHECK_STR(logbuf, "5 more CPUs");
}

UNIT_TEST(madt_duplicate_apic_id)
{
    reset();
    madt_begin(MADT_PA, 5, 0xfee00000, 0);
    madt_lapic(0, 4, 1);
    madt_x2apic(4, 1, 0);
    madt_finish();
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.ncpus, 1);
    CHECK(!info.cpus[0].x2apic);
    CHECK_STR(logbuf, "APIC ID 0x4 twice");
}

UNIT_TEST(madt_too_short)
{
    reset();
    header(MADT_PA, "APIC", 40, 5);
    fix_checksum(MADT_PA);
    platform_with_madt();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK_STR(logbuf, "too short for a MADT");
}

/* --- FADT ------------------------------------------------------------- */

UNIT_TEST(fadt_old_revision1)
{
    reset();
    make_platform();
    make_fadt(FADT_PA, 1, 116, DSDT_PA, 0);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK_EQ(info.fadt_revision, 1);
    CHECK_EQ(info.fadt_length, 116);
    CHECK_EQ(info.sci_int, 9);
    CHECK_EQ(info.smi_cmd, 0xb2);
    CHECK_EQ(info.acpi_enable, 0xf1);
    CHECK_EQ(info.acpi_disable, 0xf0);
    CHECK_EQ(info.century, 0x32);
    CHECK_EQ(info.iapc_boot_arch, 0);    /* reserved in 1.0 */
    CHECK_EQ(info.dsdt_pa, DSDT_PA);
    CHECK_EQ(info.pm1a_cnt.space_id, ACPI_GAS_IO);
    CHECK_EQ(info.pm1a_cnt.address, 0x604);
    CHECK_EQ(info.pm1a_cnt.bit_width, 16);
    CHECK_EQ(info.pm1a_cnt.access_size, ACPI_ACCESS_WORD);
    CHECK_EQ(info.pm1b_cnt.address, 0x804);
    CHECK_EQ(info.pm1a_evt.address, 0x600);
    CHECK_EQ(info.pm1a_evt.bit_width, 32);
    CHECK_EQ(info.pm1b_evt.address, 0);
    CHECK_EQ(info.pm_timer.address, 0x608);
    CHECK_EQ(info.pm_timer.bit_width, 32);
    CHECK(info.pm_timer_32bit);
    CHECK(!info.reset_supported);
    CHECK(!info.hw_reduced);
    CHECK(info.have_s5);
    CHECK_EQ(log_warnings, 0);
}

UNIT_TEST(fadt_new_prefers_x_fields)
{
    reset();
    make_platform();
    /* The 32-bit DSDT pointer is stale; X_DSDT is the truth. */
    make_fadt(FADT_PA, 6, 276, 0x1234, DSDT_PA);
    set_gas(FADT_PA + 172, ACPI_GAS_MEMORY, 16, ACPI_ACCESS_WORD, 0xfe000404ull);
    set_gas(FADT_PA + 208, ACPI_GAS_IO, 32, ACPI_ACCESS_DWORD, 0x408);
    /* X_PM1b_CNT_BLK left zero: the 32-bit PM1b_CNT_BLK stands. */
    fix_checksum(FADT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK_EQ(info.fadt_revision, 6);
    CHECK_EQ(info.dsdt_pa, DSDT_PA);
    CHECK_EQ(info.iapc_boot_arch, 3);
    CHECK_EQ(info.pm1a_cnt.space_id, ACPI_GAS_MEMORY);
    CHECK_EQ(info.pm1a_cnt.address, 0xfe000404ull);
    CHECK_EQ(info.pm1b_cnt.space_id, ACPI_GAS_IO);
    CHECK_EQ(info.pm1b_cnt.address, 0x804);
    CHECK_EQ(info.pm_timer.address, 0x408);
    CHECK(info.reset_supported);
    CHECK_EQ(info.reset_reg.space_id, ACPI_GAS_IO);
    CHECK_EQ(info.reset_reg.address, 0xcf9);
    CHECK_EQ(info.reset_value, 6);
    CHECK(info.have_s5);
    CHECK_EQ(info.slp_typa, 5);
    CHECK_EQ(info.slp_typb, 7);
}

UNIT_TEST(fadt_x_field_bad_io_port_falls_back)
{
    reset();
    make_platform();
    set_gas(FADT_PA + 172, ACPI_GAS_IO, 16, ACPI_ACCESS_WORD, 0x12345);
    fix_checksum(FADT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.pm1a_cnt.address, 0x604);
    CHECK_STR(logbuf, "X_PM1a_CNT_BLK names I/O port 0x12345");
}

UNIT_TEST(fadt_hw_reduced_and_short)
{
    reset();
    make_platform();
    put32(FADT_PA + 112, ACPI_FADT_HW_REDUCED);
    fix_checksum(FADT_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.hw_reduced);
    CHECK(!info.reset_supported);

    reset();
    make_platform();
    make_fadt(FADT_PA, 1, 100, DSDT_PA, 0);    /* cannot even hold FLAGS */
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_fadt);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "too short for a FADT");
}

UNIT_TEST(fadt_dsdt_pointer_checked)
{
    reset();
    make_platform();
    make_fadt(FADT_PA, 6, 276, HPET_PA, 0);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "expected DSDT at 0x105000 but found 'HPET'");

    reset();
    make_platform();
    mem[DSDT_PA + 50] ^= 1;
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "DSDT at 0x104000: bad checksum");
}

/* --- \_S5 ------------------------------------------------------------- */

/* Parses a platform whose DSDT body is exactly aml[0..n). */
static int parse_with_dsdt(const void *aml, size_t n)
{
    reset();
    make_platform();
    make_aml_table(DSDT_PA, "DSDT", aml, n);
    return parse(rsdp_img, 36);
}

UNIT_TEST(s5_element_encodings)
{
    static const struct {
        u8 aml[32];
        size_t len;
        u8 a, b;
    } cases[] = {
        /* Zero, One */
        { { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x01 }, 10, 0, 1 },
        /* One, Zero with a root prefix */
        { { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x00 }, 11, 1, 0 },
        /* BytePrefix */
        { { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x07, 0x0a, 0x03 }, 12, 7, 3 },
        /* WordPrefix, DWordPrefix */
        { { 0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x02, 0x0b, 0x05, 0x00,
            0x0c, 0x06, 0x00, 0x00, 0x00 }, 16, 5, 6 },
        /* QWordPrefix, then a 4-element package as QEMU writes it */
        { { 0x08, '_', 'S', '5', '_', 0x12, 0x0e, 0x04, 0x0e, 0x02, 0, 0, 0, 0, 0, 0, 0,
            0x01, 0x00, 0x00 }, 20, 2, 1 },
        /* two-byte PkgLength: 0x40 | low nibble, then bits 4..11 */
        { { 0x08, '_', 'S', '5', '_', 0x12, 0x49, 0x00, 0x04, 0x0a, 0x05, 0x0a, 0x05,
            0x00, 0x00 }, 15, 5, 5 },
        /* three-byte PkgLength */
        { { 0x08, '_', 'S', '5', '_', 0x12, 0x88, 0x00, 0x00, 0x02, 0x0a, 0x04, 0x0a, 0x04 },
          14, 4, 4 },
        /* parent prefix */
        { { 0x08, '^', '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01 }, 11, 1, 1 },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        CHECK_EQ(parse_with_dsdt(cases[i].aml, cases[i].len), ACPI_OK);
        if (!info.have_s5)
            fprintf(stderr, "  case %u: %s\n", i, logbuf);
        CHECK(info.have_s5);
        CHECK_EQ(info.slp_typa, cases[i].a);
        CHECK_EQ(info.slp_typb, cases[i].b);
        CHECK_EQ(log_warnings, 0);
    }
}

UNIT_TEST(s5_after_other_mentions)
{
    /* A Store(_S5_...) reference and a Method named _S5_ come first. */
    static const u8 aml[] = {
        0x70, '_', 'S', '5', '_', 0x60,
        0x14, 0x06, '_', 'S', '5', '_', 0x00, 0xa4,
        0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x03, 0x0a, 0x02,
    };

    CHECK_EQ(parse_with_dsdt(aml, sizeof(aml)), ACPI_OK);
    CHECK(info.have_s5);
    CHECK_EQ(info.slp_typa, 3);
    CHECK_EQ(info.slp_typb, 2);
}

UNIT_TEST(s5_missing)
{
    static const u8 aml[] = {
        0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x00, 0x00,
        0x08, '_', 'S', '5', 'X', 0x12, 0x04, 0x02, 0x00, 0x00,
    };
    struct acpi_poweroff po;

    CHECK_EQ(parse_with_dsdt(aml, sizeof(aml)), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK(!info.have_s5);
    CHECK(!acpi_poweroff_values(&info, &po));
    acpi_print_summary(&info);
    CHECK_STR(logbuf, "no usable \\_S5");
}

UNIT_TEST(s5_truncated)
{
    /* PkgLength claims more than the table holds. */
    static const u8 past_end[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x10, 0x04, 0x0a, 0x05 };
    /* Table ends inside the PkgLength bytes. */
    static const u8 in_pkglen[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xc0, 0x01 };
    /* Table ends right after PackageOp. */
    static const u8 after_op[] = { 0x08, '_', 'S', '5', '_', 0x12 };
    /* Package ends inside the second element's BytePrefix. */
    static const u8 in_elem[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x0a,
                                  0x05, 0x00 };
    /* Package too short to hold NumElements. */
    static const u8 no_count[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x01, 0x02, 0x00, 0x00 };

    CHECK_EQ(parse_with_dsdt(past_end, sizeof(past_end)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "\\_S5 package in DSDT at 0x104000 is truncated");
    CHECK_EQ(parse_with_dsdt(in_pkglen, sizeof(in_pkglen)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "truncated");
    CHECK_EQ(parse_with_dsdt(after_op, sizeof(after_op)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "truncated");
    CHECK_EQ(parse_with_dsdt(in_elem, sizeof(in_elem)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "truncated");
    CHECK_EQ(parse_with_dsdt(no_count, sizeof(no_count)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "truncated");
}

UNIT_TEST(s5_bad_contents)
{
    static const u8 one_elem[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x01, 0x0a, 0x05 };
    static const u8 too_big[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x09, 0x00 };
    static const u8 ones[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0xff };
    static const u8 named[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 0x00, 'A', 'B', 'C', 'D' };

    CHECK_EQ(parse_with_dsdt(one_elem, sizeof(one_elem)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "has 1 elements");
    CHECK_EQ(parse_with_dsdt(too_big, sizeof(too_big)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "SLP_TYPa value 0x9 does not fit");
    CHECK_EQ(parse_with_dsdt(ones, sizeof(ones)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "SLP_TYPb value");
    CHECK_EQ(parse_with_dsdt(named, sizeof(named)), ACPI_OK);
    CHECK(!info.have_s5);
    CHECK_STR(logbuf, "element 1 is not a constant integer");
}

UNIT_TEST(s5_from_ssdt_when_dsdt_lacks_it)
{
    static const u8 dsdt[] = { 0x10, 0x05, '\\', '_', 'S', 'B', '_' };
    static const u8 ssdt[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x06, 0x0a, 0x01 };
    u64 x[] = { MADT_PA, FADT_PA, SSDT_PA };
    const struct acpi_table_desc *d;

    reset();
    make_platform();
    make_aml_table(DSDT_PA, "DSDT", dsdt, sizeof(dsdt));
    make_aml_table(SSDT_PA, "SSDT", ssdt, sizeof(ssdt));
    make_xsdt(XSDT_PA, x, 3);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_s5);
    CHECK_EQ(info.slp_typa, 6);
    CHECK_EQ(info.slp_typb, 1);
    d = find_desc("SSDT");
    CHECK(d != NULL && d->used);
    d = find_desc("DSDT");
    CHECK(d != NULL && d->checksum_ok && !d->used);

    /* The DSDT's \_S5 wins over an SSDT's. */
    make_aml_table(DSDT_PA, "DSDT", aml_s5_bytes, sizeof(aml_s5_bytes));
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK_EQ(info.slp_typa, 5);
    CHECK_EQ(info.slp_typb, 7);
}

UNIT_TEST(poweroff_values)
{
    struct acpi_poweroff po;

    reset();
    make_platform();
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(acpi_poweroff_values(&info, &po));
    CHECK_EQ(po.pm1a_cnt.address, 0x604);
    CHECK_EQ(po.pm1b_cnt.address, 0x804);
    CHECK_EQ(po.pm1a_value, (5 << 10) | (1 << 13));
    CHECK_EQ(po.pm1b_value, (7 << 10) | (1 << 13));
    CHECK_EQ(po.pm1a_value & ~ACPI_PM1_SLP_MASK, 0);
}

/* --- HPET ------------------------------------------------------------- */

UNIT_TEST(hpet_table)
{
    reset();
    make_platform();
    put8(HPET_PA + 52, 3);
    put16(HPET_PA + 53, 0x37ee);
    fix_checksum(HPET_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(info.have_hpet);
    CHECK_EQ(info.hpet_addr, 0xfed00000);
    CHECK_EQ(info.hpet_number, 3);
    CHECK_EQ(info.hpet_min_tick, 0x37ee);
    CHECK_EQ(info.hpet_block_id, 0x8086a201);

    /* An HPET in I/O space is not one Mica can use. */
    reset();
    make_platform();
    set_gas(HPET_PA + 40, ACPI_GAS_IO, 64, 0, 0xfed00000);
    fix_checksum(HPET_PA);
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK_STR(logbuf, "HPET at 0x105000: base is not a memory address");
}

/* --- BIOS area scan --------------------------------------------------- */

UNIT_TEST(scan_finds_rsdp_in_bios_rom)
{
    u8 bad[36];

    reset();
    make_platform();
    /* A decoy at an unaligned address and one with a bad checksum first. */
    memcpy(mem + 0xe0008, rsdp_img, 36);
    make_rsdp(bad, 2, RSDT_PA, XSDT_PA);
    bad[8] ^= 1;
    memcpy(mem + 0xe0000 + 0x40, bad, 36);
    memcpy(mem + 0xf5a30, rsdp_img, 36);
    CHECK_EQ(parse(NULL, 0), ACPI_OK);
    CHECK(info.rsdp_pa_known);
    CHECK_EQ(info.rsdp_pa, 0xf5a30);
    CHECK(info.via_xsdt);
    CHECK(info.have_madt && info.have_fadt && info.have_hpet && info.have_s5);
    CHECK_STR(logbuf, "RSDP at 0xe0040: bad checksum");
}

UNIT_TEST(scan_prefers_ebda)
{
    reset();
    make_platform();
    put16(0x40e, 0x9fc0);                    /* EBDA at 0x9fc00 */
    memcpy(mem + 0x9fc00 + 0x30, rsdp_img, 36);
    memcpy(mem + 0xf0000, rsdp_img, 36);
    CHECK_EQ(parse(NULL, 0), ACPI_OK);
    CHECK_EQ(info.rsdp_pa, 0x9fc30);

    /* Only the first KiB of the EBDA is searched. */
    reset();
    make_platform();
    put16(0x40e, 0x9f00);
    memcpy(mem + 0x9f000 + 0x400, rsdp_img, 36);
    memcpy(mem + 0xf0000, rsdp_img, 36);
    CHECK_EQ(parse(NULL, 0), ACPI_OK);
    CHECK_EQ(info.rsdp_pa, 0xf0000);
}

UNIT_TEST(scan_finds_nothing)
{
    reset();
    make_platform();
    CHECK_EQ(parse(NULL, 0), ACPI_ERR_NO_RSDP);
    CHECK_STR(logbuf, "no RSDP found");

    /* Nothing mappable at all. */
    reset();
    nregions = 0;
    CHECK_EQ(parse(NULL, 0), ACPI_ERR_NO_RSDP);
    CHECK_STR(logbuf, "cannot map 0xe0000-0xfffff");
}

UNIT_TEST(bad_arguments)
{
    reset();
    CHECK_EQ(acpi_parse(NULL, 0, NULL, NULL, &info), ACPI_ERR_INVAL);
    CHECK_EQ(acpi_parse(NULL, 0, fake_map, NULL, NULL), ACPI_ERR_INVAL);
}

UNIT_TEST(summary_lists_tables)
{
    reset();
    make_platform();
    mem[HPET_PA + 40] ^= 1;
    CHECK_EQ(parse(rsdp_img, 36), ACPI_OK);
    log_clear();
    acpi_print_summary(&info);
    CHECK_STR(logbuf, "from the boot loader, XSDT at 0x101000");
    CHECK_STR(logbuf, "XSDT 0x0000000000101000 len      60 rev   1 MICATS used");
    CHECK_STR(logbuf, "HPET 0x0000000000105000 len      56 rev   1 MICATS BAD, ignored");
    CHECK_STR(logbuf, "MADT: 2 CPUs (2 enabled");
    CHECK_STR(logbuf, "IRQ 9 -> GSI 9 flags 0xd");
    CHECK_STR(logbuf, "PM1a_CNT  io 0x604 (16 bits)");
    CHECK_STR(logbuf, "\\_S5: SLP_TYPa 5 SLP_TYPb 7");
    CHECK(strstr(logbuf, "ACPI: HPET") == NULL);
}

UNIT_MAIN()
