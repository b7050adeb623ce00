/*
 * Walking a function's configuration space: presence, capability list,
 * memory BARs (see asm/pci.h).  Built on pci_conf_read alone, so the host
 * unit tests run it over a fake configuration space.
 */
#include <asm/pci.h>

#define PCI_VENDOR_ID     0x00
#define PCI_STATUS        0x06
#define PCI_STATUS_CAP    (1u << 4)
#define PCI_HEADER_TYPE   0x0e
#define PCI_CAP_PTR       0x34
#define PCI_BAR0          0x10
#define BAR_IO            (1u << 0)
#define BAR_TYPE_64       (2u << 1)
#define BAR_TYPE_MASK     (3u << 1)

bool pci_device_present(u16 bdf)
{
    return pci_conf_read(bdf, PCI_VENDOR_ID, 2) != 0xffff;
}

unsigned pci_find_cap(u16 bdf, u8 id)
{
    unsigned pos;

    if (!pci_device_present(bdf) || !(pci_conf_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP))
        return 0;
    pos = pci_conf_read(bdf, PCI_CAP_PTR, 1) & 0xfc;
    /* At most 48 capabilities fit in 192 bytes: a longer chain is a loop. */
    for (unsigned n = 0; n < 48 && pos >= 0x40; n++) {
        u16 hdr = (u16)pci_conf_read(bdf, pos, 2);
        if ((hdr & 0xff) == id)
            return pos;
        pos = (hdr >> 8) & 0xfc;
    }
    return 0;
}

bool pci_mem_bar(u16 bdf, unsigned bir, u64 *addr)
{
    u32 lo;
    u64 a;

    /* Type 0 headers have six BARs; bridges (type 1) only two. */
    if (bir > 5 || ((pci_conf_read(bdf, PCI_HEADER_TYPE, 1) & 0x7f) != 0 && bir > 1))
        return false;
    lo = pci_conf_read(bdf, PCI_BAR0 + 4 * bir, 4);
    if (lo & BAR_IO)
        return false;
    a = lo & ~0xfu;
    if ((lo & BAR_TYPE_MASK) == BAR_TYPE_64) {
        if (bir == 5)
            return false;
        a |= (u64)pci_conf_read(bdf, PCI_BAR0 + 4 * (bir + 1), 4) << 32;
    }
    *addr = a;
    return a != 0;
}
