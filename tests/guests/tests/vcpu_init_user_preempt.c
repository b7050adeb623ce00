/*
 * VCPUOP_initialise whose user root (ctrlreg[1]) is the L4 of a huge tree
 * not yet validated, the kernel root (CR3) a small L4 validated already
 * (of vCPU 1, or a later one, below).  As in Xen 4.17's arch_set_info_guest,
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
 *    The vCPU is then not initialised (VCPUOP_up -EINVAL); the kernel L4,
 *    unpinned now, is still typed (the reference kept for that vCPU), the
 *    user L4 too (partly validated).
 * 2. Continued: the same call again, armed again: it goes on from where
 *    the first stopped, is continued (upcall on the SYSCALL again) and
 *    returns 0.  The vCPU comes up, and getvcpucontext shows both roots.
 * With the user root validated to the end (Mica before this test), the
 * upcall comes after each call and both parts fail.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call (then nothing is continued, and the vCPU is initialised for
 * good): 1. and 2. are made again on the next vCPU, the kernel L4 pinned
 * again, once the missed one has let go of both roots (vcpu_fresh.h;
 * booted with dom0_max_vcpus=4).
 */
#define MMU_POOL_PAGES 4
#include "vcpu_fresh.h"
#include <public/domctl.h>

#define MAX_TABLES 4096
#define SKIPPED    0x7777UL
#define L4_FLAGS   (PTE_P | PTE_RW | PTE_US | PTE_A)

static evtchn_port_t ipi;
static struct vcpu_guest_context ctx, got;
static struct xen_domctl dctl;
static volatile int started;
static bool abandon;
static uint64_t kernel_l4;
static unsigned target;         /* the vCPU of the current attempt */

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

static void fresh_run(unsigned cpu)
{
    (void)cpu;
    __atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
}

static void init_prepare(void *arg)
{
    (void)arg;
    memset(&seen, 0, sizeof(seen));
}

static long init_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, target, &ctx);
}

/*
 * The initialise with the event armed; true when the upcall came on its
 * SYSCALL.  One attempt per vCPU: a missed one gives it its context for good.
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

    fresh_context(&ctx, 1);
    ctx.ctrlreg[3] = kernel_l4 << 12;

    /* 0. Refused. */
    ctx.ctrlreg[1] = pool_mfn(DATA) << 12;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EINVAL);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, kernel_l4), 0);
    CHECK(map_l4(kernel_l4) != 0, "the kernel L4 of a refused context could be mapped writable");
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, kernel_l4), 0);

    bool at_syscall = false, pinned = true;
    for (target = 1; target <= FRESH_VCPUS; target++) {
        if (target > 1) {
            fresh_release(target - 1);
            if (!pinned)
                CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, kernel_l4), 0);
            pinned = true;
            fresh_context(&ctx, target);
            ctx.ctrlreg[3] = kernel_l4 << 12;
        }
        ctx.ctrlreg[1] = l4() << 12;

        /* 1. Abandoned. */
        abandon = true;
        at_syscall = initialise_armed(&rc);
        abandon = false;
        if (!at_syscall) {
            printk("vCPU %u: the initialise with a %lu-table user root was not continued "
                   "(upcall at %#lx, %u upcalls)\n", target, (unsigned long)nr_tables,
                   (unsigned long)seen.rip, seen.upcalls);
            CHECK_EQ(rc, 0);
            continue;
        }
        CHECK_EQ(rc, (long)SKIPPED);
        CHECK(seen.user_map_rc != 0, "the partly validated user L4 could be mapped writable");
        CHECK(seen.kernel_map_rc != 0,
              "the kernel L4 kept across the continuation could be mapped writable");
        CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, target, NULL), -XEN_EINVAL);
        CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, kernel_l4), 0);
        pinned = false;
        CHECK(map_l4(l4()) != 0, "the abandoned partly validated user L4 could be mapped writable");
        CHECK(map_l4(kernel_l4) != 0, "the kept kernel L4 could be mapped writable after the abandon");
        REQUIRE_EQ(pool_rw(WINDOW), 0);

        /* 2. Continued: the same context again. */
        at_syscall = initialise_armed(&rc);
        CHECK_EQ(rc, 0);
        if (at_syscall)
            break;
        printk("vCPU %u: the re-issued initialise was not continued (upcall at %#lx, %u upcalls)\n",
               target, (unsigned long)seen.rip, seen.upcalls);
    }
    CHECK(at_syscall, "no initialise was continued in %u attempts (one vCPU each)", FRESH_VCPUS);
    if (!at_syscall)
        return RESULT_FAILURE;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, target, NULL), 0);
    CHECK(fresh_wait(&started), "vCPU %u did not start on its kernel root", target);

    /* Both roots are the vCPU's: typed, and its context names them. */
    CHECK(map_l4(l4()) != 0, "vCPU %u's user L4 could be mapped writable", target);
    CHECK(map_l4(kernel_l4) != 0, "vCPU %u's kernel L4 could be mapped writable", target);
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    memset(&dctl, 0, sizeof(dctl));
    dctl.cmd = XEN_DOMCTL_getvcpucontext;
    dctl.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dctl.u.vcpucontext.vcpu = target;
    dctl.u.vcpucontext.ctxt = (uint64_t)&got;
    dctl.domain = 0;
    CHECK_EQ(HC(__HYPERVISOR_domctl, &dctl, 0, 0), 0);
    CHECK_EQ(got.ctrlreg[3], kernel_l4 << 12);
    CHECK_EQ(got.ctrlreg[1], l4() << 12);
    return RESULT_SUCCESS;
}
