/*
 * VCPUOP_initialise whose CR3 names a huge tree not yet validated (of
 * vCPU 1, or a later one, below): validating the new root is preemptible, as in
 * Xen 4.17's arch_set_info_guest (docs/pv-mm.md, "Partly validated
 * tables").  The tree is mmu_tree.h's (one L4 with our kernel slot, its
 * L1s all mapping one data page), never pinned.  With an event left
 * pending behind the hypervisor's back (as mmu_pin_preempt), the call
 * must stop and be continued: the upcall arrives on vcpu_op's SYSCALL.
 * The re-issued call finishes (0), and that vCPU then runs on the tree: it
 * reads the data page through the tree's last L1 entry.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call (then nothing is continued, and that vCPU is initialised for
 * good): the attempt is made again on the next vCPU, once the missed
 * one has let go of the tree (vcpu_fresh.h; booted with
 * dom0_max_vcpus=4).
 */
#define MMU_POOL_PAGES 4
#include "vcpu_fresh.h"

#define MAX_TABLES 4096

static evtchn_port_t ipi;
static struct vcpu_guest_context ctx;
static volatile uint64_t got_word;
static volatile int started;
static unsigned target;         /* the vCPU of the current attempt */

/* The vCPU whose attempt counted, on the tree: the data page through the last L1's last entry. */
static void fresh_run(unsigned cpu)
{
    (void)cpu;
    got_word = *(volatile uint64_t *)(TREE_VA + ((nr_l1 - 1) << 21) + (511UL << 12));
    __atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
}

static void init_prepare(void *arg)
{
    (void)arg;
    fresh_context(&ctx, ++target);
    ctx.ctrlreg[3] = l4() << 12;
}

static long init_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, target, &ctx);
}

static void init_missed(void *arg, long rc)
{
    (void)arg;
    REQUIRE(rc == 0, "the missed initialise of vCPU %u returned %ld", target, rc);
    fresh_release(target);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = NULL;      /* the lib's upcall; preempt_call() notes where it lands */

    tree_init(MAX_TABLES);

    /* One vCPU per attempt: a missed one is initialised for good. */
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_vcpu_op, .what = "the initialise",
                               .attempts = FRESH_VCPUS, .prepare = init_prepare,
                               .call = init_call, .missed = init_missed };
    long rc;
    bool at_syscall = preempt_call(&pc, &rc);
    CHECK_EQ(rc, 0);
    CHECK(at_syscall,
          "the initialise with a %lu-table root was not continued in %u attempts (last upcall at %#lx, %u upcalls)",
          (unsigned long)nr_tables, FRESH_VCPUS, (unsigned long)armed_upcall_rip, armed_upcalls);
    if (!at_syscall)
        return RESULT_FAILURE;

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, target, NULL), 0);
    CHECK(fresh_wait(&started), "vCPU %u did not start on the tree", target);
    CHECK_EQ(got_word, MARKER);
    /* Its root holds the L4's type: not mappable writable. */
    CHECK(map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A) != 0,
          "the L4 of vCPU %u's CR3 could be mapped writable", target);
    return RESULT_SUCCESS;
}
