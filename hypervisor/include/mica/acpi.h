/*
 * ACPI static table discovery: the facts Mica needs at boot from the
 * RSDP, RSDT/XSDT, MADT, FADT, HPET table and the DSDT's \_S5 object.
 *
 * Physical memory is only ever read through a caller-supplied mapping
 * callback, so the same parser runs in the hypervisor (direct map) and in
 * host unit tests (crafted tables in a buffer).  Firmware tables are not
 * trusted: every length is bounded, every checksum verified, and a table
 * that fails is reported and skipped.
 *
 * Layouts follow the ACPI 6.x specification, sections 5.2 (tables) and
 * 20 (AML encoding).
 */
#ifndef MICA_ACPI_H
#define MICA_ACPI_H

#include <mica/types.h>

#ifdef CONFIG_MAX_CPUS
#define ACPI_MAX_CPUS       CONFIG_MAX_CPUS
#else
#define ACPI_MAX_CPUS       64
#endif
#define ACPI_MAX_IOAPICS    16
#define ACPI_MAX_OVERRIDES  32
#define ACPI_MAX_TABLES     48

/*
 * Returns a pointer through which len bytes at physical address pa can be
 * read, or NULL when that range cannot be mapped.  The pointer need only
 * stay valid until acpi_parse() returns.
 */
typedef const void *(*acpi_map_fn)(paddr_t pa, size_t len, void *ctx);

/* acpi_parse() results. */
#define ACPI_OK            0
#define ACPI_ERR_INVAL    -1   /* bad arguments */
#define ACPI_ERR_NO_RSDP  -2   /* no RSDP given and none found in the BIOS areas */
#define ACPI_ERR_BAD_RSDP -3   /* the given RSDP failed its checks */
#define ACPI_ERR_NO_ROOT  -4   /* neither XSDT nor RSDT is usable */

/* Generic Address Structure address spaces (ACPI 6.x table 5.1). */
#define ACPI_GAS_MEMORY    0
#define ACPI_GAS_IO        1
#define ACPI_GAS_PCI_CFG   2

/* GAS access sizes. */
#define ACPI_ACCESS_UNDEF  0
#define ACPI_ACCESS_BYTE   1
#define ACPI_ACCESS_WORD   2
#define ACPI_ACCESS_DWORD  3
#define ACPI_ACCESS_QWORD  4

struct acpi_gas {
    u8  space_id;
    u8  bit_width;
    u8  bit_offset;
    u8  access_size;
    u64 address;        /* 0: register not present */
};

struct acpi_cpu {
    u32  apic_id;       /* x2APIC IDs may exceed 255 */
    u32  acpi_uid;      /* processor UID, matches _UID of the processor device */
    bool enabled;       /* usable now */
    bool online_capable;/* disabled but may be brought online later (MADT rev >= 5) */
    bool x2apic;        /* came from a Local x2APIC entry */
};

struct acpi_ioapic {
    u8  id;
    u32 address;
    u32 gsi_base;
};

/* MPS INTI flags in acpi_irq_override.flags. */
#define ACPI_MPS_POLARITY_MASK  0x3
#define ACPI_MPS_POLARITY_HIGH  0x1
#define ACPI_MPS_POLARITY_LOW   0x3
#define ACPI_MPS_TRIGGER_MASK   0xc
#define ACPI_MPS_TRIGGER_EDGE   0x4
#define ACPI_MPS_TRIGGER_LEVEL  0xc

struct acpi_irq_override {
    u8  bus;            /* 0: ISA */
    u8  source;         /* ISA IRQ */
    u32 gsi;
    u16 flags;          /* ACPI_MPS_* */
};

/* One table the parser looked at, for the boot banner. */
struct acpi_table_desc {
    char    sig[5];
    char    oem_id[7];
    u8      revision;
    bool    checksum_ok;
    bool    used;       /* its contents went into acpi_info */
    paddr_t pa;
    u32     length;
};

/* FADT flag bits Mica looks at. */
#define ACPI_FADT_TMR_VAL_EXT    (1u << 8)
#define ACPI_FADT_RESET_REG_SUP  (1u << 10)
#define ACPI_FADT_HW_REDUCED     (1u << 20)

