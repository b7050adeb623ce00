/*
 * Tests of the grace periods behind call_rcu(): a callback runs only
 * after every online CPU has passed a quiescent point since it was
 * queued, batches queued later wait for a later grace period, and CPUs
 * going offline stop holding grace periods up.
 * unit-sources: hypervisor/common/rcu.c tests/unit/log_capture.c
 */
#define UNIT_SUITE "rcu"
#include "unit.h"

#include <mica/lib.h>
#include <mica/percpu.h>
#include <mica/rcu.h>

/* The host test is one CPU whose per-CPU copies are the variables themselves. */
unsigned long per_cpu_offset[NR_CPUS];

static int ran[4];

static void cb0(struct rcu_head *h) { (void)h; ran[0]++; }
static void cb1(struct rcu_head *h) { (void)h; ran[1]++; }
static void cb2(struct rcu_head *h) { (void)h; ran[2]++; }

/* One test body: the rcu state is global, so the steps run in order. */
UNIT_TEST(grace_periods)
{
    struct rcu_head a, b, c;

    /* CPU 0 alone: its own next quiescent point ends the grace period. */
    call_rcu(&a, cb0);
    CHECK_EQ(ran[0], 0);
    rcu_quiescent_cpu(0);
    CHECK_EQ(ran[0], 1);
    rcu_quiescent_cpu(0);
    CHECK_EQ(ran[0], 1);                /* once only */

    /* Two CPUs: both must pass. */
    rcu_cpu_online(1);
    call_rcu(&b, cb1);
    rcu_quiescent_cpu(0);
    CHECK_EQ(ran[1], 0);
    rcu_quiescent_cpu(0);
    CHECK_EQ(ran[1], 0);                /* CPU 1 still may hold a pointer */
    /* Queued while b's grace period runs: needs a grace period of its own. */
    call_rcu(&c, cb2);
    rcu_quiescent_cpu(1);
    CHECK_EQ(ran[1], 1);
    CHECK_EQ(ran[2], 0);
    rcu_quiescent_cpu(1);
    CHECK_EQ(ran[2], 0);
    rcu_quiescent_cpu(0);
    CHECK_EQ(ran[2], 1);

    /* A CPU going offline no longer holds grace periods up. */
    call_rcu(&a, cb0);
    rcu_quiescent_cpu(0);
    CHECK_EQ(ran[0], 1);
    rcu_cpu_offline(1);
    CHECK_EQ(ran[0], 2);
}

UNIT_MAIN()
