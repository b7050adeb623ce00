/*
 * fpu_taskswitch (5): a set virtual CR0.TS makes the next FPU or SSE
 * instruction raise #NM in the guest, once (TS is cleared as #NM is
 * delivered); clearing it, or CLTS, lets FPU instructions run.
 */
#include "guest.h"

static uint64_t read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);

    /* FPU usable at start. */
    CHECK_EQ(TRAP_PROBE("9990: fninit"), -1);

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK((read_cr0() & 8) != 0, "CR0.TS not visible after fpu_taskswitch(1)");
    CHECK_EQ(TRAP_PROBE("9990: fninit"), 7);
    CHECK_EQ(last_trap.rip, trap_probe_insn);
    /* Delivering #NM cleared TS: the retry runs. */
    CHECK_EQ(TRAP_PROBE("9990: fninit"), -1);
    CHECK_EQ(read_cr0() & 8, 0);

    /* SSE is covered by TS too. */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK_EQ(TRAP_PROBE("9990: movaps %%xmm0, %%xmm1"), 7);
    CHECK_EQ(TRAP_PROBE("9990: movaps %%xmm0, %%xmm1"), -1);

    /* Set then clear: no #NM. */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK_EQ(TRAP_PROBE("9990: fninit"), -1);

    /* CLTS (emulated for the guest kernel) clears it as well. */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK_EQ(TRAP_PROBE("9990: clts"), -1);
    CHECK_EQ(TRAP_PROBE("9990: fninit"), -1);

    /* Any nonzero argument sets TS. */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0x100), 0);
    CHECK_EQ(TRAP_PROBE("9990: fwait"), 7);

    /* FPU state survives a trip through the hypervisor. */
    uint16_t cw = 0x27f, got = 0;
    __asm__ volatile("fninit; fldcw %0" :: "m"(cw));
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    __asm__ volatile("fnstcw %0" : "=m"(got));
    CHECK_EQ(got, 0x27f);
    CHECK_EQ(trap_counts[7], 3);
    return RESULT_SUCCESS;
}
