/*
 * ACPI static table discovery (see mica/acpi.h).
 *
 * Firmware tables are input from outside Mica, so nothing read from them is
 * believed until it has been checked: lengths are bounded before any byte
 * past the header is touched, checksums are verified before a table's
 * contents are used, and multi-byte fields are read byte by byte because
 * ACPI tables make no alignment promises.  Each value is read from the
 * mapped table once into a local and checked there.
 */
#include <mica/types.h>
#include <mica/lib.h>
#include <mica/acpi.h>

#define SDT_HEADER_LEN     36u
#define RSDP_V1_LEN        20u
#define RSDP_V2_LEN        36u
/* Root and fixed-layout tables are a few KiB; this only catches garbage. */
#define ROOT_TABLE_MAX     MiB(1)
#define FIXED_TABLE_MAX    MiB(1)
/* AML tables on big servers run to several hundred KiB. */
#define AML_TABLE_MAX      MiB(16)
/* The RSDP length field covers 36 bytes today; allow growth, not garbage. */
#define RSDP_MAX_LEN       4096u

/* Where the BIOS may have put the RSDP (ACPI 6.x 5.2.5.1). */
#define BDA_EBDA_SEG       0x40eu
#define EBDA_SCAN_LEN      1024u
#define BIOS_ROM_BASE      0xe0000u
#define BIOS_ROM_LEN       0x20000u

/* AML opcodes used to find \_S5 (ACPI 6.x section 20). */
#define AML_ZERO_OP        0x00
#define AML_ONE_OP         0x01
#define AML_NAME_OP        0x08
#define AML_BYTE_PREFIX    0x0a
#define AML_WORD_PREFIX    0x0b
#define AML_DWORD_PREFIX   0x0c
#define AML_QWORD_PREFIX   0x0e
#define AML_PACKAGE_OP     0x12
#define AML_ROOT_CHAR      0x5c
#define AML_PARENT_CHAR    0x5e
#define AML_ONES_OP        0xff

/* MADT interrupt controller structure types. */
#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_ISO            2
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9

#define MADT_CPU_ENABLED        (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
#define MADT_PCAT_COMPAT        (1u << 0)

struct parse_ctx {
    acpi_map_fn map;
    void *map_ctx;
    struct acpi_info *out;
    /* \_S5 from an SSDT, used only when the DSDT has none */
    bool ssdt_s5;
    u8 ssdt_typa, ssdt_typb;
    struct acpi_table_desc *ssdt_s5_desc;
};

/* A table that passed its checks: p covers exactly len bytes. */
struct table {
    const u8 *p;
    u32 len;
    paddr_t pa;
    u8 revision;
    char sig[5];
    struct acpi_table_desc *desc;   /* NULL when the list was full */
};

static u16 rd16(const u8 *p)
{
    return (u16)(p[0] | (u16)p[1] << 8);
}

static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const u8 *p)
{
    return (u64)rd32(p) | (u64)rd32(p + 4) << 32;
}

static u8 byte_sum(const u8 *p, size_t len)
{
    u8 sum = 0;

    for (size_t i = 0; i < len; i++)
        sum = (u8)(sum + p[i]);
    return sum;
}

