/*
 * PCI configuration space through configuration mechanism #1 (ports
 * 0xcf8/0xcfc), for Mica itself and on behalf of the control domain.
 *
 * Mica and dom0 share the two ports: dom0's writes to 0xcf8 only land in
 * a per-domain latch, and each of its 0xcfc-0xcff accesses is carried out
 * by Mica as one address-then-data pair, so Mica's own accesses (MSI
 * setup) never interleave with half of one of dom0's.  That is also the
 * point where dom0's writes to the MSI and MSI-X capabilities of devices
 * whose interrupts Mica programs are filtered (see asm/msi.h).
 */
#ifndef ASM_PCI_H
#define ASM_PCI_H

#include <mica/domain.h>
#include <mica/types.h>

#define PCI_BDF(bus, devfn)   ((u16)(((bus) << 8) | (devfn)))
#define PCI_BDF_BUS(bdf)      ((bdf) >> 8)
#define PCI_BDF_SLOT(bdf)     (((bdf) >> 3) & 0x1f)
#define PCI_BDF_FUNC(bdf)     ((bdf) & 7)

#define PCI_CAP_ID_MSI   0x05
#define PCI_CAP_ID_MSIX  0x11

/* reg is a byte offset below 256, naturally aligned for size 1, 2 or 4. */
u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size);
void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val);

/* True when a function answers at bdf (its vendor ID is not all ones). */
bool pci_device_present(u16 bdf);

/* Config-space offset of capability id, or 0 when the function has none. */
unsigned pci_find_cap(u16 bdf, u8 id);

/*
 * The address memory BAR bir decodes (64-bit BARs read in full); false
 * for an I/O BAR, a BAR index beyond 5, or an unassigned (zero) BAR.
 */
bool pci_mem_bar(u16 bdf, unsigned bir, u64 *addr);

/* True when port I/O of size bytes at port is the config mechanism's. */
bool pci_port(u16 port, unsigned size);
/* dom0's accesses to those ports (see above). */
u32 pci_dom0_port_in(struct domain *d, u16 port, unsigned size);
void pci_dom0_port_out(struct domain *d, u16 port, unsigned size, u32 val);

#endif
