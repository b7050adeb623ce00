/*
 * vm_assist (21): valid types can be enabled and disabled, others are
 * refused; and one assist whose effect a kernel can see
 * (architectural_iopl: the IOPL field of bounce frames).
 */
#include "guest.h"


enum result test_main(void)
{
    static const unsigned valid[] = {
        VMASST_TYPE_4gb_segments, VMASST_TYPE_4gb_segments_notify,
        VMASST_TYPE_writable_pagetables, VMASST_TYPE_pae_extended_cr3,
        VMASST_TYPE_architectural_iopl, VMASST_TYPE_runstate_update_flag,
        VMASST_TYPE_m2p_strict,
    };
    static const unsigned invalid[] = { 6, 7, 31, 33, 63, 64, 1000, 0xffffffff };

    REQUIRE_EQ(traps_install(), 0);
    for (unsigned i = 0; i < ARRAY_SIZE(valid); i++) {
        CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, valid[i]), 0);
        CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_disable, valid[i]), 0);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(invalid); i++) {
        long rc = HYPERVISOR_vm_assist(VMASST_CMD_enable, invalid[i]);
        if (rc != -XEN_EINVAL)
            check_failed(__FILE__, __LINE__, "enable type %u: %ld", invalid[i], rc);
    }
    CHECK_EQ(HYPERVISOR_vm_assist(2, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_vm_assist(0xffffffff, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);

    /*
     * An observable effect: with architectural_iopl the bounce frame's
     * RFLAGS.IOPL reports the virtual IOPL; without it, 0.
     */
    struct physdev_set_iopl io = { .iopl = 3 };
    CHECK_EQ(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &io), 0);
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);
    CHECK_EQ(last_trap.rflags & 0x3000, 0);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_architectural_iopl), 0);
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);
    CHECK_EQ(last_trap.rflags & 0x3000, 0x3000);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_TYPE_architectural_iopl), 0);
    CHECK_EQ(TRAP_PROBE("9990: ud2"), 6);
    CHECK_EQ(last_trap.rflags & 0x3000, 0);
    return RESULT_SUCCESS;
}
