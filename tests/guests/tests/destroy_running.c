/*
 * A domain destroyed while its vCPU runs (SMP race kernel, docs/smp.md):
 * dom0, as a toolstack, builds a one-vCPU domain whose code loops
 * counting in its own memory and asking for MMUEXT_TLB_FLUSH_ALL (a
 * hypercall that flushes the CPUs in its dirty mask), unpauses it, waits
 * until the count moves, and destroys it in the middle of that.  On a
 * host with guests on several CPUs the domain runs on another CPU than
 * dom0's, and each round reports whether getvcpuinfo saw it running
 * there just before the destroy.  Before that, dom0 changes an L2 entry
 * of the running domain 40 times (mmu_update naming it as the table
 * owner), each change flushing the CPUs it runs on.  dom0 keeps a foreign mapping of the
 * counter page across the destroy (so that frame is held, the others go
 * at once).
 *
 * Checked each round: every L2 change answers 0; destroydomain answers 0; the count, read through
 * the foreign mapping, no longer moves afterwards (the vCPU stopped for
 * good, wherever it ran); and once the mapping is dropped, the domain is
 * gone and every page is back (physinfo; exactly on Mica).  A lost page,
 * a hang or a hypervisor panic (LOCK VIOLATION included) fails it.
 */
#include "toolstack.h"

#define ROUNDS 3
#define NR 8            /* m[0..3] tables, m[4..7] mapped at VA 0: code 0x1000, data 0x2000 */
#define CODE_VA 0x1000UL
#define DATA_VA 0x2000UL
#define STACK_TOP 0x4000UL
#define WAIT_NS 20000000000UL
#define TWEAKS 20

static uint64_t m[NR];
static struct vcpu_guest_context ctx;

/*
 * 1: lock incq (%rbx)
 *    mov %r12, %rdi ; mov $1, %esi ; xor %edx, %edx ; mov $DOMID_SELF, %r10d
 *    mov $__HYPERVISOR_mmuext_op, %eax ; syscall
 *    jmp 1b
 * rbx: the counter (DATA_VA), r12: a struct mmuext_op (DATA_VA + 0x100).
 */
static const uint8_t code[] = {
    0xf0, 0x48, 0xff, 0x03,
    0x4c, 0x89, 0xe7,
    0xbe, 0x01, 0x00, 0x00, 0x00,
    0x31, 0xd2,
    0x41, 0xba, 0xf0, 0x7f, 0x00, 0x00,
    0xb8, __HYPERVISOR_mmuext_op, 0x00, 0x00, 0x00,
    0x0f, 0x05,
    0xeb, 0xe3,
};

static long set_ctx(domid_t dom)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = 0;
    ts_op.u.vcpucontext.ctxt = (uint64_t)&ctx;
    return ts_domctl(XEN_DOMCTL_setvcpucontext, dom);
}

static bool vcpu_running(domid_t dom, unsigned *cpu)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.getvcpuinfo.vcpu = 0;
    if (ts_domctl(XEN_DOMCTL_getvcpuinfo, dom))
        return false;
    *cpu = ts_op.u.getvcpuinfo.cpu;
    return ts_op.u.getvcpuinfo.running;
}

static volatile uint64_t *counter(void)
{
    return (volatile uint64_t *)pool[0];
}

/* Yields until the domain's count passes `target` (read through pool page 0). */
static bool wait_count(uint64_t target)
{
    uint64_t deadline = system_time_ns() + WAIT_NS;

    /* Mostly away from the hypervisor: a yield (for one CPU), then a pause. */
    while (*counter() < target && system_time_ns() < deadline) {
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
        spin_until_ns(system_time_ns() + 1000000);
    }
    return *counter() >= target;
}

