/*
 * The guest's clock (vcpu_time_info: system time from the TSC) keeps the
 * host's pace.  The host's time comes from the CMOS RTC, which QEMU runs
 * on the host clock: its seconds register changes exactly once a second.
 * The kernel times EDGES seconds changes by its own clock and compares
 * with the seconds the RTC counted meanwhile (from its values, not from
 * the changes seen: a vCPU the host stalls across a change, or several,
 * loses none; before, a stalled run compared 16 s with 14).
 *
 * An edge lies between the last read that saw the old second (its start)
 * and the first that saw the new one (its end); an edge whose bracket is
 * wider than MAX_BRACKET_NS (the host stalled this vCPU then) is not used
 * and the next one is taken instead, so a loaded host widens nothing.
 * The rate must be right within TOLERANCE_PPM plus the two brackets: a
 * clock off by 0.3 % (Mica's TSC calibration once was) misses it by far.
 * No assertion on speed: only the clock's rate is checked.  A busy host
 * only makes the run longer (edges are skipped, the interval grows, which
 * makes the measurement finer); if it is so busy that no edge at all can
 * be timed to MAX_BRACKET_NS within START_TRIES (END_TRIES) edges, the
 * rate cannot be measured and the test says SKIP with that reason.
 */
#include "guest.h"

#define EDGES           10
#define MAX_BRACKET_NS  2000000ULL          /* 2 ms */
#define TOLERANCE_PPM   1000                /* 0.1 % */
#define START_TRIES     20
#define END_TRIES       30
#define RTC_INDEX       0x70
#define RTC_DATA        0x71

static bool rtc_binary;                 /* status register B, DM: values not BCD */
static unsigned rtc_last;               /* the seconds value last read, 0-59 */
static unsigned rtc_elapsed;            /* host seconds passed since the first read */

static uint8_t rtc_read(uint8_t reg)
{
    uint8_t v;

    __asm__ volatile("outb %b0, %w1" :: "a"(reg), "Nd"((uint16_t)RTC_INDEX));
    __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"((uint16_t)RTC_DATA));
    return v;
}

/*
 * The RTC's seconds, and rtc_elapsed advanced by however many seconds
 * passed since the last read: a vCPU the host stalls across a seconds
 * change (or several) between two reads still counts every second.
 */
static unsigned rtc_seconds(void)
{
    uint8_t raw = rtc_read(0x00);
    unsigned v = rtc_binary ? raw : (raw >> 4) * 10 + (raw & 0xf);

    if (v != rtc_last)
        rtc_elapsed += (v + 60 - rtc_last) % 60;
    rtc_last = v;
    return v;
}

/* Waits for the next seconds change; its time by our clock, bracket in *width. */
static uint64_t next_edge(uint64_t *width)
{
    uint64_t start = system_time_ns(), before, prev_before;
    unsigned s = rtc_seconds(), now;

    prev_before = system_time_ns();
    for (;;) {
        before = system_time_ns();
        now = rtc_seconds();
        if (now != s) {
            uint64_t after = system_time_ns();
            /* A clock update between the reads may step it back a little. */
            *width = after > prev_before ? after - prev_before : 0;
            return prev_before + *width / 2;
        }
        prev_before = before;
        if (before - start > 3000000000ULL)
            error_exit("the RTC's seconds did not change in 3 s");
    }
}

/*
 * An edge with a bracket no wider than MAX_BRACKET_NS among the next
 * `tries` edges; counts the seconds passed.  0: none (the host kept
 * stalling this vCPU at the edges).
 */
static uint64_t sharp_edge(uint64_t *width, unsigned *seconds, unsigned tries)
{
    for (unsigned i = 0; i < tries; i++) {
        uint64_t t = next_edge(width);
        *seconds = rtc_elapsed;
        if (*width <= MAX_BRACKET_NS)
            return t;
        printk("  edge with a %lu us bracket: not used\n", *width / 1000);
    }
    return 0;
}

enum result test_main(void)
{
    struct physdev_set_iopl iopl = { .iopl = 1 };
    uint64_t w0, w1, t0, t1, host_ns, guest_ns, slack_ns;
    unsigned secs, secs0 = 0, secs1 = 0;
    int64_t diff;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE(map_shared_info() != NULL, "shared_info");
    REQUIRE_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);

    rtc_binary = rtc_read(0x0b) & 0x04;
    (void)rtc_seconds();
    rtc_elapsed = 0;
    t0 = sharp_edge(&w0, &secs0, START_TRIES);
    if (!t0) {
        printk("no RTC edge could be timed to %llu us in %u s: the host is too busy to "
               "measure the clock's rate\n", MAX_BRACKET_NS / 1000, secs0);
        return RESULT_SKIP;
    }
    while (rtc_elapsed - secs0 < EDGES - 1)
        (void)next_edge(&w1);
    t1 = sharp_edge(&w1, &secs1, END_TRIES);
    if (!t1) {
        printk("no closing RTC edge could be timed to %llu us in %u s: the host is too busy "
               "to measure the clock's rate\n", MAX_BRACKET_NS / 1000, END_TRIES);
        return RESULT_SKIP;
    }
    secs = secs1 - secs0;
    host_ns = (uint64_t)secs * 1000000000ULL;
    guest_ns = t1 - t0;
    diff = (int64_t)(guest_ns - host_ns);
    slack_ns = host_ns / 1000000 * TOLERANCE_PPM + w0 / 2 + w1 / 2;
    printk("%u s of host time took %lu.%09lu s by the guest's clock: %ld ppm "
           "(brackets %lu, %lu us; allowed +-%lu us)\n",
           secs, guest_ns / 1000000000, guest_ns % 1000000000,
           diff * 1000000 / (int64_t)host_ns, w0 / 1000, w1 / 1000, slack_ns / 1000);
    CHECK((diff < 0 ? (uint64_t)-diff : (uint64_t)diff) <= slack_ns,
          "the guest's clock is off by %ld us over %u s", diff / 1000, secs);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
