/*
 * (Mica only, and only with guests on several CPUs: sched_smp=1 on a
 * machine with two or more.)  Two domains run at the same moment.
 *
 *   dom0 grants a page (ref 8) to domain 1, which maps it and then spins
 *   on it without hypercalls, answering each odd number dom0 writes with
 *   the next one.  dom0 counts the rounds in which it got the answer
 *   without having lost its CPU in between: its vCPU's runstate times for
 *   runnable, blocked and offline (VCPUOP_get_runstate_info) did not
 *   change, so it ran throughout, and the answer came from domain 1
 *   running on another CPU at the same time.  On one CPU no such round can
 *   exist; the test then fails at its (generous) deadline, never passes.
 *
 *   Then dom0 pauses domain 1 while it spins on the other CPU, several
 *   times: XEN_DOMCTL_pausedomain must return with domain 1 running
 *   nowhere (getvcpuinfo), domain 1 must not answer while paused, and
 *   must answer again once unpaused.  (The pause waits for the other CPU
 *   to switch away while dom0 holds domctl_lock: docs/fuzzing.md's
 *   lock-order finding, fixed by the per-CPU scheduler.)
 *
 *   Last, dom0 caps domain 1 at 20% of a CPU and watches its CPU time for
 *   2 s while it keeps spinning alone on the other CPU: without the cap it
 *   would use nearly all of it; with it, it must stay well under (60% is
 *   allowed, for TCG's timer lateness), and above nothing.
 *
 * One kernel, two roles chosen by start_info's flags.  dom0's result line
 * is the test's.
 */
#include "../tests/gnt_common.h"
#include <public/domctl.h>
#include <public/vcpu.h>

#define PG_SHARED  4    /* dom0's granted page */
#define AT         12   /* where domain 1 maps it */
#define WAIT_NS    60000000000UL
#define ROUNDS_WANTED 100
#define PAUSE_ROUNDS  20
#define PAUSED_NS     20000000UL    /* how long dom0 watches a paused domain 1 */
#define CAP_PERCENT   20
#define CAP_WATCH_NS  2000000000UL
#define CAP_MAX_SEEN  60            /* percent of the watched time */
#define DONE       (~0UL)

/* Words of the shared page. */
#define W_SEQ      0    /* dom0 writes odd numbers, domain 1 the next even one */
#define W_READY    1    /* domain 1 has mapped the page */


static enum result client(void)
{
    volatile uint64_t *p = (volatile uint64_t *)pool[AT];
    uint64_t end = system_time_ns() + WAIT_NS, answered = 0;
    uint32_t h = ~0u;
    int16_t st;

    REQUIRE_EQ(gnt_init(), 0);
    while ((st = gnt_map((uint64_t)pool[AT], GNTMAP_host_map, 8, 0, &h, NULL)) != GNTST_okay &&
           system_time_ns() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    REQUIRE_EQ(st, GNTST_okay);
    p[W_READY] = 1;
    /* Spin, no hypercalls: only running concurrently answers quickly. */
    for (;;) {
        uint64_t v = p[W_SEQ];
        if (v == DONE)
            break;
        if (v & 1) {
            p[W_SEQ] = v + 1;
            answered++;
        }
        if (system_time_ns() > end) {
            printk("client: dom0 never said it was done\n");
            return RESULT_FAILURE;
        }
        __asm__ volatile("pause");
    }
    printk("client: answered %lu rounds\n", answered);
    CHECK_EQ(gnt_unmap((uint64_t)pool[AT], 0, h), GNTST_okay);
    return RESULT_SUCCESS;
}

static struct xen_domctl op;

static long domctl(uint32_t cmd, domid_t dom) { return domctl_fresh(&op, cmd, dom); }

/* XEN_DOMCTL_scheduler_op putinfo: the credit cap of dom, weight kept. */
static long set_cap(domid_t dom, uint16_t cap)
{
    memset(&op, 0, sizeof(op));
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
    op.u.scheduler_op.u.credit.weight = 0;     /* keep */
    op.u.scheduler_op.u.credit.cap = cap;
    return domctl_call(&op, XEN_DOMCTL_scheduler_op, dom);
}

/* Nanoseconds this vCPU has spent not running, so far. */
static uint64_t time_not_running(void)
{
    struct vcpu_runstate_info ri;

    if (HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &ri))
        return ~0UL;
    return ri.time[RUNSTATE_runnable] + ri.time[RUNSTATE_blocked] + ri.time[RUNSTATE_offline];
}

