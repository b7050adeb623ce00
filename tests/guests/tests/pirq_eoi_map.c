/*
 * PHYSDEVOP_pirq_eoi_gmfn_v2 (Linux registers it at boot, xen_init_IRQ):
 * a page of the guest's whose bit n says pirq n needs an EOI hypercall.
 * Refusals (unreadable argument, a page-table frame, a frame beyond RAM),
 * one registration only (-EBUSY), the page then held writable (it can no
 * longer be pinned as a page table), and the bits: set when a
 * level-triggered GSI is bound to an event channel, clear for an edge one.
 * The errnos and bits are Xen 4.17's.
 */
#include "guest.h"

#define LEVEL_GSI 20        /* a PCI INTx pin of QEMU's pc I/O APIC, nothing on it */
#define EDGE_GSI  5         /* an ISA IRQ, free on QEMU's pc */

static uint64_t map_page[512] __attribute__((aligned(4096)));
static uint64_t other_page[512] __attribute__((aligned(4096)));

static long reg(uint64_t mfn)
{
    struct physdev_pirq_eoi_gmfn g = { .gmfn = mfn };
    return HYPERVISOR_physdev_op(PHYSDEVOP_pirq_eoi_gmfn_v2, &g);
}

/* Maps and binds GSI gsi with the given trigger (polarity high); returns the port. */
static evtchn_port_t bind_gsi(int gsi, int level)
{
    struct physdev_setup_gsi s = { .gsi = gsi, .triggering = (uint8_t)level, .polarity = 0 };
    struct physdev_map_pirq m = { .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_GSI,
                                  .index = gsi, .pirq = gsi };
    struct evtchn_bind_pirq b = { .pirq = (uint32_t)gsi };

    REQUIRE_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_setup_gsi, &s), 0);
    REQUIRE_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_map_pirq, &m), 0);
    REQUIRE_EQ(m.pirq, gsi);
    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &b), 0);
    return b.port;
}

static bool bit(unsigned n)
{
    return (__atomic_load_n(&map_page[n / 64], __ATOMIC_SEQ_CST) >> (n % 64)) & 1;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);

    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_pirq_eoi_gmfn_v2, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(reg(va_to_mfn((void *)start_info->pt_base)), -XEN_EINVAL);   /* our pinned L4 */
    CHECK_EQ(reg(1ULL << 40), -XEN_EINVAL);                                /* beyond RAM */

    memset(map_page, 0xff, sizeof(map_page));   /* Xen leaves unbound pirqs' bits alone */
    map_page[LEVEL_GSI / 64] &= ~(1ULL << (LEVEL_GSI % 64));
    map_page[EDGE_GSI / 64] |= 1ULL << (EDGE_GSI % 64);
    CHECK_EQ(reg(va_to_mfn(map_page)), 0);
    CHECK_EQ(reg(va_to_mfn(other_page)), -XEN_EBUSY);
    CHECK_EQ(reg(va_to_mfn(map_page)), -XEN_EBUSY);

    /* Held writable: it cannot become a page table now. */
    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = va_to_mfn(map_page) };
    CHECK(HYPERVISOR_mmuext_op(&pin, 1, NULL, DOMID_SELF) < 0, "the registered page was pinned as an L1");

    struct physdev_set_iopl iopl = { .iopl = 1 };
    REQUIRE_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    bind_gsi(LEVEL_GSI, 1);
    CHECK(bit(LEVEL_GSI), "level GSI %d bound, its bit is clear", LEVEL_GSI);
    bind_gsi(EDGE_GSI, 0);
    CHECK(!bit(EDGE_GSI), "edge GSI %d bound, its bit is set", EDGE_GSI);
    CHECK(bit(EDGE_GSI + 1), "an unbound pirq's bit was changed");
    return RESULT_SUCCESS;
}
