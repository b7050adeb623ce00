/*
 * Counting the calls of a refused pin (tests mmu_refused_preempt,
 * mmu_foreign_refused_preempt): the pin's mmuext_op is issued with an
 * event pending at every call.  Each continuation the hypervisor sets up
 * brings the upcall onto the call's SYSCALL, where the hook records the
 * continuation's arguments and skips it; call_counting() then issues the
 * same call itself, with the event armed again (a re-issue in the hook
 * would take the upcall again before the SYSCALL).  So every call is one
 * stretch of hypervisor work, and its arguments say which phase it was:
 *
 *   validation  the pin again: list, count 1 | MMU_UPDATE_PREEMPTED;
 *   release     Xen 4.17's form for a call whose requests are done but
 *               whose vCPU still has a table to let go
 *               (old_guest_table): no list, count MMU_UPDATE_PREEMPTED,
 *               no pdone, the call's result in foreigndom.
 *
 * The caller provides: `ipi` (an IPI port of ours), the hook installed
 * as trap_hooks[VEC_EVENT], and probe_release(), called in the first
 * release upcall and in every 256th (the refused table must be unusable
 * meanwhile); its answer is recorded in rc_seen.probe (0: usable).
 */
#ifndef REFUSED_CALLS_H
#define REFUSED_CALLS_H

#define SKIPPED     0x7777UL
#define PREEMPTED_C 0x80000000u
#define MAX_CALLS   200000u
#define XEN_EINVAL_ 22

static evtchn_port_t ipi;
static struct mmuext_op rc_op;
static unsigned rc_done;

/* What the upcall saw (written by the hook, read after the call). */
static struct {
    unsigned upcalls;
    uint64_t rip, rdi, rsi, rdx, r10;
    bool probing;
    long probe;
} rc_seen;

struct rc_counts {
    unsigned validation, release, other, probes, probe_ok;
    int carried_bad;           /* release calls whose carried result was not -EINVAL */
    bool unmeasured;           /* an upcall came off the SYSCALL: counts short */
};

static long probe_release(void);
void evtchn_do_upcall(struct regs *r);

static bool rc_upcall_hook(struct regs *r)
{
    if (!rc_seen.upcalls++) {
        rc_seen.rip = r->rip;
        if (rip_on_hypercall_syscall(r->rip, __HYPERVISOR_mmuext_op) ||
            rip_on_hypercall_syscall(r->rip, __HYPERVISOR_domctl)) {
            rc_seen.rdi = r->rdi;
            rc_seen.rsi = r->rsi;
            rc_seen.rdx = r->rdx;
            rc_seen.r10 = r->r10;
            if (rc_seen.probing)
                rc_seen.probe = probe_release();
            r->rip += 2;            /* past the SYSCALL: call_counting() re-issues */
            r->rax = SKIPPED;
        }
    }
    evtchn_do_upcall(r);
    return true;
}

/* Traps, events, our IPI port and the counting hook. */
static inline void rc_init(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = rc_upcall_hook;
}

/* The upcall came right after the SYSCALL of hypercall nr: the call had ended. */
static bool rip_after_call(unsigned nr, uint64_t rip)
{
    uint64_t stub = (uint64_t)hypercall_page + nr * 32;

    return rip >= stub + 2 && rip <= stub + 32 && ((const uint8_t *)rip)[-2] == 0x0f &&
           ((const uint8_t *)rip)[-1] == 0x05;
}

/*
 * Pins `mfn` as an L4 for `dom`, an event pending at every call.  With
 * abandon_after, stops after that many release calls without issuing the
 * next (SKIPPED).  Otherwise the pin's final result.
 */
