/*
 * PCI configuration mechanism #1 (see asm/pci.h).  Mica is not
 * preemptible and no interrupt handler of Mica's touches config space,
 * so an address write followed by a data access is never split.
 */
#include <asm/io.h>
#include <asm/msi.h>
#include <asm/pci.h>

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA    0xcfc
#define CF8_ENABLE     (1u << 31)
#define PCI_VENDOR_ID     0x00
#define PCI_STATUS        0x06
#define PCI_STATUS_CAP    (1u << 4)
#define PCI_HEADER_TYPE   0x0e
#define PCI_CAP_PTR       0x34
#define PCI_BAR0          0x10
#define BAR_IO            (1u << 0)
#define BAR_TYPE_64       (2u << 1)
#define BAR_TYPE_MASK     (3u << 1)

static u32 raw_read(u32 cf8, unsigned off, unsigned size)
{
    outl(CONFIG_ADDRESS, cf8);
    if (size == 1)
        return inb((u16)(CONFIG_DATA + off));
    if (size == 2)
        return inw((u16)(CONFIG_DATA + off));
    return inl(CONFIG_DATA);
}

static void raw_write(u32 cf8, unsigned off, unsigned size, u32 val)
{
    outl(CONFIG_ADDRESS, cf8);
    if (size == 1)
        outb((u16)(CONFIG_DATA + off), (u8)val);
    else if (size == 2)
        outw((u16)(CONFIG_DATA + off), (u16)val);
    else
        outl(CONFIG_DATA, val);
}

static u32 cf8_of(u16 bdf, unsigned reg)
{
    return CF8_ENABLE | ((u32)bdf << 8) | (reg & 0xfc);
}

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
    return raw_read(cf8_of(bdf, reg), reg & 3, size);
}

void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
    raw_write(cf8_of(bdf, reg), reg & 3, size, val);
}

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

bool pci_port(u16 port, unsigned size)
{
    /* 0xcf8 is the address register only as a dword, as on the chipset. */
    return (port == CONFIG_ADDRESS && size == 4) ||
           (port >= CONFIG_DATA && port + size <= CONFIG_DATA + 4);
}

u32 pci_dom0_port_in(struct domain *d, u16 port, unsigned size)
{
    if (port == CONFIG_ADDRESS)
        return d->arch.pci_cf8;
    return raw_read(d->arch.pci_cf8, port & 3, size);
}

void pci_dom0_port_out(struct domain *d, u16 port, unsigned size, u32 val)
{
    u32 cf8 = d->arch.pci_cf8;

    if (port == CONFIG_ADDRESS) {
        d->arch.pci_cf8 = val;
        return;
    }
    if ((cf8 & CF8_ENABLE) &&
        !msi_dom0_conf_write((u16)(cf8 >> 8), (cf8 & 0xfc) | (port & 3), size, &val))
        return;                 /* dropped, as Xen drops it */
    raw_write(cf8, port & 3, size, val);
}
