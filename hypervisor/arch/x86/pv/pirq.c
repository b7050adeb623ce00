/*
 * GSI and MSI interrupts for dom0 (see asm/pirq.h).
 *
 * A GSI's pirq is the GSI's own number; MSI and MSI-X vectors get pirqs
 * from the top of the table down, above the last GSI.  Each pirq has an
 * interrupt vector of its own (PIRQ_VECTOR_BASE + pirq); when it fires
 * Mica acknowledges the local APIC and raises the bound event channel.
 * A level-triggered line would fire again at once, so it is masked at the
 * I/O APIC until dom0's EOI; MSIs are edges and need no EOI.  A source is
 * masked (I/O APIC pin, MSI mask bit or MSI-X entry) while no event
 * channel is bound to it.
 */
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/ioapic.h>
#include <asm/lapic.h>
#include <asm/msi.h>
#include <asm/pci.h>
#include <asm/pirq.h>
#include <asm/pv.h>
#include <asm/paging.h>
#include <asm/traps.h>
#include <mica/event.h>
#include <mica/lib.h>
#include <mica/spinlock.h>
#include <public/errno.h>
#include <public/physdev.h>

/* Vectors 0x30-0x7f: below the int $0x80 gate and Mica's own vectors. */
#define NR_PIRQS 0x50
#define PIRQ_VECTOR_BASE 0x30
#define ISA_IRQS 16

struct pirq {
    bool mapped, routed, have_mode;
    bool msi;                   /* MSI or MSI-X: msi_handle is asm/msi.h's */
    int msi_handle;
    bool level, low_active;
    bool awaiting_eoi;
    domid_t owner;
    u32 port;                   /* 0: not bound */
    unsigned gsi;
};

/*
 * Guards pirqs[].  Taken inside d->event_lock (bind, unbind), so the
 * interrupt path copies what it needs and lets go before it raises the
 * event.  Interrupts reach Mica only in its idle loop, where a CPU holds
 * no lock, so plain spin_lock() is enough.
 */
static DEFINE_SPINLOCK(pirq_lock, LOCK_ORDER_PIRQ);
static struct pirq pirqs[NR_PIRQS];

static void pirq_interrupt(struct cpu_regs *regs)
{
    unsigned vector = (unsigned)regs->vector;
    struct pirq *p = &pirqs[vector - PIRQ_VECTOR_BASE];
    struct domain *d;
    domid_t owner;
    u32 port;

    spin_lock(&pirq_lock);
    if (p->level) {
        ioapic_mask(p->gsi, true);
        p->awaiting_eoi = true;
    }
    owner = p->owner;
    port = p->mapped ? p->port : 0;
    spin_unlock(&pirq_lock);
    lapic_eoi();
    if (port && (d = domain_by_id(owner)))
        evtchn_raise(d, port);
}

/* Masks or unmasks the source behind p, whichever kind it is. */
static void source_mask(struct pirq *p, bool masked)
{
    if (p->msi)
        msi_mask(p->msi_handle, masked);
    else
        ioapic_mask(p->gsi, masked);
}

/* ISA lines are edge/high unless ACPI overrides them; PCI lines level/low. */
static void default_mode(unsigned gsi, bool *level, bool *low)
{
    unsigned ogsi;

    *level = gsi >= ISA_IRQS;
    *low = gsi >= ISA_IRQS;
    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        bool l, lo;
        if (ioapic_isa_override(irq, &ogsi, &l, &lo) && ogsi == gsi) {
            *level = l;
            *low = lo;
        }
    }
}

static long route(struct pirq *p)
{
    if (!p->have_mode)
        default_mode(p->gsi, &p->level, &p->low_active);
    if (!ioapic_route(p->gsi, (u8)(PIRQ_VECTOR_BASE + p->gsi), p->level, p->low_active))
        return -XEN_EINVAL;
    set_irq_handler(PIRQ_VECTOR_BASE + p->gsi, pirq_interrupt);
    p->routed = true;
    if (p->port)
        ioapic_mask(p->gsi, false);
    return 0;
}

static bool gsi_ok(s64 gsi)
{
    return gsi >= 0 && gsi < NR_PIRQS && (unsigned)gsi < ioapic_nr_gsis() &&
           !ioapic_gsi_claimed((unsigned)gsi);
}

