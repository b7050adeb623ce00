/*
 * The sysctls and domctls Xen 4.17's libxl makes around `xl create`,
 * `xl dmesg` and `xl sched-credit`, from dom0, with the answers the
 * toolstack relies on: CPU pool 0 and its scheduler parameters (credit:
 * the hypervisor runs with sched=credit here), the NUMA and CPU topology,
 * the console ring, featuresets and CPU policies (sizes, the serialised
 * form, a domain's policy set back, refusals with err_leaf/err_msr,
 * features beyond the maximum dropped), TSC info, address size and node
 * affinity of a fresh domain, memory claims (XENMEM_claim_pages) for one.
 * docs/xl-compat.md.
 */
#include "guest.h"
#include "toolstack.h"

#define NO_SUB        0xffffffffu
#define MAX_LEAVES    120       /* Xen 4.17's CPUID_MAX_SERIALISED_LEAVES */
#define MAX_MSRS      2
#define FS_WORDS      19        /* Xen 4.17.7's FEATURESET_NR_ENTRIES */
#define CPUID1_ECX_VMX (1u << 5)

static struct xen_sysctl sop;
static struct xen_cpuid_leaf leaves[MAX_LEAVES + 1];
static struct xen_msr_entry msrs[MAX_MSRS];
static uint32_t features[FS_WORDS];
static uint8_t map[8];
static char ring[16384];
static uint32_t meminfo_dist[4];
static struct xen_sysctl_meminfo meminfo[2];
static struct xen_sysctl_cputopo topo[9];      /* 8 CPUs and a sentinel */

static long sysctl(uint32_t cmd)
{
    sop.cmd = cmd;
    sop.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return HC(__HYPERVISOR_sysctl, &sop, 0, 0);
}

static long pool_op(uint32_t op, uint32_t pool, uint32_t domid, uint32_t cpu)
{
    memset(&sop, 0, sizeof(sop));
    sop.u.cpupool_op.op = op;
    sop.u.cpupool_op.cpupool_id = pool;
    sop.u.cpupool_op.domid = domid;
    sop.u.cpupool_op.cpu = cpu;
    sop.u.cpupool_op.cpumap.bitmap = (uint64_t)map;
    sop.u.cpupool_op.cpumap.nr_bits = sizeof(map) * 8;
    memset(map, 0xa5, sizeof(map));
    return sysctl(XEN_SYSCTL_cpupool_op);
}

static long credit_op(uint32_t cmd, uint32_t tslice, uint32_t ratelimit)
{
    memset(&sop, 0, sizeof(sop));
    sop.u.scheduler_op.cpupool_id = 0;
    sop.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    sop.u.scheduler_op.cmd = cmd;
    sop.u.scheduler_op.u.sched_credit.tslice_ms = tslice;
    sop.u.scheduler_op.u.sched_credit.ratelimit_us = ratelimit;
    return sysctl(XEN_SYSCTL_scheduler_op);
}

static long readconsole(bool clear, bool incremental, uint32_t index)
{
    memset(&sop, 0, sizeof(sop));
    sop.u.readconsole.clear = clear;
    sop.u.readconsole.incremental = incremental;
    sop.u.readconsole.index = index;
    sop.u.readconsole.buffer = (uint64_t)ring;
    sop.u.readconsole.count = sizeof(ring);
    return sysctl(XEN_SYSCTL_readconsole);
}

static bool contains(const char *s, uint32_t n, const char *word)
{
    size_t w = strlen(word);

    for (uint32_t i = 0; i + w <= n; i++)
        if (!memcmp(s + i, word, w))
            return true;
    return false;
}