static enum result server(void)
{
    volatile uint64_t *p = (volatile uint64_t *)pool[PG_SHARED];
    uint64_t end, rounds = 0, concurrent = 0;

    REQUIRE_EQ(gnt_init(), 0);
    memset((void *)p, 0, 4096);
    gnt_grant(8, 1, pool_mfn(PG_SHARED), GTF_permit_access);
    if (!wait_word(&p[W_READY], 1, WAIT_NS)) {
        printk("server: domain 1 never mapped the page\n");
        return RESULT_FAILURE;
    }

    end = system_time_ns() + WAIT_NS;
    while (concurrent < ROUNDS_WANTED && system_time_ns() < end) {
        uint64_t before = time_not_running(), seq = 2 * rounds + 1;

        p[W_SEQ] = seq;
        while (p[W_SEQ] != seq + 1 && system_time_ns() < end)
            __asm__ volatile("pause");
        if (p[W_SEQ] != seq + 1)
            break;
        if (time_not_running() == before)
            concurrent++;
        rounds++;
    }
    printk("server: %lu of %lu rounds answered while this domain kept its CPU\n",
           concurrent, rounds);
    CHECK(concurrent >= ROUNDS_WANTED,
          "domain 1 did not run at the same time as dom0 (is sched_smp=1 on, with 2+ CPUs?)");

    unsigned pauses = 0;
    for (; pauses < PAUSE_ROUNDS && concurrent >= ROUNDS_WANTED; pauses++) {
        uint64_t seq = 2 * rounds + 1, until;

        REQUIRE_EQ(domctl(XEN_DOMCTL_pausedomain, 1), 0);
        REQUIRE_EQ(domctl(XEN_DOMCTL_getvcpuinfo, 1), 0);      /* vCPU 0 */
        CHECK(!op.u.getvcpuinfo.running, "domain 1 still running after pausedomain returned");
        p[W_SEQ] = seq;
        until = system_time_ns() + PAUSED_NS;
        while (system_time_ns() < until && p[W_SEQ] == seq)
            __asm__ volatile("pause");
        CHECK(p[W_SEQ] == seq, "domain 1 answered while paused");
        REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, 1), 0);
        end = system_time_ns() + WAIT_NS;
        while (p[W_SEQ] != seq + 1 && system_time_ns() < end)
            __asm__ volatile("pause");
        CHECK(p[W_SEQ] == seq + 1, "domain 1 did not answer after unpausedomain");
        rounds++;
    }
    printk("server: paused and unpaused domain 1 %u times while it spun on another CPU\n",
           pauses);

    if (concurrent >= ROUNDS_WANTED) {
        uint64_t t0, t1, c0, c1, pct;

        REQUIRE_EQ(set_cap(1, CAP_PERCENT), 0);
        REQUIRE_EQ(domctl(XEN_DOMCTL_getvcpuinfo, 1), 0);
        c0 = op.u.getvcpuinfo.cpu_time;
        t0 = system_time_ns();
        while (system_time_ns() - t0 < CAP_WATCH_NS)
            __asm__ volatile("pause");
        REQUIRE_EQ(domctl(XEN_DOMCTL_getvcpuinfo, 1), 0);
        c1 = op.u.getvcpuinfo.cpu_time;
        t1 = system_time_ns();
        REQUIRE_EQ(set_cap(1, 0), 0);
        pct = (c1 - c0) * 100 / (t1 - t0);
        printk("server: capped at %u%%, domain 1 used %lu%% of %lu ms\n", CAP_PERCENT, pct,
               (t1 - t0) / 1000000);
        CHECK(c1 > c0, "domain 1 did not run at all under its cap");
        CHECK(pct <= CAP_MAX_SEEN, "domain 1 used more than its cap allows");
    }
    p[W_SEQ] = DONE;

    domain_wait_shutdown(&op, 1, WAIT_NS);
    printk("server: domain 1 finished\n");
    return RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);      /* shared_info, for the time */
    return (start_info->flags & SIF_INITDOMAIN) ? server() : client();
}
