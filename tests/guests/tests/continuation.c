/*
 * Hypercall continuation, as the guest sees it (docs/hypercalls.md).
 *
 * Before each long call the test leaves an event pending with the upcall
 * unmasked behind the hypervisor's back (it masks events, sends itself an
 * IPI, and clears the mask with a plain store).  A hypervisor that checks
 * for preemption between two pieces of work then sees an event to deliver
 * at its first check, after exactly one piece, and must give the CPU back
 * with a continuation: the event upcall arrives with RIP on the SYSCALL
 * of the call's hypercall-page stub and the argument registers rewritten
 * for the rest of the work.  The upcall records that moment; the call then
 * goes on and must finish with exact results and *pdone totals.
 *
 * Covered: mmu_update and mmuext_op (list advanced, count | bit 31,
 * *pdone written at the continuation and added to afterwards, also up to
 * a failing entry), grant map batches (list advanced, count decreased),
 * console_io writes (buffer and count moved together), memory_op
 * decrease_reservation and populate_physmap (extents done in the command
 * from bit 6 up) and exchange (nr_exchanged written back), a multicall whose
 * sub-call is continued (the entry's arguments and result rewritten in
 * guest memory, the multicall continued at that entry), and a multicall
 * preempted between two entries.
 *
 * An interrupt (the scheduler's tick, an IPI from another CPU) that
 * enters the hypervisor between arm() and the call's SYSCALL delivers the
 * upcall there, before the call, as it must; the call then runs to its
 * end unpreempted and says nothing about continuations.  The case is made
 * again (up to ATTEMPTS times, the last one checked in full), so the
 * test does not depend on that window staying free.
 */
#define MMU_POOL_PAGES 48   /* memory_case takes 8 fresh pages per attempt */
#include "gnt_common.h"
#include <public/memory.h>

#define N       3000
#define GNT_N   100
#define GNT_REF 8
#define DATA    4
#define SCRATCH 6       /* plain memory the mmu_update lists write */
#define PREEMPTED 0x80000000u

static struct mmu_update reqs[N];
static struct mmuext_op ops[N];
static struct gnttab_map_grant_ref maps[GNT_N];
static struct gnttab_unmap_grant_ref unmaps[GNT_N];
static struct multicall_entry mc[3];
static char text[600];
static unsigned done, done2;
static evtchn_port_t ipi;

/* What the first upcall after arm() saw. */
static struct {
    unsigned upcalls;
    uint64_t rip, rdi, rsi, rdx, r10;
    unsigned done;
    uint64_t pool0, pool1;
    struct multicall_entry e0;
    int16_t status0, status1;
    uint64_t nr_exchanged;
} seen;

static struct xen_memory_exchange *exch_seen;

#define ATTEMPTS 4
static unsigned arms;           /* IPIs sent by arm(), for the final count */
static bool last_attempt;       /* no more retries: every check counts */
static bool retry_case;         /* an upcall came before a call's SYSCALL */

void evtchn_do_upcall(struct regs *r);

static bool upcall_hook(struct regs *r)
{
    if (!seen.upcalls++) {
        seen.rip = r->rip;
        seen.rdi = r->rdi;
        seen.rsi = r->rsi;
        seen.rdx = r->rdx;
        seen.r10 = r->r10;
        seen.done = READ_ONCE(done);
        seen.pool0 = pool_page(SCRATCH)[0];
        seen.pool1 = pool_page(SCRATCH)[1];
        seen.e0 = mc[0];
        seen.status0 = maps[0].status;
        seen.status1 = maps[1].status;
        seen.nr_exchanged = exch_seen ? exch_seen->nr_exchanged : 0;
    }
    evtchn_do_upcall(r);
    return true;
}

/* An event pending and unmasked, without the hypervisor having been told. */
static void arm(void)
{
    memset(&seen, 0, sizeof(seen));
    arms++;
    REQUIRE_EQ(events_arm_pending(ipi), 0);
}

/*
 * The upcall interrupted hypercall `nr` at its SYSCALL, to re-execute it.
 * False when it did not: before the last attempt that only marks the case
 * for another try (see the top), on the last it fails the test.
 */
