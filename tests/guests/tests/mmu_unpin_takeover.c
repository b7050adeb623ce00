/*
 * A partly de-validated table asked for again (booted with
 * dom0_max_vcpus=2; docs/pv-mm.md, "Partly de-validated tables"): as in
 * Xen 4.17 (_get_page_type on a PGT_partial page), a new request for the
 * table's type takes it over and validates it again from where the
 * de-validation had got to; the vCPU that stopped the de-validation then
 * finds its table whole and only lets go of it.
 *
 * vCPU 0 pins mmu_tree.h's tree and unpins it with an event left pending,
 * skipping the continuation (as mmu_unpin_preempt's abandoned case): the
 * L4 stays partly de-validated in vCPU 0's old_guest_table, not mappable
 * writable.  vCPU 1, whose hypercalls do not finish vCPU 0's table first,
 * pins the L4: 0 (Mica answered -EINVAL before, the table busy).  vCPU
 * 0's next mmuext_op (the tree as CR3 and back: the data page through the
 * last L1 entry) then finds the tree whole; unpinned, no frame of it
 * keeps a type (nothing released twice or kept).
 *
 * Twice: 1. stopped at once (the first entries of the L4); 2. deeper:
 * the de-validation is moved on by up to DEEPER more abandoned calls (an
 * empty mmuext_op, which goes on with the vCPU's table first and is
 * continued while that stops), so that lower tables are part way too
 * when vCPU 1 takes the L4 over.  A call that is not continued (the
 * de-validation finished) ends the moving on; the table must still be
 * partly de-validated then.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the unpin (then the tree goes at once): set up again, up to ATTEMPTS
 * times.
 */
#define MMU_POOL_PAGES 4
#include "mmu_tree.h"

#define ATTEMPTS   4
#define SKIPPED    0x7777UL
#define MAX_TABLES 1024
#define DEEPER     1100
#define WAIT_NS    5000000000UL

static evtchn_port_t ipi;
static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static volatile int started, request, answered;
static volatile long pin_rc;
static unsigned expect_nr;

static struct {
    unsigned upcalls;
    uint64_t rip;
} seen;

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        if (rip_on_hypercall_syscall(r->rip, expect_nr)) {
            r->rip += 2;                /* past the SYSCALL: the stub returns */
            r->rax = SKIPPED;
        }
    }
    evtchn_do_upcall(r);
    return true;
}

/* vCPU 1: pins the tree's L4 when asked. */
static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg;
    (void)arg2;
    __atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
    for (int done = 0;;) {
        if (__atomic_load_n(&request, __ATOMIC_SEQ_CST) > done) {
            done++;
            pin_rc = ext1(MMUEXT_PIN_L4_TABLE, l4());
            __atomic_store_n(&answered, done, __ATOMIC_SEQ_CST);
        }
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

static bool wait_for(volatile int *v, int want)
{
    uint64_t until = system_time_ns() + WAIT_NS;

    while (__atomic_load_n(v, __ATOMIC_SEQ_CST) < want && system_time_ns() < until)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    return __atomic_load_n(v, __ATOMIC_SEQ_CST) >= want;
}

/* The unpin needs the tree pinned; its continuations (NULL lists) nothing. */
static void call_prepare(void *arg)
{
    if (*(const bool *)arg)
        REQUIRE_EQ(ext1(MMUEXT_PIN_L4_TABLE, l4()), 0);
    memset(&seen, 0, sizeof(seen));
    expect_nr = __HYPERVISOR_mmuext_op;
}

/* The unpin, or an empty mmuext_op going on with it, its continuation skipped. */
static long call_made(void *arg)
{
    struct mmuext_op op = { .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = l4() };

    return *(const bool *)arg ? HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF)
                              : HYPERVISOR_mmuext_op(NULL, 0, NULL, DOMID_SELF);
}

/* The call with the event armed, `attempts` times at most; true when it stopped. */
static bool abandoned(long *rc, bool unpin, unsigned attempts)
{
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_mmuext_op, .what = "the unpin",
                               .attempts = attempts, .arg = &unpin, .prepare = call_prepare,
                               .call = call_made };

    return preempt_call(&pc, rc);
}

static void one_case(int n, unsigned deeper)
{
    long rc = 0;

    printk("case %d: the L4 taken over after %u more abandoned calls at most\n", n, deeper);
    bool at_syscall = abandoned(&rc, true, ATTEMPTS);
    CHECK(at_syscall, "the unpin of %lu tables was never continued (upcall at %#lx)",
          (unsigned long)nr_tables, seen.rip);
    if (!at_syscall)
        return;
    CHECK_EQ(rc, (long)SKIPPED);
    unsigned moved = 0;
    while (moved < deeper && abandoned(&rc, false, 1))
        moved++;
    if (deeper)
        printk("moved on by %u abandoned calls\n", moved);
    /* Still partly de-validated: neither memory nor a table of anybody's. */
    CHECK(map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A) != 0,
          "the L4 was no longer partly de-validated before the take-over");
    REQUIRE_EQ(pool_rw(WINDOW), 0);

    __atomic_store_n(&request, n, __ATOMIC_SEQ_CST);
    CHECK(wait_for(&answered, n), "vCPU 1 did not answer");
    CHECK_EQ(pin_rc, 0);

    /* vCPU 0's next mmuext_op finds its table whole: the tree works. */
    tree_use(l4_mfn());
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
    CHECK_EQ(tree_typed_frames(), 0);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;
    tree_init(MAX_TABLES);

    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    REQUIRE(wait_for(&started, 1), "vCPU 1 did not start");

    one_case(1, 0);
    one_case(2, DEEPER);
    return RESULT_SUCCESS;
}
