/*
 * Tests of MSI/MSI-X programming and of dom0's config-write filter over a
 * fake PCI configuration space and a fake MSI-X table.
 * unit-sources: hypervisor/arch/x86/msi.c hypervisor/arch/x86/pci.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "msi"
#include "unit.h"

#include <stdlib.h>
#include <mica/lib.h>
#include <asm/iomem.h>
#include <asm/lapic.h>
#include <asm/msi.h>
#include <asm/paging.h>
#include <asm/pci.h>
#include <public/errno.h>
#include "log_capture.h"

/* --- fake devices ------------------------------------------------------ */

#define MSIX_DEV  PCI_BDF(0, 3 << 3)    /* MSI-X (4 entries, BAR1) and 64-bit maskable MSI */
#define NOBAR_DEV PCI_BDF(0, 4 << 3)    /* MSI-X, BAR unassigned */
#define MSI_DEV   PCI_BDF(0, 5 << 3)    /* 32-bit MSI without mask bits */
#define PLAIN_DEV PCI_BDF(0, 6 << 3)    /* no capabilities */
#define LOOP_DEV  PCI_BDF(0, 7 << 3)    /* a capability list that loops */
#define BAR1      0xfebf1000u
#define MSIX_POS  0x40
#define MSI_POS   0x50

static u8 cfg[65536][256];
static bool present[65536];
static u32 table[2048 * 4];             /* up to 2048 entries of 4 dwords */
static unsigned protect_calls, unprotect_calls;
static mfn_t protected_first, protected_last;

static void put8(u16 bdf, unsigned reg, u8 v) { cfg[bdf][reg] = v; }
static void put16(u16 bdf, unsigned reg, u16 v) { memcpy(&cfg[bdf][reg], &v, 2); }
static void put32(u16 bdf, unsigned reg, u32 v) { memcpy(&cfg[bdf][reg], &v, 4); }
static u16 get16(u16 bdf, unsigned reg) { u16 v; memcpy(&v, &cfg[bdf][reg], 2); return v; }
static u32 get32(u16 bdf, unsigned reg) { u32 v; memcpy(&v, &cfg[bdf][reg], 4); return v; }

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
    u32 v = 0;
    if (!present[bdf])
        return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    memcpy(&v, &cfg[bdf][reg], size);
    return v;
}

void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
    if (present[bdf])
        memcpy(&cfg[bdf][reg], &val, size);
}

void *ioremap(paddr_t pa, u64 len)
{
    CHECK_EQ(pa, BAR1);                 /* only MSIX_DEV's table is ever mapped */
    CHECK(len <= sizeof(table));
    return table;
}

u32 lapic_id(void) { return 2; }

bool iomem_protect_frames(mfn_t first, mfn_t last)
{
    protect_calls++;
    protected_first = first;
    protected_last = last;
    return true;
}

void iomem_unprotect_frames(mfn_t first, mfn_t last)
{
    CHECK_EQ(first, protected_first);
    CHECK_EQ(last, protected_last);
    unprotect_calls++;
}

static void common_header(u16 bdf, u8 cap_ptr)
{
    present[bdf] = true;
    put16(bdf, 0x00, 0x1af4);
    put16(bdf, 0x06, cap_ptr ? 0x10 : 0);
    put8(bdf, 0x34, cap_ptr);
}

