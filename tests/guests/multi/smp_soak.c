/*
 * (Mica only: dom0 builds the workers with MICA_DOMCTL_build_pv.)
 * The SMP soak: domains created, pinned, run, moved and destroyed in a
 * loop on every CPU, one kernel in two roles chosen by start_info's flags.
 *
 *   soak (dom0): first the affinity refusals on a fresh domain (a CPU the
 *     host lacks, an empty mask, a vCPU past the domain's maximum: all
 *     -EINVAL, the affinity unchanged).  Then `rounds` rounds; each builds
 *     `domains` workers from this ELF (its initrd), pins worker i's vCPU
 *     to CPU (round + i) mod nr_cpus, unpauses them, and while they run
 *     samples getvcpuinfo: a vCPU seen running on a CPU outside its pin
 *     more than PIN_GRACE_NS after the pin is a failure.  Half-way
 *     through, worker 0 is pinned to the next CPU (it migrates while it
 *     runs), and in odd rounds the last worker is destroyed while it runs.
 *     The others must power off by themselves within WAIT_NS; then all are
 *     destroyed, and physinfo's free pages must be exactly what they were
 *     before the round.  A hang anywhere is caught by the runner's
 *     time-out, a lock-order slip by its "LOCK VIOLATION" check.
 *   worker (domU): `steps` steps, each 20000 rounds of arithmetic in
 *     registers and one call into Mica (xen_version, extraversion, an
 *     event sent to an unbound port of its own, a yield, in turn; console
 *     output now and then), then powers off.
 *
 * dom0's result line is the test's.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/sysctl.h>

#define WORKER_MEM_KB  (8 * 1024)
#define WAIT_NS        120000000000UL
#define PIN_GRACE_NS   3000000000UL
#define MAX_WORKERS    8

static struct xen_domctl op;
static evtchn_port_t quiet_port;

/*
 * Waits about 20 ms without using the CPU (SCHEDOP_poll on a port nobody
 * signals).  Yielding in a loop instead would have dom0 enter Mica
 * continuously, and with sched_smp=1 every entry takes the one big
 * scheduler lock the workers' hypercalls need too.
 */
static void nap(void)
{
    struct vcpu_info *vi = &shared->vcpu_info[0];
    evtchn_port_t p = quiet_port;
    struct sched_poll sp = { .nr_ports = 1, .timeout = system_time_ns() + 20000000 };

    sp.ports = (uint64_t)&p;
    WRITE_ONCE(vi->evtchn_upcall_mask, 1);
    barrier();
    HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
    events_enable_on(vi);
}

static long domctl(uint32_t cmd, domid_t dom) { return domctl_call(&op, cmd, dom); }

static unsigned host_cpus(void)
{
    struct xen_sysctl s;

    memset(&s, 0, sizeof(s));
    s.cmd = XEN_SYSCTL_physinfo;
    s.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    REQUIRE_EQ(HC(__HYPERVISOR_sysctl, &s, 0, 0), 0);
    return s.u.physinfo.nr_cpus;
}

