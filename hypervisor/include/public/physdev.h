/*
 * Mica guest ABI: physdev_op (hypercall 33), physdev_op(cmd, arg).
 * set_iopl and set_iobitmap matter to every PV kernel; the rest is what a
 * Linux dom0 uses for interrupts and PCI devices.
 */
#ifndef MICA_PUBLIC_PHYSDEV_H
#define MICA_PUBLIC_PHYSDEV_H

#include <public/xen.h>

#define PHYSDEVOP_IRQ_UNMASK_NOTIFY   4
#define PHYSDEVOP_irq_status_query    5
#define PHYSDEVOP_set_iopl            6
#define PHYSDEVOP_set_iobitmap        7
#define PHYSDEVOP_apic_read           8
#define PHYSDEVOP_apic_write          9
#define PHYSDEVOP_alloc_irq_vector   10
#define PHYSDEVOP_free_irq_vector    11
#define PHYSDEVOP_eoi                12
#define PHYSDEVOP_map_pirq           13
#define PHYSDEVOP_unmap_pirq         14
#define PHYSDEVOP_manage_pci_add     15
#define PHYSDEVOP_manage_pci_remove  16
#define PHYSDEVOP_pirq_eoi_gmfn_v1   17
#define PHYSDEVOP_restore_msi        19
#define PHYSDEVOP_manage_pci_add_ext 20
#define PHYSDEVOP_setup_gsi          21
#define PHYSDEVOP_get_free_pirq      23
#define PHYSDEVOP_pci_mmcfg_reserved 24
#define PHYSDEVOP_pci_device_add     25
#define PHYSDEVOP_pci_device_remove  26
#define PHYSDEVOP_restore_msi_ext    27
#define PHYSDEVOP_pirq_eoi_gmfn_v2   28
#define PHYSDEVOP_dbgp_op            29
#define PHYSDEVOP_prepare_msix       30
#define PHYSDEVOP_release_msix       31
#define PHYSDEVOP_pirq_eoi_gmfn      PHYSDEVOP_pirq_eoi_gmfn_v2

struct physdev_eoi {
    uint32_t irq;
};
XEN_ABI_SIZE(struct physdev_eoi, 4);
XEN_ABI_OFFSET(struct physdev_eoi, irq, 0);

struct physdev_pirq_eoi_gmfn {
    xen_pfn_t gmfn;              /* page holding the "needs EOI" bitmap */
};
XEN_ABI_SIZE(struct physdev_pirq_eoi_gmfn, 8);
XEN_ABI_OFFSET(struct physdev_pirq_eoi_gmfn, gmfn, 0);

#define _XENIRQSTAT_needs_eoi  0
#define XENIRQSTAT_needs_eoi   (1U << 0)
#define _XENIRQSTAT_shared     1
#define XENIRQSTAT_shared      (1U << 1)

struct physdev_irq_status_query {
    uint32_t irq;                /* IN */
    uint32_t flags;              /* OUT: XENIRQSTAT_* */
};
XEN_ABI_SIZE(struct physdev_irq_status_query, 8);
XEN_ABI_OFFSET(struct physdev_irq_status_query, irq, 0);
XEN_ABI_OFFSET(struct physdev_irq_status_query, flags, 4);

/* Virtual I/O privilege level, 0..3. */
struct physdev_set_iopl {
    uint32_t iopl;
};
XEN_ABI_SIZE(struct physdev_set_iopl, 4);
XEN_ABI_OFFSET(struct physdev_set_iopl, iopl, 0);

struct physdev_set_iobitmap {
    xen_guest_handle_t bitmap;   /* VA of a TSS-style port bitmap */
    uint32_t nr_ports;
    uint32_t _pad;
};
XEN_ABI_SIZE(struct physdev_set_iobitmap, 16);
XEN_ABI_OFFSET(struct physdev_set_iobitmap, bitmap, 0);
XEN_ABI_OFFSET(struct physdev_set_iobitmap, nr_ports, 8);
MICA_ABI_OFFSET(struct physdev_set_iobitmap, _pad, 12);

struct physdev_apic {
    uint64_t apic_physbase;
    uint32_t reg;
    uint32_t value;
};
XEN_ABI_SIZE(struct physdev_apic, 16);
XEN_ABI_OFFSET(struct physdev_apic, apic_physbase, 0);
XEN_ABI_OFFSET(struct physdev_apic, reg, 8);
XEN_ABI_OFFSET(struct physdev_apic, value, 12);

