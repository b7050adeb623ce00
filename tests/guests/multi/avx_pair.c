/*
 * (Mica only: Xen has no way to start a second domain at boot.)
 * Two domains using AVX at once: each sets XCR0 = x87|SSE|AVX, fills all
 * sixteen YMM registers with its own pattern and spins, checking them
 * again and again, while the scheduler switches between the two.  A lost
 * upper half or the other domain's pattern showing through fails the
 * domain that sees it.  Each also counts the gaps in its own progress
 * (over 2 ms) to show that the other domain really ran in between.
 * dom0 spins longer, so the domain-1 verdict is printed first.
 */
#include "../tests/avx_common.h"

#define MIN_GAPS 10

static ymm_set want, got;

static enum result spin_and_check(const char *who, uint64_t seed, uint64_t spin_ns)
{
    uint32_t r[4];
    unsigned checks = 0, gaps = 0;

    cpuid_forced(1, 0, r);
    if (!(r[2] & (1u << 28))) {
        printk("%s: no AVX offered\n", who);
        return RESULT_SKIP;
    }
    write_cr4(read_cr4() | CR4_OSXSAVE);
    REQUIRE_EQ(xsetbv_probe(0, XCR0_X87 | XCR0_SSE | XCR0_YMM), -1);
    ymm_pattern(&want, seed);
    ymm_load(&want);

    uint64_t start = system_time_ns(), last = start, now;
    while ((now = system_time_ns()) - start < spin_ns) {
        if (now - last > 2000000)
            gaps++;
        last = now;
        ymm_store(&got);
        int d = ymm_diff(&want, &got);
        if (d >= 0) {
            printk("%s: ymm%d word %d is %#lx, want %#lx after %u checks\n", who, d / 4, d % 4,
                   got[d / 4][d % 4], want[d / 4][d % 4], checks);
            return RESULT_FAILURE;
        }
        checks++;
        CHECK_EQ(xgetbv0(), XCR0_X87 | XCR0_SSE | XCR0_YMM);
    }
    printk("%s: YMM intact over %u checks, %u gaps where the other domain ran\n", who, checks, gaps);
    CHECK(gaps >= MIN_GAPS, "%s: only %u gaps: the domains did not interleave", who, gaps);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    if (start_info->flags & SIF_INITDOMAIN)
        return spin_and_check("avx dom0", 0xd0d0, 3000000000UL);
    return spin_and_check("avx domU", 0xd1d1, 2000000000UL);
}
