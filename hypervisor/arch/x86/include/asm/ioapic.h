/*
 * I/O APICs: where device interrupt lines (GSIs) are routed.  Mica owns
 * them; dom0 asks, through physdev_op, for a GSI to be delivered to it as
 * an event channel (a "pirq").
 */
#ifndef ASM_IOAPIC_H
#define ASM_IOAPIC_H

#include <mica/types.h>

struct acpi_info;

/* Maps every I/O APIC ACPI lists and masks all their pins. */
void ioapic_init(const struct acpi_info *acpi);

/* Number of GSIs the I/O APICs provide. */
unsigned ioapic_nr_gsis(void);

/*
 * Routes gsi to vector on the boot CPU, masked; level and low_active as
 * the bus says (ISA: edge, active high, unless ACPI overrides; PCI:
 * level, active low).  Returns false when no I/O APIC has that pin.
 */
bool ioapic_route(unsigned gsi, u8 vector, bool level, bool low_active);
void ioapic_mask(unsigned gsi, bool masked);

/* GSIs Mica drives itself (the serial line): never handed to dom0. */
void ioapic_claim_gsi(unsigned gsi);
bool ioapic_gsi_claimed(unsigned gsi);

/* Reads register reg of the I/O APIC at physical address base. */
bool ioapic_read_reg(u64 base, u32 reg, u32 *value);

/* ACPI's interrupt source override for an ISA IRQ, if any: the GSI and flags. */
bool ioapic_isa_override(unsigned irq, unsigned *gsi, bool *level, bool *low_active);

#endif