/* Signatures and OEM IDs end up in log lines; keep those lines printable. */
static void copy_printable(char *dst, const u8 *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

static bool range_ok(paddr_t pa, u64 len)
{
    return len != 0 && pa + (len - 1) >= pa;
}

static const u8 *map_range(struct parse_ctx *c, paddr_t pa, size_t len)
{
    if (!range_ok(pa, len))
        return NULL;
    return c->map(pa, len, c->map_ctx);
}

static struct acpi_table_desc *add_desc(struct parse_ctx *c, paddr_t pa,
                                        const u8 *hdr, u32 len)
{
    struct acpi_info *out = c->out;
    struct acpi_table_desc *d;

    if (out->ntables >= ACPI_MAX_TABLES) {
        out->ntables_dropped++;
        return NULL;
    }
    d = &out->tables[out->ntables++];
    copy_printable(d->sig, hdr, 4);
    copy_printable(d->oem_id, hdr + 10, 6);
    d->revision = hdr[8];
    d->pa = pa;
    d->length = len;
    d->checksum_ok = false;
    d->used = false;
    return d;
}

/*
 * Maps and checks the table at pa.  expect_sig, when given, must match.
 * Every failure is logged with the signature and address and leaves *t
 * unusable.
 */
static bool fetch_table(struct parse_ctx *c, paddr_t pa, const char *expect_sig,
                        u32 max_len, struct table *t)
{
    const u8 *hdr;
    u8 hdr_copy[SDT_HEADER_LEN];
    char sig[5];
    u32 len;

    t->p = NULL;
    if (pa == 0) {
        pr_warn("ACPI: %s table pointer is zero, skipped\n",
                expect_sig ? expect_sig : "a");
        return false;
    }
    hdr = map_range(c, pa, SDT_HEADER_LEN);
    if (!hdr) {
        pr_warn("ACPI: cannot map %s table header at %#llx, skipped\n",
                expect_sig ? expect_sig : "a", (unsigned long long)pa);
        return false;
    }
    memcpy(hdr_copy, hdr, SDT_HEADER_LEN);
    copy_printable(sig, hdr_copy, 4);
    len = rd32(hdr_copy + 4);

    if (expect_sig && memcmp(hdr_copy, expect_sig, 4) != 0) {
        pr_warn("ACPI: expected %s at %#llx but found '%s', skipped\n",
                expect_sig, (unsigned long long)pa, sig);
        return false;
    }

    t->desc = add_desc(c, pa, hdr_copy, len);

    if (len < SDT_HEADER_LEN) {
        pr_warn("ACPI: %s at %#llx: length %u is shorter than its header, skipped\n",
                sig, (unsigned long long)pa, len);
        return false;
    }
    if (len > max_len) {
        pr_warn("ACPI: %s at %#llx: length %u exceeds the %u-byte limit, skipped\n",
                sig, (unsigned long long)pa, len, max_len);
        return false;
    }
    if (!range_ok(pa, len)) {
        pr_warn("ACPI: %s at %#llx: length %u wraps the address space, skipped\n",
                sig, (unsigned long long)pa, len);
        return false;
    }
    t->p = map_range(c, pa, len);
    if (!t->p) {
        pr_warn("ACPI: %s at %#llx: cannot map %u bytes, skipped\n",
                sig, (unsigned long long)pa, len);
        return false;
    }
    if (byte_sum(t->p, len) != 0) {
        pr_warn("ACPI: %s at %#llx: bad checksum, skipped\n",
                sig, (unsigned long long)pa);
        t->p = NULL;
        return false;
    }
    if (t->desc)
        t->desc->checksum_ok = true;
    t->len = len;
    t->pa = pa;
    t->revision = hdr_copy[8];
    memcpy(t->sig, sig, sizeof(sig));
    return true;
}

static void mark_used(struct table *t)
{
    if (t->desc)
        t->desc->used = true;
}

/* --- MADT ------------------------------------------------------------- */

static void madt_add_cpu(struct acpi_info *out, u32 apic_id, u32 uid, u32 flags,
                         bool x2apic, u8 madt_rev)
{
    bool enabled = flags & MADT_CPU_ENABLED;
    struct acpi_cpu *cpu;

    /*
     * Firmware may describe a CPU both as a Local APIC and a Local x2APIC;
     * one logical CPU must not be brought up twice.
     */
    for (unsigned i = 0; i < out->ncpus; i++) {
        if (out->cpus[i].apic_id == apic_id) {
            pr_warn("ACPI: MADT lists APIC ID %#x twice, keeping the first\n",
                    apic_id);
            return;
        }
    }
    if (out->ncpus >= ACPI_MAX_CPUS) {
        out->ncpus_dropped++;
        return;
    }
    cpu = &out->cpus[out->ncpus++];
    cpu->apic_id = apic_id;
    cpu->acpi_uid = uid;
    cpu->enabled = enabled;
    /* Before revision 5 this bit was reserved; when enabled it must be 0. */
    cpu->online_capable = madt_rev >= 5 && !enabled &&
                          (flags & MADT_CPU_ONLINE_CAPABLE);
    cpu->x2apic = x2apic;
}

/* Minimum entry lengths: shorter entries would make us read a neighbour. */
static u8 madt_min_len(u8 type)
{
    switch (type) {
    case MADT_LAPIC:          return 8;
    case MADT_IOAPIC:         return 12;
    case MADT_ISO:            return 10;
    case MADT_LAPIC_OVERRIDE: return 12;
    case MADT_X2APIC:         return 16;
    default:                  return 2;
    }
}

static void parse_madt(struct acpi_info *out, const struct table *t)
{
    u32 off;

    if (t->len < SDT_HEADER_LEN + 8) {
        pr_warn("ACPI: APIC at %#llx: length %u too short for a MADT, skipped\n",
                (unsigned long long)t->pa, t->len);
        return;
    }
    out->have_madt = true;
    out->lapic_addr = rd32(t->p + 36);
    out->pcat_compat = rd32(t->p + 40) & MADT_PCAT_COMPAT;

    for (off = SDT_HEADER_LEN + 8; off < t->len;) {
        const u8 *e = t->p + off;
        u32 room = t->len - off;
        u8 type, elen;

        if (room < 2) {
            pr_warn("ACPI: MADT at %#llx: stray byte at offset %u, walk stopped\n",
                    (unsigned long long)t->pa, off);
            break;
        }
        type = e[0];
        elen = e[1];
        if (elen < 2) {
            pr_warn("ACPI: MADT at %#llx: entry type %u at offset %u has length %u, walk stopped\n",
                    (unsigned long long)t->pa, type, off, elen);
            break;
        }
        if (elen > room) {
            pr_warn("ACPI: MADT at %#llx: entry type %u at offset %u runs past the table end, walk stopped\n",
                    (unsigned long long)t->pa, type, off);
            break;
        }
        off += elen;
        if (elen < madt_min_len(type)) {
            pr_warn("ACPI: MADT at %#llx: entry type %u at offset %u is only %u bytes, ignored\n",
                    (unsigned long long)t->pa, type, off - elen, elen);
            continue;
        }

        switch (type) {
        case MADT_LAPIC: {
            u8 uid = e[2], apic_id = e[3];
            u32 flags = rd32(e + 4);

            if (apic_id == 0xff)      /* the broadcast ID names no CPU */
                break;
            madt_add_cpu(out, apic_id, uid, flags, false, t->revision);
            break;
        }
        case MADT_X2APIC: {
            u32 apic_id = rd32(e + 4), flags = rd32(e + 8), uid = rd32(e + 12);

            if (apic_id == 0xffffffffu)
                break;
            madt_add_cpu(out, apic_id, uid, flags, true, t->revision);
            break;
        }
        case MADT_IOAPIC:
            if (out->nioapics >= ACPI_MAX_IOAPICS) {
                out->nioapics_dropped++;
                break;
            }
            out->ioapics[out->nioapics].id = e[2];
            out->ioapics[out->nioapics].address = rd32(e + 4);
            out->ioapics[out->nioapics].gsi_base = rd32(e + 8);
            out->nioapics++;
            break;
        case MADT_ISO:
            if (out->noverrides >= ACPI_MAX_OVERRIDES) {
                out->noverrides_dropped++;
                break;
            }
            out->overrides[out->noverrides].bus = e[2];
            out->overrides[out->noverrides].source = e[3];
            out->overrides[out->noverrides].gsi = rd32(e + 4);
            out->overrides[out->noverrides].flags = rd16(e + 8);
            out->noverrides++;
            break;
        case MADT_LAPIC_OVERRIDE: {
            u64 addr = rd64(e + 4);

            if (addr)
                out->lapic_addr = addr;
            break;
        }
        default:
            /* NMI sources, GIC and others: not needed to boot Mica. */
            break;
        }
    }
    if (out->ncpus_dropped)
        pr_warn("ACPI: MADT lists %u more CPUs than the %u Mica supports; they are ignored\n",
                out->ncpus_dropped, (unsigned)ACPI_MAX_CPUS);
    if (out->nioapics_dropped)
        pr_warn("ACPI: MADT lists %u more I/O APICs than the %u Mica supports\n",
                out->nioapics_dropped, (unsigned)ACPI_MAX_IOAPICS);
    if (out->noverrides_dropped)
        pr_warn("ACPI: MADT lists %u more interrupt overrides than the %u Mica keeps\n",
                out->noverrides_dropped, (unsigned)ACPI_MAX_OVERRIDES);
}

/* --- FADT ------------------------------------------------------------- */

/* FADT field offsets (ACPI 6.x table 5.9). */
#define FADT_FIRMWARE_CTRL   36
#define FADT_DSDT            40
#define FADT_SCI_INT         46
#define FADT_SMI_CMD         48
#define FADT_ACPI_ENABLE     52
#define FADT_ACPI_DISABLE    53
#define FADT_PM1A_EVT_BLK    56
#define FADT_PM1B_EVT_BLK    60
#define FADT_PM1A_CNT_BLK    64
#define FADT_PM1B_CNT_BLK    68
#define FADT_PM_TMR_BLK      76
#define FADT_PM1_EVT_LEN     88
#define FADT_PM1_CNT_LEN     89
#define FADT_PM_TMR_LEN      91
#define FADT_CENTURY         108
#define FADT_IAPC_BOOT_ARCH  109
#define FADT_FLAGS           112
#define FADT_RESET_REG       116
#define FADT_RESET_VALUE     128
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT          140
#define FADT_X_PM1A_EVT_BLK  148
#define FADT_X_PM1B_EVT_BLK  160
#define FADT_X_PM1A_CNT_BLK  172
#define FADT_X_PM1B_CNT_BLK  184
#define FADT_X_PM_TMR_BLK    208
#define GAS_LEN              12

static void read_gas(const u8 *p, struct acpi_gas *g)
{
    g->space_id = p[0];
    g->bit_width = p[1];
    g->bit_offset = p[2];
    g->access_size = p[3];
    g->address = rd64(p + 4);
}

/*
 * Picks the 64-bit X_ register block when the table has it and it is
 * usable, else describes the legacy 32-bit I/O port block as a GAS.
 */
static void fadt_block(const struct table *t, u32 off32, u32 len_off, u32 xoff,
                       u8 access, const char *name, struct acpi_gas *g)
{
    memset(g, 0, sizeof(*g));
    if (xoff + GAS_LEN <= t->len) {
        struct acpi_gas x;

        read_gas(t->p + xoff, &x);
        if (x.address != 0) {
            if (x.space_id == ACPI_GAS_IO && x.address > 0xffff) {
                pr_warn("ACPI: FADT X_%s names I/O port %#llx, using the 32-bit field\n",
                        name, (unsigned long long)x.address);
            } else {
                *g = x;
                return;
            }
        }
    }
    if (off32 + 4 <= t->len && len_off < t->len) {
        u32 port = rd32(t->p + off32);

        if (port == 0)
            return;
        g->space_id = ACPI_GAS_IO;
        g->bit_width = (u8)(t->p[len_off] * 8);
        g->bit_offset = 0;
        g->access_size = access;
        g->address = port;
    }
}

static void parse_fadt(struct acpi_info *out, const struct table *t)
{
    const u8 *p = t->p;
    u32 len = t->len;
    paddr_t dsdt = 0, facs = 0;

    /* ACPI 1.0's FADT is 116 bytes and everything up to FLAGS is in it. */
    if (len < FADT_FLAGS + 4) {
        pr_warn("ACPI: FACP at %#llx: length %u too short for a FADT, skipped\n",
                (unsigned long long)t->pa, len);
        return;
    }
    out->have_fadt = true;
    out->fadt_revision = t->revision;
    out->fadt_length = len;
    out->sci_int = rd16(p + FADT_SCI_INT);
    out->smi_cmd = rd32(p + FADT_SMI_CMD);
    out->acpi_enable = p[FADT_ACPI_ENABLE];
    out->acpi_disable = p[FADT_ACPI_DISABLE];
    out->century = p[FADT_CENTURY];
    out->fadt_flags = rd32(p + FADT_FLAGS);
    /* Reserved in ACPI 1.0, where it must read as zero anyway. */
    out->iapc_boot_arch = t->revision >= 2 ? rd16(p + FADT_IAPC_BOOT_ARCH) : 0;
    out->hw_reduced = out->fadt_flags & ACPI_FADT_HW_REDUCED;
    out->pm_timer_32bit = out->fadt_flags & ACPI_FADT_TMR_VAL_EXT;

    /* The spec says a non-zero X_ pointer overrides the 32-bit one. */
    if (FADT_X_DSDT + 8 <= len)
        dsdt = rd64(p + FADT_X_DSDT);
    if (dsdt == 0)
        dsdt = rd32(p + FADT_DSDT);
    out->dsdt_pa = dsdt;
    if (FADT_X_FIRMWARE_CTRL + 8 <= len)
        facs = rd64(p + FADT_X_FIRMWARE_CTRL);
    if (facs == 0)
        facs = rd32(p + FADT_FIRMWARE_CTRL);
    out->facs_pa = facs;

    fadt_block(t, FADT_PM1A_EVT_BLK, FADT_PM1_EVT_LEN, FADT_X_PM1A_EVT_BLK,
               ACPI_ACCESS_WORD, "PM1a_EVT_BLK", &out->pm1a_evt);
    fadt_block(t, FADT_PM1B_EVT_BLK, FADT_PM1_EVT_LEN, FADT_X_PM1B_EVT_BLK,
               ACPI_ACCESS_WORD, "PM1b_EVT_BLK", &out->pm1b_evt);
    fadt_block(t, FADT_PM1A_CNT_BLK, FADT_PM1_CNT_LEN, FADT_X_PM1A_CNT_BLK,
               ACPI_ACCESS_WORD, "PM1a_CNT_BLK", &out->pm1a_cnt);
    fadt_block(t, FADT_PM1B_CNT_BLK, FADT_PM1_CNT_LEN, FADT_X_PM1B_CNT_BLK,
               ACPI_ACCESS_WORD, "PM1b_CNT_BLK", &out->pm1b_cnt);
    fadt_block(t, FADT_PM_TMR_BLK, FADT_PM_TMR_LEN, FADT_X_PM_TMR_BLK,
               ACPI_ACCESS_DWORD, "PM_TMR_BLK", &out->pm_timer);

    if (FADT_RESET_VALUE + 1 <= len) {
        read_gas(p + FADT_RESET_REG, &out->reset_reg);
        out->reset_value = p[FADT_RESET_VALUE];
        out->reset_supported = (out->fadt_flags & ACPI_FADT_RESET_REG_SUP) &&
                               out->reset_reg.address != 0;
    }
}

/* --- HPET ------------------------------------------------------------- */

static void parse_hpet(struct acpi_info *out, const struct table *t)
{
    struct acpi_gas base;

    if (t->len < 56) {
        pr_warn("ACPI: HPET at %#llx: length %u too short, skipped\n",
                (unsigned long long)t->pa, t->len);
        return;
    }
    read_gas(t->p + 40, &base);
    if (base.space_id != ACPI_GAS_MEMORY || base.address == 0) {
        pr_warn("ACPI: HPET at %#llx: base is not a memory address (space %u, %#llx), skipped\n",
                (unsigned long long)t->pa, base.space_id,
                (unsigned long long)base.address);
        return;
    }
    out->have_hpet = true;
    out->hpet_block_id = rd32(t->p + 36);
    out->hpet_addr = base.address;
    out->hpet_number = t->p[52];
    out->hpet_min_tick = rd16(t->p + 53);
}

/* --- \_S5 in AML ------------------------------------------------------ */

enum s5_result { S5_NOT_HERE, S5_FOUND, S5_BAD };

/*
 * One integer element of the package: only constant encodings, since a
 * real \_S5 package holds literal SLP_TYP values.  Returns the bytes used,
 * 0 for any other opcode, -1 when the encoding runs past room.
 */
static int aml_integer(const u8 *p, u32 room, u64 *v)
{
    u32 need;

    if (room < 1)
        return -1;
    switch (p[0]) {
    case AML_ZERO_OP:      *v = 0; return 1;
    case AML_ONE_OP:       *v = 1; return 1;
    case AML_ONES_OP:      *v = ~0ull; return 1;
    case AML_BYTE_PREFIX:  need = 2; break;
    case AML_WORD_PREFIX:  need = 3; break;
    case AML_DWORD_PREFIX: need = 5; break;
    case AML_QWORD_PREFIX: need = 9; break;
    default:               return 0;
    }
    if (room < need)
        return -1;
    switch (need) {
    case 2:  *v = p[1]; break;
    case 3:  *v = rd16(p + 1); break;
    case 5:  *v = rd32(p + 1); break;
    default: *v = rd64(p + 1); break;
    }
    return (int)need;
}

/* p points just after the name "_S5_"; room bytes of the table follow. */
static enum s5_result parse_s5_package(const u8 *p, u32 room, const char *where,
                                       u8 *typa, u8 *typb)
{
    u32 nfollow, pkglen, pos, end;
    u64 val[2];
    u8 nelem;

    if (room < 1 || p[0] != AML_PACKAGE_OP)
        return S5_NOT_HERE;    /* e.g. a Method or a reference, not Name(_S5, Package) */
    if (room < 2)
        goto truncated;
    /* PkgLength: top two bits of the lead byte count the bytes that follow. */
    nfollow = p[1] >> 6;
    if (room < 2 + nfollow)
        goto truncated;
    if (nfollow == 0) {
        pkglen = p[1] & 0x3f;
    } else {
        pkglen = p[1] & 0x0f;
        for (u32 i = 0; i < nfollow; i++)
            pkglen |= (u32)p[2 + i] << (4 + 8 * i);
    }
    /* PkgLength counts itself and the package body, not the PackageOp. */
    if (pkglen > room - 1)
        goto truncated;
    end = 1 + pkglen;
    pos = 2 + nfollow;
    if (pos >= end)
        goto truncated;
    nelem = p[pos++];
    if (nelem < 2) {
        pr_warn("ACPI: \\_S5 in %s has %u elements, need SLP_TYPa and SLP_TYPb\n",
                where, nelem);
        return S5_BAD;
    }
    for (unsigned i = 0; i < 2; i++) {
        int used = aml_integer(p + pos, end - pos, &val[i]);

        if (used < 0)
            goto truncated;
        if (used == 0) {
            pr_warn("ACPI: \\_S5 in %s: element %u is not a constant integer (opcode %#x)\n",
                    where, i, p[pos]);
            return S5_BAD;
        }
        pos += (u32)used;
        /* SLP_TYPx is a 3-bit field of PM1x_CNT. */
        if (val[i] > 7) {
            pr_warn("ACPI: \\_S5 in %s: SLP_TYP%c value %#llx does not fit 3 bits\n",
                    where, i ? 'b' : 'a', (unsigned long long)val[i]);
            return S5_BAD;
        }
    }
    *typa = (u8)val[0];
    *typb = (u8)val[1];
    return S5_FOUND;

truncated:
    pr_warn("ACPI: \\_S5 package in %s is truncated\n", where);
    return S5_BAD;
}

/*
 * Finds Name(\_S5, Package(){...}) by pattern, not by interpreting the
 * AML: Mica has no interpreter, and the object is always a literal package
 * at the root scope on the platforms we boot on.  Other mentions of the
 * name (references, conditionals) fail the pattern and the scan moves on.
 */
static bool find_s5(const struct table *t, u8 *typa, u8 *typb)
{
    const u8 *aml = t->p + SDT_HEADER_LEN;
    u32 len = t->len - SDT_HEADER_LEN;
    char where[32];

    snprintf(where, sizeof(where), "%s at %#llx", t->sig,
             (unsigned long long)t->pa);
    for (u32 i = 1; i + 4 <= len; i++) {
        u32 j = i;

        if (memcmp(aml + i, "_S5_", 4) != 0)
            continue;
        while (j > 0 && (aml[j - 1] == AML_ROOT_CHAR || aml[j - 1] == AML_PARENT_CHAR))
            j--;
        if (j == 0 || aml[j - 1] != AML_NAME_OP)
            continue;
        switch (parse_s5_package(aml + i + 4, len - (i + 4), where, typa, typb)) {
        case S5_FOUND:
            return true;
        case S5_BAD:
        case S5_NOT_HERE:
            break;
        }
    }
    return false;
}

static void find_s5_in_dsdt(struct parse_ctx *c, paddr_t pa)
{
    struct acpi_info *out = c->out;
    struct table t;

    if (!fetch_table(c, pa, "DSDT", AML_TABLE_MAX, &t))
        return;
    if (find_s5(&t, &out->slp_typa, &out->slp_typb)) {
        out->have_s5 = true;
        mark_used(&t);
    }
}

/* --- root tables ------------------------------------------------------ */

static void dispatch_table(struct parse_ctx *c, struct table *t)
{
    struct acpi_info *out = c->out;

    if (memcmp(t->sig, "APIC", 4) == 0) {
        if (out->have_madt) {
            pr_warn("ACPI: second MADT at %#llx ignored\n", (unsigned long long)t->pa);
            return;
        }
        parse_madt(out, t);
        if (out->have_madt)
            mark_used(t);
    } else if (memcmp(t->sig, "FACP", 4) == 0) {
        if (out->have_fadt) {
            pr_warn("ACPI: second FADT at %#llx ignored\n", (unsigned long long)t->pa);
            return;
        }
        parse_fadt(out, t);
        if (out->have_fadt)
            mark_used(t);
    } else if (memcmp(t->sig, "HPET", 4) == 0) {
        /* Further HPET blocks are legal; Mica uses one. */
        if (out->have_hpet)
            return;
        parse_hpet(out, t);
        if (out->have_hpet)
            mark_used(t);
    } else if (memcmp(t->sig, "SSDT", 4) == 0) {
        if (!c->ssdt_s5 && find_s5(t, &c->ssdt_typa, &c->ssdt_typb)) {
            c->ssdt_s5 = true;
            c->ssdt_s5_desc = t->desc;
        }
    }
}

static bool walk_root(struct parse_ctx *c, paddr_t pa, bool xsdt)
{
    const char *sig = xsdt ? "XSDT" : "RSDT";
    u32 entry_size = xsdt ? 8 : 4;
    struct table root;
    u32 n;

    if (!fetch_table(c, pa, sig, ROOT_TABLE_MAX, &root))
        return false;
    mark_used(&root);
    if ((root.len - SDT_HEADER_LEN) % entry_size)
        pr_warn("ACPI: %s at %#llx: length %u leaves a partial entry, ignored\n",
                sig, (unsigned long long)pa, root.len);
    n = (root.len - SDT_HEADER_LEN) / entry_size;
    c->out->via_xsdt = xsdt;
    c->out->root_pa = pa;

    for (u32 i = 0; i < n; i++) {
        const u8 *e = root.p + SDT_HEADER_LEN + i * entry_size;
        paddr_t tpa = xsdt ? rd64(e) : rd32(e);
        struct table t;

        if (tpa == 0) {
            pr_warn("ACPI: %s entry %u is a null pointer, skipped\n", sig, i);
            continue;
        }
        if (!fetch_table(c, tpa, NULL, AML_TABLE_MAX, &t))
            continue;
        /* Only AML tables may be large; a huge MADT is garbage. */
        if (t.len > FIXED_TABLE_MAX && memcmp(t.sig, "SSDT", 4) != 0) {
            pr_warn("ACPI: %s at %#llx: length %u is implausible, skipped\n",
                    t.sig, (unsigned long long)tpa, t.len);
            continue;
        }
        dispatch_table(c, &t);
    }
    return true;
}

/* --- RSDP ------------------------------------------------------------- */

struct rsdp_facts {
    u8 revision;
    char oem_id[7];
    u32 rsdt;
    u64 xsdt;       /* 0 unless the extended checksum vouches for it */
};

/* Checks an RSDP image of avail bytes; pa is only for messages. */
static bool check_rsdp(const u8 *p, size_t avail, paddr_t pa, bool pa_known,
                       struct rsdp_facts *f)
{
    u32 len;

    if (avail < RSDP_V1_LEN || memcmp(p, "RSD PTR ", 8) != 0) {
        pr_warn("ACPI: no RSDP signature in the given RSDP\n");
        return false;
    }
    if (byte_sum(p, RSDP_V1_LEN) != 0) {
        if (pa_known)
            pr_warn("ACPI: RSDP at %#llx: bad checksum, ignored\n",
                    (unsigned long long)pa);
        else
            pr_warn("ACPI: RSDP copy from the boot loader: bad checksum, ignored\n");
        return false;
    }
    f->revision = p[15];
    copy_printable(f->oem_id, p + 9, 6);
    f->rsdt = rd32(p + 16);
    f->xsdt = 0;
    if (f->revision < 2)
        return true;

    /* The RSDT half stands on its own if the extended part cannot be trusted. */
    if (avail < RSDP_V2_LEN) {
        pr_warn("ACPI: RSDP revision %u but only %u bytes given; using the RSDT\n",
                f->revision, (unsigned)avail);
        return true;
    }
    len = rd32(p + 20);
    if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN || len > avail) {
        pr_warn("ACPI: RSDP length %u is not usable; using the RSDT\n", len);
        return true;
    }
    if (byte_sum(p, len) != 0) {
        pr_warn("ACPI: RSDP extended checksum is bad; ignoring the XSDT pointer\n");
        return true;
    }
    f->xsdt = rd64(p + 24);
    return true;
}

