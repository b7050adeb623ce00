/*
 * A fresh vCPU for each attempt of the tests whose preempted call is a
 * VCPUOP_initialise naming mmu_tree.h's tree (vcpu_init_preempt,
 * vcpu_init_user_preempt; booted with dom0_max_vcpus=FRESH_VCPUS+1).
 *
 * An interrupt between arming the event and the SYSCALL delivers the
 * upcall before the call, which then runs unpreempted: its vCPU is
 * initialised for good (VCPUOP_initialise of it again is -EEXIST, and
 * Xen 4.17 refuses a domctl reset of a vCPU of one's own domain), and the
 * tree is validated to the end.  So a missed attempt's vCPU is brought up
 * to let go of the tree: it moves its kernel root to our boot L4 and
 * drops its user root, the tree's last reference goes and the tree is
 * plain memory again (checked), and the next attempt names the next vCPU
 * and finds the tree as the first one did.  A hypervisor that does not
 * preempt the call misses every attempt and the test fails.
 */
#ifndef VCPU_FRESH_H
#define VCPU_FRESH_H

#include "mmu_tree.h"

#define FRESH_VCPUS     3           /* vCPUs 1..3 */
#define FRESH_WAIT_NS   60000000000UL   /* generous: a loaded host runs TCG slowly */

_Static_assert(FRESH_VCPUS < SMP_MAX_VCPUS, "one smp_percpu record per vCPU");

static uint8_t fresh_stacks[FRESH_VCPUS + 1][16384] __attribute__((aligned(16)));
static volatile bool fresh_release_asked[FRESH_VCPUS + 1];
/* Set by the vCPU: 1 when it let go of the tree, 2 when a new root was refused. */
static volatile int fresh_released[FRESH_VCPUS + 1];
/* What a vCPU whose attempt counted runs (the test's own check). */
static void fresh_run(unsigned cpu);

static void fresh_vcpu_main(uint64_t cpu, uint64_t arg2)
{
    (void)arg2;
    if (fresh_release_asked[cpu]) {
        long rc = ext1(MMUEXT_NEW_BASEPTR, smp_kernel_cr3() >> 12);

        if (!rc)
            rc = ext1(MMUEXT_NEW_USER_BASEPTR, 0);
        __atomic_store_n(&fresh_released[cpu], rc ? 2 : 1, __ATOMIC_SEQ_CST);
    } else {
        fresh_run((unsigned)cpu);
    }
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

/* A context for vCPU cpu entering fresh_vcpu_main on its own stack. */
static void fresh_context(struct vcpu_guest_context *c, unsigned cpu)
{
    REQUIRE(cpu >= 1 && cpu <= FRESH_VCPUS, "no fresh vCPU %u (1..%u)", cpu, FRESH_VCPUS);
    smp_fill_context(c, cpu, fresh_vcpu_main, cpu, fresh_stacks[cpu] + sizeof(fresh_stacks[cpu]));
}

/* Waits, yielding, until *flag is non-zero or FRESH_WAIT_NS has passed. */
static bool fresh_wait(volatile int *flag)
{
    uint64_t until = system_time_ns() + FRESH_WAIT_NS;

    while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST) && system_time_ns() < until)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    return __atomic_load_n(flag, __ATOMIC_SEQ_CST) != 0;
}

/* After a missed attempt on vCPU cpu (initialised by it): the tree given back. */
static void fresh_release(unsigned cpu)
{
    fresh_release_asked[cpu] = true;
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, cpu, NULL), 0);
    REQUIRE(fresh_wait(&fresh_released[cpu]), "vCPU %u did not let go of the tree", cpu);
    REQUIRE(fresh_released[cpu] == 1, "vCPU %u could not move to the boot L4 / drop its user root",
            cpu);
    unsigned typed = tree_typed_frames();
    REQUIRE(typed == 0, "%u tree frames still typed after vCPU %u let go of it", typed, cpu);
}

#endif
