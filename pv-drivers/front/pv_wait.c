/* Waiting on event-channel ports with SCHEDOP_poll (see pv_wait.h). */
#include "pv_wait.h"

#define POLL_SLICE_NS 100000000ull   /* re-check state this often even without an event */

uint64_t pv_deadline_s(unsigned seconds)
{
    return system_time_ns() + (uint64_t)seconds * 1000000000ull;
}

bool pv_deadline_passed(uint64_t deadline)
{
    return system_time_ns() >= deadline;
}

void pv_port_ack(evtchn_port_t port)
{
    sync_clear_bit(port, map_shared_info()->evtchn_pending);
}

void pv_port_wait(evtchn_port_t port, uint64_t deadline)
{
    uint64_t now = system_time_ns();
    struct sched_poll p = {
        .ports = (uint64_t)&port, .nr_ports = 1,
        .timeout = now + POLL_SLICE_NS < deadline ? now + POLL_SLICE_NS : deadline,
    };

    if (now >= deadline)
        return;
    /* A poll that fails (no such port) must still not spin without
     * giving the back end the CPU. */
    if (HYPERVISOR_sched_op(SCHEDOP_poll, &p))
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

long pv_port_alloc(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = HC(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, &a, 0);

    if (!rc)
        *port = a.port;
    return rc;
}
