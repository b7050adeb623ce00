/*
 * (Mica only: Xen has no way to start a second domain at boot, and a
 * dom0 test cannot make a domU's own unpin stop.)
 * A domain destroyed with a de-validation half done (docs/pv-mm.md,
 * "Partly de-validated tables"): domain 1 builds the big tree of
 * tests/mmu_tree.h from its own frames, pins it, and unpins it with an
 * event pending behind the hypervisor's back; in the upcall on the
 * continuation's SYSCALL it skips the re-issue, so its L4 and the tables
 * on the path stay partly de-validated and its vCPU keeps the L4
 * (old_guest_table).  It checks the L4 is still not writable and crashes
 * itself.  dom0 waits for the crash, destroys the domain and wants it
 * gone with every page back; a counting slip in the teardown would print
 * a MICA BUG line, which fails the run.  An interrupt between arming and
 * the SYSCALL delivers the upcall before the call (the unpin then
 * finishes): pinned and tried again, up to ATTEMPTS times.
 */
#define MMU_POOL_PAGES 4
#include "../tests/mmu_tree.h"
#include <public/domctl.h>
#include <public/sched.h>

#define ATTEMPTS   4
#define SKIPPED    0x7777UL
#define MAX_TABLES 1024
#define WAIT_NS    60000000000ULL

static struct xen_domctl op;
static evtchn_port_t ipi;
static struct { unsigned upcalls; uint64_t rip; } seen;

void evtchn_do_upcall(struct regs *r);


static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_mmuext_op)) {
            r->rip += 2;                /* past the SYSCALL: nobody goes on */
            r->rax = SKIPPED;
        }
    }
    evtchn_do_upcall(r);
    return true;
}

static void unpin_prepare(void *arg)
{
    (void)arg;
    REQUIRE_EQ(ext1(MMUEXT_PIN_L4_TABLE, l4()), 0);
    memset(&seen, 0, sizeof(seen));
}

static long unpin_call(void *arg)
{
    struct mmuext_op unpin = { .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = l4() };

    (void)arg;
    return HYPERVISOR_mmuext_op(&unpin, 1, NULL, DOMID_SELF);
}

static enum result domu(void)
{
    struct preempt_call pc = { .nr = __HYPERVISOR_mmuext_op, .what = "the unpin",
                               .attempts = ATTEMPTS, .prepare = unpin_prepare,
                               .call = unpin_call };
    struct sched_shutdown crash = { .reason = SHUTDOWN_crash };
    long rc = 0;

    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;
    tree_init(MAX_TABLES);
    pc.ipi = ipi;
    bool at_syscall = preempt_call(&pc, &rc);
    REQUIRE(at_syscall, "the unpin was never continued (upcall at %#lx)", seen.rip);
    CHECK_EQ(rc, (long)SKIPPED);
    /* update_va_mapping does not finish it: still partly de-validated. */
    CHECK(map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A) != 0,
          "the partly de-validated L4 could be mapped writable");
    if (check_failures)
        return RESULT_FAILURE;
    printk("domU: unpin left part way; crashing\n");
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &crash);
    return RESULT_FAILURE;
}

static enum result dom0(void)
{
    uint64_t free_before = physinfo_free_pages(), tot;
    unsigned reason = domain_reap(&op, 1, free_before, WAIT_NS, &tot);

    CHECK_EQ(reason, SHUTDOWN_crash);
    printk("dom0: domain 1 crashed (reason %u) with its unpin part way, destroyed, %lu pages back\n",
           reason, tot);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    return (start_info->flags & SIF_INITDOMAIN) ? dom0() : domu();
}
