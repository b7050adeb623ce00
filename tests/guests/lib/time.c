/*
 * Guest view of time: vcpu_time_info read under its version protocol and
 * extrapolated with the TSC, and the forced-emulation CPUID.
 */
#include "guest.h"

uint64_t tsc_delta_to_ns(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint32_t wallclock_read(uint64_t *sec, uint32_t *nsec)
{
    uint32_t v;

    do {
        v = shared->wc_version;
        __asm__ volatile("lfence" ::: "memory");
        *sec = shared->wc_sec | ((uint64_t)shared->wc_sec_hi << 32);
        *nsec = shared->wc_nsec;
        __asm__ volatile("lfence" ::: "memory");
    } while ((v & 1) || v != shared->wc_version);
    return v;
}

uint64_t system_time_ns(void)
{
    volatile struct vcpu_time_info *t = &vcpu0->time;
    uint32_t v;
    uint64_t ns;

    /*
     * A hypervisor that never published the time would make every wait
     * below spin forever: end the test with ERROR instead.
     */
    if (!t->version || !t->tsc_to_system_mul)
        error_exit("vcpu_time_info not published (version %u, mul %#x)", t->version,
                   t->tsc_to_system_mul);
    do {
        v = t->version;
        __asm__ volatile("lfence" ::: "memory");
        uint64_t stamp = t->tsc_timestamp, sys = t->system_time;
        uint32_t mul = t->tsc_to_system_mul;
        int8_t shift = t->tsc_shift;
        uint64_t now = rdtsc();
        ns = sys + tsc_delta_to_ns(now - stamp, mul, shift);
        __asm__ volatile("lfence" ::: "memory");
    } while ((v & 1) || v != t->version);
    return ns;
}

void spin_until_ns(uint64_t deadline_ns)
{
    while (system_time_ns() < deadline_ns)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

void pv_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("ud2; .ascii \"xen\"; cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "0"(leaf), "2"(sub));
}

unsigned timer_block_events(evtchn_port_t tport, unsigned count, uint64_t period_ns,
                            uint64_t limit_ns)
{
    unsigned before;
    uint64_t end = system_time_ns() + limit_ns;

    HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    before = READ_ONCE(evt_counts[tport]);
    while (READ_ONCE(evt_counts[tport]) - before < count && system_time_ns() < end) {
        unsigned seen = READ_ONCE(evt_counts[tport]);

        HYPERVISOR_set_timer_op(system_time_ns() + period_ns);
        while (READ_ONCE(evt_counts[tport]) == seen && system_time_ns() < end)
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    }
    HYPERVISOR_set_timer_op(0);
    return READ_ONCE(evt_counts[tport]) - before;
}