/* setvcpuaffinity, hard mask only, over a 64-CPU byte bitmap. */
static long pin(domid_t id, uint32_t vcpu, uint64_t mask)
{
    static uint8_t bytes[8];

    for (unsigned i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(mask >> (8 * i));
    memset(&op, 0, sizeof(op));
    op.u.vcpuaffinity.vcpu = vcpu;
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    op.u.vcpuaffinity.cpumap_hard.bitmap = (uint64_t)bytes;
    op.u.vcpuaffinity.cpumap_hard.nr_bits = 64;
    return domctl(XEN_DOMCTL_setvcpuaffinity, id);
}

static uint64_t hard_mask(domid_t id, uint32_t vcpu)
{
    static uint8_t bytes[8];
    uint64_t mask = 0;

    memset(bytes, 0, sizeof(bytes));
    memset(&op, 0, sizeof(op));
    op.u.vcpuaffinity.vcpu = vcpu;
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    op.u.vcpuaffinity.cpumap_hard.bitmap = (uint64_t)bytes;
    op.u.vcpuaffinity.cpumap_hard.nr_bits = 64;
    REQUIRE_EQ(domctl(XEN_DOMCTL_getvcpuaffinity, id), 0);
    for (unsigned i = 0; i < 8; i++)
        mask |= (uint64_t)bytes[i] << (8 * i);
    return mask;
}

static void build(domid_t id, unsigned long steps)
{
    static char cmdline[96];

    snprintk(cmdline, sizeof(cmdline), "role=worker steps=%lu", steps);
    domain_build_from_module(&op, id, cmdline, WORKER_MEM_KB, WORKER_MEM_KB);
}

/* The refusals, on a fresh (never run) domain; it is destroyed after. */
static bool check_refusals(unsigned ncpus)
{
    uint64_t free0 = physinfo_free_pages();
    uint64_t absent = ncpus < 64 ? 1ULL << ncpus : 0, online = absent - 1;
    unsigned before = check_failures;
    domid_t id = domain_create_small(&op);

    CHECK_EQ(pin(id, 0, absent), -XEN_EINVAL);          /* only a CPU the host lacks */
    CHECK_EQ(pin(id, 0, 0), -XEN_EINVAL);               /* an empty mask */
    CHECK_EQ(pin(id, 1, 1), -XEN_EINVAL);               /* a vCPU past its maximum */
    CHECK_EQ(hard_mask(id, 0) & online, online);        /* all refused: unchanged */
    CHECK_EQ(pin(id, 0, 1ULL << (ncpus - 1)), 0);
    CHECK_EQ(hard_mask(id, 0), 1ULL << (ncpus - 1));
    memset(&op, 0, sizeof(op));
    CHECK_EQ(domctl(XEN_DOMCTL_destroydomain, id), 0);
    CHECK_EQ(physinfo_free_pages(), free0);
    printk("soak: affinity refusals checked on d%u (absent CPU, empty mask, absent vCPU)\n", id);
    return check_failures == before;
}

struct worker {
    domid_t id;
    unsigned cpu;            /* pinned to */
    uint64_t pinned_at;      /* ns */
    bool done, destroyed, seen_on_pin;
};

static bool run_round(unsigned round, unsigned ndom, unsigned ncpus, unsigned long steps,
                      unsigned long *wrong_cpu)
{
    struct worker w[MAX_WORKERS];
    uint64_t free0 = physinfo_free_pages(), start, end;
    bool moved = false, killed = false, ok = true;
    unsigned before = check_failures;
    unsigned left = ndom;

    memset(w, 0, sizeof(w));
    for (unsigned i = 0; i < ndom; i++) {
        w[i].id = domain_create_small(&op);
        /* In odd rounds the last one is to be destroyed while it runs:
           give it work enough to be still at it when dom0 looks. */
        build(w[i].id, (round & 1) && i == ndom - 1 ? steps * 50 : steps);
        w[i].cpu = (round + i) % ncpus;
        REQUIRE_EQ(pin(w[i].id, 0, 1ULL << w[i].cpu), 0);
        w[i].pinned_at = system_time_ns();
    }
    for (unsigned i = 0; i < ndom; i++) {
        memset(&op, 0, sizeof(op));
        REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, w[i].id), 0);
    }
    start = system_time_ns();
    end = start + WAIT_NS;
    while (left) {
        uint64_t now = system_time_ns();
        for (unsigned i = 0; i < ndom; i++) {
            if (w[i].done)
                continue;
            memset(&op, 0, sizeof(op));
            REQUIRE_EQ(domctl(XEN_DOMCTL_getdomaininfo, w[i].id), 0);
            REQUIRE_EQ(op.domain, w[i].id);
            if (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown) {
                unsigned reason = (op.u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) &
                                  XEN_DOMINF_shutdownmask;
                printk("soak: round %u: d%u %s after %lu ms (%lu ms of CPU)\n", round, w[i].id,
                       reason == SHUTDOWN_poweroff ? "powered off" : "shut down (not poweroff)",
                       (system_time_ns() - start) / 1000000,
                       op.u.getdomaininfo.cpu_time / 1000000);
                CHECK_EQ(reason, SHUTDOWN_poweroff);
                w[i].done = true;
                left--;
                continue;
            }
            memset(&op, 0, sizeof(op));
            op.u.getvcpuinfo.vcpu = 0;
            REQUIRE_EQ(domctl(XEN_DOMCTL_getvcpuinfo, w[i].id), 0);
            if (op.u.getvcpuinfo.running) {
                if (op.u.getvcpuinfo.cpu == w[i].cpu) {
                    w[i].seen_on_pin = true;
                } else if (now - w[i].pinned_at > PIN_GRACE_NS) {
                    printk("soak: round %u: d%u runs on CPU %u, %lu ms after its pin to CPU %u\n",
                           round, w[i].id, op.u.getvcpuinfo.cpu,
                           (now - w[i].pinned_at) / 1000000, w[i].cpu);
                    (*wrong_cpu)++;
                }
            }
            /* Half-way: worker 0 moves to the next CPU while it runs. */
            if (i == 0 && !moved && op.u.getvcpuinfo.cpu_time > 0 && ncpus > 1) {
                w[0].cpu = (w[0].cpu + 1) % ncpus;
                REQUIRE_EQ(pin(w[0].id, 0, 1ULL << w[0].cpu), 0);
                w[0].pinned_at = system_time_ns();
                moved = true;
            }
            /* Odd rounds: the last worker is destroyed while it runs. */
            if (i == ndom - 1 && ndom > 1 && (round & 1) && !killed &&
                op.u.getvcpuinfo.cpu_time > 0) {
                memset(&op, 0, sizeof(op));
                REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, w[i].id), 0);
                w[i].done = w[i].destroyed = killed = true;
                left--;
            }
        }
        if (system_time_ns() > end) {
            printk("soak: round %u: %u workers still running after %lu s\n", round, left,
                   WAIT_NS / 1000000000);
            ok = false;
            break;
        }
        nap();
    }
    for (unsigned i = 0; i < ndom; i++) {
        if (w[i].destroyed)
            continue;
        memset(&op, 0, sizeof(op));
        REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, w[i].id), 0);
    }
    /*
     * The domain's frames come back within destroydomain; its grant
     * table's own pages (active entries, maptrack) after an RCU grace
     * period (grant_table.c free_table), which a busy other CPU can delay
     * a little, as Xen frees them from complete_domain_destroy.  A leak
     * stays a leak: after 5 s the counts must agree.
     */
    uint64_t free1 = physinfo_free_pages(), settle = system_time_ns();
    while (free1 != free0 && system_time_ns() - settle < 5000000000ull) {
        nap();
        free1 = physinfo_free_pages();
    }
    printk("soak: round %u: %u workers (d%u..d%u) on CPUs %u.., %s; %lu ms; free pages %lu, "
           "%lu before\n", round, ndom, w[0].id, w[ndom - 1].id, round % ncpus,
           killed ? "one destroyed while running" : "all powered off",
           (system_time_ns() - start) / 1000000, free1, free0);
    CHECK_EQ(free1, free0);
    return ok && check_failures == before;
}

