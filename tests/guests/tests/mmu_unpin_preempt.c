/*
 * De-validating a huge page-table tree is preemptible (docs/pv-mm.md,
 * "Partly de-validated tables"; Xen's XSA-45 class), as validating it is
 * (mmu_pin_preempt; the same tree, mmu_tree.h: one L4, one L3, the L2s, and
 * L1s whose 512 entries all map one data page read-only).  Each case
 * drops the last type reference of the tree with an event left pending
 * and unmasked behind the hypervisor's back (as tests/continuation.c), so
 * the de-validation must stop after a bounded piece of work; the request
 * itself counts as done, and the call is continued to finish the tree
 * (Xen 4.17's old_guest_table):
 *
 * 1. unpin, the only request: the upcall arrives on mmuext_op's SYSCALL
 *    with the list gone (NULL, count MMU_UPDATE_PREEMPTED alone, the
 *    result 0 in foreigndom); *pdone says 1 already.  In the upcall the
 *    L4 is partly de-validated: no writable mapping of it.
 * 2. unpin followed by a second request: continued at that request
 *    (list + 1, 1 | MMU_UPDATE_PREEMPTED); *pdone 2 in the end.
 * 3. MMUEXT_NEW_BASEPTR away from the tree, whose only reference was the
 *    CR3 one: continued at that request itself (as Xen 4.17 does for new
 *    roots: list, 1 | MMU_UPDATE_PREEMPTED, foreigndom as it was), which
 *    the re-run finds done.
 * 4. mmu_update clearing the L4's entry for the L3, its last reference:
 *    the L3's tree goes, the L4 stays.
 * 5. abandoned: the unpin's continuation is skipped (RIP past the
 *    SYSCALL); the L4 stays partly de-validated until the next mmuext_op,
 *    which finishes it first.
 *
 * After each, every frame of the tree is writable again (no type left),
 * and the tree can be pinned and used again.  An interrupt between arming
 * and the SYSCALL delivers the upcall before the call (then the tree
 * goes at once): it is set up again, up to ATTEMPTS times.
 */
#define MMU_POOL_PAGES 4
#include "mmu_tree.h"

#define ATTEMPTS   4
#define SKIPPED    0x7777UL
#define MAX_TABLES 1024        /* 5 cases x 2 (de)validations: within the 90 s on Xen under TCG */

enum how { UNPIN, UNPIN_THEN_FLUSH, BASEPTR, CLEAR_ENTRY, UNPIN_ABANDONED };

static uint64_t old_root;
static evtchn_port_t ipi;
static unsigned done;
static struct mmuext_op ops[2];
static struct mmu_update upd;
static unsigned expect_nr;
static bool abandon;

static struct {
    unsigned upcalls;
    uint64_t rip, rdi, rsi, r10;
    long map_rc;
} seen;

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        seen.rdi = r->rdi;
        seen.rsi = r->rsi;
        seen.r10 = r->r10;
        if (rip_on_hypercall_syscall(r->rip, expect_nr)) {
            /* update_va_mapping: no continuation of ours goes on in it. */
            seen.map_rc = map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A);
            if (abandon) {
                r->rip += 2;            /* past the SYSCALL: the stub returns */
                r->rax = SKIPPED;
            }
        }
    }
    evtchn_do_upcall(r);
    return true;
}

/* The tree's last type reference is one `how` drops; the call's arguments ready. */
static void drop_prepare(void *arg)
{
    enum how how = *(const enum how *)arg;

    if (how == BASEPTR)
        REQUIRE_EQ(ext1(MMUEXT_NEW_BASEPTR, l4()), 0);
    else
        REQUIRE_EQ(ext1(MMUEXT_PIN_L4_TABLE, l4()), 0);
    memset(ops, 0, sizeof(ops));
    ops[0] = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = l4() };
    if (how == UNPIN_THEN_FLUSH)
        ops[1] = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    else if (how == BASEPTR)
        ops[0] = (struct mmuext_op){ .cmd = MMUEXT_NEW_BASEPTR, .arg1.mfn = old_root };
    upd = (struct mmu_update){ .ptr = (l4() << 12) + TREE_SLOT * 8, .val = 0 };
    expect_nr = how == CLEAR_ENTRY ? __HYPERVISOR_mmu_update : __HYPERVISOR_mmuext_op;
    done = 0;
    memset(&seen, 0, sizeof(seen));
}

