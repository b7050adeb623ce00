/*
 * MSI and MSI-X programming (see asm/msi.h).
 *
 * Every message goes to Mica's CPU in physical destination mode with
 * fixed delivery and edge trigger; the vector alone tells the pirqs
 * apart.  A device slot lives while one of its vectors is mapped; MSI-X
 * table windows are ioremapped once per (device, table address) and kept,
 * since Mica's ioremap area never gives addresses back.
 */
#include <asm/iomem.h>
#include <asm/lapic.h>
#include <asm/msi.h>
#include <asm/paging.h>
#include <asm/pci.h>
#include <mica/lib.h>
#include <mica/spinlock.h>
#include <public/errno.h>

#define MAX_MSI_DEVS     16
#define MAX_MSI_VECTORS  64

/* MSI capability */
#define MSI_CTRL          2
#define MSI_CTRL_ENABLE   (1u << 0)
#define MSI_CTRL_MME      (7u << 4)     /* vectors enabled: Mica uses one */
#define MSI_CTRL_64       (1u << 7)
#define MSI_CTRL_MASKBIT  (1u << 8)
#define MSI_ADDR_LO       4
/* MSI-X capability */
#define MSIX_CTRL         2
#define MSIX_CTRL_SIZE    0x7ffu
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_CTRL_ENABLE  (1u << 15)
#define MSIX_TABLE        4
#define MSIX_PBA          8
#define MSIX_CAP_LEN      12
#define MSIX_BIR          7u
#define MSIX_ENTRY_SIZE   16
#define MSIX_ENTRY_CTRL_MASKED 1u
/* The message: local APIC address, physical destination, fixed/edge data. */
#define MSI_ADDR_BASE     0xfee00000u
#define MSI_ADDR_DEST(id) (((id) & 0xffu) << 12)

struct msi_dev {
    bool in_use;
    bool msix;
    u16 bdf;
    unsigned pos;               /* capability offset */
    unsigned users;             /* vectors mapped */
    /* MSI */
    bool is64, maskbit;
    /* MSI-X */
    unsigned nr_entries;
    u64 table_pa;
    volatile u32 *table;
    bool protected;
};

struct msi_vec {
    bool in_use;
    u8 dev;
    u8 vector;
    u16 entry;
    bool masked;
};

/* Guards devs, vecs and table_maps: pirq ops and dom0's config writes both come here. */
static DEFINE_SPINLOCK(msi_lock, LOCK_ORDER_MSI);
static struct msi_dev devs[MAX_MSI_DEVS];
static struct msi_vec vecs[MAX_MSI_VECTORS];

/* ioremapped MSI-X tables, kept for reuse (see above) */
struct table_map {
    u16 bdf;
    u64 pa;
    unsigned len;
    volatile u32 *va;
};
static struct table_map table_maps[MAX_MSI_DEVS];

static struct msi_dev *dev_of(u16 bdf)
{
    for (unsigned i = 0; i < MAX_MSI_DEVS; i++)
        if (devs[i].in_use && devs[i].bdf == bdf)
            return &devs[i];
    return NULL;
}

static volatile u32 *map_table(u16 bdf, u64 pa, unsigned len)
{
    for (unsigned i = 0; i < MAX_MSI_DEVS; i++) {
        struct table_map *t = &table_maps[i];
        if (t->va && t->bdf == bdf && t->pa == pa && t->len >= len)
            return t->va;
    }
    for (unsigned i = 0; i < MAX_MSI_DEVS; i++) {
        struct table_map *t = &table_maps[i];
        if (t->va)
            continue;
        t->va = ioremap(pa, len);
        if (!t->va)
            return NULL;
        t->bdf = bdf;
        t->pa = pa;
        t->len = len;
        return t->va;
    }
    return NULL;
}

static u32 msi_mask_reg(const struct msi_dev *m)
{
    return m->pos + (m->is64 ? 0x10 : 0x0c);
}

static u32 msi_data_reg(const struct msi_dev *m)
{
    return m->pos + (m->is64 ? 0x0c : 0x08);
}

static void write_mask(const struct msi_dev *m, unsigned entry, bool masked)
{
    if (m->msix) {
        m->table[entry * 4 + 3] = masked ? MSIX_ENTRY_CTRL_MASKED : 0;
        (void)m->table[entry * 4 + 3];      /* flush the posted write */
    } else if (m->maskbit) {
        pci_conf_write(m->bdf, msi_mask_reg(m), 4, masked ? 1u : 0u);
    }
}

