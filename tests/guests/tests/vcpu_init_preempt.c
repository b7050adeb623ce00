/*
 * VCPUOP_initialise whose CR3 names a huge tree not yet validated (booted
 * with dom0_max_vcpus=2): validating the new root is preemptible, as in
 * Xen 4.17's arch_set_info_guest (docs/pv-mm.md, "Partly validated
 * tables").  The tree is mmu_tree.h's (one L4 with our kernel slot, its
 * L1s all mapping one data page), never pinned.  With an event left
 * pending behind the hypervisor's back (as mmu_pin_preempt), the call
 * must stop and be continued: the upcall arrives on vcpu_op's SYSCALL.
 * The re-issued call finishes (0), and vCPU 1 then runs on that tree: it
 * reads the data page through the tree's last L1 entry.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call (then nothing is continued, and vCPU 1 is initialised
 * already): the test says so and fails rather than counting it.
 */
#define MMU_POOL_PAGES 4
#include "mmu_tree.h"

#define MAX_TABLES 4096

static evtchn_port_t ipi;
static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static volatile uint64_t got_word, got_cr3_ok;
static volatile int started;

/* vCPU 1, on the tree: the data page through the last L1's last entry. */
static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg;
    (void)arg2;
    got_word = *(volatile uint64_t *)(TREE_VA + ((nr_l1 - 1) << 21) + (511UL << 12));
    __atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

static long init_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = NULL;      /* the lib's upcall; preempt_call() notes where it lands */

    tree_init(MAX_TABLES);
    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    ctx.ctrlreg[3] = l4() << 12;

    /* One attempt only: a missed one leaves vCPU 1 with its context for good. */
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_vcpu_op, .what = "the initialise",
                               .attempts = 1, .call = init_call };
    long rc;
    bool at_syscall = preempt_call(&pc, &rc);
    CHECK_EQ(rc, 0);
    CHECK(at_syscall,
          "the initialise with a %lu-table root was not continued (upcall at %#lx, %u upcalls)",
          (unsigned long)nr_tables, (unsigned long)armed_upcall_rip, armed_upcalls);

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    uint64_t until = system_time_ns() + 5000000000UL;
    while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST) && system_time_ns() < until)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK(started, "vCPU 1 did not start on the tree");
    CHECK_EQ(got_word, MARKER);
    /* Its root holds the L4's type: not mappable writable. */
    CHECK(map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A) != 0,
          "the L4 of vCPU 1's CR3 could be mapped writable");
    return RESULT_SUCCESS;
}
