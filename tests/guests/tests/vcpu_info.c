/*
 * VCPUOP_register_vcpu_info: moves vcpu_info into a page of the guest's
 * choosing; the contents (mask, time) come along, events are then
 * signalled there, and bad placements or a second move are refused.
 */
#include "guest.h"

static char page[4096] __attribute__((aligned(4096), section(".bss.page_aligned")));

static long reg(void *pg, uint32_t offset)
{
    struct vcpu_register_vcpu_info r = { .mfn = va_to_mfn(pg), .offset = offset };
    return HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r);
}

enum result test_main(void)
{
    evtchn_port_t ipi;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);

    /* Hostile placements first: each refused, nothing moved. */
    CHECK_EQ(reg(page, 4096 - 32), -XEN_ENXIO);      /* does not fit in the page */
    CHECK_EQ(reg(page, 0xffffffff), -XEN_ENXIO);
    struct vcpu_register_vcpu_info bad = { .mfn = 0xfffffffffUL, .offset = 0 };
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &bad), -XEN_EINVAL);
    /* A page-table page cannot become a writable vcpu_info page. */
    CHECK_EQ(reg((void *)start_info->pt_base, 0), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, &bad), -XEN_ENOENT);

    memset(page, 0x5a, sizeof(page));
    CHECK_EQ(reg(page, 128), 0);
    struct vcpu_info *vi = (struct vcpu_info *)(page + 128);
    /* The old contents came along: events are still masked there. */
    CHECK_EQ(vi->evtchn_upcall_mask, 1);
    CHECK_EQ(vi->time.version & 1, 0);
    CHECK(vi->time.tsc_to_system_mul != 0, "time info not copied");
    /* Bytes around it untouched. */
    CHECK_EQ((unsigned char)page[127], 0x5a);
    CHECK_EQ((unsigned char)page[128 + 64], 0x5a);

    /* From now on the framework must use the new location. */
    vcpu0 = vi;
    uint64_t t1 = system_time_ns();
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK(system_time_ns() >= t1, "time went backwards in the new vcpu_info");

    /* Events are signalled in the new place. */
    vi->evtchn_upcall_pending = 0;
    vi->evtchn_pending_sel = 0;
    CHECK_EQ(evtchn_send(ipi), 0);
    CHECK_EQ(vi->evtchn_upcall_pending, 1);
    CHECK_EQ(vi->evtchn_pending_sel, 1UL << (ipi / 64));
    events_enable();
    CHECK_EQ(evt_counts[ipi], 1);

    /* Only once. */
    CHECK_EQ(reg(page, 256), -XEN_EINVAL);
    return RESULT_SUCCESS;
}
