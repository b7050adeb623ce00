/*
 * VCPUOP_initialise whose user root (ctrlreg[1]) is the L4 of a huge tree
 * not yet validated, the kernel root (CR3) a small L4 validated already
 * (booted with dom0_max_vcpus=2).  As in Xen 4.17's arch_set_info_guest,
 * the user root's validation is preemptible too: the kernel root, taken
 * first, is kept for the vCPU across the continuation (its
 * old_guest_table) and the re-issued call goes on with the user root
 * (docs/pv-mm.md, "Partly validated tables").  The tree is mmu_tree.h's,
 * never pinned; the kernel root is one more frame past it with our
 * kernel's slot alone, pinned first (so the pending event below stops
 * the user root's validation, not the kernel root's: a validation checks
 * for preemption from its second entry on, a validated table's reference
 * does not).
 *
 * 0. Refused: a user root that cannot be an L4 (our data page, mapped
 *    writable) fails the call (-EINVAL); the kernel L4, unpinned then,
 *    stays typed (Mica keeps it for the vCPU, Xen 4.17 leaves it as the
 *    vCPU's root: dropping it could de-validate a whole tree in one go),
 *    and is pinned again.
 * 1. Abandoned: with an event left pending behind the hypervisor's back
 *    the upcall must land on vcpu_op's SYSCALL (the call stopped); there
 *    both L4s are not mappable writable (the user one partly validated,
 *    the kernel one pinned and kept), and the upcall skips the re-issue.
 *    vCPU 1 is then not initialised (VCPUOP_up -EINVAL); the kernel L4,
 *    unpinned now, is still typed (the reference kept for vCPU 1), the
 *    user L4 too (partly validated).
 * 2. Continued: the same call again, armed again: it goes on from where
 *    the first stopped, is continued (upcall on the SYSCALL again) and
 *    returns 0.  vCPU 1 comes up, and getvcpucontext shows both roots.
 * With the user root validated to the end (Mica before this test), the
 * upcall comes after each call and both parts fail.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call (then nothing is continued): the test says so and fails
 * rather than counting it.
 */
#define MMU_POOL_PAGES 4
#include "mmu_tree.h"
#include <public/domctl.h>

#define MAX_TABLES 4096
#define SKIPPED    0x7777UL
#define L4_FLAGS   (PTE_P | PTE_RW | PTE_US | PTE_A)

static evtchn_port_t ipi;
static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx, got;
static struct xen_domctl dctl;
static volatile int started;
static bool abandon;
static uint64_t kernel_l4;

static struct {
    unsigned upcalls;
    uint64_t rip;
    long user_map_rc, kernel_map_rc;
} seen;

void evtchn_do_upcall(struct regs *r);

static long map_l4(uint64_t mfn)
{
    return map_mfn(pool_page(WINDOW), mfn, L4_FLAGS);
}

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_vcpu_op)) {
            /* Between the call and its re-issue: the user L4 partial, the kernel L4 kept. */
            seen.user_map_rc = map_l4(l4());
            seen.kernel_map_rc = map_l4(kernel_l4);
            if (!seen.user_map_rc || !seen.kernel_map_rc)
                REQUIRE_EQ(pool_rw(WINDOW), 0);     /* no writable mapping left behind */
            if (abandon) {
                r->rip += 2;            /* past the SYSCALL: the stub returns */
                r->rax = SKIPPED;
            }
        }
    }
    evtchn_do_upcall(r);
    return true;
}

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg;
    (void)arg2;
    __atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

static void init_prepare(void *arg)
{
    (void)arg;
    memset(&seen, 0, sizeof(seen));
}

static long init_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx);
}

/*
 * The initialise with the event armed; true when the upcall came on its
 * SYSCALL.  One attempt only: a missed one gives vCPU 1 its context for good.
 */
static bool initialise_armed(long *rc)
{
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_vcpu_op, .what = "the initialise",
                               .attempts = 1, .prepare = init_prepare, .call = init_call };

    return preempt_call(&pc, rc);
}

enum result test_main(void)
{
    long rc;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;

    tree_init(MAX_TABLES);
    REQUIRE(first_pfn + nr_tables < start_info->nr_pages, "no frame left for the kernel root");
    /* The kernel root: the frame after the tree, our kernel's slot alone. */
    kernel_l4 = pfn_to_mfn(first_pfn + nr_tables);
    tree_fill(kernel_l4, 0, 0, NULL);
    pool_page(WINDOW)[KERNEL_SLOT] = ((const uint64_t *)start_info->pt_base)[KERNEL_SLOT];
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    REQUIRE_EQ(ext1(MMUEXT_PIN_L4_TABLE, kernel_l4), 0);

    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    ctx.ctrlreg[3] = kernel_l4 << 12;
    ctx.ctrlreg[1] = l4() << 12;

    /* 0. Refused. */
    ctx.ctrlreg[1] = pool_mfn(DATA) << 12;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, kernel_l4), 0);
    CHECK(map_l4(kernel_l4) != 0, "the kernel L4 of a refused context could be mapped writable");
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, kernel_l4), 0);
    ctx.ctrlreg[1] = l4() << 12;

    /* 1. Abandoned. */
    abandon = true;
    bool at_syscall = initialise_armed(&rc);
    abandon = false;
    CHECK(at_syscall,
          "the initialise with a %lu-table user root was not continued (upcall at %#lx, %u upcalls)",
          (unsigned long)nr_tables, (unsigned long)seen.rip, seen.upcalls);
    if (!at_syscall)
        return RESULT_FAILURE;
    CHECK_EQ(rc, (long)SKIPPED);
    CHECK(seen.user_map_rc != 0, "the partly validated user L4 could be mapped writable");
    CHECK(seen.kernel_map_rc != 0, "the kernel L4 kept across the continuation could be mapped writable");
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, kernel_l4), 0);
    CHECK(map_l4(l4()) != 0, "the abandoned partly validated user L4 could be mapped writable");
    CHECK(map_l4(kernel_l4) != 0, "the kept kernel L4 could be mapped writable after the abandon");
    REQUIRE_EQ(pool_rw(WINDOW), 0);

    /* 2. Continued: the same context again. */
    at_syscall = initialise_armed(&rc);
    CHECK_EQ(rc, 0);
    CHECK(at_syscall, "the re-issued initialise was not continued (upcall at %#lx, %u upcalls)",
          (unsigned long)seen.rip, seen.upcalls);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    uint64_t until = system_time_ns() + 5000000000UL;
    while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST) && system_time_ns() < until)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK(started, "vCPU 1 did not start on its kernel root");

    /* Both roots are vCPU 1's: typed, and its context names them. */
    CHECK(map_l4(l4()) != 0, "vCPU 1's user L4 could be mapped writable");
    CHECK(map_l4(kernel_l4) != 0, "vCPU 1's kernel L4 could be mapped writable");
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    memset(&dctl, 0, sizeof(dctl));
    dctl.cmd = XEN_DOMCTL_getvcpucontext;
    dctl.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dctl.u.vcpucontext.vcpu = 1;
    dctl.u.vcpucontext.ctxt = (uint64_t)&got;
    dctl.domain = 0;
    CHECK_EQ(HC(__HYPERVISOR_domctl, &dctl, 0, 0), 0);
    CHECK_EQ(got.ctrlreg[3], kernel_l4 << 12);
    CHECK_EQ(got.ctrlreg[1], l4() << 12);
    return RESULT_SUCCESS;
}