static void check_pools(uint32_t sched_id, uint32_t nr_cpus)
{
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_INFO, 0, 0, 0), 0);
    CHECK_EQ(sop.u.cpupool_op.cpupool_id, 0);
    CHECK_EQ(sop.u.cpupool_op.sched_id, sched_id);
    CHECK(sop.u.cpupool_op.n_dom >= 1, "n_dom %u", sop.u.cpupool_op.n_dom);
    CHECK_EQ(map[0], (uint8_t)((1u << nr_cpus) - 1));
    CHECK_EQ(map[7], 0);                     /* the caller's room beyond: zeroed */
    printk("pool 0: sched %u, %u domains, cpus %#x\n", sop.u.cpupool_op.sched_id,
           sop.u.cpupool_op.n_dom, map[0]);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_INFO, 1, 0, 0), -XEN_ENOENT);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_FREEINFO, 0, 0, 0), 0);
    CHECK_EQ(map[0], 0);                     /* no CPU outside a pool */
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_DESTROY, 0, 0, 0), -XEN_EBUSY);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_DESTROY, 9, 0, 0), -XEN_ENOENT);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_CREATE, 0, 0, 0), -XEN_EEXIST);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_RMCPU, 0, 0, 0), -XEN_EINVAL);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_RMCPU, 9, 0, 0), -XEN_ENOENT);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_ADDCPU, 0, 0, 0), -XEN_ENODEV);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_ADDCPU, 0, 0, XEN_SYSCTL_CPUPOOL_PAR_ANY),
             -XEN_ENODEV);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_ADDCPU, 9, 0, 0), -XEN_ENOENT);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN, 0, 0, 0), -XEN_EPERM);  /* itself */
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN, 0, 0x7000, 0), -XEN_ESRCH);
    CHECK_EQ(pool_op(99, 0, 0, 0), -XEN_ENOSYS);
}

static void check_scheduler(void)
{
    uint32_t tslice, ratelimit;

    REQUIRE_EQ(credit_op(XEN_SYSCTL_SCHEDOP_getinfo, 0, 0), 0);
    tslice = sop.u.scheduler_op.u.sched_credit.tslice_ms;
    ratelimit = sop.u.scheduler_op.u.sched_credit.ratelimit_us;
    printk("credit: tslice %u ms, ratelimit %u us\n", tslice, ratelimit);
    CHECK(tslice >= 1 && tslice <= 1000, "tslice %u", tslice);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, 0, 0), -XEN_EINVAL);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, 1001, 0), -XEN_EINVAL);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, 10, 99), -XEN_EINVAL);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, 10, 500001), -XEN_EINVAL);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, 1, 1001), -XEN_EINVAL);  /* above the slice */
    CHECK_EQ(credit_op(7, 10, 0), -XEN_EINVAL);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, 20, 500), 0);
    CHECK_EQ(sop.u.scheduler_op.u.sched_credit.tslice_ms, 20);      /* put answers as get */
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_getinfo, 0, 0), 0);
    CHECK_EQ(sop.u.scheduler_op.u.sched_credit.tslice_ms, 20);
    CHECK_EQ(sop.u.scheduler_op.u.sched_credit.ratelimit_us, 500);
    CHECK_EQ(credit_op(XEN_SYSCTL_SCHEDOP_putinfo, tslice, ratelimit), 0);
    memset(&sop, 0, sizeof(sop));
    sop.u.scheduler_op.cpupool_id = 3;
    sop.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    sop.u.scheduler_op.cmd = XEN_SYSCTL_SCHEDOP_getinfo;
    CHECK_EQ(sysctl(XEN_SYSCTL_scheduler_op), -XEN_ESRCH);
    sop.u.scheduler_op.cpupool_id = 0;
    sop.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT2;
    CHECK_EQ(sysctl(XEN_SYSCTL_scheduler_op), -XEN_EINVAL);
}

/*
 * cputopoinfo and physinfo describe one machine: the CPUs sharing CPU 0's
 * core are threads_per_core, the cores of its socket cores_per_socket.
 */
