/*
 * Benchmark kernel for bench/smp-scaling, one ELF in two roles chosen by
 * start_info's flags:
 *
 *   timer (dom0): builds worker domains from this same ELF (its initrd)
 *     and times, from unpause to the last power-off, first one worker
 *     alone, then two at once.  While it waits it sleeps in SCHEDOP_poll
 *     on a port nobody signals (100 ms at a time), so it takes next to no
 *     CPU from them.  Prints "BENCH one_domu_ms N", "BENCH two_domus_ms N"
 *     and each run's CPU time.  With pin=1 worker i is pinned to CPU
 *     (i + 1) mod the host's CPUs.  On one physical CPU two workers take about
 *     twice as long as one; with guests on two CPUs (sched_smp=1) about as
 *     long as one.
 *   worker (domU): `work` rounds of a xorshift step (registers only, no
 *     hypercall), then powers off.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/sysctl.h>

#define WORKER_MEM_KB (8 * 1024)
#define WAIT_NS       1200000000000UL

static struct xen_domctl op;
static evtchn_port_t quiet_port;

static long domctl(uint32_t cmd, domid_t dom) { return domctl_call(&op, cmd, dom); }

/* With pin=1: worker i of a run is pinned to CPU (i + 1) mod the CPUs,
   so two workers on two CPUs never share one (the scheduler's own
   placement and stealing are then out of the picture). */
static bool pin_workers;
static unsigned nr_cpus = 1;

static void pin_to(domid_t id, unsigned cpu)
{
    static uint8_t bytes[8];

    memset(bytes, 0, sizeof(bytes));
    bytes[cpu / 8] = (uint8_t)(1u << (cpu % 8));
    memset(&op, 0, sizeof(op));
    op.u.vcpuaffinity.vcpu = 0;
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    op.u.vcpuaffinity.cpumap_hard.bitmap = (uint64_t)bytes;
    op.u.vcpuaffinity.cpumap_hard.nr_bits = 64;
    REQUIRE_EQ(domctl(XEN_DOMCTL_setvcpuaffinity, id), 0);
}

static domid_t build_worker(unsigned long work)
{
    static char cmdline[64];
    domid_t id = domain_create_small(&op);

    snprintk(cmdline, sizeof(cmdline), "role=worker work=%lu", work);
    domain_build_from_module(&op, id, cmdline, WORKER_MEM_KB, WORKER_MEM_KB);
    return id;
}

/* Sleeps about 100 ms without using the CPU. */
static void nap(void)
{
    struct vcpu_info *vi = &shared->vcpu_info[0];
    evtchn_port_t p = quiet_port;
    struct sched_poll sp = { .nr_ports = 1, .timeout = system_time_ns() + 100000000 };

    sp.ports = (uint64_t)&p;
    WRITE_ONCE(vi->evtchn_upcall_mask, 1);
    barrier();
    HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
    events_enable_on(vi);
}

/* The CPU vCPU 0 of id runs or last ran on (~0u if unknown). */
static unsigned cpu_of(domid_t id)
{
    memset(&op, 0, sizeof(op));
    op.u.getvcpuinfo.vcpu = 0;
    if (domctl(XEN_DOMCTL_getvcpuinfo, id))
        return ~0u;
    return op.u.getvcpuinfo.cpu;
}

/* dom0 cannot see both running (one of them shares its CPU while it
   looks), so it counts samples where the two are placed on different CPUs. */
static unsigned samples, apart;

/* Runs n workers at once; wall time in ms, their CPU time summed in *cpu_ms. */
static uint64_t timed_run(unsigned n, unsigned long work, uint64_t *cpu_ms)
{
    domid_t ids[2];
    bool done[2] = { false, false };
    unsigned left = n;
    uint64_t t0, t1 = 0, deadline;

    *cpu_ms = 0;
    for (unsigned i = 0; i < n; i++) {
        ids[i] = build_worker(work);
        if (pin_workers)
            pin_to(ids[i], (i + 1) % nr_cpus);
    }
    t0 = system_time_ns();
    for (unsigned i = 0; i < n; i++) {
        memset(&op, 0, sizeof(op));
        REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, ids[i]), 0);
    }
    deadline = t0 + WAIT_NS;
    while (left) {
        for (unsigned i = 0; i < n; i++) {
            if (done[i])
                continue;
            memset(&op, 0, sizeof(op));
            REQUIRE_EQ(domctl(XEN_DOMCTL_getdomaininfo, ids[i]), 0);
            REQUIRE_EQ(op.domain, ids[i]);
            if (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown) {
                done[i] = true;
                left--;
                t1 = system_time_ns();
                *cpu_ms += op.u.getdomaininfo.cpu_time / 1000000;
                memset(&op, 0, sizeof(op));
                REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, ids[i]), 0);
            }
        }
        REQUIRE(system_time_ns() < deadline, "workers still running after %lu s",
                WAIT_NS / 1000000000);
        if (n == 2 && left == 2) {
            samples++;
            if (cpu_of(ids[0]) != cpu_of(ids[1]))
                apart++;
        }
        if (left)
            nap();
    }
    return (t1 - t0) / 1000000;
}

static enum result timer(void)
{
    unsigned long work = cmdline_number("work", 100000000);
    uint64_t one, two, cpu1, cpu2;

    struct xen_sysctl sc;

    REQUIRE(start_info->mod_start && start_info->mod_len,
            "needs this kernel's ELF as its initrd module");
    memset(&sc, 0, sizeof(sc));
    sc.cmd = XEN_SYSCTL_physinfo;
    sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    REQUIRE_EQ(HC(__HYPERVISOR_sysctl, &sc, 0, 0), 0);
    nr_cpus = sc.u.physinfo.nr_cpus ? sc.u.physinfo.nr_cpus : 1;
    REQUIRE(nr_cpus <= 64, "%u CPUs", nr_cpus);
    pin_workers = cmdline_number("pin", 0) != 0;
    map_shared_info();
    REQUIRE_EQ(evtchn_alloc_unbound_self(&quiet_port), 0);
    one = timed_run(1, work, &cpu1);
    two = timed_run(2, work, &cpu2);
    printk("timer: one worker %lu ms (%lu ms of CPU), two at once %lu ms (%lu ms of CPU)\n",
           one, cpu1, two, cpu2);
    printk("BENCH one_domu_ms %lu\n", one);
    printk("BENCH two_domus_ms %lu\n", two);
    printk("BENCH two_domus_cpu_ms %lu\n", cpu2);
    printk("timer: the two workers were on different CPUs in %u of %u samples\n", apart,
           samples);
    printk("BENCH two_domus_apart_pct %u\n", samples ? apart * 100 / samples : 0);
    return RESULT_SUCCESS;
}

static enum result worker(void)
{
    unsigned long work = cmdline_number("work", 100000000);
    uint64_t h = 0x9e3779b97f4a7c15ULL;

    for (unsigned long i = 0; i < work; i++) {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
    }
    printk("worker: %lu rounds, hash %lx\n", work, h);
    return RESULT_SUCCESS;
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    return (start_info->flags & SIF_INITDOMAIN) ? timer() : worker();
}
