/*
 * Time in shared_info: vcpu_time_info follows the version protocol and
 * gives a system time that never goes backwards, advances at the rate of
 * the TSC as scaled by mul/shift (a sane CPU frequency), and agrees with
 * the hypervisor's timers; the wall clock is a plausible date.
 */
#include "guest.h"

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    volatile struct vcpu_time_info *t = &vcpu0->time;

    printk("time: version %u system_time %lu mul %#x shift %d flags %#x\n", t->version,
           t->system_time, t->tsc_to_system_mul, t->tsc_shift, t->flags);
    CHECK_EQ(t->version & 1, 0);
    CHECK(t->version != 0, "time never published");
    REQUIRE(t->tsc_to_system_mul != 0, "mul is 0");
    CHECK(t->tsc_shift >= -32 && t->tsc_shift <= 32, "shift %d", t->tsc_shift);

    /* The TSC rate implied by mul/shift: 10^9 ns per second of ticks. */
    uint64_t hz = (uint64_t)((((unsigned __int128)1000000000 << 32) / t->tsc_to_system_mul));
    hz = t->tsc_shift >= 0 ? hz >> t->tsc_shift : hz << -t->tsc_shift;
    printk("TSC at %lu kHz\n", hz / 1000);
    CHECK(hz > 100000000UL && hz < 20000000000UL, "TSC frequency %lu Hz", hz);

    /* Monotonic over many reads, yields and hypercalls. */
    uint64_t prev = system_time_ns(), first = prev;
    for (int i = 0; i < 20000; i++) {
        uint64_t now = system_time_ns();
        if (now < prev) {
            check_failed(__FILE__, __LINE__, "time went back from %lu to %lu", prev, now);
            break;
        }
        prev = now;
        if (i % 1000 == 0)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    CHECK(prev > first, "system time did not advance");

    /* Published system time is close to our extrapolation. */
    uint64_t ours = system_time_ns();
    uint64_t published = t->system_time;
    CHECK(published <= ours + 1000000, "published %lu ahead of extrapolated %lu", published, ours);

    /* Agrees with a hypervisor timer: a 50 ms poll timeout is 50 ms of our clock. */
    evtchn_port_t quiet;
    REQUIRE_EQ(evtchn_bind_ipi(0, &quiet), 0);
    uint64_t t0 = system_time_ns();
    struct sched_poll p = { .ports = (uint64_t)&quiet, .nr_ports = 1, .timeout = t0 + 50000000 };
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &p), 0);
    uint64_t dt = system_time_ns() - t0;
    /* The upper bound only catches a timeout that never fires; a loaded host may stall seconds. */
    CHECK(dt >= 49000000 && dt < 30000000000UL, "50 ms poll took %lu ns", dt);

    /* Wall clock: even version, seconds after 2020-01-01, nsec < 10^9. */
    uint64_t sec;
    uint32_t nsec;
    wallclock_read(&sec, &nsec);
    uint64_t now_sec = sec + (system_time_ns() + nsec) / 1000000000UL;
    printk("wallclock: boot at %lu.%09u, now %lu\n", sec, nsec, now_sec);
    CHECK(now_sec > 1577836800UL && now_sec < 4102444800UL, "wall clock %lu", now_sec);
    CHECK(nsec < 1000000000U, "wc_nsec %u", nsec);
    return RESULT_SUCCESS;
}
