/*
 * Helpers for the SMP race kernels (booted with dom0_max_vcpus=2): vCPU 1
 * started on a function of its own, a two-party barrier between the
 * vCPUs, and bounded waits (a hang is a failure, never a timeout of the
 * runner).  The waits spin without hypercalls, yielding now and then so
 * that the two vCPUs also make progress when they share one CPU.
 */
#ifndef RACE_COMMON_H
#define RACE_COMMON_H

#include "guest.h"

#define RACE_WAIT_NS 30000000000UL

static uint8_t race_stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context race_ctx;
static volatile unsigned race_arrived[2];
static volatile bool race_timed_out;

/* Spins (yielding every so often) until *flag >= want; false after RACE_WAIT_NS. */
static inline bool race_wait(volatile unsigned *flag, unsigned want)
{
    uint64_t deadline = system_time_ns() + RACE_WAIT_NS;
    unsigned spins = 0;

    while (READ_ONCE(*flag) < want) {
        if (++spins % 4096 == 0) {
            if (system_time_ns() > deadline) {
                race_timed_out = true;
                return false;
            }
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        }
        __asm__ volatile("pause");
    }
    return true;
}

/* Both vCPUs call it with the same n (1, 2, ...): returns once both got there. */
static inline bool race_barrier(unsigned n)
{
    unsigned me = smp_this_cpu();

    __atomic_store_n(&race_arrived[me], n, __ATOMIC_SEQ_CST);
    return race_wait(&race_arrived[1 - me], n);
}

/* Starts vCPU 1 on fn (which must never return); vCPU 0 goes on. */
static inline long race_start_vcpu1(smp_fn_t fn)
{
    long rc;

    if ((rc = smp_init_boot_cpu()))
        return rc;
    smp_fill_context(&race_ctx, 1, fn, 0, race_stack1 + sizeof(race_stack1));
    if ((rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &race_ctx)))
        return rc;
    return HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL);
}

/* vCPU 1's end: nothing more to do, so it takes itself down. */
static inline void __attribute__((noreturn)) race_vcpu1_done(void)
{
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
}

#endif