static void check_topology_agrees(uint32_t nr_cpus, uint32_t threads, uint32_t cores)
{
    uint32_t same_core = 0, socket_cores = 0;

    for (uint32_t i = 0; i < nr_cpus; i++) {
        bool first_of_core = true;

        if (topo[i].core == XEN_INVALID_CORE_ID)
            return;                          /* Xen under QEMU: nothing to compare */
        if (topo[i].socket != topo[0].socket)
            continue;
        if (topo[i].core == topo[0].core)
            same_core++;
        for (uint32_t j = 0; j < i; j++)
            if (topo[j].socket == topo[i].socket && topo[j].core == topo[i].core)
                first_of_core = false;
        socket_cores += first_of_core;
    }
    printk("topology: %u threads in CPU 0's core, %u cores in its socket (physinfo %u, %u)\n",
           same_core, socket_cores, threads, cores);
    CHECK_EQ(same_core, threads);
    CHECK_EQ(socket_cores, cores);
}

static void check_topology(uint32_t nr_cpus, uint32_t threads, uint32_t cores)
{
    memset(&sop, 0, sizeof(sop));
    CHECK_EQ(sysctl(XEN_SYSCTL_numainfo), 0);
    CHECK_EQ(sop.u.numainfo.num_nodes, 1);
    memset(&sop, 0, sizeof(sop));
    sop.u.numainfo.num_nodes = 2;
    sop.u.numainfo.meminfo = (uint64_t)meminfo;
    sop.u.numainfo.distance = (uint64_t)meminfo_dist;
    CHECK_EQ(sysctl(XEN_SYSCTL_numainfo), 0);
    CHECK_EQ(sop.u.numainfo.num_nodes, 1);
    CHECK(meminfo[0].memsize > (64ULL << 20) && meminfo[0].memfree <= meminfo[0].memsize,
          "node 0: %lu bytes, %lu free", meminfo[0].memsize, meminfo[0].memfree);
    CHECK_EQ(meminfo_dist[0], 10);

    memset(&sop, 0, sizeof(sop));
    CHECK_EQ(sysctl(XEN_SYSCTL_cputopoinfo), 0);
    CHECK_EQ(sop.u.cputopoinfo.num_cpus, nr_cpus);
    memset(topo, 0xa5, sizeof(topo));
    memset(&sop, 0, sizeof(sop));
    sop.u.cputopoinfo.num_cpus = 8;
    sop.u.cputopoinfo.cputopo = (uint64_t)topo;
    CHECK_EQ(sysctl(XEN_SYSCTL_cputopoinfo), 0);
    CHECK_EQ(sop.u.cputopoinfo.num_cpus, nr_cpus);
    /* Xen under QEMU leaves the core id unknown; Mica numbers cores from 0. */
    CHECK(topo[0].core == 0 || topo[0].core == XEN_INVALID_CORE_ID, "core %#x", topo[0].core);
    CHECK_EQ(topo[0].socket, 0);
    CHECK_EQ(topo[0].node, 0);
    CHECK_EQ(topo[nr_cpus].core, 0xa5a5a5a5u);                   /* nothing past num_cpus */
    check_topology_agrees(nr_cpus, threads, cores);
}

static void check_console_ring(void)
{
    uint32_t n, index;

    REQUIRE_EQ(readconsole(false, false, 0), 0);
    n = sop.u.readconsole.count;
    index = sop.u.readconsole.index;
    printk("console ring: %u bytes, index %u\n", n, index);
    CHECK(n > 100 && n <= sizeof(ring), "count %u", n);
    CHECK(contains(ring, n, "Xen version") || contains(ring, n, "Mica "), "no banner");
    /* From the end: nothing new. */
    CHECK_EQ(readconsole(false, true, index), 0);
    CHECK_EQ(sop.u.readconsole.count, 0);
    CHECK_EQ(sop.u.readconsole.index, index);
    /* An unwritable buffer, for the ring's last 16 bytes. */
    memset(&sop, 0, sizeof(sop));
    sop.u.readconsole.buffer = 0x1000;
    sop.u.readconsole.count = 16;
    sop.u.readconsole.incremental = 1;
    sop.u.readconsole.index = index - 16;
    CHECK_EQ(sysctl(XEN_SYSCTL_readconsole), -XEN_EFAULT);
    /* Clear what was read: a plain read then has nothing. */
    CHECK_EQ(readconsole(true, false, 0), 0);
    CHECK_EQ(sop.u.readconsole.count, n);
    CHECK_EQ(readconsole(false, false, 0), 0);
    CHECK_EQ(sop.u.readconsole.count, 0);
}

