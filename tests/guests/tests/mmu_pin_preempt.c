/*
 * Pinning a huge page-table tree is preemptible (docs/pv-mm.md, "Partly
 * validated tables"; Xen's XSA-45 class).  Frames of ours the bootstrap
 * region does not map become tables: one L4, one L3, as many L2s as
 * needed, and the rest L1s whose 512 entries all map one data page
 * read-only, so pinning the L4 checks (frames x 512) entries.  At most
 * MAX_TABLES of them (2 M entries): all 16 K spare frames of a 64 MiB
 * test kernel took a minute of QEMU time per run, too much for make test;
 * the size is not what makes the pin stop (the pending event does).
 *
 * 1. Continued: with an event left pending and unmasked behind the
 *    hypervisor's back (as tests/continuation.c), the pin must stop after
 *    a bounded piece of work and be continued: the upcall arrives on
 *    mmuext_op's SYSCALL with the same op and count | MMU_UPDATE_PREEMPTED.
 *    In the upcall the L4 is partly validated, and must not be usable as
 *    a table (mmu_update on it fails) nor as memory (a writable mapping
 *    fails).  The re-issued call finishes: *pdone 1, the tree works as
 *    CR3 (the data page read through its last L1 entry), the L4 can be
 *    changed by mmu_update; unpinned, every table frame can be mapped
 *    writable again (no type reference left).
 * 2. Abandoned: the same, but the upcall skips the re-issue (RIP past the
 *    SYSCALL), leaving the L4 partly validated with nobody going on.  It
 *    must still refuse both uses; a new pin takes it over, finishes it,
 *    and unpinned the frames come back as before.
 *
 * An interrupt between arming and the SYSCALL delivers the upcall before
 * the call (then nothing is continued); the case is made again, up to
 * ATTEMPTS times.
 */
#define MMU_POOL_PAGES 4
#include "mmu_tree.h"

#define ATTEMPTS   4
#define SKIPPED    0x7777UL
#define MAX_TABLES 4096

static evtchn_port_t ipi;
static unsigned done;
static struct mmuext_op pin_op;
static bool abandon;

static struct {
    unsigned upcalls;
    uint64_t rip, rdi, rsi;
    long mmu_rc, map_rc;
} seen;

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        seen.rdi = r->rdi;
        seen.rsi = r->rsi;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_mmuext_op)) {
            /* The L4 is partly validated now: neither a table nor memory. */
            seen.mmu_rc = mmu1((l4() << 12) + 3 * 8, 0);
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

static void pin_prepare(void *arg)
{
    (void)arg;
    pin_op = (struct mmuext_op){ .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = l4() };
    done = 0;
    memset(&seen, 0, sizeof(seen));
}

static long pin_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_mmuext_op(&pin_op, 1, &done, DOMID_SELF);
}

/* The pin ran to its end before anything was armed: undone for another try. */
static void pin_missed(void *arg, long rc)
{
    (void)arg;
    CHECK_EQ(rc, 0);
    CHECK_EQ(done, 1);
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
}

/* The pin with the event armed; true when the upcall came on its SYSCALL. */
static bool pin_armed(long *rc)
{
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_mmuext_op, .what = "the pin",
                               .attempts = ATTEMPTS, .prepare = pin_prepare, .call = pin_call,
                               .missed = pin_missed };

    return preempt_call(&pc, rc);
}

/* The tree works as CR3, and validated it takes entry updates. */
static void use_tree(void)
{
    tree_use(l4_mfn());
    CHECK_EQ(mmu1((l4() << 12) + 3 * 8, 0), 0);
}

static void continued_case(void)
{
    long rc;

    abandon = false;
    bool at_syscall = pin_armed(&rc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(done, 1);
    CHECK(at_syscall, "the pin of %lu tables was never continued (upcall at %#lx)",
          (unsigned long)nr_tables, seen.rip);
    if (at_syscall) {
        CHECK_EQ(seen.rdi, (uint64_t)&pin_op);
        CHECK_EQ((uint32_t)seen.rsi, 1 | PREEMPTED);
        CHECK(seen.mmu_rc != 0, "mmu_update on the partly validated L4 succeeded");
        CHECK(seen.map_rc != 0, "a writable mapping of the partly validated L4 succeeded");
    }
    use_tree();
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
    CHECK_EQ(tree_typed_frames(), 0);
}

static void abandoned_case(void)
{
    long rc;

    tree_build();               /* the L4's slot 3 changed above; the same tree again */
    abandon = true;
    bool at_syscall = pin_armed(&rc);
    abandon = false;
    CHECK(at_syscall, "the pin was never continued (upcall at %#lx)", seen.rip);
    if (!at_syscall)
        return;
    CHECK_EQ(rc, (long)SKIPPED);
    CHECK_EQ(done, 0);
    /* Left part way, nobody going on with it: still neither a table nor memory. */
    CHECK(seen.mmu_rc != 0 && mmu1((l4() << 12) + 3 * 8, 0) != 0,
          "mmu_update on the abandoned partly validated L4 succeeded");
    CHECK(seen.map_rc != 0 && map_mfn(pool_page(WINDOW), l4(), PTE_P | PTE_RW | PTE_US | PTE_A),
          "a writable mapping of the abandoned partly validated L4 succeeded");
    REQUIRE_EQ(pool_rw(WINDOW), 0);
    /* A new pin takes it over and finishes it. */
    CHECK_EQ(ext1(MMUEXT_PIN_L4_TABLE, l4()), 0);
    use_tree();
    CHECK_EQ(ext1(MMUEXT_UNPIN_TABLE, l4()), 0);
    CHECK_EQ(tree_typed_frames(), 0);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;

    tree_init(MAX_TABLES);
    continued_case();
    abandoned_case();
    return RESULT_SUCCESS;
}
