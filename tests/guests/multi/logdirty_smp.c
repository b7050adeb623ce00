/*
 * (Mica only: dom0 builds the worker with MICA_DOMCTL_build_pv, and
 * Debian's Xen 4.17 has no log-dirty for PV guests.)
 *
 * Log-dirty with a domain's vCPUs running in parallel (docs/migration.md,
 * docs/smp.md).  dom0 builds a two-vCPU worker from this ELF, turns
 * log-dirty on and runs CLEAN rounds back to back (each one write-protects
 * the worker's pages again) until the worker shuts down.  In the worker:
 *
 *   vCPU 1 holds its domain's page-table lock as often as it can: it
 *     rewrites one of its own L1 entries with update_va_mapping in a loop;
 *   vCPU 0 makes Mica write into pages it never writes itself, so that
 *     the first write after each CLEAN is Mica's own and faults on the
 *     write-protected entry: XENVER_extraversion results into NBUF
 *     buffers, and exception frames (a UD2 bounced to its own handler)
 *     onto NSTK stacks used for nothing else.  After each CLEAN (seen as
 *     its first buffer's entry read-only) it first waits until vCPU 1
 *     runs again, so that both run while Mica writes.
 *
 * Before the fix Mica only tried the page-table lock for its own writes,
 * so while vCPU 1 held it the hypercall answered -EFAULT and a bounce
 * frame that could not be written crashed the domain.  Now every such
 * write must succeed: no hypercall error, every UD2 comes back to its
 * handler, every update_va_mapping answers 0, and the write protection
 * was seen (the buffer's entry read-only before, writable after Mica's
 * write) in ROUNDS rounds.  The worker powers off when all held (reboots
 * when not; a crash is Mica's verdict); dom0's result line is the test's.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/version.h>

#define WORKER_MEM_KB (8 * 1024)
#define NBUF 32
#define NSTK 4
#define ROUNDS 40
#define WORKER_LIMIT_NS 80000000000UL
#define DOM0_LIMIT_NS   100000000000UL

/* ------------------------------------------------------------ dom0 */

static struct xen_domctl op;
static uint8_t bitmap[1024];
static evtchn_port_t quiet_port;

static long shadow(domid_t dom, uint32_t sop, uint32_t mode)
{
    memset(&op, 0, sizeof(op));
    op.u.shadow_op.op = sop;
    op.u.shadow_op.mode = mode;
    op.u.shadow_op.dirty_bitmap = sop == XEN_DOMCTL_SHADOW_OP_CLEAN ? (uint64_t)bitmap : 0;
    op.u.shadow_op.pages = sop == XEN_DOMCTL_SHADOW_OP_CLEAN ? sizeof(bitmap) * 8 : 0;
    return domctl_call(&op, XEN_DOMCTL_shadow_op, dom);
}

/* About 2 ms without using the CPU: SCHEDOP_poll on a port nobody signals. */
static void nap(void)
{
    struct vcpu_info *vi = &shared->vcpu_info[0];
    evtchn_port_t p = quiet_port;
    struct sched_poll sp = { .nr_ports = 1, .timeout = system_time_ns() + 2000000 };

    sp.ports = (uint64_t)&p;
    WRITE_ONCE(vi->evtchn_upcall_mask, 1);
    barrier();
    HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
}

static enum result control(void)
{
    uint64_t free0, end = system_time_ns() + DOM0_LIMIT_NS;
    unsigned rounds = 0, faults = 0, code;
    domid_t id;

    REQUIRE(start_info->mod_start && start_info->mod_len,
            "needs this kernel's ELF as its initrd module");
    map_shared_info();
    REQUIRE_EQ(evtchn_alloc_unbound_self(&quiet_port), 0);
    free0 = physinfo_free_pages();

    memset(&op, 0, sizeof(op));
    op.u.createdomain.max_vcpus = 2;
    op.u.createdomain.max_evtchn_port = 1023;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    REQUIRE_EQ(domctl_call(&op, XEN_DOMCTL_createdomain, 0), 0);
    id = op.domain;
    domain_build_from_module(&op, id, "role=worker", WORKER_MEM_KB, WORKER_MEM_KB + 1024);
    REQUIRE_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0), 0);
    REQUIRE_EQ(domctl_fresh(&op, XEN_DOMCTL_unpausedomain, id), 0);

    for (;;) {
        REQUIRE_EQ(domctl_fresh(&op, XEN_DOMCTL_getdomaininfo, id), 0);
        REQUIRE_EQ(op.domain, id);
        if (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown)
            break;
        if (system_time_ns() > end) {
            printk("logdirty: domain %u did not shut down in time (%u rounds)\n", id, rounds);
            return RESULT_FAILURE;
        }
        REQUIRE_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_CLEAN, 0), 0);
        faults += op.u.shadow_op.stats.fault_count;
        rounds++;
        nap();
    }
    code = (op.u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    printk("logdirty: %u CLEAN rounds, %u write faults resolved; worker d%u shut down "
           "with code %u\n", rounds, faults, id, code);
    CHECK(code == SHUTDOWN_poweroff, "the worker %s",
          code == SHUTDOWN_crash ? "was crashed by Mica" : "found a failed write");
    CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_OFF, 0), 0);
    REQUIRE_EQ(domctl_fresh(&op, XEN_DOMCTL_destroydomain, id), 0);
    CHECK_EQ(physinfo_free_pages(), free0);
    if (check_failures)
        return RESULT_FAILURE;
    printk("logdirty: every write of Mica's landed while vCPU 1 held the page-table lock\n");
    return RESULT_SUCCESS;
}

