/*
 * vcpu_op (24) queries: is_up, get_runstate_info (running, with time
 * accounted), register_runstate_memory_area kept up to date, get_physid,
 * and bad vCPU ids, bad pointers, unknown sub-ops, and initialise/up of a
 * vCPU that does not exist.
 */
#include "guest.h"

static struct vcpu_runstate_info area;

enum result test_main(void)
{
    struct vcpu_runstate_info ri;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffff, NULL), -XEN_ENOENT);

    memset(&ri, 0xff, sizeof(ri));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &ri), 0);
    CHECK_EQ(ri.state, RUNSTATE_running);
    CHECK(ri.time[RUNSTATE_running] > 0, "no running time accounted");
    CHECK(ri.state_entry_time <= system_time_ns(), "state entered in the future");
    uint64_t total = ri.time[0] + ri.time[1] + ri.time[2] + ri.time[3];
    CHECK(total <= system_time_ns(), "accounted %lu ns, more than system time", total);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &ri), -XEN_ENOENT);

    /* A registered area is filled in at once and kept current. */
    struct vcpu_register_runstate_memory_area ra = { .addr.v = (uint64_t)&area };
    memset(&area, 0xff, sizeof(area));
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0);
    CHECK_EQ(area.state, RUNSTATE_running);
    uint64_t before = area.time[RUNSTATE_running];
    for (int i = 0; i < 5; i++) {
        uint64_t until = system_time_ns() + 2000000;
        while (system_time_ns() < until)
            ;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    CHECK(area.time[RUNSTATE_running] + area.time[RUNSTATE_runnable] > before,
          "runstate area not updated");
    ra.addr.v = 0;   /* unregister */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0);

    struct vcpu_get_physid pid;
    long rc = HYPERVISOR_vcpu_op(VCPUOP_get_physid, 0, &pid);
    CHECK(rc == 0 || rc == -XEN_EINVAL, "get_physid: %ld", rc);

    /* vCPU 1 does not exist (dom0_max_vcpus=1). */
    static struct vcpu_guest_context ctx;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), -XEN_ENOENT);
    /* vCPU 0 is already initialised. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 0, &ctx), -XEN_EEXIST);

    /* Unknown sub-ops. */
    CHECK_EQ(HYPERVISOR_vcpu_op(14, 0, NULL), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_vcpu_op(0x7fffffff, 0, NULL), -XEN_ENOSYS);
    return RESULT_SUCCESS;
}