static enum result soak(void)
{
    unsigned long rounds = cmdline_number("rounds", 6);
    unsigned long ndom = cmdline_number("domains", 3);
    unsigned long steps = cmdline_number("steps", 1000);
    unsigned ncpus = host_cpus(), bad = 0;
    unsigned long wrong_cpu = 0;
    uint64_t free0 = physinfo_free_pages();

    REQUIRE(start_info->mod_start && start_info->mod_len,
            "needs this kernel's ELF as its initrd module");
    REQUIRE(ndom >= 1 && ndom <= MAX_WORKERS, "domains= must be 1 to %d", MAX_WORKERS);
    REQUIRE(ncpus >= 1 && ncpus <= 64, "physinfo says %u CPUs", ncpus);
    map_shared_info();
    REQUIRE_EQ(evtchn_alloc_unbound_self(&quiet_port), 0);
    printk("soak: %lu rounds of %lu workers on %u CPUs\n", rounds, ndom, ncpus);
    if (!check_refusals(ncpus))
        bad++;
    for (unsigned r = 0; r < rounds; r++)
        if (!run_round(r, (unsigned)ndom, ncpus, steps, &wrong_cpu))
            bad++;
    uint64_t free1 = physinfo_free_pages();
    printk("soak: %lu rounds, %u failed; %lu samples on a CPU outside the pin; free pages %lu, "
           "%lu at the start\n", rounds, bad, wrong_cpu, free1, free0);
    CHECK_EQ(wrong_cpu, 0);
    CHECK_EQ(free1, free0);
    return bad || wrong_cpu || free1 != free0 ? RESULT_FAILURE : RESULT_SUCCESS;
}

/* ------------------------------------------------------------ worker */

static enum result worker(void)
{
    unsigned long steps = cmdline_number("steps", 1000);
    evtchn_port_t port;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    char ver[16];

    REQUIRE_EQ(evtchn_alloc_unbound_self(&port), 0);
    for (unsigned long i = 0; i < steps; i++) {
        /* Mostly work in registers, then one call into Mica per step. */
        for (unsigned j = 0; j < 20000; j++) {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
        }
        switch (i % 4) {
        case 0:
            REQUIRE(HYPERVISOR_xen_version(XENVER_version, NULL) > 0, "xen_version failed");
            break;
        case 1:
            HYPERVISOR_xen_version(XENVER_extraversion, ver);
            break;
        case 2:
            REQUIRE_EQ(evtchn_send(port), 0);
            break;
        default:
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
            break;
        }
        if (i % 250 == 0)
            printk("worker: step %lu of %lu\n", i, steps);
    }
    printk("worker: done, hash %lx\n", h);
    return RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    return (start_info->flags & SIF_INITDOMAIN) ? soak() : worker();
}
