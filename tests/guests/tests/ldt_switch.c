/*
 * An LDT selector reloaded at a context switch (booted with
 * dom0_max_vcpus=2).  vCPU 0 loads ES from its LDT, then sets the LDT
 * again with another size, which drops the hypervisor's mapping of the
 * LDT page: the next load of ES faults on the LDT page inside the
 * hypervisor.  That
 * happens when vCPU 0 is switched back in after vCPU 1 ran: the fault is
 * vCPU 0's (its LDT, its page tables), and must be resolved for it — ES
 * keeps its selector and no failsafe callback runs.  Charged to the
 * vCPU switched out instead (vCPU 1, whose LDT is empty), the load fails
 * and vCPU 0 loses ES through its failsafe callback.
 */
#define MMU_POOL_PAGES 2
#include "mmu_common.h"

#define WAIT_NS   5000000000UL
#define DATA_DESC 0x00cff2000000ffffUL      /* flat 4 GiB RW data, DPL 3 */
#define SEL1      0xfUL                     /* LDT index 1, RPL 3 */

static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static evtchn_port_t ipi0, ipi1;
static volatile int started;
static volatile unsigned fs_count;
uint64_t probe_sel;

static bool failsafe_hook(struct regs *r)
{
    (void)r;
    fs_count++;
    return true;
}

static long set_ldt(uint64_t va, unsigned ents)
{
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT, .arg1.linear_addr = va, .arg2.nr_ents = ents };
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static uint16_t read_es(void)
{
    uint16_t s;
    __asm__ volatile("mov %%es, %0" : "=r"(s));
    return s;
}

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg; (void)arg2;
    smp_events_enable();
    started = 1;
    for (unsigned i = 1;;) {
        if (!smp_wait_event(ipi1, i, WAIT_NS))
            continue;
        evtchn_send(ipi0);
        i++;
    }
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    trap_hooks[VEC_FAILSAFE] = failsafe_hook;
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi0), 0);
    REQUIRE_EQ(evtchn_bind_ipi(1, &ipi1), 0);
    REQUIRE(ipi0 < SMP_PORTS && ipi1 < SMP_PORTS, "ports beyond %u", SMP_PORTS);
    smp_port_cpu[ipi1] = 1;
    smp_events_enable();

    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    uint64_t deadline = system_time_ns() + WAIT_NS;
    while (!started && system_time_ns() < deadline)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    REQUIRE(started, "vCPU 1 never ran");

    memset(pool_page(0), 0, 4096);
    pool_page(0)[1] = DATA_DESC;
    REQUIRE_EQ(pool_ro(0), 0);
    REQUIRE_EQ(set_ldt((uint64_t)pool[0], 2), 0);
    probe_sel = SEL1;
    CHECK_EQ(TRAP_PROBE("movq probe_sel(%%rip), %%rax; 9990: mov %%eax, %%es"), -1);
    CHECK_EQ(read_es(), SEL1);

    for (unsigned i = 1; i <= 3; i++) {
        /* A new LDT (another size): its page leaves the hypervisor's view until used. */
        CHECK_EQ(set_ldt((uint64_t)pool[0], 2 + i % 2), 0);
        CHECK_EQ(evtchn_send(ipi1), 0);
        CHECK(smp_wait_event(ipi0, i, WAIT_NS), "vCPU 1 did not answer IPI %u", i);
        printk("round %u: ES %#x, failsafe callbacks %u\n", i, read_es(), fs_count);
    }
    CHECK_EQ(read_es(), SEL1);
    CHECK_EQ(fs_count, 0);

    __asm__ volatile("mov %0, %%es" :: "r"(0));
    CHECK_EQ(set_ldt(0, 0), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