static bool scan_area(struct parse_ctx *c, paddr_t base, u32 len,
                      struct rsdp_facts *f, paddr_t *found)
{
    const u8 *area = map_range(c, base, len);

    if (!area) {
        pr_warn("ACPI: cannot map %#llx-%#llx to look for the RSDP\n",
                (unsigned long long)base, (unsigned long long)(base + len - 1));
        return false;
    }
    /* The RSDP sits on a 16-byte boundary. */
    for (u32 off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        if (memcmp(area + off, "RSD PTR ", 8) != 0)
            continue;
        if (check_rsdp(area + off, len - off, base + off, true, f)) {
            *found = base + off;
            return true;
        }
    }
    return false;
}

static bool scan_bios(struct parse_ctx *c, struct rsdp_facts *f, paddr_t *found)
{
    const u8 *bda = map_range(c, BDA_EBDA_SEG, 2);

    if (bda) {
        paddr_t ebda = (paddr_t)rd16(bda) << 4;

        /* Outside conventional memory below the VGA hole it is not an EBDA. */
        if (ebda >= 0x400 && ebda + EBDA_SCAN_LEN <= 0xa0000 &&
            scan_area(c, ebda, EBDA_SCAN_LEN, f, found))
            return true;
    }
    return scan_area(c, BIOS_ROM_BASE, BIOS_ROM_LEN, f, found);
}