static bool one_round(unsigned r, unsigned *elsewhere)
{
    bool ok = true, running;
    uint64_t before = physinfo_free_pages();
    unsigned cpu = 0;

    domid_t id = 0;
    REQUIRE_EQ(ts_create_with_tables(&id, m, NR, NR), 0);
    REQUIRE_EQ(ts_map_foreign(0, m[5], true, id), 0);
    memset(pool[0], 0, 4096);
    memcpy(pool[0], code, sizeof(code));
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_map_foreign(0, m[6], true, id), 0);      /* kept while it runs */
    memset(pool[0], 0, 4096);
    struct mmuext_op *op = (struct mmuext_op *)(pool[0] + 0x100);
    op->cmd = MMUEXT_TLB_FLUSH_ALL;

    memset(&ctx, 0, sizeof(ctx));
    ctx.flags = VGCF_in_kernel | VGCF_online;
    ctx.user_regs.rip = CODE_VA;
    ctx.user_regs.rsp = STACK_TOP;
    ctx.user_regs.rbx = DATA_VA;
    ctx.user_regs.r12 = DATA_VA + 0x100;
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.rflags = 0x202;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = STACK_TOP - 0x100;
    ctx.ctrlreg[3] = m[0] << 12;
    REQUIRE_EQ(set_ctx(id), 0);
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, id), 0);

    if (!wait_count(20)) {
        printk("round %u: d%u never counted (count %lu)\n", r, id, *counter());
        ok = false;
    }
    /*
     * Change its page tables under it, as a privileged builder may
     * (mmu_update with the table owner in foreigndom's top half): an L2
     * entry it never uses set to its L1 and cleared again.  Each is an
     * upper-level change, so the CPUs where it runs flush at once (an
     * IPI when that is another CPU, answered while it counts, takes its
     * own hypercall, or waits for a lock this CPU holds).
     */
    unsigned tweaks = 0;
    for (unsigned k = 0; k < 2 * TWEAKS; k++) {
        struct mmu_update u = {
            .ptr = (m[2] << 12) + 8,
            .val = k & 1 ? 0 : (m[3] << 12) | PTE_P | PTE_RW | PTE_US | PTE_A,
        };
        long rc = HYPERVISOR_mmu_update(&u, 1, NULL, ((uint32_t)(id + 1) << 16) | id);
        if (rc == 0)
            tweaks++;
        else if (ok)
            printk("round %u: mmu_update of d%u's L2: %ld\n", r, id, rc);
    }
    CHECK_EQ(tweaks, 2 * TWEAKS);
    ok &= tweaks == 2 * TWEAKS;

    /* A few more, then destroy it in the middle of counting. */
    uint64_t c0 = *counter();
    wait_count(c0 + 5);
    running = vcpu_running(id, &cpu);
    if (running)
        (*elsewhere)++;
    long rc = ts_destroy(id);
    CHECK_EQ(rc, 0);
    ok &= rc == 0;

    /* Stopped for good: the count stays put (it may finish one step). */
    uint64_t c1 = *counter();
    spin_until_ns(system_time_ns() + 20000000);
    for (unsigned i = 0; i < 20; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    uint64_t c2 = *counter();
    CHECK(c2 - c1 <= 1, "round %u: d%u still counting after destroy (%lu -> %lu)", r, id, c1, c2);
    ok &= c2 - c1 <= 1;

    printk("round %u: d%u counted to %lu%s\n", r, id, c2,
           running ? ", destroyed while running on another CPU" : "");
    (void)cpu;
    CHECK_EQ(ts_unmap_foreign(0), 0);
    /* Dying until the held frame goes (on Xen too): gone only now. */
    bool gone = TS_SETTLE(ts_gone(id));
    CHECK(gone, "round %u: d%u still there", r, id);
    ok &= gone;
    bool back = ts_memory_back(before);
    CHECK(back, "round %u: free pages %lu, %lu before", r, physinfo_free_pages(), before);
    return ok && back;
}

enum result test_main(void)
{
    unsigned elsewhere = 0, ok = 0;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    /* On one CPU there is no race to lose: one round checks the rest. */
    unsigned rounds = physinfo_nr_cpus() >= 2 ? ROUNDS : 1;
    for (unsigned r = 0; r < rounds; r++)
        ok += one_round(r, &elsewhere);
    printk("%u of %u rounds destroyed the domain while getvcpuinfo showed it running "
           "(on another CPU than dom0's)\n", elsewhere, rounds);
    CHECK_EQ(ok, rounds);
    return RESULT_SUCCESS;
}
