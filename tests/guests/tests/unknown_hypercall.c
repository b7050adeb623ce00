/*
 * Hypercall numbers with no handler, through the page and through a raw
 * SYSCALL beyond its 128 slots: -ENOSYS, and the guest carries on.
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
    /* A known one through the raw path still works after all that. */
    CHECK_EQ(hypercall_raw(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
    return RESULT_SUCCESS;
}