struct physdev_irq {
    uint32_t irq;
    uint32_t vector;
};
XEN_ABI_SIZE(struct physdev_irq, 8);
XEN_ABI_OFFSET(struct physdev_irq, irq, 0);
XEN_ABI_OFFSET(struct physdev_irq, vector, 4);

#define MAP_PIRQ_TYPE_MSI        0x0
#define MAP_PIRQ_TYPE_GSI        0x1
#define MAP_PIRQ_TYPE_UNKNOWN    0x2
#define MAP_PIRQ_TYPE_MSI_SEG    0x3
#define MAP_PIRQ_TYPE_MULTI_MSI  0x4

struct physdev_map_pirq {
    domid_t  domid;
    uint16_t _pad0;
    int32_t  type;               /* MAP_PIRQ_TYPE_* */
    int32_t  index;              /* GSI, or MSI-X entry */
    int32_t  pirq;               /* IN/OUT */
    int32_t  bus;                /* MSI: bus | segment << 16 */
    int32_t  devfn;
    int32_t  entry_nr;           /* MSI: IN number of vectors */
    uint32_t _pad1;
    uint64_t table_base;
};
XEN_ABI_SIZE(struct physdev_map_pirq, 40);
XEN_ABI_OFFSET(struct physdev_map_pirq, domid, 0);
MICA_ABI_OFFSET(struct physdev_map_pirq, _pad0, 2);
XEN_ABI_OFFSET(struct physdev_map_pirq, type, 4);
XEN_ABI_OFFSET(struct physdev_map_pirq, index, 8);
XEN_ABI_OFFSET(struct physdev_map_pirq, pirq, 12);
XEN_ABI_OFFSET(struct physdev_map_pirq, bus, 16);
XEN_ABI_OFFSET(struct physdev_map_pirq, devfn, 20);
XEN_ABI_OFFSET(struct physdev_map_pirq, entry_nr, 24);
MICA_ABI_OFFSET(struct physdev_map_pirq, _pad1, 28);
XEN_ABI_OFFSET(struct physdev_map_pirq, table_base, 32);

struct physdev_unmap_pirq {
    domid_t  domid;
    uint16_t _pad;
    int32_t  pirq;
};
XEN_ABI_SIZE(struct physdev_unmap_pirq, 8);
XEN_ABI_OFFSET(struct physdev_unmap_pirq, domid, 0);
MICA_ABI_OFFSET(struct physdev_unmap_pirq, _pad, 2);
XEN_ABI_OFFSET(struct physdev_unmap_pirq, pirq, 4);

struct physdev_manage_pci {
    uint8_t bus;
    uint8_t devfn;
};
XEN_ABI_SIZE(struct physdev_manage_pci, 2);
XEN_ABI_OFFSET(struct physdev_manage_pci, bus, 0);
XEN_ABI_OFFSET(struct physdev_manage_pci, devfn, 1);

struct physdev_restore_msi {
    uint8_t bus;
    uint8_t devfn;
};
XEN_ABI_SIZE(struct physdev_restore_msi, 2);
XEN_ABI_OFFSET(struct physdev_restore_msi, bus, 0);
XEN_ABI_OFFSET(struct physdev_restore_msi, devfn, 1);

struct physdev_manage_pci_ext {
    uint8_t  bus;
    uint8_t  devfn;
    uint16_t _pad0;
    uint32_t is_extfn;
    uint32_t is_virtfn;
    struct {
        uint8_t bus;
        uint8_t devfn;
    } physfn;
    uint16_t _pad1;
};
XEN_ABI_SIZE(struct physdev_manage_pci_ext, 16);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, bus, 0);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, devfn, 1);
MICA_ABI_OFFSET(struct physdev_manage_pci_ext, _pad0, 2);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, is_extfn, 4);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, is_virtfn, 8);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, physfn, 12);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, physfn.bus, 12);
XEN_ABI_OFFSET(struct physdev_manage_pci_ext, physfn.devfn, 13);
MICA_ABI_OFFSET(struct physdev_manage_pci_ext, _pad1, 14);

struct physdev_setup_gsi {
    int32_t gsi;
    uint8_t triggering;          /* 0 edge, 1 level */
    uint8_t polarity;            /* 0 high, 1 low */
    uint8_t _pad[2];
};
XEN_ABI_SIZE(struct physdev_setup_gsi, 8);
XEN_ABI_OFFSET(struct physdev_setup_gsi, gsi, 0);
XEN_ABI_OFFSET(struct physdev_setup_gsi, triggering, 4);
XEN_ABI_OFFSET(struct physdev_setup_gsi, polarity, 5);
MICA_ABI_OFFSET(struct physdev_setup_gsi, _pad, 6);