static bool check_at_syscall(unsigned nr, const char *what)
{
    uint64_t stub = (uint64_t)hypercall_page + nr * 32;
    const uint8_t *insn = (const uint8_t *)seen.rip;

    if (seen.upcalls >= 1 && rip_on_hypercall_syscall(seen.rip, nr))
        return true;
    if (!last_attempt) {
        printk("%s: upcall at rip %#lx, not on the call's SYSCALL (an interrupt in the window "
               "before it?): the case is made again\n", what, seen.rip);
        retry_case = true;
        return false;
    }
    CHECK(seen.upcalls >= 1, "%s: no upcall at all", what);
    CHECK(seen.rip >= stub && seen.rip + 2 <= stub + 32,
          "%s: upcall at rip %#lx, not in hypercall %u's stub", what, seen.rip, nr);
    if (seen.rip >= stub && seen.rip + 2 <= stub + 32)
        CHECK(insn[0] == 0x0f && insn[1] == 0x05, "%s: rip %#lx is not on a SYSCALL", what,
              seen.rip);
    return false;
}

static void mmu_update_case(void)
{
    uint64_t ma = pool_mfn(SCRATCH) << 12;

    for (unsigned i = 0; i < N; i++)
        reqs[i] = (struct mmu_update){ .ptr = ma + (i % 512) * 8, .val = i + 1 };
    memset(pool_page(SCRATCH), 0, 4096);
    done = 12345;
    arm();
    CHECK_EQ(HYPERVISOR_mmu_update(reqs, N, &done, DOMID_SELF), 0);
    if (check_at_syscall(__HYPERVISOR_mmu_update, "mmu_update")) {
        CHECK_EQ(seen.rdi, (uint64_t)&reqs[1]);
        CHECK_EQ((uint32_t)seen.rsi, (N - 1) | PREEMPTED);
        CHECK_EQ(seen.rdx, (uint64_t)&done);
        CHECK_EQ((uint32_t)seen.r10, DOMID_SELF);
        CHECK_EQ(seen.done, 1);
        CHECK_EQ(seen.pool0, 1);
        CHECK_EQ(seen.pool1, 0);
    }
    CHECK_EQ(done, N);
    CHECK_EQ(pool_page(SCRATCH)[(N - 1) % 512], N);

    /* A failing entry after the continuation: *pdone counts both passes. */
    reqs[1500].ptr |= 7;
    done = 0;
    arm();
    CHECK_EQ(HYPERVISOR_mmu_update(reqs, N, &done, DOMID_SELF), -XEN_ENOSYS);
    if (check_at_syscall(__HYPERVISOR_mmu_update, "failing mmu_update"))
        CHECK_EQ(seen.done, 1);
    CHECK_EQ(done, 1500);
    reqs[1500].ptr &= ~7UL;

    /* The guest may continue a call itself: *pdone is read back and added to. */
    done = 1000;
    CHECK_EQ(HYPERVISOR_mmu_update(reqs, 10 | PREEMPTED, &done, DOMID_SELF), 0);
    CHECK_EQ(done, 1010);
}

static void mmuext_case(void)
{
    for (unsigned i = 0; i < N; i++)
        ops[i] = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    done = 777;
    arm();
    CHECK_EQ(HYPERVISOR_mmuext_op(ops, N, &done, DOMID_SELF), 0);
    if (check_at_syscall(__HYPERVISOR_mmuext_op, "mmuext_op")) {
        CHECK_EQ(seen.rdi, (uint64_t)&ops[1]);
        CHECK_EQ((uint32_t)seen.rsi, (N - 1) | PREEMPTED);
        CHECK_EQ(seen.rdx, (uint64_t)&done);
        CHECK_EQ(seen.done, 1);
    }
    CHECK_EQ(done, N);
}

static void grant_case(void)
{
    for (unsigned i = 0; i < GNT_N; i++) {
        gnt_grant(GNT_REF + i, DOMID_ME, pool_mfn(DATA), GTF_permit_access | GTF_readonly);
        maps[i] = (struct gnttab_map_grant_ref){ .flags = GNTMAP_device_map | GNTMAP_readonly,
                                                 .ref = GNT_REF + i, .dom = DOMID_ME,
                                                 .status = 99 };
    }
    arm();
    CHECK_EQ(gntop(GNTTABOP_map_grant_ref, maps, GNT_N), 0);
    if (check_at_syscall(__HYPERVISOR_grant_table_op, "grant map")) {
        CHECK_EQ(seen.rdi, GNTTABOP_map_grant_ref);
        CHECK_EQ(seen.rsi, (uint64_t)&maps[1]);
        CHECK_EQ((uint32_t)seen.rdx, GNT_N - 1);
        CHECK_EQ(seen.status0, GNTST_okay);
        CHECK_EQ(seen.status1, 99);
    }
    unsigned ok = 0;
    for (unsigned i = 0; i < GNT_N; i++)
        ok += maps[i].status == GNTST_okay && maps[i].dev_bus_addr == pool_mfn(DATA) << 12;
    CHECK_EQ(ok, GNT_N);
    for (unsigned i = 0; i < GNT_N; i++)
        unmaps[i] = (struct gnttab_unmap_grant_ref){ .dev_bus_addr = maps[i].dev_bus_addr,
                                                     .handle = maps[i].handle, .status = 99 };
    CHECK_EQ(gntop(GNTTABOP_unmap_grant_ref, unmaps, GNT_N), 0);
    ok = 0;
    for (unsigned i = 0; i < GNT_N; i++)
        ok += unmaps[i].status == GNTST_okay;
    CHECK_EQ(ok, GNT_N);
    for (unsigned i = 0; i < GNT_N; i++)
        CHECK(gnt_revoke(GNT_REF + i), "ref %u still in use", GNT_REF + i);
}