bool pirq_physdev_handles(int cmd)
{
    return cmd == PHYSDEVOP_setup_gsi || cmd == PHYSDEVOP_map_pirq ||
           cmd == PHYSDEVOP_unmap_pirq || cmd == PHYSDEVOP_irq_status_query ||
           cmd == PHYSDEVOP_eoi || cmd == PHYSDEVOP_apic_read ||
           cmd == PHYSDEVOP_alloc_irq_vector || cmd == PHYSDEVOP_restore_msi ||
           cmd == PHYSDEVOP_restore_msi_ext || cmd == PHYSDEVOP_pci_device_add ||
           cmd == PHYSDEVOP_pci_device_remove || cmd == PHYSDEVOP_manage_pci_add ||
           cmd == PHYSDEVOP_manage_pci_add_ext || cmd == PHYSDEVOP_manage_pci_remove;
}

/* A pirq for MSI: the highest free one above the GSIs (as Xen counts down). */
static int alloc_msi_pirq(void)
{
    for (int i = NR_PIRQS - 1; i >= (int)MAX(ioapic_nr_gsis(), ISA_IRQS); i--)
        if (!pirqs[i].mapped && !pirqs[i].port)
            return i;
    return -XEN_ENOSPC;
}

/*
 * MSI, MSI_SEG and MULTI_MSI (one vector only: more need interrupt
 * remapping, which Xen 4.17 refuses without it too).  The argument checks
 * and their errnos follow Xen 4.17's physdev map_pirq.
 */
static long map_msi(struct domain *d, struct physdev_map_pirq *m)
{
    bool multi = m->type == MAP_PIRQ_TYPE_MULTI_MSI;
    unsigned seg = (multi || m->type == MAP_PIRQ_TYPE_MSI_SEG) ? (u32)m->bus >> 16 : 0;
    /* Xen keeps bus and devfn in 8-bit fields: higher bits are dropped. */
    u16 bdf = PCI_BDF((u8)m->bus, (u8)m->devfn);
    bool msix = !multi && m->table_base != 0;
    int pirq = m->pirq;
    int h;
    struct pirq *p;

    if (multi && m->table_base)
        return -XEN_EINVAL;
    if (!multi && m->index != -1)
        return -XEN_EINVAL;     /* an existing Xen irq number: Mica has none to offer */
    if (multi) {
        if (m->entry_nr <= 0 || m->entry_nr > 32)
            return -XEN_EDOM;
        if (m->entry_nr != 1)
            return -XEN_EOPNOTSUPP;
    }
    if (pirq < 0)
        pirq = alloc_msi_pirq();
    if (pirq < 0)
        return pirq;
    if (pirq >= NR_PIRQS || pirq < (int)MAX(ioapic_nr_gsis(), ISA_IRQS))
        return -XEN_EINVAL;
    p = &pirqs[pirq];
    if (p->mapped || p->port)
        return -XEN_EEXIST;
    if (seg != 0)
        return -XEN_ENODEV;     /* Mica reaches segment 0 only (ports 0xcf8/0xcfc) */
    h = msi_setup(bdf, msix, msix ? (unsigned)m->entry_nr : 0, m->table_base,
                  (u8)(PIRQ_VECTOR_BASE + pirq));
    if (h < 0)
        return h;
    *p = (struct pirq){ .mapped = true, .msi = true, .msi_handle = h, .owner = d->domid };
    set_irq_handler(PIRQ_VECTOR_BASE + (unsigned)pirq, pirq_interrupt);
    m->pirq = pirq;
    return 0;
}

/* The device-registry ops: Mica keeps no list, it reads config space when mapping. */
static long pci_present_op(u16 seg, u8 bus, u8 devfn)
{
    return seg == 0 && pci_device_present(PCI_BDF(bus, devfn)) ? 0 : -XEN_ENODEV;
}