static void reset(void)
{
    memset(cfg, 0, sizeof(cfg));
    memset(present, 0, sizeof(present));
    memset(table, 0, sizeof(table));
    protect_calls = unprotect_calls = 0;
    log_clear();

    common_header(MSIX_DEV, MSIX_POS);
    put8(MSIX_DEV, MSIX_POS, PCI_CAP_ID_MSIX);
    put8(MSIX_DEV, MSIX_POS + 1, MSI_POS);
    put16(MSIX_DEV, MSIX_POS + 2, 3);           /* 4 entries, disabled */
    put32(MSIX_DEV, MSIX_POS + 4, 1);           /* table: BAR1 + 0 */
    put32(MSIX_DEV, MSIX_POS + 8, 0x800 | 1);   /* PBA: BAR1 + 0x800 */
    put8(MSIX_DEV, MSI_POS, PCI_CAP_ID_MSI);
    put16(MSIX_DEV, MSI_POS + 2, (1u << 7) | (1u << 8) | (5u << 1));   /* 64-bit, maskable, 32 vectors */
    put32(MSIX_DEV, 0x14, BAR1);

    common_header(NOBAR_DEV, MSIX_POS);
    put8(NOBAR_DEV, MSIX_POS, PCI_CAP_ID_MSIX);
    put16(NOBAR_DEV, MSIX_POS + 2, 7);
    put32(NOBAR_DEV, MSIX_POS + 4, 2);

    common_header(MSI_DEV, MSI_POS);
    put8(MSI_DEV, MSI_POS, PCI_CAP_ID_MSI);
    put16(MSI_DEV, MSI_POS + 2, 0);

    common_header(PLAIN_DEV, 0);

    common_header(LOOP_DEV, 0x60);
    put8(LOOP_DEV, 0x60, 0x09);
    put8(LOOP_DEV, 0x61, 0x70);
    put8(LOOP_DEV, 0x70, 0x09);
    put8(LOOP_DEV, 0x71, 0x60);
}

/* --- cases -------------------------------------------------------------- */

UNIT_TEST(caps_and_bars)
{
    u64 bar;
    reset();
    CHECK_EQ(pci_find_cap(MSIX_DEV, PCI_CAP_ID_MSIX), MSIX_POS);
    CHECK_EQ(pci_find_cap(MSIX_DEV, PCI_CAP_ID_MSI), MSI_POS);
    CHECK_EQ(pci_find_cap(PLAIN_DEV, PCI_CAP_ID_MSI), 0);
    CHECK_EQ(pci_find_cap(LOOP_DEV, PCI_CAP_ID_MSI), 0);        /* ends despite the loop */
    CHECK_EQ(pci_find_cap(PCI_BDF(9, 0), PCI_CAP_ID_MSI), 0);   /* nobody there */
    CHECK(pci_mem_bar(MSIX_DEV, 1, &bar));
    CHECK_EQ(bar, BAR1);
    CHECK(!pci_mem_bar(MSIX_DEV, 0, &bar));                     /* unassigned */
    CHECK(!pci_mem_bar(MSIX_DEV, 6, &bar));
    put32(MSIX_DEV, 0x10, 0xc001);                              /* an I/O BAR */
    CHECK(!pci_mem_bar(MSIX_DEV, 0, &bar));
    put32(MSIX_DEV, 0x18, 0xfe000004);                          /* 64-bit BAR2/3 */
    put32(MSIX_DEV, 0x1c, 0x1);
    CHECK(pci_mem_bar(MSIX_DEV, 2, &bar));
    CHECK_EQ(bar, 0x1fe000000ULL);
}

UNIT_TEST(msix_entry_written_masked_then_unmasked)
{
    reset();
    int h = msi_setup(MSIX_DEV, true, 2, BAR1, 0x70);
    CHECK(h >= 0);
    CHECK_EQ(table[2 * 4 + 0], 0xfee02000u);        /* LAPIC 2, physical destination */
    CHECK_EQ(table[2 * 4 + 1], 0);
    CHECK_EQ(table[2 * 4 + 2], 0x70);               /* fixed, edge */
    CHECK_EQ(table[2 * 4 + 3], 1);                  /* masked until bound */
    CHECK_EQ(table[0 * 4 + 2], 0);                  /* other entries untouched */
    CHECK_EQ(get16(MSIX_DEV, MSIX_POS + 2), 3);     /* dom0's enable state restored */
    CHECK_EQ(protect_calls, 1);
    CHECK_EQ(protected_first, BAR1 >> PAGE_SHIFT);
    CHECK_EQ(protected_last, BAR1 >> PAGE_SHIFT);
    msi_mask(h, false);
    CHECK_EQ(table[2 * 4 + 3], 0);
    msi_mask(h, true);
    CHECK_EQ(table[2 * 4 + 3], 1);
    msi_mask(h, false);
    msi_teardown(h);
    CHECK_EQ(table[2 * 4 + 3], 1);                  /* masked again when unmapped */
    CHECK_EQ(unprotect_calls, 1);
    CHECK_EQ(log_warnings, 0);
}