int acpi_parse(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
               struct acpi_info *out)
{
    struct parse_ctx c = { .map = map, .map_ctx = ctx, .out = out };
    struct rsdp_facts f;
    paddr_t rsdp_pa = 0;
    bool rooted = false;

    if (!map || !out)
        return ACPI_ERR_INVAL;
    memset(out, 0, sizeof(*out));

    if (rsdp) {
        if (!check_rsdp(rsdp, rsdp_len, 0, false, &f))
            return ACPI_ERR_BAD_RSDP;
    } else {
        if (!scan_bios(&c, &f, &rsdp_pa)) {
            pr_warn("ACPI: no RSDP found in the EBDA or BIOS ROM area\n");
            return ACPI_ERR_NO_RSDP;
        }
        out->rsdp_pa_known = true;
        out->rsdp_pa = rsdp_pa;
    }
    out->revision = f.revision;
    memcpy(out->oem_id, f.oem_id, sizeof(out->oem_id));

    if (f.xsdt) {
        rooted = walk_root(&c, f.xsdt, true);
        if (!rooted && f.rsdt)
            pr_warn("ACPI: XSDT unusable, falling back to the RSDT\n");
    }
    if (!rooted && f.rsdt)
        rooted = walk_root(&c, f.rsdt, false);
    if (!rooted) {
        pr_warn("ACPI: no usable RSDT or XSDT\n");
        return ACPI_ERR_NO_ROOT;
    }

