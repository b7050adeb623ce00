/*
 * Timers that raise VIRQ_TIMER: set_timer_op (15), the vcpu_op single-shot
 * and periodic timers; deadlines in the past fire at once, cancelled
 * timers do not fire, periods below 1 ms are refused.  As on Xen 4.17,
 * the periodic timer runs only while its vCPU runs: a vCPU blocked with a
 * periodic timer is woken by its single-shot timer, not by a period, and
 * the periodic timer ticks again once it runs.
 */
#include "guest.h"

static evtchn_port_t tport;

/*
 * Spins (running, events enabled) until VIRQ_TIMER has fired `target`
 * times in all or `limit_ns` passes.  Not blocking: Xen runs a vCPU's
 * periodic timer only while the vCPU is running.
 */
static bool wait_count(unsigned target, uint64_t limit_ns)
{
    uint64_t end = system_time_ns() + limit_ns;

    while (READ_ONCE(evt_counts[tport]) < target)
        if (system_time_ns() > end)
            return false;
    return true;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tport), 0);
    /* Every PV vCPU starts with a periodic timer: stop it to see ours alone. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    events_enable();
    unsigned c;

    /* set_timer_op: 30 ms ahead fires, not much before. */
    uint64_t t0 = system_time_ns();
    c = evt_counts[tport];
    CHECK_EQ(HYPERVISOR_set_timer_op(t0 + 30000000), 0);
    CHECK(wait_count(c + 1, 5000000000UL), "set_timer_op: no VIRQ_TIMER within 5 s");
    uint64_t dt = system_time_ns() - t0;
    CHECK(dt >= 29000000, "set_timer_op fired after %lu ns", dt);
    CHECK_EQ(evt_counts[tport], c + 1);

    /* A deadline in the past fires at once; 0 cancels. */
    c = evt_counts[tport];
    CHECK_EQ(HYPERVISOR_set_timer_op(1), 0);
    CHECK(wait_count(c + 1, 5000000000UL), "past deadline did not fire");
    CHECK_EQ(HYPERVISOR_set_timer_op(system_time_ns() + 20000000), 0);
    CHECK_EQ(HYPERVISOR_set_timer_op(0), 0);
    c = evt_counts[tport];
    CHECK(!wait_count(c + 1, 60000000), "cancelled timer fired");
    CHECK_EQ(evt_counts[tport], c);

    /* Single-shot through vcpu_op. */
    struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = system_time_ns() + 20000000 };
    t0 = system_time_ns();
    c = evt_counts[tport];
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK(wait_count(c + 1, 5000000000UL), "single-shot timer did not fire");
    CHECK(system_time_ns() - t0 >= 19000000, "single-shot fired early");
    ss.timeout_abs_ns = system_time_ns() + 20000000;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &ss), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
    c = evt_counts[tport];
    CHECK(!wait_count(c + 1, 60000000), "stopped single-shot timer fired");
    /* Only for the calling vCPU; bad pointers. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, (void *)0x1000), -XEN_EFAULT);

    /* Periodic: 10 ticks of 5 ms take at least ~45 ms (the first may come at once). */
    struct vcpu_set_periodic_timer pt = { .period_ns = 5000000 };
    t0 = system_time_ns();
    c = evt_counts[tport];
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), 0);
    CHECK(wait_count(c + 10, 10000000000UL), "periodic timer: fewer than 10 ticks in 10 s");
    dt = system_time_ns() - t0;
    CHECK(dt >= 45000000, "10 periodic ticks in %lu ns", dt);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    c = evt_counts[tport];
    CHECK(!wait_count(c + 1, 60000000), "stopped periodic timer fired");

    /*
     * Blocked with a 5 ms periodic timer and a single-shot one 60 ms ahead:
     * woken by the single-shot one (Xen stops the periodic timer while its
     * vCPU is descheduled), then it ticks again while we spin.  A
     * period that lands just as we block wakes us at once: try again.
     */
    pt.period_ns = 5000000;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), 0);
    dt = 0;
    for (unsigned try = 0; try < 5 && dt < 55000000; try++) {
        c = evt_counts[tport];
        t0 = system_time_ns();
        CHECK_EQ(HYPERVISOR_set_timer_op(t0 + 60000000), 0);
        CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_block, NULL), 0);
        dt = system_time_ns() - t0;
        printk("blocked with a periodic timer: woken after %lu us\n", dt / 1000);
        CHECK(evt_counts[tport] > c, "woken without a VIRQ_TIMER");
        if (dt < 55000000)
            CHECK_EQ(HYPERVISOR_set_timer_op(0), 0);
        else
            CHECK(wait_count(evt_counts[tport] + 3, 10000000000UL),
                  "periodic timer did not tick after the wake-up");
    }
    CHECK(dt >= 55000000, "a blocked vCPU was woken by its periodic timer (%lu ns)", dt);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);

    /* Periods below 1 ms are refused; bad pointers. */
    pt.period_ns = 999999;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), -XEN_EINVAL);
    pt.period_ns = 0;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, (void *)0x1000), -XEN_EFAULT);
    c = evt_counts[tport];
    CHECK(!wait_count(c + 1, 30000000), "refused periodic timer fired");
    return RESULT_SUCCESS;
}
