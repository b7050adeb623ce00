/*
 * A vCPU reset (domctl setvcpucontext with no context) whose root's last
 * reference de-validates a huge tree is preemptible, as Xen 4.17's
 * vcpu_reset (vcpu_destroy_pagetables keeps the stop in the vCPU's
 * old_guest_table and the domctl is continued): dom0, as a builder,
 * writes a tree into a new domain's frames (1 L4, 1 L3, 2 L2, the rest
 * L1s mapping one data frame read-only, as mmu_pin_preempt_destroy), gives
 * its vCPU 0 a context whose CR3 is the tree's L4 (never pinned: the
 * root's reference is the tree's only one), and resets it with an event
 * left pending behind the hypervisor's back:
 *
 * 1. continued: the upcall lands on the domctl's SYSCALL, the L4 not
 *    mappable writable there; the domctl returns 0, the vCPU has no
 *    context (-ENODATA) and the L4 is plain memory again;
 * 2. abandoned: the L4 stays partly de-validated (not mappable writable);
 *    a second reset finishes it (0), the L4 is plain memory again.
 * 3. abandoned, then a new context at once: refused, as Xen 4.17 keeps
 *    such a vCPU initialised without a kernel root (vcpu_reset clears
 *    is_initialised only once arch_vcpu_reset is done; arch_set_info_guest
 *    then compares the context's tables with that empty root):
 *    -EOPNOTSUPP for the context naming the L4; one naming no root
 *    (CR3 0, the same empty tables) is taken as registers only (0:
 *    getvcpucontext shows its RIP, CR3 0); the L4 stays partly
 *    de-validated meanwhile.  A reset
 *    finishes it (0, -ENODATA), then the context is taken (0,
 *    getvcpucontext names the L4) and a last reset lets go of it.
 * Then the domain is destroyed: it goes, and every frame comes back.
 *
 * With the roots dropped to the end at a reset (Mica before), the upcall
 * comes after the domctl.  An interrupt between arming and the SYSCALL
 * delivers the upcall before the call: the context is set and the reset
 * tried again, up to ATTEMPTS times.
 */
#include "dom_tree.h"

#define SKIPPED    0x7777UL
#define ATTEMPTS   4

static evtchn_port_t ipi;
static bool abandon;
static struct vcpu_guest_context ctx, got, no_root;
static struct { unsigned upcalls; uint64_t rip; long map_rc; } seen;

void evtchn_do_upcall(struct regs *r);

/* A writable mapping of the domain's L4 at our MAP page, put back at once when it works. */
static long map_l4_rw(void)
{
    long rc = ts_map_foreign(MAP, m[0], true, id);

    if (!rc)
        REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
    return rc;
}

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_domctl)) {
            /* Partly de-validated: no writable mapping of the L4. */
            seen.map_rc = map_l4_rw();
            if (abandon) {
                r->rip += 2;            /* past the SYSCALL: nobody goes on */
                r->rax = SKIPPED;
            }
        }
    }
    evtchn_do_upcall(r);
    return true;
}

static long set_ctx(void *c)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = 0;
    ts_op.u.vcpucontext.ctxt = (uint64_t)c;
    return ts_domctl(XEN_DOMCTL_setvcpucontext, id);
}

static long get_ctx(void)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = 0;
    ts_op.u.vcpucontext.ctxt = (uint64_t)&got;
    return ts_domctl(XEN_DOMCTL_getvcpucontext, id);
}

static void reset_prepare(void *arg)
{
    (void)arg;
    REQUIRE_EQ(set_ctx(&ctx), 0);
    memset(&seen, 0, sizeof(seen));
}

static long reset_call(void *arg)
{
    (void)arg;
    return set_ctx(NULL);
}

/* vCPU 0 on the tree, then reset with the event armed; true when the reset stopped. */
static bool reset_armed(long *rc)
{
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_domctl, .what = "the reset",
                               .attempts = ATTEMPTS, .prepare = reset_prepare,
                               .call = reset_call };
    bool at_syscall = preempt_call(&pc, rc);

    CHECK(at_syscall, "the reset of a vCPU on %u tables was never continued (upcall at %#lx)",
          FRAMES - 1, seen.rip);
    return at_syscall;
}

enum result test_main(void)
{
    long rc = 0;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;

    uint64_t before = physinfo_free_pages();
    dom_tree_create();
    dom_tree_context(&ctx);

    /* 1. Continued. */
    if (reset_armed(&rc)) {
        CHECK_EQ(rc, 0);
        CHECK(seen.map_rc != 0, "a writable mapping of the partly de-validated L4 succeeded");
    }
    CHECK_EQ(get_ctx(), -XEN_ENODATA);
    CHECK_EQ(map_l4_rw(), 0);

    /* 2. Abandoned, then reset again. */
    abandon = true;
    bool stopped = reset_armed(&rc);
    abandon = false;
    if (stopped) {
        CHECK_EQ(rc, (long)SKIPPED);
        CHECK(map_l4_rw() != 0, "a writable mapping of the abandoned partly de-validated L4 succeeded");
    }
    CHECK_EQ(set_ctx(NULL), 0);
    CHECK_EQ(get_ctx(), -XEN_ENODATA);
    CHECK_EQ(map_l4_rw(), 0);

    /* 3. Abandoned, then a new context: refused until a reset is finished. */
    abandon = true;
    stopped = reset_armed(&rc);
    abandon = false;
    if (stopped) {
        CHECK_EQ(rc, (long)SKIPPED);
        CHECK_EQ(set_ctx(&ctx), -XEN_EOPNOTSUPP);
        no_root = ctx;
        no_root.ctrlreg[3] = 0;
        no_root.user_regs.rip = CODE_VA + 0x10;
        CHECK_EQ(set_ctx(&no_root), 0);
        CHECK_EQ(get_ctx(), 0);
        CHECK_EQ(got.ctrlreg[3], 0);
        CHECK_EQ(got.user_regs.rip, CODE_VA + 0x10);
        CHECK(map_l4_rw() != 0, "the abandoned partly de-validated L4 could be mapped writable");
    }
    CHECK_EQ(set_ctx(NULL), 0);
    CHECK_EQ(get_ctx(), -XEN_ENODATA);
    CHECK_EQ(map_l4_rw(), 0);
    CHECK_EQ(set_ctx(&ctx), 0);
    CHECK_EQ(get_ctx(), 0);
    CHECK_EQ(got.ctrlreg[3], m[0] << 12);
    CHECK(map_l4_rw() != 0, "the L4 of the new context could be mapped writable");
    CHECK_EQ(set_ctx(NULL), 0);
    CHECK_EQ(map_l4_rw(), 0);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still exists after destroydomain", id);
    CHECK(ts_memory_back(before), "free pages %lu, before %lu", physinfo_free_pages(), before);
    return RESULT_SUCCESS;
}
