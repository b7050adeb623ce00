/*
 * (Mica only: Xen has no way to start a second domain at boot.)
 * Two domains at boot talking over an interdomain event channel, and
 * preemption: one kernel, two roles chosen by start_info's flags.
 *
 *   server (dom0): allocates an unbound port for domain 1, answers every
 *     event from it, then spins without yielding or blocking until the
 *     client's verdict arrives (its upcall interrupts the spin).
 *   client (domain 1, a module marked "domU"): binds to the server's port
 *     (the lowest free one, port 1), exchanges PINGS round trips, then
 *     blocks until TIMER_EVENTS of its own 10 ms single-shot timer events
 *     (re-armed after each; a periodic timer does not wake a blocked vCPU,
 *     as on Xen) have arrived, all while the server spins, and reports with one more
 *     event.  Only a scheduler that preempts the spinning server lets the
 *     client run at all; no rate is demanded, so a slow or loaded host
 *     changes how long this takes, not the verdict.  SPIN_LIMIT_NS only
 *     keeps a broken scheduler from hanging the run.
 *
 * The server's result line is the test's result.
 */
#include "guest.h"

#define PINGS 100
#define TIMER_EVENTS 50
#define SPIN_LIMIT_NS 60000000000UL


static enum result server(void)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 1 };

    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a), 0);
    printk("server: port %u open for domain 1\n", a.port);
    for (unsigned i = 1; i <= PINGS; i++) {
        if (!evt_wait_count(a.port, i, 10000000000UL)) {
            printk("server: ping %u never came\n", i);
            return RESULT_FAILURE;
        }
        CHECK_EQ(evtchn_send(a.port), 0);
    }
    printk("server: %u round trips done; spinning without yielding\n", PINGS);
    uint64_t end = system_time_ns() + SPIN_LIMIT_NS;
    while (READ_ONCE(evt_counts[a.port]) < PINGS + 1 && system_time_ns() < end)
        __asm__ volatile("pause");
    if (READ_ONCE(evt_counts[a.port]) < PINGS + 1) {
        printk("server: no word from the client in 60 s of spinning\n");
        return RESULT_FAILURE;
    }
    printk("server: the client saw its timers while this domain spun\n");
    return RESULT_SUCCESS;
}

static enum result client(void)
{
    evtchn_port_t port, tport;

    /* The server may not have opened its port yet: try for a while. */
    REQUIRE_EQ(evtchn_bind_peer(0, 1, 10000000000UL, &port), 0);
    for (unsigned i = 1; i <= PINGS; i++) {
        CHECK_EQ(evtchn_send(port), 0);
        if (!evt_wait_count(port, i, 10000000000UL)) {
            printk("client: reply %u never came\n", i);
            return RESULT_FAILURE;
        }
    }
    printk("client: %u round trips done\n", PINGS);

    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tport), 0);
    uint64_t start = system_time_ns();
    unsigned ticks = timer_block_events(tport, TIMER_EVENTS, 10000000, SPIN_LIMIT_NS);
    printk("client: %u timer events in %lu ms while the server spun\n", ticks,
           (unsigned long)((system_time_ns() - start) / 1000000));
    CHECK(ticks >= TIMER_EVENTS, "only %u timer events", ticks);
    if (ticks >= TIMER_EVENTS)
        CHECK_EQ(evtchn_send(port), 0);
    return ticks >= TIMER_EVENTS ? RESULT_SUCCESS : RESULT_FAILURE;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    events_enable();
    return (start_info->flags & SIF_INITDOMAIN) ? server() : client();
}