static long system_policy(uint32_t index, uint64_t l, uint32_t nl, uint64_t m, uint32_t nm)
{
    memset(&sop, 0, sizeof(sop));
    sop.u.cpu_policy.index = index;
    sop.u.cpu_policy.nr_leaves = nl;
    sop.u.cpu_policy.nr_msrs = nm;
    sop.u.cpu_policy.leaves = l;
    sop.u.cpu_policy.msrs = m;
    return sysctl(XEN_SYSCTL_get_cpu_policy);
}

static const struct xen_cpuid_leaf *find_leaf(uint32_t n, uint32_t leaf, uint32_t sub)
{
    for (uint32_t i = 0; i < n; i++)
        if (leaves[i].leaf == leaf && leaves[i].subleaf == sub)
            return &leaves[i];
    return NULL;
}

static void check_system_policies(void)
{
    const struct xen_cpuid_leaf *l;
    uint32_t n;

    /* Sizes. */
    memset(&sop, 0, sizeof(sop));
    sop.u.cpu_featureset.index = XEN_SYSCTL_cpu_featureset_host;
    CHECK_EQ(sysctl(XEN_SYSCTL_get_cpu_featureset), 0);
    CHECK_EQ(sop.u.cpu_featureset.nr_features, FS_WORDS);
    CHECK_EQ(system_policy(XEN_SYSCTL_cpu_policy_host, 0, 0, 0, 0), 0);
    CHECK_EQ(sop.u.cpu_policy.nr_leaves, MAX_LEAVES);
    CHECK_EQ(sop.u.cpu_policy.nr_msrs, MAX_MSRS);
    /*
     * physinfo's hw_cap[8]: the host CPU's first eight featureset words
     * (libvirt's libxl driver reads the host CPU's features from them).
     * Xen fills them from its boot CPU's capability words, which lack the
     * leaf 1 EDX bits its host featureset also mirrors into word 2
     * (0x80000001 EDX) on this CPU: each word is within the host
     * featureset's, the leaf 1 and leaf 7 words are the same.
     */
    static uint32_t host_fs[FS_WORDS];
    sop.u.cpu_featureset.features = (uint64_t)host_fs;
    CHECK_EQ(sysctl(XEN_SYSCTL_get_cpu_featureset), 0);
    memset(&sop, 0, sizeof(sop));
    REQUIRE_EQ(sysctl(XEN_SYSCTL_physinfo), 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK((sop.u.physinfo.hw_cap[i] & ~host_fs[i]) == 0 &&
              (sop.u.physinfo.hw_cap[i] == host_fs[i] || (i != 0 && i != 1 && i != 5)),
              "physinfo hw_cap[%u] %#x, host featureset word %#x",
              i, sop.u.physinfo.hw_cap[i], host_fs[i]);
    CHECK(host_fs[5] != 0, "host featureset word 5 (CPUID 7:0 EBX) is 0");
    /* Bad index, reserved field. */
    CHECK_EQ(system_policy(6, 0, 0, 0, 0), -XEN_EINVAL);
    sop.u.cpu_policy._rsvd = 1;
    sop.u.cpu_policy.index = XEN_SYSCTL_cpu_policy_host;
    CHECK_EQ(sysctl(XEN_SYSCTL_get_cpu_policy), -XEN_EINVAL);
    /* Too little room. */
    CHECK_EQ(system_policy(XEN_SYSCTL_cpu_policy_pv_default, (uint64_t)leaves, 3,
                           (uint64_t)msrs, MAX_MSRS), -XEN_ENOBUFS);

    /* The PV featureset against the PV default policy's leaves. */
    memset(&sop, 0, sizeof(sop));
    sop.u.cpu_featureset.index = XEN_SYSCTL_cpu_featureset_pv;
    sop.u.cpu_featureset.nr_features = 4;
    sop.u.cpu_featureset.features = (uint64_t)features;
    CHECK_EQ(sysctl(XEN_SYSCTL_get_cpu_featureset), -XEN_ENOBUFS);
    CHECK_EQ(sop.u.cpu_featureset.nr_features, 4);
    sop.u.cpu_featureset.nr_features = FS_WORDS;
    CHECK_EQ(sysctl(XEN_SYSCTL_get_cpu_featureset), 0);
    sop.u.cpu_featureset.index = 6;
    CHECK_EQ(sysctl(XEN_SYSCTL_get_cpu_featureset), -XEN_EINVAL);

    REQUIRE_EQ(system_policy(XEN_SYSCTL_cpu_policy_pv_default, (uint64_t)leaves, MAX_LEAVES,
                             (uint64_t)msrs, MAX_MSRS), 0);
    n = sop.u.cpu_policy.nr_leaves;
    printk("PV default policy: %u leaves, %u MSRs\n", n, sop.u.cpu_policy.nr_msrs);
    CHECK(n > 10 && n <= MAX_LEAVES, "nr_leaves %u", n);
    CHECK_EQ(leaves[0].leaf, 0);
    CHECK_EQ(leaves[0].subleaf, NO_SUB);
    CHECK(leaves[0].a >= 1 && leaves[0].a <= 0xd, "max basic leaf %#x", leaves[0].a);
    l = find_leaf(n, 1, NO_SUB);
    REQUIRE(l, "no leaf 1");
    CHECK_EQ(l->d, features[0]);
    CHECK_EQ(l->c, features[1]);
    CHECK(l->c & (1u << 31), "leaf 1 ECX lacks the hypervisor bit: %#x", l->c);
    CHECK(!(l->c & CPUID1_ECX_VMX), "VMX offered to PV guests");
    CHECK(find_leaf(n, 0x40000000, NO_SUB), "no hypervisor-limit leaf");
    CHECK(find_leaf(n, 0x80000000, NO_SUB), "no extended leaf 0");
    CHECK_EQ(sop.u.cpu_policy.nr_msrs, MAX_MSRS);
    CHECK_EQ(msrs[0].idx, 0xce);
    CHECK_EQ(msrs[1].idx, 0x10a);
}

static long dom_policy(uint32_t cmd, domid_t dom, uint64_t l, uint32_t nl, uint64_t m, uint32_t nm)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.cpu_policy.nr_leaves = nl;
    ts_op.u.cpu_policy.nr_msrs = nm;
    ts_op.u.cpu_policy.leaves = l;
    ts_op.u.cpu_policy.msrs = m;
    return ts_domctl(cmd, dom);
}