static long physdev_op_locked(struct domain *d, int cmd, u64 arg)
{
    if (!is_control_domain(d))
        return -XEN_EPERM;
    switch (cmd) {
    case PHYSDEVOP_setup_gsi: {
        struct physdev_setup_gsi g;
        if (copy_from_guest(&g, arg, sizeof(g)))
            return -XEN_EFAULT;
        if (!gsi_ok(g.gsi) || g.triggering > 1 || g.polarity > 1)
            return -XEN_EINVAL;
        pirqs[g.gsi].gsi = (unsigned)g.gsi;
        pirqs[g.gsi].level = g.triggering;
        pirqs[g.gsi].low_active = g.polarity;
        pirqs[g.gsi].have_mode = true;
        return pirqs[g.gsi].mapped ? route(&pirqs[g.gsi]) : 0;
    }
    case PHYSDEVOP_map_pirq: {
        struct physdev_map_pirq m;
        struct pirq *p;
        if (copy_from_guest(&m, arg, sizeof(m)))
            return -XEN_EFAULT;
        if (m.domid != DOMID_SELF && m.domid != d->domid)
            return -XEN_EPERM;      /* mapping into other domains comes with passthrough */
        if (m.type == MAP_PIRQ_TYPE_MSI || m.type == MAP_PIRQ_TYPE_MSI_SEG ||
            m.type == MAP_PIRQ_TYPE_MULTI_MSI) {
            long rc = map_msi(d, &m);
            if (rc)
                return rc;
            return copy_to_guest(arg, &m, sizeof(m)) ? -XEN_EFAULT : 0;
        }
        if (m.type != MAP_PIRQ_TYPE_GSI)
            return -XEN_EINVAL;
        if (!gsi_ok(m.index) || (m.pirq >= 0 && m.pirq != m.index))
            return -XEN_EINVAL;
        p = &pirqs[m.index];
        if (p->mapped && p->owner != d->domid)
            return -XEN_EBUSY;
        if (p->msi)
            return -XEN_EBUSY;
        p->gsi = (unsigned)m.index;
        p->owner = d->domid;
        p->mapped = true;
        if (!p->routed && route(p))
            return -XEN_EINVAL;
        m.pirq = m.index;
        return copy_to_guest(arg, &m, sizeof(m)) ? -XEN_EFAULT : 0;
    }
    case PHYSDEVOP_unmap_pirq: {
        struct physdev_unmap_pirq u;
        if (copy_from_guest(&u, arg, sizeof(u)))
            return -XEN_EFAULT;
        if (u.pirq < 0 || u.pirq >= NR_PIRQS || !pirqs[u.pirq].mapped ||
            pirqs[u.pirq].owner != d->domid)
            return -XEN_EINVAL;
        if (pirqs[u.pirq].msi) {
            msi_teardown(pirqs[u.pirq].msi_handle);
            pirqs[u.pirq].msi = false;
        } else {
            ioapic_mask(pirqs[u.pirq].gsi, true);
        }
        pirqs[u.pirq].mapped = false;
        return 0;
    }
    case PHYSDEVOP_irq_status_query: {
        struct physdev_irq_status_query q;
        if (copy_from_guest(&q, arg, sizeof(q)))
            return -XEN_EFAULT;
        if (q.irq >= NR_PIRQS)
            return -XEN_EINVAL;
        q.flags = pirqs[q.irq].mapped && pirqs[q.irq].level ? XENIRQSTAT_needs_eoi : 0;
        return copy_to_guest(arg, &q, sizeof(q)) ? -XEN_EFAULT : 0;
    }
    case PHYSDEVOP_eoi: {
        struct physdev_eoi e;
        struct pirq *p;
        if (copy_from_guest(&e, arg, sizeof(e)))
            return -XEN_EFAULT;
        if (e.irq >= NR_PIRQS)
            return -XEN_EINVAL;
        p = &pirqs[e.irq];
        if (p->mapped && p->owner == d->domid && p->awaiting_eoi) {
            p->awaiting_eoi = false;
            if (p->port)
                ioapic_mask(p->gsi, false);
        }
        return 0;
    }
    case PHYSDEVOP_apic_read: {
        /* dom0 may look at the I/O APICs; Mica alone programs them. */
        struct physdev_apic a;
        if (copy_from_guest(&a, arg, sizeof(a)))
            return -XEN_EFAULT;
        if (!ioapic_read_reg(a.apic_physbase, a.reg, &a.value))
            return -XEN_EINVAL;
        return copy_to_guest(arg, &a, sizeof(a)) ? -XEN_EFAULT : 0;
    }
    case PHYSDEVOP_alloc_irq_vector: {
        /* Each GSI has its vector already; report it. */
        struct physdev_irq i;
        if (copy_from_guest(&i, arg, sizeof(i)))
            return -XEN_EFAULT;
        if (!gsi_ok(i.irq))
            return -XEN_EINVAL;
        i.vector = PIRQ_VECTOR_BASE + i.irq;
        return copy_to_guest(arg, &i, sizeof(i)) ? -XEN_EFAULT : 0;
    }
    case PHYSDEVOP_restore_msi: {
        struct physdev_restore_msi r;
        if (copy_from_guest(&r, arg, sizeof(r)))
            return -XEN_EFAULT;
        return msi_restore(PCI_BDF(r.bus, r.devfn));
    }
    case PHYSDEVOP_restore_msi_ext:
    case PHYSDEVOP_pci_device_remove: {
        struct physdev_pci_device pd;
        if (copy_from_guest(&pd, arg, sizeof(pd)))
            return -XEN_EFAULT;
        if (pd.seg != 0)
            return -XEN_ENODEV;
        return cmd == PHYSDEVOP_restore_msi_ext ? msi_restore(PCI_BDF(pd.bus, pd.devfn))
                                                : pci_present_op(pd.seg, pd.bus, pd.devfn);
    }
    case PHYSDEVOP_pci_device_add: {
        struct physdev_pci_device_add a;
        if (copy_from_guest(&a, arg, sizeof(a)))
            return -XEN_EFAULT;
        return pci_present_op(a.seg, a.bus, a.devfn);
    }
    case PHYSDEVOP_manage_pci_add:
    case PHYSDEVOP_manage_pci_remove: {
        struct physdev_manage_pci mp;
        if (copy_from_guest(&mp, arg, sizeof(mp)))
            return -XEN_EFAULT;
        return pci_present_op(0, mp.bus, mp.devfn);
    }
    case PHYSDEVOP_manage_pci_add_ext: {
        struct physdev_manage_pci_ext me;
        if (copy_from_guest(&me, arg, sizeof(me)))
            return -XEN_EFAULT;
        return pci_present_op(0, me.bus, me.devfn);
    }
    default:
        return -XEN_ENOSYS;
    }
}

