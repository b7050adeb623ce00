/*
 * EVTCHNOP_reset: closes every port of the domain (pending state
 * included) so that allocation starts again from port 1; other domains
 * and bad pointers are refused.
 */
#include "guest.h"

enum result test_main(void)
{
    struct evtchn_status st;
    evtchn_port_t p[6];

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    REQUIRE_EQ(evtchn_alloc_unbound_self(&p[0]), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &p[1]), 0);
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &p[2]), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &p[3]), 0);
    CHECK_EQ(evtchn_send(p[3]), 0);
    CHECK(test_bit(p[3], shared->evtchn_pending), "sent port not pending");

    struct evtchn_reset r = { .dom = DOMID_SELF };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0);
    for (int i = 0; i < 4; i++) {
        long rc = evtchn_status(p[i], &st);
        CHECK(rc == -XEN_EINVAL || (rc == 0 && st.status == EVTCHNSTAT_closed),
              "port %u after reset: %ld, status %u", p[i], rc, st.status);
    }
    CHECK(!test_bit(p[3], shared->evtchn_pending), "pending bit survived the reset");

    /* Everything can be bound again, from port 1. */
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_DEBUG, 0, &p[4]), 0);
    CHECK_EQ(p[4], 1);
    REQUIRE_EQ(evtchn_bind_ipi(0, &p[5]), 0);
    CHECK_EQ(p[5], 2);

    /* Reset by our own id is the same as DOMID_SELF. */
    r.dom = 0;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0);
    CHECK_EQ(evtchn_bind_ipi(0, &p[0]), 0);
    CHECK_EQ(p[0], 1);

    /* Hostile. */
    r.dom = 0x7000;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), -XEN_ESRCH);
    r.dom = DOMID_IO;
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r) < 0, "reset of DOMID_IO accepted");
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_reset, (void *)0x1000), -XEN_EFAULT);
    /* Still usable. */
    CHECK_EQ(evtchn_status(p[0], &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    return RESULT_SUCCESS;
}
