/*
 * CPUID as a PV kernel sees it through the forced-emulation prefix: the
 * hypervisor leaves at 0x40000000 and a filtered view of the CPU.
 */
#include "guest.h"

enum result test_main(void)
{
    uint32_t r[4];

    REQUIRE_EQ(traps_install(), 0);

    pv_cpuid(0x40000000, 0, r);
    printk("leaf 0x40000000: %#x %#x %#x %#x\n", r[0], r[1], r[2], r[3]);
    /* "XenVMMXenVMM" is what PV Linux looks for. */
    CHECK_EQ(r[1], 0x566e6558);
    CHECK_EQ(r[2], 0x65584d4d);
    CHECK_EQ(r[3], 0x4d4d566e);
    CHECK(r[0] >= 0x40000002 && r[0] < 0x40000100, "max leaf %#x", r[0]);

    pv_cpuid(0x40000001, 0, r);
    CHECK_EQ(r[0], HYPERVISOR_xen_version(XENVER_version, NULL));

    /* One hypercall page, installable through MSR 0x40000000. */
    pv_cpuid(0x40000002, 0, r);
    CHECK_EQ(r[0], 1);
    CHECK_EQ(r[1], 0x40000000);

    pv_cpuid(0, 0, r);
    CHECK(r[0] >= 1, "max basic leaf %#x", r[0]);
    pv_cpuid(1, 0, r);
    printk("leaf 1: ecx %#x edx %#x\n", r[2], r[3]);
    CHECK(r[2] & (1U << 31), "hypervisor bit clear in leaf 1 ecx");
    /* A PV guest cannot use VMX, nor monitor/mwait. */
    CHECK(!(r[2] & (1U << 5)), "VMX offered to a PV guest");
    CHECK(!(r[2] & (1U << 3)), "MONITOR offered to a PV guest");
    /* Long mode is what we run in. */
    pv_cpuid(0x80000001, 0, r);
    CHECK(r[3] & (1U << 29), "LM clear in leaf 0x80000001");
    return RESULT_SUCCESS;
}