long pirq_physdev_op(struct domain *d, int cmd, u64 arg)
{
    long rc;

    if (!is_control_domain(d))
        return -XEN_EPERM;
    spin_lock(&pirq_lock);
    rc = physdev_op_locked(d, cmd, arg);
    spin_unlock(&pirq_lock);
    return rc;
}

/*
 * The "needs EOI" bitmap of PHYSDEVOP_pirq_eoi_gmfn_v2: Linux registers a
 * page at boot (xen_init_IRQ) and then reads pirq n's bit instead of
 * asking irq_status_query, to decide whether to EOI it by hypercall.  As
 * Xen 4.17 the bit is set when the pirq is bound to an event channel if
 * the pirq needs one (here: a level-triggered GSI, as irq_status_query
 * says) and cleared otherwise.  Under pirq_lock.
 */
static void eoi_map_update(struct domain *d, u32 pirq, bool needs_eoi)
{
    u64 mfn = READ_ONCE(d->arch.pirq_eoi_mfn);
    u64 *map;

    if (!mfn)
        return;
    map = maddr_to_virt(mfn << PAGE_SHIFT);
    if (needs_eoi)
        __atomic_fetch_or(&map[pirq / 64], 1ULL << (pirq % 64), __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&map[pirq / 64], ~(1ULL << (pirq % 64)), __ATOMIC_SEQ_CST);
}

/*
 * PHYSDEVOP_pirq_eoi_gmfn_v2, for any PV domain (domUs ask too), with
 * Xen 4.17's errors: the frame must be the domain's and take a writable
 * type reference (-EINVAL), and only one may be registered (-EBUSY).
 * Xen's v1 also makes PHYSDEVOP_eoi unmask the pirq's event channel;
 * Mica does not offer v1 (-ENOSYS: Linux asks for v2 first).
 */
long pirq_eoi_map_register(struct domain *d, u64 arg)
{
    struct physdev_pirq_eoi_gmfn g;
    u64 none = 0;

    if (copy_from_guest(&g, arg, sizeof(g)))
        return -XEN_EFAULT;
    if (g.gmfn == 0 || domain_writable_frame(d, g.gmfn))
        return -XEN_EINVAL;
    if (!__atomic_compare_exchange_n(&d->arch.pirq_eoi_mfn, &none, (u64)g.gmfn, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        domain_put_writable_frame(d, g.gmfn);
        return -XEN_EBUSY;
    }
    return 0;
}

void pirq_eoi_map_release(struct domain *d)
{
    u64 mfn = __atomic_exchange_n(&d->arch.pirq_eoi_mfn, 0, __ATOMIC_SEQ_CST);

    if (mfn)
        domain_put_writable_frame(d, mfn);
}

long pirq_bind(struct domain *d, u32 pirq, u32 port)
{
    struct pirq *p;
    long rc = 0;

    if (pirq >= NR_PIRQS)
        return -XEN_EINVAL;
    p = &pirqs[pirq];
    spin_lock(&pirq_lock);
    if (!p->mapped || p->owner != d->domid) {
        rc = -XEN_EINVAL;
    } else if (p->port) {
        rc = -XEN_EBUSY;
    } else {
        p->port = port;
        p->awaiting_eoi = false;
        eoi_map_update(d, pirq, p->level && !p->msi);
        if (p->routed || p->msi)
            source_mask(p, false);
    }
    spin_unlock(&pirq_lock);
    return rc;
}

void pirq_unbind(struct domain *d, u32 pirq)
{
    struct pirq *p;

    if (pirq >= NR_PIRQS)
        return;
    p = &pirqs[pirq];
    spin_lock(&pirq_lock);
    if (p->owner == d->domid) {
        if (p->mapped)
            source_mask(p, true);
        p->port = 0;
    }
    spin_unlock(&pirq_lock);
}