/* Drops it (the event armed); the upcall on its SYSCALL skips the re-issue when abandoned. */
static long drop_call(void *arg)
{
    enum how how = *(const enum how *)arg;
    long rc;

    abandon = how == UNPIN_ABANDONED;
    if (how == CLEAR_ENTRY)
        rc = HYPERVISOR_mmu_update(&upd, 1, &done, DOMID_SELF);
    else
        rc = HYPERVISOR_mmuext_op(ops, how == UNPIN_THEN_FLUSH ? 2 : 1, &done, DOMID_SELF);
    abandon = false;
    return rc;
}

/* The call ran to its end before anything was armed: the tree put back for another try. */
static void drop_missed(void *arg, long rc)
{
    CHECK_EQ(rc, 0);
    if (*(const enum how *)arg == CLEAR_ENTRY) {
        CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
        tree_build_l4();
    }
}

static const char *const names[] = { "unpin", "unpin + flush", "new baseptr", "mmu_update",
                                     "unpin, abandoned" };

static void one_case(enum how how)
{
    struct preempt_call pc = { .ipi = ipi, .what = "the call", .attempts = ATTEMPTS,
                               .arg = &how, .prepare = drop_prepare, .call = drop_call,
                               .missed = drop_missed };
    long rc = 0;

    printk("case: %s\n", names[how]);
    pc.nr = how == CLEAR_ENTRY ? __HYPERVISOR_mmu_update : __HYPERVISOR_mmuext_op;
    bool at_syscall = preempt_call(&pc, &rc);
    CHECK(at_syscall, "%s of %lu tables was never continued (upcall at %#lx)", names[how],
          (unsigned long)nr_tables, seen.rip);
    if (!at_syscall)
        return;
    /* In the upcall the top table was not done yet: never writable then. */
    if (how != CLEAR_ENTRY)
        CHECK(seen.map_rc != 0, "%s: a writable mapping of the partly de-validated L4 succeeded",
              names[how]);
    if (how == BASEPTR) {
        CHECK_EQ(seen.rdi, (uint64_t)&ops[0]);
        CHECK_EQ((uint32_t)seen.rsi, 1 | PREEMPTED);
        CHECK_EQ((uint16_t)seen.r10, DOMID_SELF);
        CHECK_EQ(rc, 0);
        CHECK_EQ(done, 1);
    } else if (how == UNPIN_THEN_FLUSH) {
        CHECK_EQ(seen.rdi, (uint64_t)&ops[1]);
        CHECK_EQ((uint32_t)seen.rsi, 1 | PREEMPTED);
        CHECK_EQ(rc, 0);
        CHECK_EQ(done, 2);
    } else {
        /* All requests done: the list gone, the result carried in foreigndom. */
        CHECK_EQ(seen.rdi, 0);
        CHECK_EQ((uint32_t)seen.rsi, PREEMPTED);
        CHECK_EQ((uint32_t)seen.r10, 0);
        CHECK_EQ(done, 1);
        CHECK_EQ(rc, how == UNPIN_ABANDONED ? (long)SKIPPED : 0);
    }
    if (how == UNPIN_ABANDONED) {
        /* Nobody went on: still not writable, until the next mmuext_op finishes it. */
        CHECK(map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A) != 0,
              "the abandoned partly de-validated L4 could be mapped writable");
        REQUIRE_EQ(pool_rw(WINDOW), 0);
        CHECK_EQ(ext1(MMUEXT_TLB_FLUSH_LOCAL, 0), 0);
    }
    if (how == CLEAR_ENTRY) {
        CHECK_EQ(tree_typed_frames(), 1);    /* the L4, still pinned */
        CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
    }
    CHECK_EQ(tree_typed_frames(), 0);
    /* The same tree validates and works again. */
    if (how == CLEAR_ENTRY)
        tree_build_l4();
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, l4()), 0);
    tree_use(old_root);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
    CHECK_EQ(tree_typed_frames(), 0);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;
    old_root = l4_mfn();

    tree_init(MAX_TABLES);
    one_case(UNPIN);
    one_case(UNPIN_THEN_FLUSH);
    one_case(BASEPTR);
    one_case(CLEAR_ENTRY);
    one_case(UNPIN_ABANDONED);
    return RESULT_SUCCESS;
}
