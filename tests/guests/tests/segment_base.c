/*
 * set_segment_base (25): FS base, kernel GS base, user (shadow) GS base,
 * each visible to the guest afterwards (through the segment or the
 * emulated MSR read) and kept across hypervisor entries; non-canonical
 * bases and unknown selectors refused.
 */
#include "guest.h"

static uint64_t fs_word, gs_word;

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t read_fs0(void)
{
    uint64_t v;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(v) :: "memory");
    return v;
}

static uint64_t read_gs0(void)
{
    uint64_t v;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v) :: "memory");
    return v;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    fs_word = 0xf5f5f5f5f5f5f5f5UL;
    gs_word = 0x6565656565656565UL;

    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, (uint64_t)&fs_word), 0);
    CHECK_EQ(read_fs0(), fs_word);
    CHECK_EQ(rdmsr(0xc0000100), (uint64_t)&fs_word);

    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (uint64_t)&gs_word), 0);
    CHECK_EQ(read_gs0(), gs_word);
    CHECK_EQ(rdmsr(0xc0000101), (uint64_t)&gs_word);

    /* The user GS base is the inactive one while in kernel mode. */
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, 0x12345000), 0);
    CHECK_EQ(rdmsr(0xc0000102), 0x12345000);
    CHECK_EQ(read_gs0(), gs_word);

    /* Kept across a yield, an exception and an event-free block of calls. */
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);
    for (int i = 0; i < 100; i++)
        HYPERVISOR_xen_version(XENVER_version, NULL);
    CHECK_EQ(read_fs0(), fs_word);
    CHECK_EQ(read_gs0(), gs_word);
    CHECK_EQ(rdmsr(0xc0000102), 0x12345000);

    /* A null user GS selector is accepted. */
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0), 0);

    /* Hostile: non-canonical bases and unknown selectors. */
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x0000800000000000UL), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, 0xffff7fffffffffffUL), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, 0x8000000000000000UL), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_segment_base(4, 0), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_set_segment_base(0xffffffff, 0), -XEN_EINVAL);
    /* ... and the good values are still in place. */
    CHECK_EQ(read_fs0(), fs_word);
    CHECK_EQ(read_gs0(), gs_word);

    /* Zero is a valid base. */
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
    CHECK_EQ(rdmsr(0xc0000100), 0);
    return RESULT_SUCCESS;
}