static void check_domain_policy(domid_t dom)
{
    struct xen_cpuid_leaf *leaf1 = NULL;
    uint32_t n;

    CHECK_EQ(dom_policy(XEN_DOMCTL_get_cpu_policy, dom, 0, 0, 0, 0), 0);
    CHECK_EQ(ts_op.u.cpu_policy.nr_leaves, MAX_LEAVES);
    CHECK_EQ(ts_op.u.cpu_policy.nr_msrs, MAX_MSRS);
    REQUIRE_EQ(dom_policy(XEN_DOMCTL_get_cpu_policy, dom, (uint64_t)leaves, MAX_LEAVES,
                          (uint64_t)msrs, MAX_MSRS), 0);
    n = ts_op.u.cpu_policy.nr_leaves;
    CHECK(n > 10 && n <= MAX_LEAVES, "nr_leaves %u", n);
    /* What was read goes back unchanged. */
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves, n,
                        (uint64_t)msrs, MAX_MSRS), 0);
    /* The caller's own domain: no. */
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, 0, (uint64_t)leaves, n, 0, 0), -XEN_EINVAL);
    /* A max basic leaf above the PV maximum's: -EINVAL naming leaf 0. */
    leaves[0].a = 0x20;
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves, 1, 0, 0), -XEN_EINVAL);
    CHECK_EQ(ts_op.u.cpu_policy.err_leaf, 0);
    CHECK_EQ(ts_op.u.cpu_policy.err_subleaf, NO_SUB);
    /* A leaf no policy has: -ERANGE naming it. */
    leaves[0] = (struct xen_cpuid_leaf){ 0x1234, NO_SUB, 0, 0, 0, 0 };
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves, 1, 0, 0), -XEN_ERANGE);
    CHECK_EQ(ts_op.u.cpu_policy.err_leaf, 0x1234);
    CHECK_EQ(ts_op.u.cpu_policy.err_subleaf, NO_SUB);
    leaves[0] = (struct xen_cpuid_leaf){ 1, 0, 0, 0, 0, 0 };      /* leaf 1 has no subleaves */
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves, 1, 0, 0), -XEN_ERANGE);
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves, MAX_LEAVES + 1, 0, 0),
             -XEN_E2BIG);
    /* MSR entries: flags must be zero; PLATFORM_INFO is 32 bits. */
    msrs[0] = (struct xen_msr_entry){ 0xce, 1, 0 };
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, 0, 0, (uint64_t)msrs, 1), -XEN_EINVAL);
    CHECK_EQ(ts_op.u.cpu_policy.err_msr, 0xce);
    msrs[0] = (struct xen_msr_entry){ 0xce, 0, 1ULL << 32 };
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, 0, 0, (uint64_t)msrs, 1), -XEN_EOVERFLOW);
    msrs[0] = (struct xen_msr_entry){ 0xce, 0, 1u << 31 };          /* CPUID faulting */
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, 0, 0, (uint64_t)msrs, 1), -XEN_EINVAL);
    CHECK_EQ(ts_op.u.cpu_policy.err_msr, 0xce);

    /* A feature the PV maximum lacks (VMX) is dropped, not refused. */
    REQUIRE_EQ(dom_policy(XEN_DOMCTL_get_cpu_policy, dom, (uint64_t)leaves, MAX_LEAVES, 0, 0), 0);
    n = ts_op.u.cpu_policy.nr_leaves;
    for (uint32_t i = 0; i < n; i++)
        if (leaves[i].leaf == 1)
            leaf1 = &leaves[i];
    REQUIRE(leaf1, "no leaf 1 in the domain's policy");
    leaf1->c |= CPUID1_ECX_VMX;
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves, n, 0, 0), 0);
    REQUIRE_EQ(dom_policy(XEN_DOMCTL_get_cpu_policy, dom, (uint64_t)leaves, MAX_LEAVES, 0, 0), 0);
    leaf1 = NULL;
    for (uint32_t i = 0; i < ts_op.u.cpu_policy.nr_leaves; i++)
        if (leaves[i].leaf == 1)
            leaf1 = &leaves[i];
    REQUIRE(leaf1, "no leaf 1 in the domain's policy");
    CHECK(!(leaf1->c & CPUID1_ECX_VMX), "VMX kept in the policy: %#x", leaf1->c);
}