static long call_counting(uint64_t mfn, uint64_t dom, unsigned abandon_after, struct rc_counts *c)
{
    uint64_t ops = (uint64_t)&rc_op, count = 1, pdone = (uint64_t)&rc_done, fd = dom;

    memset(c, 0, sizeof(*c));
    rc_op = (struct mmuext_op){ .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = mfn };
    rc_done = 0x5555;
    for (unsigned n = 1; n <= MAX_CALLS; n++) {
        memset(&rc_seen, 0, sizeof(rc_seen));
        rc_seen.probing = c->release == 0 || c->release % 256 == 0;
        REQUIRE_EQ(events_arm_pending(ipi), 0);
        long rc = HYPERVISOR_mmuext_op((struct mmuext_op *)ops, (unsigned)count,
                                       (unsigned *)pdone, (unsigned)fd);
        events_disable();
        if (rc != (long)SKIPPED) {
            if (!rip_after_call(__HYPERVISOR_mmuext_op, rc_seen.rip)) {
                printk("call %u: upcall at %#lx, not after the SYSCALL\n", n,
                       (unsigned long)rc_seen.rip);
                c->unmeasured = true;
            }
            return rc;
        }
        if (rc_seen.rdi == (uint64_t)&rc_op && (uint32_t)rc_seen.rsi == (1 | PREEMPTED_C) &&
            rc_seen.rdx == (uint64_t)&rc_done && (uint16_t)rc_seen.r10 == (uint16_t)dom) {
            c->validation++;
        } else if (!rc_seen.rdi && (uint32_t)rc_seen.rsi == PREEMPTED_C && !rc_seen.rdx) {
            c->release++;
            if ((int32_t)rc_seen.r10 != -XEN_EINVAL_)
                c->carried_bad++;
            if (rc_seen.probing) {
                c->probes++;
                c->probe_ok += rc_seen.probe != 0;
            }
        } else {
            if (!c->other++)
                printk("unexpected continuation: %#lx %#lx %#lx %#lx\n",
                       (unsigned long)rc_seen.rdi, (unsigned long)rc_seen.rsi,
                       (unsigned long)rc_seen.rdx, (unsigned long)rc_seen.r10);
        }
        ops = rc_seen.rdi;
        count = rc_seen.rsi;
        pdone = rc_seen.rdx;
        fd = rc_seen.r10;
        if (abandon_after && c->release == abandon_after)
            return (long)SKIPPED;
    }
    CHECK(false, "the pin still continued after %u calls", MAX_CALLS);
    return 0;
}

/*
 * Issues call() (hypercall nr) with an event pending at every call, each
 * continuation re-issued unchanged (the form of a domctl, and of an
 * mmu_update/mmuext_op that first lets go of its vCPU's old table): the
 * number of calls, 0 if an upcall came off the SYSCALL (not measured);
 * *rc the last call's result.
 */
static inline unsigned count_unchanged(unsigned nr, long (*call)(void), long *rc)
{
    for (unsigned n = 1; n <= MAX_CALLS; n++) {
        memset(&rc_seen, 0, sizeof(rc_seen));
        REQUIRE_EQ(events_arm_pending(ipi), 0);
        *rc = call();
        events_disable();
        if (*rc == (long)SKIPPED)
            continue;
        if (!rip_after_call(nr, rc_seen.rip)) {
            printk("call %u: upcall at %#lx, not after the SYSCALL\n", n,
                   (unsigned long)rc_seen.rip);
            return 0;
        }
        return n;
    }
    CHECK(false, "hypercall %u still continued after %u calls", nr, MAX_CALLS);
    return 0;
}

/*
 * What a measured refused pin must show: Xen's error at the end, nothing
 * counted done, validation continued many times, and a release of the
 * `l1s` L1 tables it had validated cut into one stretch per L1 at most
 * (so at least l1s - 1 release calls), the table unusable meanwhile and
 * -EINVAL carried by every release call.
 */
static void check_counts(const char *what, long rc, const struct rc_counts *c, unsigned l1s)
{
    printk("%s: result %ld, %u validation calls, %u release calls (%u other)\n", what, rc,
           c->validation, c->release, c->other);
    CHECK_EQ(rc, -XEN_EINVAL_);
    CHECK_EQ(rc_done, 0);
    CHECK_EQ(c->other, 0);
    CHECK_EQ(c->carried_bad, 0);
    CHECK(c->validation + 1 >= l1s / 2, "%s: validation continued only %u times", what,
          c->validation);
    CHECK(c->release + 1 >= l1s,
          "%s: the release of %u validated L1 tables took %u calls: not one stretch per L1",
          what, l1s, c->release + 1);
    CHECK(c->probes > 0 && c->probe_ok == c->probes,
          "%s: the refused table was usable during its release (%u of %u probes refused)", what,
          c->probe_ok, c->probes);
}

#endif
