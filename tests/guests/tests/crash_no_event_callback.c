/*
 * Hostile: an event becomes deliverable (pending, unmasked) while no
 * event callback is registered.  The hypervisor cannot deliver it and
 * must crash the domain.
 */
#include "guest.h"

enum result test_main(void)
{
    evtchn_port_t ipi;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    REQUIRE_EQ(evtchn_send(ipi), 0);
    REQUIRE_EQ(vcpu0->evtchn_upcall_pending, 1);
    printk("unmasking a pending event with no event callback: the domain must be crashed\n");
    vcpu0->evtchn_upcall_mask = 0;
    HYPERVISOR_xen_version(XENVER_version, NULL);
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    printk("still running: the event was neither delivered nor fatal\n");
    return RESULT_FAILURE;
}