static void check_domain_settings(domid_t dom)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.address_size.size = 64;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_set_address_size, dom), 0);
    ts_op.u.address_size.size = 16;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_set_address_size, dom), -XEN_EINVAL);
    ts_op.u.address_size.size = 0;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_get_address_size, dom), 0);
    CHECK_EQ(ts_op.u.address_size.size, 64);

    /* TSC: the default mode, as libxl sets it; a new incarnation each time. */
    memset(&ts_op, 0, sizeof(ts_op));
    CHECK_EQ(ts_domctl(XEN_DOMCTL_settscinfo, dom), 0);
    memset(&ts_op, 0, sizeof(ts_op));
    CHECK_EQ(ts_domctl(XEN_DOMCTL_gettscinfo, dom), 0);
    CHECK_EQ(ts_op.u.tsc_info.tsc_mode, 0);
    CHECK_EQ(ts_op.u.tsc_info.incarnation, 1);
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.tsc_info.tsc_mode = 2;          /* never emulate */
    ts_op.u.tsc_info.incarnation = 5;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_settscinfo, dom), 0);
    memset(&ts_op, 0, sizeof(ts_op));
    CHECK_EQ(ts_domctl(XEN_DOMCTL_gettscinfo, dom), 0);
    CHECK_EQ(ts_op.u.tsc_info.tsc_mode, 2);
    CHECK_EQ(ts_op.u.tsc_info.incarnation, 6);
    CHECK_EQ(ts_op.u.tsc_info.gtsc_khz, 0);
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.tsc_info.tsc_mode = 7;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_settscinfo, dom), -XEN_EINVAL);
    memset(&ts_op, 0, sizeof(ts_op));
    CHECK_EQ(ts_domctl(XEN_DOMCTL_settscinfo, 0), -XEN_EINVAL);    /* itself */

    /* Node affinity: node 0 is online, node 1 is not. */
    memset(&ts_op, 0, sizeof(ts_op));
    memset(map, 0, sizeof(map));
    map[0] = 2;
    ts_op.u.nodeaffinity.nodemap.bitmap = (uint64_t)map;
    ts_op.u.nodeaffinity.nodemap.nr_bits = 64;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_setnodeaffinity, dom), -XEN_EINVAL);
    map[0] = 1;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_setnodeaffinity, dom), 0);
    memset(map, 0xa5, sizeof(map));
    CHECK_EQ(ts_domctl(XEN_DOMCTL_getnodeaffinity, dom), 0);
    CHECK_EQ(map[0], 1);
    CHECK_EQ(map[7], 0);

    /* MOVEDOMAIN into the pool it is in. */
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN, 0, dom, 0), 0);
    CHECK_EQ(pool_op(XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN, 5, dom, 0), -XEN_ENOENT);
}

