/*
 * physdev_op(PHYSDEVOP_set_iopl): the virtual IOPL decides whether the
 * guest kernel's port I/O is emulated or bounced back as #GP; values
 * above 3, bad pointers and unknown sub-ops are refused.
 */
#include "guest.h"

static long set_iopl(uint32_t iopl)
{
    struct physdev_set_iopl s = { .iopl = iopl };
    return HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &s);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);

    /* A PV kernel counts as ring 1: IOPL 1 lets it use ports. */
    CHECK_EQ(set_iopl(1), 0);
    CHECK_EQ(TRAP_PROBE("9990: inb $0x80, %%al"), -1);
    CHECK_EQ(TRAP_PROBE("mov $0x80, %%dx; 9990: outb %%al, %%dx"), -1);

    CHECK_EQ(set_iopl(0), 0);
    CHECK_EQ(TRAP_PROBE("9990: inb $0x80, %%al"), 13);
    CHECK_EQ(last_trap.rip, trap_probe_insn);
    CHECK_EQ(TRAP_PROBE("mov $0x80, %%dx; 9990: outb %%al, %%dx"), 13);

    CHECK_EQ(set_iopl(3), 0);
    CHECK_EQ(TRAP_PROBE("9990: inb $0x80, %%al"), -1);

    /* Hostile values leave the current IOPL alone. */
    CHECK_EQ(set_iopl(4), -XEN_EINVAL);
    CHECK_EQ(set_iopl(0xffffffff), -XEN_EINVAL);
    CHECK_EQ(TRAP_PROBE("9990: inb $0x80, %%al"), -1);
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, (void *)0x0000800000000000UL), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_physdev_op(1000, NULL), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_physdev_op(-1, NULL), -XEN_ENOSYS);
    return RESULT_SUCCESS;
}