/* Writes the message for v, leaving it masked or not as v says. */
static void write_message(const struct msi_dev *m, const struct msi_vec *v)
{
    u32 addr = MSI_ADDR_BASE | MSI_ADDR_DEST(lapic_id());

    if (m->msix) {
        u16 ctrl = (u16)pci_conf_read(m->bdf, m->pos + MSIX_CTRL, 2);
        /* Some devices only decode the table with MSI-X enabled: enable it, all masked. */
        if (!(ctrl & MSIX_CTRL_ENABLE))
            pci_conf_write(m->bdf, m->pos + MSIX_CTRL, 2, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
        write_mask(m, v->entry, true);
        m->table[v->entry * 4 + 0] = addr;
        m->table[v->entry * 4 + 1] = 0;
        m->table[v->entry * 4 + 2] = v->vector;
        if (!v->masked)
            write_mask(m, v->entry, false);
        if (!(ctrl & MSIX_CTRL_ENABLE))
            pci_conf_write(m->bdf, m->pos + MSIX_CTRL, 2, ctrl);
        return;
    }
    u16 ctrl = (u16)pci_conf_read(m->bdf, m->pos + MSI_CTRL, 2);
    write_mask(m, 0, true);
    pci_conf_write(m->bdf, m->pos + MSI_CTRL, 2, ctrl & ~MSI_CTRL_MME);
    pci_conf_write(m->bdf, m->pos + MSI_ADDR_LO, 4, addr);
    if (m->is64)
        pci_conf_write(m->bdf, m->pos + MSI_ADDR_LO + 4, 4, 0);
    pci_conf_write(m->bdf, msi_data_reg(m), 2, v->vector);
    if (!v->masked)
        write_mask(m, 0, false);
}

/* Finds or sets up the slot for bdf; *err on failure. */
static struct msi_dev *get_dev(u16 bdf, bool msix, u64 table_base, long *err)
{
    struct msi_dev *m = dev_of(bdf);
    unsigned pos;

    if (m) {
        if (m->msix != msix) {
            *err = -XEN_EBUSY;      /* the other kind is in use: unmap it first */
            return NULL;
        }
        return m;
    }
    *err = -XEN_ENODEV;
    if (!pci_device_present(bdf))
        return NULL;
    pos = pci_find_cap(bdf, msix ? PCI_CAP_ID_MSIX : PCI_CAP_ID_MSI);
    if (!pos)
        return NULL;
    for (unsigned i = 0; i < MAX_MSI_DEVS && !m; i++)
        if (!devs[i].in_use)
            m = &devs[i];
    if (!m) {
        *err = -XEN_ENOSPC;
        return NULL;
    }
    *m = (struct msi_dev){ .bdf = bdf, .msix = msix, .pos = pos };
    if (!msix) {
        u16 ctrl = (u16)pci_conf_read(bdf, pos + MSI_CTRL, 2);
        m->is64 = ctrl & MSI_CTRL_64;
        m->maskbit = ctrl & MSI_CTRL_MASKBIT;
    } else {
        u32 tbl = pci_conf_read(bdf, pos + MSIX_TABLE, 4);
        u64 bar;
        m->nr_entries = (pci_conf_read(bdf, pos + MSIX_CTRL, 2) & MSIX_CTRL_SIZE) + 1;
        /* Mica trusts the BAR, not dom0's table_base (Xen warns and does the same). */
        if (!pci_mem_bar(bdf, tbl & MSIX_BIR, &bar)) {
            *err = -XEN_ENXIO;
            return NULL;
        }
        if (table_base != bar)
            pr_warn("msi: %02x:%02x.%u: dom0's MSI-X table_base %#llx is not BAR%u (%#llx); using the BAR\n",
                    PCI_BDF_BUS(bdf), PCI_BDF_SLOT(bdf), PCI_BDF_FUNC(bdf),
                    (unsigned long long)table_base, tbl & MSIX_BIR, (unsigned long long)bar);
        m->table_pa = bar + (tbl & ~MSIX_BIR);
        m->table = map_table(bdf, m->table_pa, m->nr_entries * MSIX_ENTRY_SIZE);
        if (!m->table) {
            *err = -XEN_ENOMEM;
            return NULL;
        }
        m->protected = iomem_protect_frames(m->table_pa >> PAGE_SHIFT,
                                            (m->table_pa + m->nr_entries * MSIX_ENTRY_SIZE - 1) >> PAGE_SHIFT);
        if (!m->protected)
            pr_warn("msi: no slot to keep the MSI-X table at %#llx read-only to dom0\n",
                    (unsigned long long)m->table_pa);
    }
    m->in_use = true;
    return m;
}

static void put_dev(struct msi_dev *m)
{
    if (--m->users)
        return;
    if (m->msix && m->protected)
        iomem_unprotect_frames(m->table_pa >> PAGE_SHIFT,
                               (m->table_pa + m->nr_entries * MSIX_ENTRY_SIZE - 1) >> PAGE_SHIFT);
    if (!m->msix && !m->maskbit) {
        /* Nothing else silences it: turn MSI off, as Xen does on unmap. */
        u16 ctrl = (u16)pci_conf_read(m->bdf, m->pos + MSI_CTRL, 2);
        pci_conf_write(m->bdf, m->pos + MSI_CTRL, 2, ctrl & ~MSI_CTRL_ENABLE);
    }
    m->in_use = false;
}

static int setup_locked(u16 bdf, bool msix, unsigned entry_nr, u64 table_base, u8 vector)
{
    long err = 0;
    struct msi_dev *m = get_dev(bdf, msix, table_base, &err);
    struct msi_vec *v = NULL;
    int h = -1;

    if (!m)
        return (int)err;
    m->users++;                 /* held while checking; put_dev below undoes it */
    if (msix && entry_nr >= m->nr_entries) {
        put_dev(m);
        return -XEN_EINVAL;
    }
    if (!msix && m->users > 1) {
        put_dev(m);
        return -XEN_EEXIST;     /* one MSI vector per device */
    }
    for (int i = 0; i < MAX_MSI_VECTORS; i++) {
        if (vecs[i].in_use && &devs[vecs[i].dev] == m && vecs[i].entry == entry_nr) {
            put_dev(m);
            return -XEN_EEXIST;
        }
        if (!vecs[i].in_use && h < 0)
            h = i;
    }
    if (h < 0) {
        put_dev(m);
        return -XEN_ENOSPC;
    }
    v = &vecs[h];
    *v = (struct msi_vec){ .in_use = true, .dev = (u8)(m - devs), .vector = vector,
                           .entry = (u16)(msix ? entry_nr : 0), .masked = true };
    write_message(m, v);
    return h;
}

static struct msi_vec *vec_of(int handle)
{
    if (handle < 0 || handle >= MAX_MSI_VECTORS || !vecs[handle].in_use)
        return NULL;
    return &vecs[handle];
}

static void mask_locked(int handle, bool masked)
{
    struct msi_vec *v = vec_of(handle);

    if (!v)
        return;
    v->masked = masked;
    write_mask(&devs[v->dev], v->entry, masked);
}

static void teardown_locked(int handle)
{
    struct msi_vec *v = vec_of(handle);

    if (!v)
        return;
    write_mask(&devs[v->dev], v->entry, true);
    v->in_use = false;
    put_dev(&devs[v->dev]);
}

static long restore_locked(u16 bdf)
{
    struct msi_dev *m = dev_of(bdf);

    if (!m)
        return pci_device_present(bdf) ? 0 : -XEN_ENODEV;
    for (unsigned i = 0; i < MAX_MSI_VECTORS; i++)
        if (vecs[i].in_use && &devs[vecs[i].dev] == m)
            write_message(m, &vecs[i]);
    return 0;
}

/*
 * The rules follow Xen 4.17's: within an MSI-X capability in use only a
 * 16-bit write of the control word passes (dom0 enables MSI-X and sets or
 * clears its function mask); within an MSI capability in use only a 16-bit
 * write of the control word passes, with the vector count forced to one.
 * Address, data and mask registers are Mica's.
 */
static bool dom0_conf_write_locked(u16 bdf, unsigned reg, unsigned size, u32 *val)
{
    struct msi_dev *m;
    unsigned end;

    if (reg < 0x40)
        return true;            /* the header: no capability lives there */
    m = dev_of(bdf);
    if (!m)
        return true;
    if (m->msix) {
        end = m->pos + MSIX_CAP_LEN;
        if (reg + size <= m->pos || reg >= end)
            return true;
        return reg == m->pos + MSIX_CTRL && size == 2;
    }
    end = msi_data_reg(m) + 2 + (m->maskbit ? 10 : 0);
    if (reg + size <= m->pos || reg >= end)
        return true;
    if (reg != m->pos + MSI_CTRL || size != 2)
        return false;
    *val &= ~MSI_CTRL_MME;
    return true;
}

/* The entry points: each takes msi_lock around the work above. */
int msi_setup(u16 bdf, bool msix, unsigned entry_nr, u64 table_base, u8 vector)
{
    int rc;

    spin_lock(&msi_lock);
    rc = setup_locked(bdf, msix, entry_nr, table_base, vector);
    spin_unlock(&msi_lock);
    return rc;
}

void msi_mask(int handle, bool masked)
{
    spin_lock(&msi_lock);
    mask_locked(handle, masked);
    spin_unlock(&msi_lock);
}

void msi_teardown(int handle)
{
    spin_lock(&msi_lock);
    teardown_locked(handle);
    spin_unlock(&msi_lock);
}

long msi_restore(u16 bdf)
{
    long rc;

    spin_lock(&msi_lock);
    rc = restore_locked(bdf);
    spin_unlock(&msi_lock);
    return rc;
}

bool msi_dom0_conf_write(u16 bdf, unsigned reg, unsigned size, u32 *val)
{
    bool ok;

    spin_lock(&msi_lock);
    ok = dom0_conf_write_locked(bdf, reg, size, val);
    spin_unlock(&msi_lock);
    return ok;
}