    if (out->have_fadt && out->dsdt_pa)
        find_s5_in_dsdt(&c, out->dsdt_pa);
    /* \_S5 normally lives in the DSDT, but nothing forbids an SSDT. */
    if (!out->have_s5 && c.ssdt_s5) {
        out->have_s5 = true;
        out->slp_typa = c.ssdt_typa;
        out->slp_typb = c.ssdt_typb;
        if (c.ssdt_s5_desc)
            c.ssdt_s5_desc->used = true;
    }
    return ACPI_OK;
}

bool acpi_poweroff_values(const struct acpi_info *info, struct acpi_poweroff *po)
{
    if (!info->have_fadt || !info->have_s5 || info->hw_reduced ||
        info->pm1a_cnt.address == 0)
        return false;
    po->pm1a_cnt = info->pm1a_cnt;
    po->pm1b_cnt = info->pm1b_cnt;
    po->pm1a_value = (u16)((u32)info->slp_typa << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
    po->pm1b_value = (u16)((u32)info->slp_typb << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
    return true;
}

/* --- boot banner ------------------------------------------------------ */

static const char *gas_space(const struct acpi_gas *g)
{
    switch (g->space_id) {
    case ACPI_GAS_MEMORY:  return "mem";
    case ACPI_GAS_IO:      return "io";
    case ACPI_GAS_PCI_CFG: return "pcicfg";
    default:               return "other";
    }
}

static void print_gas(const char *name, const struct acpi_gas *g)
{
    if (g->address)
        printk("ACPI:   %-9s %s %#llx (%u bits)\n", name, gas_space(g),
               (unsigned long long)g->address, g->bit_width);
}

void acpi_print_summary(const struct acpi_info *info)
{
    unsigned enabled = 0, online_capable = 0;

    if (info->rsdp_pa_known)
        printk("ACPI: RSDP rev %u (%s) at %#llx, %s at %#llx\n", info->revision,
               info->oem_id, (unsigned long long)info->rsdp_pa,
               info->via_xsdt ? "XSDT" : "RSDT", (unsigned long long)info->root_pa);
    else
        printk("ACPI: RSDP rev %u (%s) from the boot loader, %s at %#llx\n",
               info->revision, info->oem_id, info->via_xsdt ? "XSDT" : "RSDT",
               (unsigned long long)info->root_pa);
    for (unsigned i = 0; i < info->ntables; i++) {
        const struct acpi_table_desc *d = &info->tables[i];

        printk("ACPI:   %s %#018llx len %7u rev %3u %-6s%s%s\n", d->sig,
               (unsigned long long)d->pa, d->length, d->revision, d->oem_id,
               d->checksum_ok ? "" : " BAD, ignored", d->used ? " used" : "");
    }
    if (info->ntables_dropped)
        printk("ACPI:   ... and %u more tables\n", info->ntables_dropped);

    if (info->have_madt) {
        for (unsigned i = 0; i < info->ncpus; i++) {
            enabled += info->cpus[i].enabled;
            online_capable += info->cpus[i].online_capable;
        }
        printk("ACPI: MADT: %u CPUs (%u enabled, %u online-capable, %u ignored), "
               "local APIC at %#llx%s\n", info->ncpus, enabled, online_capable,
               info->ncpus_dropped, (unsigned long long)info->lapic_addr,
               info->pcat_compat ? ", 8259 PICs present" : "");
        for (unsigned i = 0; i < info->nioapics; i++)
            printk("ACPI:   I/O APIC %u at %#x, GSI base %u\n", info->ioapics[i].id,
                   info->ioapics[i].address, info->ioapics[i].gsi_base);
        for (unsigned i = 0; i < info->noverrides; i++)
            printk("ACPI:   IRQ %u -> GSI %u flags %#x\n", info->overrides[i].source,
                   info->overrides[i].gsi, info->overrides[i].flags);
    } else {
        printk("ACPI: no MADT\n");
    }

    if (info->have_fadt) {
        printk("ACPI: FADT rev %u len %u: SCI %u, flags %#x%s, SMI_CMD %#x, DSDT at %#llx\n",
               info->fadt_revision, info->fadt_length, info->sci_int,
               info->fadt_flags, info->hw_reduced ? " (hardware-reduced)" : "",
               info->smi_cmd, (unsigned long long)info->dsdt_pa);
        print_gas("PM1a_CNT", &info->pm1a_cnt);
        print_gas("PM1b_CNT", &info->pm1b_cnt);
        print_gas("PM_TMR", &info->pm_timer);
        if (info->reset_supported)
            printk("ACPI:   RESET_REG %s %#llx value %#x\n", gas_space(&info->reset_reg),
                   (unsigned long long)info->reset_reg.address, info->reset_value);
    } else {
        printk("ACPI: no FADT\n");
    }
    if (info->have_hpet)
        printk("ACPI: HPET %u at %#llx, minimum tick %u\n", info->hpet_number,
               (unsigned long long)info->hpet_addr, info->hpet_min_tick);
    if (info->have_s5)
        printk("ACPI: \\_S5: SLP_TYPa %u SLP_TYPb %u\n", info->slp_typa, info->slp_typb);
    else
        printk("ACPI: no usable \\_S5, ACPI power-off unavailable\n");
}
