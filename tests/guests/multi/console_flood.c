/*
 * (Mica only: Xen has no way to start a second domain at boot, and Xen
 * 4.17's release build refuses a domU's console_io outright, -EPERM.)
 * A domU floods its console_io as fast as it can, forever: numbered lines,
 * 32 to a call.  Mica's rate limit (`guest_loglvl`, default rate-limited,
 * docs/hypercalls.md) must bound what reaches the serial line and say how
 * many lines it dropped; dom0 must keep running meanwhile.
 *
 * dom0 waits until domain 1 has used 300 ms of CPU flooding, then sleeps
 * 20 times on a 10 ms timer (it would hang there if the flood held the
 * CPU), checks domain 1 is still running and used more CPU meanwhile,
 * destroys it and prints the system time of the destruction.  The
 * runner (tests/guests/run-multi-domain, case console_flood) then checks
 * the log: every "(d1) flood N" line follows the previous one after
 * exactly the number of lines Mica said it suppressed, and there are no
 * more of them than the burst plus one per interval up to that time.
 */
#include "guest.h"
#include <public/domctl.h>

#define LINES_PER_CALL 32
#define WAIT_NS        60000000000ULL

static struct xen_domctl op;
static char buf[LINES_PER_CALL * 64];

static size_t put_line(char *p, uint64_t n)
{
    /* "flood <n> " then filler to 60 characters and a newline. */
    int len = snprintk(p, 64, "flood %lu ", n);
    while (len < 60)
        p[len++] = 'x';
    p[len++] = '\n';
    return (size_t)len;
}

static void __attribute__((noreturn)) domu(void)
{
    uint64_t n = 1;

    for (;;) {
        size_t len = 0;
        for (int i = 0; i < LINES_PER_CALL; i++)
            len += put_line(buf + len, n++);
        HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
    }
}

static uint64_t cpu_ms(void)
{
    REQUIRE_EQ(domctl_fresh(&op, XEN_DOMCTL_getdomaininfo, 1), 0);
    REQUIRE_EQ(op.domain, 1);
    CHECK(!(op.u.getdomaininfo.flags & XEN_DOMINF_shutdown), "domain 1 shut down (flags %#x)",
          op.u.getdomaininfo.flags);
    return op.u.getdomaininfo.cpu_time / 1000000;
}

static enum result dom0(void)
{
    evtchn_port_t tport;
    uint64_t end = system_time_ns() + WAIT_NS, before, after;

    while ((before = cpu_ms()) < 300) {
        if (check_failures || system_time_ns() > end) {
            printk("dom0: domain 1 used only %lu ms of CPU\n", before);
            return RESULT_FAILURE;
        }
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tport), 0);
    unsigned sleeps = timer_block_events(tport, 20, 10000000, WAIT_NS);
    CHECK(sleeps >= 20, "only %u of 20 timer sleeps done", sleeps);
    after = cpu_ms();
    CHECK(after > before, "domain 1 did not run while dom0 slept (%lu ms, then %lu)", before, after);
    printk("dom0: 20 timer sleeps done while domain 1 flooded (its CPU time %lu ms, then %lu ms)\n",
           before, after);
    REQUIRE_EQ(domctl_fresh(&op, XEN_DOMCTL_destroydomain, 1), 0);
    printk("dom0: domain 1 destroyed at system time %lu ms\n",
           (unsigned long)(system_time_ns() / 1000000));
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    if (!(start_info->flags & SIF_INITDOMAIN))
        domu();
    REQUIRE_EQ(events_init(), 0);
    events_enable();
    return dom0();
}