struct physdev_get_free_pirq {
    int32_t  type;               /* IN: MAP_PIRQ_TYPE_* */
    uint32_t pirq;               /* OUT */
};
XEN_ABI_SIZE(struct physdev_get_free_pirq, 8);
XEN_ABI_OFFSET(struct physdev_get_free_pirq, type, 0);
XEN_ABI_OFFSET(struct physdev_get_free_pirq, pirq, 4);

#define XEN_PCI_MMCFG_RESERVED  0x1

struct physdev_pci_mmcfg_reserved {
    uint64_t address;
    uint16_t segment;
    uint8_t  start_bus;
    uint8_t  end_bus;
    uint32_t flags;              /* XEN_PCI_MMCFG_* */
};
XEN_ABI_SIZE(struct physdev_pci_mmcfg_reserved, 16);
XEN_ABI_OFFSET(struct physdev_pci_mmcfg_reserved, address, 0);
XEN_ABI_OFFSET(struct physdev_pci_mmcfg_reserved, segment, 8);
XEN_ABI_OFFSET(struct physdev_pci_mmcfg_reserved, start_bus, 10);
XEN_ABI_OFFSET(struct physdev_pci_mmcfg_reserved, end_bus, 11);
XEN_ABI_OFFSET(struct physdev_pci_mmcfg_reserved, flags, 12);

#define XEN_PCI_DEV_EXTFN   0x1
#define XEN_PCI_DEV_VIRTFN  0x2
#define XEN_PCI_DEV_PXM     0x4

/* Variable length: optional u32s (proximity domain with XEN_PCI_DEV_PXM). */
struct physdev_pci_device_add {
    uint16_t seg;
    uint8_t  bus;
    uint8_t  devfn;
    uint32_t flags;              /* XEN_PCI_DEV_* */
    struct {
        uint8_t bus;
        uint8_t devfn;
    } physfn;
    uint16_t _pad;
    uint32_t optarr[];
};
XEN_ABI_SIZE(struct physdev_pci_device_add, 12);
XEN_ABI_OFFSET(struct physdev_pci_device_add, seg, 0);
XEN_ABI_OFFSET(struct physdev_pci_device_add, bus, 2);
XEN_ABI_OFFSET(struct physdev_pci_device_add, devfn, 3);
XEN_ABI_OFFSET(struct physdev_pci_device_add, flags, 4);
XEN_ABI_OFFSET(struct physdev_pci_device_add, physfn, 8);
XEN_ABI_OFFSET(struct physdev_pci_device_add, physfn.bus, 8);
XEN_ABI_OFFSET(struct physdev_pci_device_add, physfn.devfn, 9);
MICA_ABI_OFFSET(struct physdev_pci_device_add, _pad, 10);
XEN_ABI_OFFSET(struct physdev_pci_device_add, optarr, 12);

/* Argument of pci_device_remove, restore_msi_ext, prepare/release_msix. */
struct physdev_pci_device {
    uint16_t seg;
    uint8_t  bus;
    uint8_t  devfn;
};
XEN_ABI_SIZE(struct physdev_pci_device, 4);
XEN_ABI_OFFSET(struct physdev_pci_device, seg, 0);
XEN_ABI_OFFSET(struct physdev_pci_device, bus, 2);
XEN_ABI_OFFSET(struct physdev_pci_device, devfn, 3);

/* Legacy hypercall 19 takes the command and its argument in one block. */
struct physdev_op {
    uint32_t cmd;
    uint32_t _pad;
    union {
        struct physdev_irq_status_query irq_status_query;
        struct physdev_set_iopl         set_iopl;
        struct physdev_set_iobitmap     set_iobitmap;
        struct physdev_apic             apic_op;
        struct physdev_irq              irq_op;
    } u;
};
XEN_ABI_SIZE(struct physdev_op, 24);
XEN_ABI_OFFSET(struct physdev_op, cmd, 0);
MICA_ABI_OFFSET(struct physdev_op, _pad, 4);
XEN_ABI_OFFSET(struct physdev_op, u, 8);

#endif /* MICA_PUBLIC_PHYSDEV_H */