UNIT_TEST(msix_hostile_requests)
{
    reset();
    int h = msi_setup(MSIX_DEV, true, 0, BAR1, 0x70);
    CHECK(h >= 0);
    CHECK_EQ(msi_setup(MSIX_DEV, true, 0, BAR1, 0x71), -XEN_EEXIST);    /* same entry again */
    CHECK_EQ(msi_setup(MSIX_DEV, true, 4, BAR1, 0x71), -XEN_EINVAL);    /* 4 entries: 0..3 */
    CHECK_EQ(msi_setup(MSIX_DEV, true, 0xffffffffu, BAR1, 0x71), -XEN_EINVAL);
    CHECK_EQ(msi_setup(MSIX_DEV, false, 0, 0, 0x71), -XEN_EBUSY);      /* MSI while MSI-X is used */
    CHECK_EQ(msi_setup(NOBAR_DEV, true, 0, 0xfe000000, 0x71), -XEN_ENXIO);
    CHECK_EQ(msi_setup(PLAIN_DEV, true, 0, BAR1, 0x71), -XEN_ENODEV);
    CHECK_EQ(msi_setup(PLAIN_DEV, false, 0, 0, 0x71), -XEN_ENODEV);
    CHECK_EQ(msi_setup(PCI_BDF(9, 0), false, 0, 0, 0x71), -XEN_ENODEV);
    int h3 = msi_setup(MSIX_DEV, true, 3, BAR1, 0x72);
    CHECK(h3 >= 0);
    CHECK_EQ(protect_calls, 1);                     /* once per device */
    msi_teardown(h);
    CHECK_EQ(unprotect_calls, 0);                   /* entry 3 still in use */
    msi_teardown(h);                                /* twice: ignored */
    msi_teardown(-1);
    msi_teardown(1 << 20);
    msi_mask(-5, false);
    CHECK_EQ(unprotect_calls, 0);
    msi_teardown(h3);
    CHECK_EQ(unprotect_calls, 1);
    CHECK_EQ(log_warnings, 0);
}

UNIT_TEST(msix_table_base_is_the_bars)
{
    reset();
    int h = msi_setup(MSIX_DEV, true, 1, 0x12345000, 0x70);   /* dom0 lies */
    CHECK(h >= 0);
    CHECK_EQ(table[1 * 4 + 2], 0x70);               /* written through BAR1 all the same */
    CHECK_EQ(log_warnings, 1);
    CHECK_STR(logbuf, "table_base");
    msi_teardown(h);
}

UNIT_TEST(msi_maskable_64bit)
{
    reset();
    put16(MSIX_DEV, MSI_POS + 2, get16(MSIX_DEV, MSI_POS + 2) | (3u << 4));     /* dom0 asked for 8 */
    int h = msi_setup(MSIX_DEV, false, 0, 0, 0x65);
    CHECK(h >= 0);
    CHECK_EQ(get16(MSIX_DEV, MSI_POS + 2) & (7u << 4), 0);     /* one vector */
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 4), 0xfee02000u);
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 8), 0);
    CHECK_EQ(get16(MSIX_DEV, MSI_POS + 12), 0x65);
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 16), 1);                 /* masked */
    CHECK_EQ(msi_setup(MSIX_DEV, false, 0, 0, 0x66), -XEN_EEXIST);
    CHECK_EQ(msi_setup(MSIX_DEV, true, 0, BAR1, 0x66), -XEN_EBUSY);
    msi_mask(h, false);
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 16), 0);
    /* A device reset wiped the message: restore writes it again. */
    put32(MSIX_DEV, MSI_POS + 4, 0);
    put16(MSIX_DEV, MSI_POS + 12, 0);
    CHECK_EQ(msi_restore(MSIX_DEV), 0);
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 4), 0xfee02000u);
    CHECK_EQ(get16(MSIX_DEV, MSI_POS + 12), 0x65);
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 16), 0);                 /* still unmasked */
    CHECK_EQ(msi_restore(PLAIN_DEV), 0);
    CHECK_EQ(msi_restore(PCI_BDF(9, 0)), -XEN_ENODEV);
    msi_teardown(h);
    CHECK_EQ(get32(MSIX_DEV, MSI_POS + 16), 1);
}

