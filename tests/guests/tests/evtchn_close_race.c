/*
 * SMP race kernel (docs/smp.md): event-channel bind and close racing
 * sends.  vCPU 0 binds a port (an IPI port for vCPU 1, or an
 * inter-domain loopback pair), publishes it, lets it live a moment and
 * closes it (both ends of a pair, in turn either order); vCPU 1 keeps
 * sending on whatever port is published.
 *
 * Checked: every bind and close answers 0; every send answers 0 or
 * -EINVAL (a port closed under it); after vCPU 0 closes a port, a send
 * on it from vCPU 0 is -EINVAL and its status is closed; the events
 * taken by both vCPUs' upcalls never outnumber the sends that succeeded
 * plus the inter-domain binds (each of which notifies once, as Xen); both
 * sides make progress; at the end nothing is left bound.
 */
#include "race_common.h"

#define ROUNDS 400

static volatile evtchn_port_t published;
static volatile unsigned closing_done;
static volatile unsigned sends_ok, sends_einval, bad_send, bad_bind, bad_close, bad_after;
static unsigned interdomain_binds;

static void sender(void)
{
    unsigned spins = 0;

    while (!READ_ONCE(closing_done)) {
        evtchn_port_t p = READ_ONCE(published);
        if (p) {
            long rc = evtchn_send(p);
            if (rc == 0)
                sends_ok++;
            else if (rc == -XEN_EINVAL)
                sends_einval++;
            else {
                if (!bad_send)
                    printk("send on port %u: %ld\n", p, rc);
                bad_send++;
            }
        }
        if (++spins % 64 == 0)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

static void vcpu1_main(uint64_t a, uint64_t b)
{
    (void)a;
    (void)b;
    smp_events_enable();
    race_barrier(1);
    sender();
    race_barrier(2);
    race_vcpu1_done();
}

static bool closed(evtchn_port_t p)
{
    struct evtchn_status st;

    return evtchn_status(p, &st) == 0 && st.status == EVTCHNSTAT_closed;
}

static void close_checked(evtchn_port_t p, unsigned r)
{
    long rc = evtchn_close(p);

    if (rc) {
        if (!bad_close)
            printk("round %u: close of %u: %ld\n", r, p, rc);
        bad_close++;
        return;
    }
    if (evtchn_send(p) != -XEN_EINVAL || !closed(p)) {
        if (!bad_after)
            printk("round %u: port %u still usable after its close\n", r, p);
        bad_after++;
    }
}

static void binder(void)
{
    for (unsigned r = 0; r < ROUNDS; r++) {
        evtchn_port_t a = 0, b = 0;
        long rc;

        if (r % 2 == 0) {
            rc = evtchn_bind_ipi(1, &a);
            if (!rc && a < SMP_PORTS)
                smp_port_cpu[a] = 1;
        } else {
            rc = evtchn_alloc_unbound_self(&a);
            if (!rc) {
                struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF,
                                                      .remote_port = a };
                if (a < SMP_PORTS)
                    smp_port_cpu[a] = 0;
                rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi);
                b = bi.local_port;
                if (!rc) {
                    interdomain_binds++;
                    if (b < SMP_PORTS)
                        smp_port_cpu[b] = 0;
                }
            }
        }
        if (rc) {
            if (!bad_bind)
                printk("round %u: bind: %ld\n", r, rc);
            bad_bind++;
            if (a)
                evtchn_close(a);
            continue;
        }
        __atomic_store_n(&published, (r & 2) && b ? b : a, __ATOMIC_SEQ_CST);
        /* A moment published: spinning, or (every other round) yielding, so
         * that the sender also gets a turn when both vCPUs share a CPU. */
        if (r % 4 < 2)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        else
            for (unsigned k = 0; k < 200; k++)
                __asm__ volatile("pause");
        if (r % 4 == 3) {
            close_checked(a, r);            /* the published end's peer first */
            __atomic_store_n(&published, 0, __ATOMIC_SEQ_CST);
            close_checked(b, r);
        } else {
            close_checked((r & 2) && b ? b : a, r);
            __atomic_store_n(&published, 0, __ATOMIC_SEQ_CST);
            if (b)
                close_checked((r & 2) ? a : b, r);
        }
    }
    __atomic_store_n(&closing_done, 1, __ATOMIC_SEQ_CST);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(race_start_vcpu1(vcpu1_main), 0);
    smp_events_enable();
    REQUIRE(race_barrier(1), "vCPU 1 never started");
    binder();
    REQUIRE(race_barrier(2), "vCPU 1 did not stop");

    unsigned taken = 0;
    for (unsigned c = 0; c < SMP_MAX_VCPUS; c++)
        for (unsigned p = 0; p < SMP_PORTS; p++)
            taken += smp_evt_counts[c][p];
    printk("%u sends delivered, %u found the port closed; %u events taken; %u loopback binds\n",
           sends_ok, sends_einval, taken, interdomain_binds);
    CHECK_EQ(bad_bind, 0);
    CHECK_EQ(bad_close, 0);
    CHECK_EQ(bad_send, 0);
    CHECK_EQ(bad_after, 0);
    CHECK(sends_ok > 0, "no send succeeded");
    CHECK(taken <= sends_ok + interdomain_binds, "%u events taken for %u sends and %u binds",
          taken, sends_ok, interdomain_binds);
    CHECK(!race_timed_out, "a wait timed out");
    for (evtchn_port_t p = 1; p < SMP_PORTS; p++)
        CHECK(closed(p), "port %u left bound", p);
    return RESULT_SUCCESS;
}
