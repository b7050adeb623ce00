/*
 * MSI argument checking in physdev_op, without an MSI-capable device (the
 * test machine's PCI functions have none): map_pirq for MSI, MSI_SEG and
 * MULTI_MSI on a missing function, another segment, a function without
 * the capability and with bad counts; unmap_pirq and irq_status_query of
 * pirqs that were never mapped; and the PCI configuration ports, which a
 * PV control domain shares with the hypervisor (0xcf8 reads back what the
 * domain wrote, 0xcfc reads the host bridge's vendor ID).  The errnos are
 * Xen 4.17's.
 */
#include "guest.h"

#define DEVFN(slot, fn) (((slot) << 3) | (fn))
#define MISSING_DEVFN   DEVFN(31, 7)        /* nothing at 00:1f.7 on QEMU's pc */
#define HOST_BRIDGE     DEVFN(0, 0)         /* 00:00.0: no MSI, no MSI-X */

static long map(int type, int bus, int devfn, int entry_nr, uint64_t table_base, int index,
                int *pirq_out)
{
    struct physdev_map_pirq m = {
        .domid = DOMID_SELF, .type = type, .index = index, .pirq = -1,
        .bus = bus, .devfn = devfn, .entry_nr = entry_nr, .table_base = table_base,
    };
    long rc = HYPERVISOR_physdev_op(PHYSDEVOP_map_pirq, &m);
    if (pirq_out)
        *pirq_out = m.pirq;
    return rc;
}

static long unmap(int pirq)
{
    struct physdev_unmap_pirq u = { .domid = DOMID_SELF, .pirq = pirq };
    return HYPERVISOR_physdev_op(PHYSDEVOP_unmap_pirq, &u);
}

static uint32_t inl_port(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void outl_port(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port));
}

static uint16_t inw_port(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

enum result test_main(void)
{
    struct physdev_set_iopl iopl = { .iopl = 1 };
    struct physdev_irq_status_query q;
    int pirq = 12345;

    REQUIRE_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);

    /* The configuration ports: the address latch reads back, data reads the device. */
    outl_port(0xcf8, 0x80000000u);
    CHECK_EQ(inl_port(0xcf8), 0x80000000u);
    CHECK_EQ(inw_port(0xcfc), 0x8086);                      /* i440FX host bridge */
    outl_port(0xcf8, 0x80000000u | (MISSING_DEVFN << 8));
    CHECK_EQ(inl_port(0xcfc), 0xffffffffu);                 /* nobody answers */
    outl_port(0xcf8, 0);

    /* No function at 00:1f.7: MSI, MSI_SEG and MSI-X all say no such device. */
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 0, MISSING_DEVFN, 0, 0, -1, &pirq), -XEN_ENODEV);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI, 0, MISSING_DEVFN, 0, 0, -1, NULL), -XEN_ENODEV);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 0, MISSING_DEVFN, 0, 0xfebf0000, -1, NULL), -XEN_ENODEV);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 200, DEVFN(3, 0), 0, 0, -1, NULL), -XEN_ENODEV);
    /* Segment 1 does not exist. */
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 1 << 16, HOST_BRIDGE, 0, 0, -1, NULL), -XEN_ENODEV);
    /* The host bridge is there but has neither capability. */
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 0, HOST_BRIDGE, 0, 0, -1, NULL), -XEN_ENODEV);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 0, HOST_BRIDGE, 0, 0xfebf0000, -1, NULL), -XEN_ENODEV);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 0, HOST_BRIDGE, 100000, 0xfebf0000, -1, NULL), -XEN_ENODEV);

    /* MULTI_MSI: no table, 1..32 vectors, more than one needs interrupt remapping. */
    CHECK_EQ(map(MAP_PIRQ_TYPE_MULTI_MSI, 0, HOST_BRIDGE, 1, 0x1000, -1, NULL), -XEN_EINVAL);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MULTI_MSI, 0, HOST_BRIDGE, 0, 0, -1, NULL), -XEN_EDOM);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MULTI_MSI, 0, HOST_BRIDGE, 33, 0, -1, NULL), -XEN_EDOM);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MULTI_MSI, 0, HOST_BRIDGE, -1, 0, -1, NULL), -XEN_EDOM);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MULTI_MSI, 0, HOST_BRIDGE, 2, 0, -1, NULL), -XEN_EOPNOTSUPP);
    CHECK_EQ(map(MAP_PIRQ_TYPE_MULTI_MSI, 0, MISSING_DEVFN, 1, 0, -1, NULL), -XEN_ENODEV);

    /* An index naming a GSI's irq is no MSI irq; unknown map types are refused. */
    CHECK_EQ(map(MAP_PIRQ_TYPE_MSI_SEG, 0, HOST_BRIDGE, 0, 0, 5, NULL), -XEN_EINVAL);
    CHECK_EQ(map(7, 0, HOST_BRIDGE, 0, 0, -1, NULL), -XEN_EINVAL);
    CHECK_EQ(map(MAP_PIRQ_TYPE_UNKNOWN, 0, HOST_BRIDGE, 0, 0, -1, NULL), -XEN_EINVAL);

    /* Nothing was mapped: unmapping and querying refuse or report nothing. */
    CHECK_EQ(unmap(-1), -XEN_EINVAL);
    CHECK_EQ(unmap(0x7fffffff), -XEN_EINVAL);
    q = (struct physdev_irq_status_query){ .irq = 0x80000000u };
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_irq_status_query, &q), -XEN_EINVAL);

    /* Bad pointers. */
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_map_pirq, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_unmap_pirq, (void *)0x1000), -XEN_EFAULT);
    return RESULT_SUCCESS;
}
