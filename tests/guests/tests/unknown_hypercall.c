/*
 * Hypercall numbers with no handler, through the page and through a raw
 * SYSCALL beyond its 128 slots: -ENOSYS, and the guest carries on.
 * Two that a Linux guest issues and Xen 4.17 as Debian builds it answers
 * without doing anything: xsm_op (no XSM: -ENOSYS) and xenpmu_op (vPMU
 * off by default: -EOPNOTSUPP, whatever the sub-op and argument).
 */
#include "guest.h"

enum result test_main(void)
{
    static const unsigned unused_in_page[] = { 11, 43, 44, 45, 46, 47, 56, 63, 64, 100, 127 };

    REQUIRE_EQ(traps_install(), 0);
    for (unsigned i = 0; i < ARRAY_SIZE(unused_in_page); i++) {
        long rc = hypercall5(unused_in_page[i], 1, 2, 3, 4, 5);
        if (rc != -XEN_ENOSYS)
            check_failed(__FILE__, __LINE__, "hypercall %u returned %ld", unused_in_page[i], rc);
    }
    static const unsigned long raw[] = { 11, 64, 128, 1000, 0x7fffffff, 0xffffffff,
                                         0x100000000UL, ~0UL };
    for (unsigned i = 0; i < ARRAY_SIZE(raw); i++) {
        long rc = hypercall_raw(raw[i], 0, 0, 0);
        if (rc != -XEN_ENOSYS)
            check_failed(__FILE__, __LINE__, "raw hypercall %#lx returned %ld", raw[i], rc);
    }
    CHECK_EQ(hypercall5(__HYPERVISOR_xsm_op, 0, 0, 0, 0, 0), -XEN_ENOSYS);
    static unsigned long pmu_params[4];
    for (unsigned long sub = 0; sub < 8; sub++)     /* XENPMU_mode_get .. lvtpc_set, and past */
        CHECK_EQ(hypercall5(__HYPERVISOR_xenpmu_op, sub, (unsigned long)pmu_params, 0, 0, 0),
                 -XEN_EOPNOTSUPP);
    CHECK_EQ(hypercall5(__HYPERVISOR_xenpmu_op, 2, 0x1000, 0, 0, 0), -XEN_EOPNOTSUPP);
    /* A known one through the raw path still works after all that. */
    CHECK_EQ(hypercall_raw(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
    return RESULT_SUCCESS;
}
