/*
 * The 2-level delivery protocol seen from the guest: a send sets the
 * pending bit, the selector bit of its word and upcall_pending; a masked
 * port only gets its pending bit; nothing is delivered while upcall_mask
 * is set; EVTCHNOP_unmask re-raises a pending port; the upcall arrives
 * once events are enabled, for every word the selector names.
 */
#include "guest.h"

enum result test_main(void)
{
    evtchn_port_t ports[80], hi, lo, masked;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);

    /* Enough ports to reach the second word of the bitmaps. */
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
        REQUIRE_EQ(evtchn_bind_ipi(0, &ports[i]), 0);
    lo = ports[0];
    masked = ports[1];
    hi = ports[ARRAY_SIZE(ports) - 1];
    REQUIRE(lo / 64 == 0 && hi / 64 == 1, "ports %u and %u", lo, hi);

    /* Events are masked at start: sends only leave marks. */
    CHECK_EQ(vcpu0->evtchn_upcall_mask, 1);
    CHECK_EQ(evtchn_send(lo), 0);
    CHECK(test_bit(lo, shared->evtchn_pending), "pending bit of port %u", lo);
    CHECK_EQ(vcpu0->evtchn_pending_sel, 1);
    CHECK_EQ(vcpu0->evtchn_upcall_pending, 1);
    CHECK_EQ(evtchn_send(hi), 0);
    CHECK_EQ(vcpu0->evtchn_pending_sel, 3);
    CHECK_EQ(upcall_count, 0);

    /* A masked port: pending bit only, even with the selector clear. */
    sync_set_bit(masked, shared->evtchn_mask);
    vcpu0->evtchn_pending_sel = 0;
    vcpu0->evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_send(masked), 0);
    CHECK(test_bit(masked, shared->evtchn_pending), "masked port not pending");
    CHECK_EQ(vcpu0->evtchn_pending_sel, 0);
    CHECK_EQ(vcpu0->evtchn_upcall_pending, 0);
    /* An already pending port is not a new edge either. */
    CHECK_EQ(evtchn_send(lo), 0);
    CHECK_EQ(vcpu0->evtchn_pending_sel, 0);

    /* Hypercalls with events masked deliver nothing. */
    HYPERVISOR_xen_version(XENVER_version, NULL);
    CHECK_EQ(upcall_count, 0);

    /* Put the marks back as the hypervisor left them, then enable. */
    vcpu0->evtchn_pending_sel = 3;
    vcpu0->evtchn_upcall_pending = 1;
    events_enable();
    CHECK(upcall_count >= 1, "no upcall after enabling events");
    CHECK_EQ(evt_counts[lo], 1);
    CHECK_EQ(evt_counts[hi], 1);
    CHECK_EQ(evt_counts[masked], 0);
    CHECK(test_bit(masked, shared->evtchn_pending), "masked port lost its pending bit");
    CHECK_EQ(vcpu0->evtchn_upcall_pending, 0);

    /* Unmasking through the hypervisor delivers the held event at once. */
    unsigned before = upcall_count;
    CHECK_EQ(evtchn_unmask(masked), 0);
    CHECK_EQ(evt_counts[masked], 1);
    CHECK_EQ(upcall_count, before + 1);
    CHECK(!test_bit(masked, shared->evtchn_mask), "still masked");

    /* With events on, a send is delivered before the hypercall returns. */
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
        CHECK_EQ(evtchn_send(ports[i]), 0);
    unsigned missing = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
        missing += evt_counts[ports[i]] != (ports[i] == lo || ports[i] == hi || ports[i] == masked ? 2 : 1);
    CHECK_EQ(missing, 0);

    /* Masked by the guest's own upcall_mask: held until re-enabled. */
    events_disable();
    CHECK_EQ(evtchn_send(lo), 0);
    CHECK_EQ(evt_counts[lo], 2);
    events_enable();
    CHECK_EQ(evt_counts[lo], 3);

    /* A closed port's pending bit is cleared by close. */
    events_disable();
    CHECK_EQ(evtchn_send(hi), 0);
    CHECK_EQ(evtchn_close(hi), 0);
    CHECK(!test_bit(hi, shared->evtchn_pending), "closed port still pending");
    events_enable();
    CHECK_EQ(evt_counts[hi], 2);
    return RESULT_SUCCESS;
}
