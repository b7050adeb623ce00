/*
 * I/O APIC driver (see asm/ioapic.h).  Redirection entries are written
 * high word first and low word last, so a pin is never live with half an
 * entry; every pin starts masked, whatever the firmware left behind.
 */
#include <asm/io.h>
#include <asm/ioapic.h>
#include <asm/lapic.h>
#include <asm/paging.h>
#include <mica/acpi.h>
#include <mica/lib.h>

#define IOREGSEL 0x00
#define IOWIN    0x10
#define REG_VER  0x01
#define REG_RTE(n) (0x10 + 2 * (n))
#define RTE_MASKED    (1u << 16)
#define RTE_LEVEL     (1u << 15)
#define RTE_LOW       (1u << 13)
#define MAX_IOAPICS   8

struct ioapic {
    volatile u32 *regs;
    unsigned gsi_base, nr_pins;
};

static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nr_ioapics;
static const struct acpi_info *acpi_tables;

static u32 rd(struct ioapic *a, unsigned reg)
{
    a->regs[IOREGSEL / 4] = reg;
    return a->regs[IOWIN / 4];
}

static void wr(struct ioapic *a, unsigned reg, u32 v)
{
    a->regs[IOREGSEL / 4] = reg;
    a->regs[IOWIN / 4] = v;
}

static struct ioapic *for_gsi(unsigned gsi, unsigned *pin)
{
    for (unsigned i = 0; i < nr_ioapics; i++) {
        struct ioapic *a = &ioapics[i];
        if (gsi >= a->gsi_base && gsi < a->gsi_base + a->nr_pins) {
            *pin = gsi - a->gsi_base;
            return a;
        }
    }
    return NULL;
}

void ioapic_init(const struct acpi_info *acpi)
{
    acpi_tables = acpi;
    for (unsigned i = 0; acpi && i < acpi->nioapics && nr_ioapics < MAX_IOAPICS; i++) {
        struct ioapic *a = &ioapics[nr_ioapics];
        a->regs = ioremap(acpi->ioapics[i].address, PAGE_SIZE);
        if (!a->regs)
            continue;
        a->gsi_base = acpi->ioapics[i].gsi_base;
        a->nr_pins = ((rd(a, REG_VER) >> 16) & 0xff) + 1;
        for (unsigned p = 0; p < a->nr_pins; p++) {
            wr(a, REG_RTE(p) + 1, 0);
            wr(a, REG_RTE(p), RTE_MASKED);
        }
        nr_ioapics++;
    }
}

unsigned ioapic_nr_gsis(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < nr_ioapics; i++)
        n = MAX(n, ioapics[i].gsi_base + ioapics[i].nr_pins);
    return n;
}

bool ioapic_route(unsigned gsi, u8 vector, bool level, bool low_active)
{
    unsigned pin;
    struct ioapic *a = for_gsi(gsi, &pin);

    if (!a)
        return false;
    wr(a, REG_RTE(pin), RTE_MASKED);
    wr(a, REG_RTE(pin) + 1, lapic_id() << 24);
    wr(a, REG_RTE(pin), RTE_MASKED | (level ? RTE_LEVEL : 0) | (low_active ? RTE_LOW : 0) | vector);
    return true;
}

void ioapic_mask(unsigned gsi, bool masked)
{
    unsigned pin;
    struct ioapic *a = for_gsi(gsi, &pin);
    u32 lo;

    if (!a)
        return;
    lo = rd(a, REG_RTE(pin));
    wr(a, REG_RTE(pin), masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}

bool ioapic_isa_override(unsigned irq, unsigned *gsi, bool *level, bool *low_active)
{
    for (unsigned i = 0; acpi_tables && i < acpi_tables->noverrides; i++) {
        const struct acpi_irq_override *o = &acpi_tables->overrides[i];
        if (o->source != irq)
            continue;
        *gsi = o->gsi;
        *level = (o->flags & ACPI_MPS_TRIGGER_MASK) == ACPI_MPS_TRIGGER_LEVEL;
        *low_active = (o->flags & ACPI_MPS_POLARITY_MASK) == ACPI_MPS_POLARITY_LOW;
        return true;
    }
    return false;
}

bool ioapic_read_reg(u64 base, u32 reg, u32 *value)
{
    for (unsigned i = 0; i < nr_ioapics; i++) {
        if (acpi_tables->ioapics[i].address != base)
            continue;
        if (reg > REG_RTE(ioapics[i].nr_pins - 1) + 1)
            return false;
        *value = rd(&ioapics[i], reg);
        return true;
    }
    return false;
}

static u64 claimed[4];          /* GSIs Mica uses itself */

void ioapic_claim_gsi(unsigned gsi)
{
    if (gsi < 256)
        claimed[gsi / 64] |= 1ULL << (gsi % 64);
}

bool ioapic_gsi_claimed(unsigned gsi)
{
    return gsi < 256 && (claimed[gsi / 64] >> (gsi % 64)) & 1;
}