static void console_case(void)
{
    for (unsigned i = 0; i < sizeof(text); i++)
        text[i] = (i + 1) % 80 ? (char)('a' + i % 26) : '\n';
    text[sizeof(text) - 1] = '\n';
    arm();
    CHECK_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(text), text), 0);
    if (!check_at_syscall(__HYPERVISOR_console_io, "console_io"))
        return;
    CHECK_EQ(seen.rdi, CONSOLEIO_write);
    /* How much one piece is differs (Xen 127 bytes); what is left must add up. */
    CHECK(seen.rdx > (uint64_t)text && seen.rdx < (uint64_t)text + sizeof(text),
          "continued at %#lx, outside the text", seen.rdx);
    CHECK_EQ((uint32_t)seen.rsi + (seen.rdx - (uint64_t)text), sizeof(text));
}

#define MEM_N     4

/* Pool pages given back and traded: 8 from 12 up, fresh ones each attempt. */
static unsigned mem_first = 12;
_Static_assert(12 + ATTEMPTS * 2 * MEM_N <= MMU_POOL_PAGES, "pool too small for the attempts");

static uint64_t mem_list[MEM_N], mem_in[MEM_N], mem_out[MEM_N];

static long reservation(void)
{
    struct xen_memory_domain self = { .domid = DOMID_SELF };
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

/* memory_op: progress in the command's bits from 6 up, or in nr_exchanged. */
static void memory_case(void)
{
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)mem_list, .nr_extents = MEM_N, .domid = DOMID_SELF,
    };
    struct xen_memory_exchange x;
    long cur = reservation();

    for (unsigned i = 0; i < MEM_N; i++) {
        mem_list[i] = pool_mfn(mem_first + i);
        REQUIRE_EQ(map_mfn(pool[mem_first + i], 0, 0), 0);
    }
    arm();
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), MEM_N);
    if (check_at_syscall(__HYPERVISOR_memory_op, "decrease_reservation")) {
        CHECK_EQ(seen.rdi, (1 << 6) | XENMEM_decrease_reservation);
        CHECK_EQ(seen.rsi, (uint64_t)&r);
    }
    CHECK_EQ(reservation(), cur - MEM_N);

    for (unsigned i = 0; i < MEM_N; i++)
        mem_list[i] = va_to_pfn(pool[mem_first + i]);
    arm();
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_populate_physmap, &r), MEM_N);
    if (check_at_syscall(__HYPERVISOR_memory_op, "populate_physmap")) {
        CHECK_EQ(seen.rdi, (1 << 6) | XENMEM_populate_physmap);
        CHECK_EQ(seen.rsi, (uint64_t)&r);
    }
    CHECK_EQ(reservation(), cur);
    for (unsigned i = 0; i < MEM_N; i++)
        CHECK_EQ(m2p(mem_list[i]), va_to_pfn(pool[mem_first + i]));

    for (unsigned i = 0; i < MEM_N; i++) {
        mem_in[i] = pool_mfn(mem_first + MEM_N + i);
        mem_out[i] = va_to_pfn(pool[mem_first + MEM_N + i]);
        REQUIRE_EQ(map_mfn(pool[mem_first + MEM_N + i], 0, 0), 0);
    }
    memset(&x, 0, sizeof(x));
    x.in = (struct xen_memory_reservation){ .extent_start = (uint64_t)mem_in,
                                            .nr_extents = MEM_N, .domid = DOMID_SELF };
    x.out = (struct xen_memory_reservation){ .extent_start = (uint64_t)mem_out,
                                             .nr_extents = MEM_N, .mem_flags = 32 << 8,
                                             .domid = DOMID_SELF };
    exch_seen = &x;
    arm();
    CHECK_EQ(HYPERVISOR_memory_op(XENMEM_exchange, &x), 0);
    exch_seen = NULL;
    if (check_at_syscall(__HYPERVISOR_memory_op, "exchange")) {
        CHECK_EQ(seen.rdi, XENMEM_exchange);
        CHECK_EQ(seen.rsi, (uint64_t)&x);
        CHECK_EQ(seen.nr_exchanged, 1);
    }
    CHECK_EQ(x.nr_exchanged, MEM_N);
    CHECK_EQ(reservation(), cur);
    for (unsigned i = 0; i < MEM_N; i++)
        CHECK_EQ(m2p(mem_out[i]), va_to_pfn(pool[mem_first + MEM_N + i]));

    mem_first += 2 * MEM_N;
}