/* XENMEM_claim_pages for dom (nr_extents pages), with the other fields as given. */
static long claim(domid_t dom, uint64_t pages, uint32_t order, uint64_t list)
{
    struct xen_memory_reservation r = {
        .extent_start = list, .nr_extents = pages, .extent_order = order, .domid = dom,
    };
    return HYPERVISOR_memory_op(XENMEM_claim_pages, &r);
}

static uint64_t outstanding(domid_t dom)
{
    struct xen_domctl_getdomaininfo di;

    return ts_info(dom, &di) ? ~0ULL : di.outstanding_pages;
}

static uint64_t host_outstanding(void)
{
    memset(&sop, 0, sizeof(sop));
    return sysctl(XEN_SYSCTL_physinfo) ? ~0ULL : sop.u.physinfo.outstanding_pages;
}

/*
 * Claims as libxc makes them (xl.conf's claim_mode): a claim for a new
 * domain, counted down as it is given frames, dropped with 0, released
 * when the domain dies; bad requests refused.
 */
static void check_claims(void)
{
    static uint64_t mfns[16];
    domid_t dom;

    REQUIRE_EQ(ts_create(), 0);
    dom = ts_op.domain;
    CHECK_EQ(ts_max_mem(dom, 128), 0);
    CHECK_EQ(claim(dom, 64, 1, 0), -XEN_EINVAL);            /* order must be 0 */
    CHECK_EQ(claim(dom, 64, 0, (uint64_t)mfns), -XEN_EINVAL);   /* no extent list */
    CHECK_EQ(claim(0x7000, 64, 0, 0), -XEN_EINVAL);         /* no such domain */
    CHECK_EQ(claim(dom, 129, 0, 0), -XEN_EINVAL);           /* above its maximum */
    CHECK_EQ(claim(dom, 0, 0, 0), 0);                       /* none to drop */
    CHECK_EQ(claim(dom, 64, 0, 0), 0);
    CHECK_EQ(outstanding(dom), 64);
    CHECK_EQ(host_outstanding(), 64);
    CHECK_EQ(claim(dom, 64, 0, 0), -XEN_EINVAL);            /* one at a time */
    CHECK_EQ(ts_populate(dom, mfns, 16), 16);
    CHECK_EQ(outstanding(dom), 48);
    CHECK_EQ(host_outstanding(), 48);
    CHECK_EQ(claim(dom, 0, 0, 0), 0);
    CHECK_EQ(outstanding(dom), 0);
    CHECK_EQ(host_outstanding(), 0);
    CHECK_EQ(claim(dom, 16, 0, 0), -XEN_EINVAL);            /* not above its 16 frames */
    uint64_t free = physinfo_free_pages();
    CHECK_EQ(ts_max_mem(dom, free + 4096), 0);
    CHECK_EQ(claim(dom, free + 2048, 0, 0), -XEN_ENOMEM);   /* more than is free */
    CHECK_EQ(claim(dom, 32, 0, 0), 0);
    CHECK_EQ(outstanding(dom), 16);
    CHECK_EQ(ts_destroy(dom), 0);
    CHECK(TS_SETTLE(host_outstanding() == 0), "claim outstanding after destroy: %lu",
          host_outstanding());
}

