/*
 * (Mica only: dom0 builds the workers with MICA_DOMCTL_build_pv.)
 * Weight and cap across CPUs, judged by the CPU time Mica accounts to
 * each domain (getdomaininfo's cpu_time), as ratios with wide bounds:
 * nothing here depends on how fast the machine is.  One kernel in two
 * roles, chosen by start_info's flags and the command line.
 *
 *   dom0: builds the spinners from this ELF (its initrd) and naps
 *     (SCHEDOP_poll with a timeout) while they run.
 *     Weights: three 1-vCPU spinners with credit weights 256, 256 and
 *       1024 on a 2-CPU host.  Xen's credit scheduler gives the heavy one
 *       a whole CPU (it cannot use more) and the two light ones half a
 *       CPU each: 2:1:1.  It must get at least WEIGHT_MIN_RATIO times
 *       the CPU time of each light one, and the light ones must be within
 *       a factor LIGHT_MAX_RATIO of each other.  Without weights holding
 *       across CPUs, placement decides: the heavy one shares a CPU with a
 *       light one while the other light one has a CPU of its own.
 *     Cap: one spinner with two vCPUs, first uncapped: it must use more
 *       than UNCAPPED_MIN_PCT of one CPU, which only two CPUs at once
 *       give (a domain's vCPUs in parallel); then capped at CAP_PCT: it
 *       must use at most CAP_MAX_PCT of one CPU, and something.
 *   spinner (domU): arithmetic in registers forever, on vCPU 0 and, with
 *     vcpus=2, on vCPU 1 too; dom0 destroys it.
 *
 * dom0's result line is the test's.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/mica_domctl.h>
#include <public/sysctl.h>

#define SPINNER_MEM_KB    (8 * 1024)
#define WARM_NS           1000000000UL
#define WEIGHT_WATCH_NS   4000000000UL
#define CAP_WATCH_NS      3000000000UL
#define WEIGHT_MIN_RATIO  13        /* tenths: heavy >= 1.3 x each light */
#define LIGHT_MAX_RATIO   25        /* tenths: light ones within 2.5x of each other */
#define UNCAPPED_MIN_PCT  120
#define CAP_PCT           50
#define CAP_MAX_PCT       80

static struct xen_domctl op;
static evtchn_port_t quiet_port;

static long domctl(uint32_t cmd, domid_t dom) { return domctl_call(&op, cmd, dom); }

/* About 20 ms without using the CPU: SCHEDOP_poll on a port nobody signals. */
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

static void nap_for(uint64_t ns)
{
    uint64_t end = system_time_ns() + ns;

    while (system_time_ns() < end)
        nap();
}

static unsigned host_cpus(void)
{
    struct xen_sysctl s;

    memset(&s, 0, sizeof(s));
    s.cmd = XEN_SYSCTL_physinfo;
    s.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    REQUIRE_EQ(HC(__HYPERVISOR_sysctl, &s, 0, 0), 0);
    return s.u.physinfo.nr_cpus;
}

static domid_t spinner(unsigned vcpus)
{
    static char cmdline[64];
    domid_t id;

    memset(&op, 0, sizeof(op));
    op.u.createdomain.max_vcpus = vcpus;
    op.u.createdomain.max_evtchn_port = 1023;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    REQUIRE_EQ(domctl(XEN_DOMCTL_createdomain, 0), 0);
    id = op.domain;
    snprintk(cmdline, sizeof(cmdline), "role=spinner vcpus=%u", vcpus);
    domain_build_from_module(&op, id, cmdline, SPINNER_MEM_KB, SPINNER_MEM_KB);
    return id;
}

/* XEN_DOMCTL_scheduler_op putinfo (credit): weight 0 keeps it, cap 0 is none. */
static long set_credit(domid_t id, uint16_t weight, uint16_t cap)
{
    memset(&op, 0, sizeof(op));
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
    op.u.scheduler_op.u.credit.weight = weight;
    op.u.scheduler_op.u.credit.cap = cap;
    return domctl(XEN_DOMCTL_scheduler_op, id);
}

static uint64_t cpu_time(domid_t id)
{
    memset(&op, 0, sizeof(op));
    REQUIRE_EQ(domctl(XEN_DOMCTL_getdomaininfo, id), 0);
    REQUIRE_EQ(op.domain, id);
    return op.u.getdomaininfo.cpu_time;
}

static void destroy(domid_t id)
{
    memset(&op, 0, sizeof(op));
    REQUIRE_EQ(domctl(XEN_DOMCTL_destroydomain, id), 0);
}

