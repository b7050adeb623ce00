/*
 * PCI configuration mechanism #1 and dom0's view of its ports (see
 * asm/pci.h).  The address write and the data access that follows are one
 * step under pci_conf_lock, so no other CPU's access comes between them;
 * no interrupt handler of Mica's touches config space.
 *
 * A write (Mica's own or dom0's) is done while the other CPUs are held in
 * Mica's code (smp_call_others_held()), touching no device.  A config
 * write can move or switch off a BAR's decoding, changing the machine's
 * memory map under any other CPU's device access; on hardware that is
 * harmless (the other CPU does not touch that BAR), but QEMU 7.2's TCG
 * (Debian 12's, what the tests run) publishes the new map to every vCPU
 * before their TLBs are flushed, so an MMIO access on another CPU in that
 * window -- Mica's own LAPIC timer write -- picks a wrong or NULL memory
 * region and QEMU segfaults (in memory_region_dispatch_write, seen with
 * a Linux dom0's vCPUs on two CPUs while it sized BARs; QEMU 8.1 fixed it
 * by making each vCPU switch maps itself).  A held CPU waits in a loop of
 * its own, so it passes the end of a translated block, where TCG flushes
 * its TLB, before it touches a device again.  Config writes are rare
 * (device probing and set-up), so the cost, an IPI round to every CPU per
 * write, does not matter; reads change nothing and are not held.
 */
#include <asm/io.h>
#include <asm/ipi.h>
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

struct conf_write {
    u32 cf8, val;
    unsigned off, size;
};

/* Run by the holder while the other CPUs wait. */
static void do_write(void *info)
{
    const struct conf_write *w = info;

    outl(CONFIG_ADDRESS, w->cf8);
    if (w->size == 1)
        outb((u16)(CONFIG_DATA + w->off), (u8)w->val);
    else if (w->size == 2)
        outw((u16)(CONFIG_DATA + w->off), (u16)w->val);
    else
        outl(CONFIG_DATA, w->val);
}

static void raw_write(u32 cf8, unsigned off, unsigned size, u32 val)
{
    struct conf_write w = { .cf8 = cf8, .val = val, .off = off, .size = size };

    spin_lock(&pci_conf_lock);      /* also makes this the only hold under way */
    smp_call_others_held(do_write, &w);
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