enum result test_main(void)
{
    uint32_t sched_id, nr_cpus, threads, cores;
    domid_t dom;

    REQUIRE_EQ(traps_install(), 0);

    memset(&sop, 0, sizeof(sop));
    REQUIRE_EQ(sysctl(XEN_SYSCTL_sched_id), 0);
    sched_id = sop.u.sched_id.sched_id;
    REQUIRE_EQ(sched_id, XEN_SCHEDULER_CREDIT);      /* Xen: sched=credit (expected) */
    memset(&sop, 0, sizeof(sop));
    REQUIRE_EQ(sysctl(XEN_SYSCTL_physinfo), 0);
    nr_cpus = sop.u.physinfo.max_cpu_id + 1;
    threads = sop.u.physinfo.threads_per_core;
    cores = sop.u.physinfo.cores_per_socket;
    CHECK(sop.u.physinfo.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1, "caps %#x",
          sop.u.physinfo.capabilities);
    REQUIRE(nr_cpus <= 8, "%u CPUs: the maps here have room for 8", nr_cpus);

    check_pools(sched_id, nr_cpus);
    check_scheduler();
    check_topology(nr_cpus, threads, cores);
    check_console_ring();
    check_system_policies();
    check_claims();

    REQUIRE_EQ(ts_create(), 0);
    dom = ts_op.domain;
    check_domain_policy(dom);
    check_domain_settings(dom);
    /* Once the domain has been unpaused its policy is fixed. */
    memset(&ts_op, 0, sizeof(ts_op));
    CHECK_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, dom), 0);
    CHECK_EQ(dom_policy(XEN_DOMCTL_get_cpu_policy, dom, (uint64_t)leaves, MAX_LEAVES, 0, 0), 0);
    CHECK_EQ(dom_policy(XEN_DOMCTL_set_cpu_policy, dom, (uint64_t)leaves,
                        ts_op.u.cpu_policy.nr_leaves, 0, 0), -XEN_EEXIST);
    CHECK_EQ(ts_destroy(dom), 0);

    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
