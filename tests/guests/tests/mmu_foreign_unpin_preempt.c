/*
 * A foreign owner's unpin is preemptible (docs/pv-mm.md, "Partly
 * de-validated tables"; Xen 4.17 keeps the table in the caller's
 * old_guest_table whoever owns it): dom0, as a builder, writes a tree
 * into a new domain's frames (1 L4, 1 L3, 2 L2, the rest L1s mapping one
 * data frame read-only, as mmu_pin_preempt_destroy), pins its L4 and
 * unpins it with foreigndom naming the domain and an event left pending
 * behind the hypervisor's back:
 *
 * 1. continued: the upcall lands on mmuext_op's SYSCALL with the list
 *    gone (NULL, count MMU_UPDATE_PREEMPTED alone, the result 0 in
 *    foreigndom), the L4 not mappable writable there; the call returns 0,
 *    then the L4 is plain memory again and the tree pins and unpins again;
 * 2. abandoned, then the domain destroyed: its table is still in our
 *    vCPU's slot (a general reference: the domain may linger); our next
 *    mmuext_op lets it go, and the domain goes with every frame back.
 *
 * With the foreign unpin de-validated to the end (Mica before), the
 * upcall comes after the call.  An interrupt between arming and the
 * SYSCALL delivers the upcall before the call (then the tree goes at
 * once): pinned and tried again, up to ATTEMPTS times.
 */
#include "dom_tree.h"

#define PREEMPTED  0x80000000u
#define SKIPPED    0x7777UL
#define ATTEMPTS   4

static evtchn_port_t ipi;
static struct mmuext_op unpin_op;
static bool abandon;
static struct { unsigned upcalls; uint64_t rip, rdi, rsi, r10; long map_rc; } seen;

void evtchn_do_upcall(struct regs *r);

/*
 * A writable mapping of the domain's L4 at our MAP page, by
 * update_va_mapping_otherdomain: unlike mmu_update it does not first go
 * on with a de-validation our vCPU keeps (Xen the same).  Put back at
 * once when it works.
 */
static long map_l4_rw(void)
{
    long rc = hypercall5(__HYPERVISOR_update_va_mapping_otherdomain, (unsigned long)pool[MAP],
                         (m[0] << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, UVMF_INVLPG, id, 0);

    if (!rc)
        REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
    return rc;
}

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        seen.rdi = r->rdi;
        seen.rsi = r->rsi;
        seen.r10 = r->r10;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_mmuext_op)) {
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

static void unpin_prepare(void *arg)
{
    (void)arg;
    REQUIRE_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    unpin_op = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = m[0] };
    memset(&seen, 0, sizeof(seen));
}

static long unpin_call(void *arg)
{
    (void)arg;
    return HYPERVISOR_mmuext_op(&unpin_op, 1, NULL, id);
}

/* Pins the tree and unpins it with the event armed; true when the call stopped. */
static bool unpin_armed(long *rc)
{
    struct preempt_call pc = { .ipi = ipi, .nr = __HYPERVISOR_mmuext_op, .what = "the unpin",
                               .attempts = ATTEMPTS, .prepare = unpin_prepare,
                               .call = unpin_call };
    bool at_syscall = preempt_call(&pc, rc);

    CHECK(at_syscall, "the foreign unpin of %u tables was never continued (upcall at %#lx)",
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

    /* 1. Continued. */
    if (unpin_armed(&rc)) {
        CHECK_EQ(rc, 0);
        CHECK_EQ(seen.rdi, 0);
        CHECK_EQ((uint32_t)seen.rsi, PREEMPTED);
        CHECK_EQ((uint32_t)seen.r10, 0);
        CHECK(seen.map_rc != 0, "a writable mapping of the partly de-validated L4 succeeded");
    }
    CHECK_EQ(ts_map_foreign(MAP, m[0], true, id), 0);
    REQUIRE_EQ(ts_unmap_foreign(MAP), 0);
    CHECK_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    CHECK_EQ(ts_ext(MMUEXT_UNPIN_TABLE, m[0], id), 0);

    /* 2. Abandoned, then the domain destroyed. */
    abandon = true;
    bool stopped = unpin_armed(&rc);
    abandon = false;
    if (stopped) {
        CHECK_EQ(rc, (long)SKIPPED);
        CHECK(map_l4_rw() != 0, "a writable mapping of the abandoned partly de-validated L4 succeeded");
    }
    CHECK_EQ(ts_destroy(id), 0);
    /* Our next mmuext_op finishes (or lets go of) the dead domain's table. */
    CHECK_EQ(ts_ext(MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_SELF), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still exists after destroydomain", id);
    CHECK(ts_memory_back(before), "free pages %lu, before %lu", physinfo_free_pages(), before);
    return RESULT_SUCCESS;
}
