/*
 * MSI and MSI-X for the control domain's devices.  As on Xen 4.17, Mica
 * owns the message: it finds the capability, writes each vector's
 * address and data (fixed delivery, edge, to Mica's CPU) and its mask,
 * while dom0 keeps the enable bits ("split brain": dom0 enables MSI and
 * disables INTx itself).  dom0's config writes to a capability in use
 * are filtered, and the MSI-X table's frames become read-only to new
 * dom0 mappings while an entry is in use.
 */
#ifndef ASM_MSI_H
#define ASM_MSI_H

#include <mica/types.h>

/*
 * Programs vector on device bdf, masked: MSI when msix is false (one
 * vector), else MSI-X table entry entry_nr.  table_base is dom0's idea
 * of the table's BAR; Mica reads the BAR itself.  Returns a handle >= 0
 * or -XEN_E*.
 */
int msi_setup(u16 bdf, bool msix, unsigned entry_nr, u64 table_base, u8 vector);

/* Masks or unmasks the vector behind handle (where the device can mask). */
void msi_mask(int handle, bool masked);

/* Masks the vector and forgets it; the last one frees the device. */
void msi_teardown(int handle);

/* Writes every in-use vector of bdf again (after a device reset); -XEN_E*. */
long msi_restore(u16 bdf);

/*
 * dom0 writes size bytes at reg of bdf's config space: false drops the
 * write; *val may be adjusted (bits Mica keeps for itself).
 */
bool msi_dom0_conf_write(u16 bdf, unsigned reg, unsigned size, u32 *val);

#endif