UNIT_TEST(msi_unmaskable_disabled_on_teardown)
{
    reset();
    int h = msi_setup(MSI_DEV, false, 0, 0, 0x60);
    CHECK(h >= 0);
    CHECK_EQ(get32(MSI_DEV, MSI_POS + 4), 0xfee02000u);
    CHECK_EQ(get16(MSI_DEV, MSI_POS + 8), 0x60);                /* 32-bit layout */
    put16(MSI_DEV, MSI_POS + 2, 1);                             /* dom0 enables it */
    msi_teardown(h);
    CHECK_EQ(get16(MSI_DEV, MSI_POS + 2) & 1, 0);
}

UNIT_TEST(dom0_write_filter)
{
    u32 v;
    reset();
    /* Nothing mapped: every write goes through. */
    v = 0x12345678;
    CHECK(msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 4, 4, &v));
    int hx = msi_setup(MSIX_DEV, true, 0, BAR1, 0x70);
    CHECK(hx >= 0);
    v = 0x8003;
    CHECK(msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 2, 2, &v));     /* enable MSI-X */
    CHECK_EQ(v, 0x8003);
    v = 0x80030000;
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSIX_POS, 4, &v));        /* control as a dword */
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 4, 4, &v));    /* table offset */
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 3, 1, &v));
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 8, 4, &v));
    CHECK(msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 12, 4, &v));    /* past the capability */
    CHECK(msi_dom0_conf_write(MSIX_DEV, 0x04, 2, &v));             /* command register */
    CHECK(msi_dom0_conf_write(PLAIN_DEV, MSIX_POS, 4, &v));
    msi_teardown(hx);

    int hm = msi_setup(MSIX_DEV, false, 0, 0, 0x65);
    CHECK(hm >= 0);
    v = (3u << 4) | 1;
    CHECK(msi_dom0_conf_write(MSIX_DEV, MSI_POS + 2, 2, &v));
    CHECK_EQ(v, 1);                                                 /* enable kept, vectors one */
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSI_POS + 4, 4, &v));     /* address */
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSI_POS + 12, 2, &v));    /* data */
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSI_POS + 16, 4, &v));    /* mask bits */
    CHECK(!msi_dom0_conf_write(MSIX_DEV, MSI_POS + 20, 4, &v));    /* pending bits */
    CHECK(msi_dom0_conf_write(MSIX_DEV, MSI_POS + 24, 4, &v));
    CHECK(msi_dom0_conf_write(MSIX_DEV, MSIX_POS + 4, 4, &v));     /* MSI-X is not in use now */
    msi_teardown(hm);
}

UNIT_TEST(vector_slots_run_out_cleanly)
{
    int h[80];
    int n = 0;
    reset();
    put16(MSIX_DEV, MSIX_POS + 2, 2047);                /* 2048 entries */
    for (; n < 80; n++) {
        h[n] = msi_setup(MSIX_DEV, true, (unsigned)n, BAR1, (u8)(0x30 + n));
        if (h[n] < 0)
            break;
    }
    CHECK(n > 0 && n < 80);                             /* Mica's table is finite... */
    CHECK_EQ(h[n], -XEN_ENOSPC);                        /* ...and says so */
    CHECK_EQ(table[(n - 1) * 4 + 2], (u32)(0x30 + n - 1));
    for (int i = 0; i < n; i++)
        msi_teardown(h[i]);
    CHECK_EQ(unprotect_calls, 1);
    CHECK_EQ(protected_last, (BAR1 + 2048 * 16 - 1) >> PAGE_SHIFT);
}

UNIT_MAIN()
