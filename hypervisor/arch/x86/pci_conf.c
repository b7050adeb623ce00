/*
 * PCI configuration mechanism #1 and dom0's view of its ports (see
 * asm/pci.h).  The address write and the data access that follows are one
 * step under pci_conf_lock, so no other CPU's access comes between them;
 * no interrupt handler of Mica's touches config space.
 */
#include <asm/io.h>
#include <asm/msi.h>
#include <asm/pci.h>
#include <mica/spinlock.h>

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA    0xcfc
#define CF8_ENABLE     (1u << 31)

/* Guards the machine's 0xCF8 latch. */
static DEFINE_SPINLOCK(pci_conf_lock, LOCK_ORDER_PCI_CONF);

static u32 raw_read(u32 cf8, unsigned off, unsigned size)
{
    u32 v;

    spin_lock(&pci_conf_lock);
    outl(CONFIG_ADDRESS, cf8);
    if (size == 1)
        v = inb((u16)(CONFIG_DATA + off));
    else if (size == 2)
        v = inw((u16)(CONFIG_DATA + off));
    else
        v = inl(CONFIG_DATA);
    spin_unlock(&pci_conf_lock);
    return v;
}

static void raw_write(u32 cf8, unsigned off, unsigned size, u32 val)
{
    spin_lock(&pci_conf_lock);
    outl(CONFIG_ADDRESS, cf8);
    if (size == 1)
        outb((u16)(CONFIG_DATA + off), (u8)val);
    else if (size == 2)
        outw((u16)(CONFIG_DATA + off), (u16)val);
    else
        outl(CONFIG_DATA, val);
    spin_unlock(&pci_conf_lock);
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