/* CPU time of each domain over WEIGHT_WATCH_NS, in % of one CPU. */
static void shares(const domid_t *ids, unsigned n, uint64_t window, uint64_t *pct)
{
    uint64_t c0[4], t0, t1;

    for (unsigned i = 0; i < n; i++)
        c0[i] = cpu_time(ids[i]);
    t0 = system_time_ns();
    nap_for(window);
    t1 = system_time_ns();
    for (unsigned i = 0; i < n; i++)
        pct[i] = (cpu_time(ids[i]) - c0[i]) * 100 / (t1 - t0);
}

static bool weights(void)
{
    static const uint16_t weight[3] = { 256, 256, 1024 };
    domid_t id[3];
    uint64_t pct[3];
    unsigned before = check_failures;

    for (unsigned i = 0; i < 3; i++) {
        id[i] = spinner(1);
        REQUIRE_EQ(set_credit(id[i], weight[i], 0), 0);
    }
    for (unsigned i = 0; i < 3; i++) {
        memset(&op, 0, sizeof(op));
        REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, id[i]), 0);
    }
    nap_for(WARM_NS);
    shares(id, 3, WEIGHT_WATCH_NS, pct);
    printk("share: weights 256/256/1024: d%u %lu%%, d%u %lu%%, d%u %lu%% of one CPU\n",
           id[0], pct[0], id[1], pct[1], id[2], pct[2]);
    CHECK(pct[0] > 0 && pct[1] > 0, "a light domain did not run at all");
    CHECK(pct[2] * 10 >= pct[0] * WEIGHT_MIN_RATIO && pct[2] * 10 >= pct[1] * WEIGHT_MIN_RATIO,
          "the weight-1024 domain got less than 1.3 times each weight-256 one");
    CHECK(pct[0] * 10 <= pct[1] * LIGHT_MAX_RATIO && pct[1] * 10 <= pct[0] * LIGHT_MAX_RATIO,
          "the two weight-256 domains got more than 2.5 times apart");
    for (unsigned i = 0; i < 3; i++)
        destroy(id[i]);
    return check_failures == before;
}

static bool cap(void)
{
    domid_t id = spinner(2);
    uint64_t free_pct, capped_pct;
    unsigned before = check_failures;

    memset(&op, 0, sizeof(op));
    REQUIRE_EQ(domctl(XEN_DOMCTL_unpausedomain, id), 0);
    shares(&id, 1, CAP_WATCH_NS, &free_pct);
    REQUIRE_EQ(set_credit(id, 0, CAP_PCT), 0);
    nap_for(WARM_NS);
    shares(&id, 1, CAP_WATCH_NS, &capped_pct);
    printk("share: 2 vCPUs on 2 CPUs: %lu%% of one CPU uncapped, %lu%% capped at %u%%\n",
           free_pct, capped_pct, CAP_PCT);
    CHECK(free_pct >= UNCAPPED_MIN_PCT, "uncapped, its two vCPUs did not use more than one CPU");
    CHECK(capped_pct > 0, "capped, it did not run at all");
    CHECK(capped_pct <= CAP_MAX_PCT, "capped at 50%%, it used more than 80%% of one CPU");
    destroy(id);
    return check_failures == before;
}

static enum result control(void)
{
    unsigned ncpus = host_cpus();
    bool ok;

    REQUIRE(start_info->mod_start && start_info->mod_len,
            "needs this kernel's ELF as its initrd module");
    REQUIRE(ncpus == 2, "wants a 2-CPU host (QEMU -smp 2), physinfo says %u", ncpus);
    map_shared_info();
    REQUIRE_EQ(evtchn_alloc_unbound_self(&quiet_port), 0);
    ok = weights();
    ok = cap() && ok;
    printk("share: weights and cap %s\n", ok ? "held across CPUs" : "did not hold");
    return ok ? RESULT_SUCCESS : RESULT_FAILURE;
}

/* ------------------------------------------------------------ spinner */

static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx1;

static void __attribute__((noreturn)) spin(void)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;

    for (;;) {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        __asm__ volatile("" : "+r"(h));
    }
}

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg;
    (void)arg2;
    spin();
}

static enum result spinner_main(void)
{
    if (cmdline_number("vcpus", 1) == 2) {
        REQUIRE_EQ(smp_init_boot_cpu(), 0);
        smp_fill_context(&ctx1, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
        REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx1), 0);
        REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    }
    printk("spinner: spinning\n");
    spin();
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    return (start_info->flags & SIF_INITDOMAIN) ? control() : spinner_main();
}