static void set(struct multicall_entry *e, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2,
                uint64_t a3)
{
    *e = (struct multicall_entry){ .op = op, .result = 0xa5a5a5a5a5a5a5a5UL,
                                   .args = { a0, a1, a2, a3 } };
}

static void multicall_case(void)
{
    long ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    uint64_t ma = pool_mfn(SCRATCH) << 12;

    /* A sub-call continued: its entry carries the rest of its work. */
    for (unsigned i = 0; i < N; i++)
        reqs[i] = (struct mmu_update){ .ptr = ma + (i % 512) * 8, .val = 2 * i };
    set(&mc[0], __HYPERVISOR_mmu_update, (uint64_t)reqs, N, (uint64_t)&done, DOMID_SELF);
    set(&mc[1], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    set(&mc[2], __HYPERVISOR_mmuext_op, (uint64_t)ops, N, (uint64_t)&done2, DOMID_SELF);
    done = 5;
    done2 = 6;
    arm();
    CHECK_EQ(HYPERVISOR_multicall(mc, 3), 0);
    bool continued = check_at_syscall(__HYPERVISOR_multicall, "multicall, sub-call continued");
    if (continued) {
        CHECK_EQ(seen.rdi, (uint64_t)&mc[0]);
        CHECK_EQ((uint32_t)seen.rsi, 3);
        CHECK_EQ(seen.e0.op, __HYPERVISOR_mmu_update);
        CHECK_EQ(seen.e0.result, __HYPERVISOR_mmu_update);
        CHECK_EQ(seen.e0.args[0], (uint64_t)&reqs[1]);
        CHECK_EQ((uint32_t)seen.e0.args[1], (N - 1) | PREEMPTED);
        CHECK_EQ(seen.e0.args[2], (uint64_t)&done);
        CHECK_EQ(seen.e0.args[3], DOMID_SELF);
        CHECK_EQ(seen.done, 1);
    }
    CHECK_EQ(mc[0].result, 0);
    CHECK_EQ(done, N);
    CHECK_EQ(mc[1].result, ver);
    CHECK_EQ(mc[2].result, 0);
    CHECK_EQ(done2, N);
    CHECK_EQ(pool_page(SCRATCH)[(N - 1) % 512], 2 * (N - 1));
    /* The entry keeps what its last continuation wrote: the rest, consistently. */
    if (continued) {
        uint32_t left = (uint32_t)mc[0].args[1] & ~PREEMPTED;
        CHECK((uint32_t)mc[0].args[1] & PREEMPTED, "entry 0's count lost its continuation bit");
        CHECK_EQ(mc[0].args[0], (uint64_t)&reqs[N - left]);
    }

    /* Preempted between entries: the rest of the list is re-issued. */
    set(&mc[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    set(&mc[1], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    set(&mc[2], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
    arm();
    CHECK_EQ(HYPERVISOR_multicall(mc, 3), 0);
    if (check_at_syscall(__HYPERVISOR_multicall, "multicall between entries")) {
        CHECK_EQ(seen.rdi, (uint64_t)&mc[1]);
        CHECK_EQ((uint32_t)seen.rsi, 2);
        CHECK_EQ(seen.e0.result, ver);
    }
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ(mc[i].result, ver);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(gnt_init(), 0);
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi), 0);
    trap_hooks[VEC_EVENT] = upcall_hook;
    events_enable();

    static void (*const cases[])(void) = {
        mmu_update_case, mmuext_case, grant_case, console_case, memory_case, multicall_case,
    };
    for (unsigned c = 0; c < ARRAY_SIZE(cases); c++) {
        for (unsigned attempt = 1;; attempt++) {
            last_attempt = attempt == ATTEMPTS;
            retry_case = false;
            cases[c]();
            if (!retry_case)
                break;
        }
    }
    events_disable();
    CHECK_EQ(evt_counts[ipi], arms);
    return RESULT_SUCCESS;
}