/* ------------------------------------------------------------ worker */

static uint8_t bufs[NBUF][4096] __attribute__((aligned(4096)));
static uint8_t stacks[NSTK][8192] __attribute__((aligned(4096)));
static uint8_t scratch[4096] __attribute__((aligned(4096)));
static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx1;
static volatile uint64_t v1_calls, v1_fail, v1_started, v1_done, stop;
static volatile long v1_first_rc;

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    uint64_t pte = arg;

    (void)arg2;
    v1_started = 1;
    while (!stop) {
        long rc = HYPERVISOR_update_va_mapping((uint64_t)scratch,
                                               (v1_calls & 1) ? pte | PTE_RW : pte & ~PTE_RW,
                                               UVMF_INVLPG | UVMF_LOCAL);
        if (rc && !v1_fail++)
            v1_first_rc = rc;
        v1_calls++;
    }
    v1_done = 1;
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

/* A UD2 with RSP at top: Mica writes the exception frame just below it. */
static bool bounce_on(uint8_t *top)
{
    trap_clear();
    __asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
                     "movq %%r11, trap_resume(%%rip)\n\t"
                     "movq %%rsp, %%rbx\n\t"
                     "movq %0, %%rsp\n\t"
                     "ud2\n"
                     "1:\n\t"
                     "movq %%rbx, %%rsp\n\t"
                     "movq $0, trap_resume(%%rip)"
                     :: "r"(top) : "rbx", "r11", "memory", "cc");
    return last_trap.vector == 6;
}

static bool writable(const void *va)
{
    uint64_t pte;

    return lookup_pte((uint64_t)va, &pte) && (pte & PTE_RW);
}

static enum result worker(void)
{
    uint64_t end = system_time_ns() + WORKER_LIMIT_NS, pte, iters = 0;
    unsigned rounds = 0, restored = 0, hc_fail = 0, bounce_fail = 0;
    long first_rc = 0;
    struct sched_shutdown sd = { .reason = SHUTDOWN_reboot };
    bool ok;

    REQUIRE(lookup_pte((uint64_t)scratch, &pte), "no entry for the scratch page");
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    smp_fill_context(&ctx1, 1, vcpu1_main, pte, stack1 + sizeof(stack1));
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx1), 0);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    while (!v1_started && system_time_ns() < end)
        ;
    REQUIRE(v1_started, "vCPU 1 never ran");

    while (rounds < ROUNDS && system_time_ns() < end) {
        bool fresh = !writable(bufs[0]);

        iters++;
        if (fresh) {
            /* Write only once vCPU 1 is seen running again after the CLEAN's pause. */
            uint64_t c = v1_calls;
            while (v1_calls < c + 20 && system_time_ns() < end)
                ;
        }
        for (unsigned i = 0; i < NBUF; i++) {
            long rc = HYPERVISOR_xen_version(XENVER_extraversion, bufs[i]);
            if (rc < 0 && !hc_fail++)
                first_rc = rc;
        }
        for (unsigned i = 0; i < NSTK; i++)
            bounce_fail += !bounce_on(stacks[i] + sizeof(stacks[i]));
        if (fresh) {
            rounds++;
            restored += writable(bufs[0]);
        }
    }
    stop = 1;
    while (!v1_done && system_time_ns() < end + 5000000000UL)
        ;
    printk("worker: %lu loops, %u rounds write-protected, %u given back by Mica's own write\n",
           (unsigned long)iters, rounds, restored);
    printk("worker: %u hypercall errors (first %ld), %u lost bounces\n", hc_fail, first_rc,
           bounce_fail);
    printk("worker: vCPU 1: %lu update_va_mapping, %lu failed (first %ld)%s\n",
           (unsigned long)v1_calls, (unsigned long)v1_fail, (long)v1_first_rc,
           v1_done ? "" : ", still running");
    ok = rounds >= ROUNDS && restored >= ROUNDS / 2 && !hc_fail && !bounce_fail && !v1_fail &&
         v1_done && v1_calls > 0;
    if (ok)
        finish(RESULT_SUCCESS);
    printk("worker: FAILED\n");
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    return (start_info->flags & SIF_INITDOMAIN) ? control() : worker();
}
