/*
 * XSAVE/AVX for a PV kernel: CPUID shows XSAVE and AVX, and OSXSAVE in
 * the kernel's forced CPUID; XSETBV is #UD until the kernel sets
 * CR4.OSXSAVE, then #GP(0) for XCR0 values hardware would refuse (no x87,
 * AVX without SSE, bits not offered, XCR index 1); XCR0 = x87|SSE|AVX is
 * taken and read back with XGETBV; CPUID leaf 0xD sizes follow XCR0; the
 * upper YMM halves survive hypervisor entries, a yield, a blocking wait
 * for a timer, and fpu_taskswitch with its #NM.
 */
#include "avx_common.h"

static ymm_set want, got;

static int check_ymm(const char *when)
{
    memset(&got, 0, sizeof(got));
    ymm_store(&got);
    int d = ymm_diff(&want, &got);
    if (d >= 0)
        printk("YMM changed %s: ymm%d word %d is %#lx, want %#lx\n", when, d / 4, d % 4,
               got[d / 4][d % 4], want[d / 4][d % 4]);
    return d;
}

enum result test_main(void)
{
    uint32_t r[4];

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    cpuid_forced(1, 0, r);
    if (!(r[2] & (1u << 28)) || !(r[2] & (1u << 26))) {
        printk("no XSAVE/AVX offered by this CPU (leaf 1 ecx %#x)\n", r[2]);
        return RESULT_SKIP;
    }
    CHECK((r[2] & (1u << 27)) != 0, "forced CPUID for the kernel lacks OSXSAVE");
    CHECK_EQ(read_cr4() & CR4_OSXSAVE, 0);

    /* Before CR4.OSXSAVE: #UD, as on hardware. */
    CHECK_EQ(xsetbv_probe(0, XCR0_X87 | XCR0_SSE), 6);
    write_cr4(read_cr4() | CR4_OSXSAVE);
    CHECK((read_cr4() & CR4_OSXSAVE) != 0, "CR4.OSXSAVE not kept in the guest's view");
    CHECK_EQ(xgetbv0(), XCR0_X87 | XCR0_SSE);

    cpuid_forced(0xd, 0, r);
    CHECK_EQ(r[0] & 7, 7);
    CHECK_EQ(r[1], 576);                /* legacy area + header for x87|SSE */
    CHECK(r[2] >= 832, "leaf 0xD ECX %u below x87+SSE+AVX", r[2]);
    uint64_t offered = r[0] | ((uint64_t)r[3] << 32);
    cpuid_forced(0xd, 2, r);
    CHECK_EQ(r[0], 256);
    CHECK_EQ(r[1], 576);

    /* What hardware refuses is #GP(0); XCR0 stays as it was. */
    CHECK_EQ(xsetbv_probe(0, XCR0_SSE | XCR0_YMM), 13);
    CHECK_EQ(last_trap.error_code, 0);
    CHECK_EQ(last_trap.rip, trap_probe_insn);
    CHECK_EQ(xsetbv_probe(0, XCR0_X87 | XCR0_YMM), 13);
    CHECK_EQ(xsetbv_probe(0, 0), 13);
    CHECK_EQ(xsetbv_probe(0, XCR0_X87 | XCR0_SSE | XCR0_YMM | (1UL << 62)), 13);
    for (unsigned b = 3; b < 64; b++)
        if (!(offered & (1UL << b)))
            CHECK_EQ(xsetbv_probe(0, 7 | (1UL << b)), 13);
    CHECK_EQ(xsetbv_probe(1, XCR0_X87 | XCR0_SSE), 13);
    CHECK_EQ(xgetbv0(), XCR0_X87 | XCR0_SSE);

    /* x87|SSE|AVX. */
    CHECK_EQ(xsetbv_probe(0, XCR0_X87 | XCR0_SSE | XCR0_YMM), -1);
    CHECK_EQ(xgetbv0(), XCR0_X87 | XCR0_SSE | XCR0_YMM);
    cpuid_forced(0xd, 0, r);
    CHECK_EQ(r[1], 832);

    ymm_pattern(&want, 0xa11ce);
    ymm_load(&want);
    CHECK_EQ(check_ymm("at once"), -1);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL) >> 16, 4);
    CHECK_EQ(check_ymm("across a hypercall"), -1);
    for (int i = 0; i < 10; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK_EQ(check_ymm("across yields"), -1);

    /* Block until a one-shot timer 20 ms away arrives as an event upcall. */
    evtchn_port_t port;
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0);
    REQUIRE_EQ(HYPERVISOR_set_timer_op(system_time_ns() + 20000000), 0);
    for (int i = 0; i < 100 && !evt_counts[port]; i++)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    CHECK(evt_counts[port] > 0, "the timer event never came");
    CHECK_EQ(check_ymm("across a blocking wait and an event upcall"), -1);
    events_disable();

    /* Lazy switching: TS set, the first AVX instruction is #NM, state intact. */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK_EQ(TRAP_PROBE("9990: vmovdqa %%ymm3, %%ymm3"), 7);
    CHECK_EQ(TRAP_PROBE("9990: vmovdqa %%ymm3, %%ymm3"), -1);
    CHECK_EQ(check_ymm("across fpu_taskswitch and #NM"), -1);

    /* Dropping AVX makes VEX instructions #UD. */
    CHECK_EQ(xsetbv_probe(0, XCR0_X87 | XCR0_SSE), -1);
    CHECK_EQ(TRAP_PROBE("9990: vmovdqa %%ymm3, %%ymm3"), 6);
    cpuid_forced(0xd, 0, r);
    CHECK_EQ(r[1], 576);
    return RESULT_SUCCESS;
}