/* IA-PC boot architecture flags. */
#define ACPI_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_IAPC_8042           (1u << 1)
#define ACPI_IAPC_NO_VGA         (1u << 2)
#define ACPI_IAPC_NO_MSI         (1u << 3)
#define ACPI_IAPC_NO_CMOS_RTC    (1u << 5)

struct acpi_info {
    /* RSDP and root table */
    u8      revision;       /* RSDP revision: 0 for ACPI 1.0, 2 for 2.0+ */
    char    oem_id[7];
    bool    via_xsdt;
    bool    rsdp_pa_known;  /* false when the RSDP came as a multiboot copy */
    paddr_t rsdp_pa;
    paddr_t root_pa;        /* the XSDT or RSDT actually walked */

    /* MADT */
    bool    have_madt;
    u64     lapic_addr;     /* after any Local APIC Address Override */
    bool    pcat_compat;    /* dual 8259s present and must be masked */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned ncpus;
    unsigned ncpus_dropped; /* valid entries beyond cpus[] */
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned nioapics;
    unsigned nioapics_dropped;
    struct acpi_irq_override overrides[ACPI_MAX_OVERRIDES];
    unsigned noverrides;
    unsigned noverrides_dropped;

    /* HPET */
    bool    have_hpet;
    u64     hpet_addr;      /* system memory */
    u32     hpet_block_id;  /* event timer block ID */
    u8      hpet_number;
    u16     hpet_min_tick;

    /* FADT */
    bool    have_fadt;
    u8      fadt_revision;
    u32     fadt_length;
    u32     fadt_flags;     /* ACPI_FADT_*; 0 when the FADT is too short to hold it */
    u16     iapc_boot_arch; /* ACPI_IAPC_*; 0 before FADT revision 2 */
    u16     sci_int;
    u32     smi_cmd;
    u8      acpi_enable;
    u8      acpi_disable;
    u8      century;        /* RTC CMOS index of the century, 0: none */
    struct acpi_gas pm1a_evt, pm1b_evt;
    struct acpi_gas pm1a_cnt, pm1b_cnt;
    struct acpi_gas pm_timer;
    bool    pm_timer_32bit;
    bool    reset_supported;/* RESET_REG_SUP set and the register present */
    struct acpi_gas reset_reg;
    u8      reset_value;
    paddr_t facs_pa;
    paddr_t dsdt_pa;
    bool    hw_reduced;

    /* \_S5 from the DSDT (or an SSDT) */
    bool    have_s5;
    u8      slp_typa, slp_typb;

    /* every table looked at, in the order met */
    struct acpi_table_desc tables[ACPI_MAX_TABLES];
    unsigned ntables;
    unsigned ntables_dropped;
};

/*
 * Finds and parses the ACPI tables.  rsdp is a copy of the RSDP as
 * multiboot2 hands it (the ACPI old/new RSDP tags, rsdp_len bytes), or NULL
 * to scan the BIOS areas (first KiB of the EBDA, then 0xE0000-0xFFFFF)
 * through map.  *out is cleared first and filled with whatever could be
 * trusted; problems are reported with pr_warn().  Returns ACPI_OK once a
 * root table was walked (individual tables may still be missing: check
 * the have_* flags), else a negative ACPI_ERR_*.
 */
int acpi_parse(const void *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
               struct acpi_info *out);

/* printk() lines for the boot banner. */
void acpi_print_summary(const struct acpi_info *info);

/*
 * What arch code writes to the PM1 control registers to enter S5: for
 * each present register, read it, clear ACPI_PM1_SLP_MASK, OR in the value,
 * write it back (PM1a first, then PM1b).  Returns false when \_S5 or the
 * PM1a control register is unknown, or the platform is hardware-reduced
 * (which sleeps through SLEEP_CONTROL_REG instead, not handled here).
 */
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN        (1u << 13)
#define ACPI_PM1_SLP_MASK      (0x7u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN)

struct acpi_poweroff {
    struct acpi_gas pm1a_cnt, pm1b_cnt;   /* pm1b_cnt.address 0: absent */
    u16 pm1a_value, pm1b_value;
};
bool acpi_poweroff_values(const struct acpi_info *info, struct acpi_poweroff *po);

#endif
