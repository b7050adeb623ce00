/*
 * sysctl (35), as dom0's toolstack uses it: physinfo, sched_id,
 * getdomaininfolist (dom0 itself), and hostile calls: a wrong interface
 * version, unknown commands, bad pointers for the argument and for the
 * list buffer.
 */
#include "guest.h"
#include <public/sysctl.h>

static long sysctl(struct xen_sysctl *op)
{
    return HC(__HYPERVISOR_sysctl, op, 0, 0);
}

static void prepare(struct xen_sysctl *op, uint32_t cmd)
{
    memset(op, 0, sizeof(*op));
    op->cmd = cmd;
    op->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
}

static struct xen_domctl_getdomaininfo list[8];

enum result test_main(void)
{
    struct xen_sysctl op;

    REQUIRE_EQ(traps_install(), 0);

    /* physinfo */
    prepare(&op, XEN_SYSCTL_physinfo);
    REQUIRE_EQ(sysctl(&op), 0);
    struct xen_sysctl_physinfo *pi = &op.u.physinfo;
    printk("physinfo: %u cpus (%u threads/core, %u cores/socket), %u kHz, caps %#x, "
           "total %lu pages, free %lu, max_mfn %#lx, hw_cap %08x %08x %08x %08x\n",
           pi->nr_cpus, pi->threads_per_core, pi->cores_per_socket, pi->cpu_khz,
           pi->capabilities, pi->total_pages, pi->free_pages, pi->max_mfn,
           pi->hw_cap[0], pi->hw_cap[1], pi->hw_cap[2], pi->hw_cap[3]);
    CHECK(pi->nr_cpus >= 1, "nr_cpus %u", pi->nr_cpus);
    CHECK(pi->max_cpu_id + 1 >= pi->nr_cpus, "max_cpu_id %u", pi->max_cpu_id);
    CHECK(pi->threads_per_core >= 1 && pi->cores_per_socket >= 1, "topology");
    CHECK(pi->nr_nodes >= 1, "nr_nodes %u", pi->nr_nodes);
    CHECK(pi->cpu_khz > 100000, "cpu_khz %u", pi->cpu_khz);
    CHECK(pi->capabilities & XEN_SYSCTL_PHYSCAP_pv, "no PV capability: %#x", pi->capabilities);
    CHECK(!(pi->capabilities & ~((XEN_SYSCTL_PHYSCAP_MAX << 1) - 1)), "unknown caps %#x",
          pi->capabilities);
    CHECK(pi->total_pages > 16384, "total_pages %lu", pi->total_pages);
    CHECK(pi->free_pages > 0 && pi->free_pages < pi->total_pages, "free_pages %lu",
          pi->free_pages);
    CHECK(pi->max_mfn + 1 >= pi->total_pages, "max_mfn %#lx", pi->max_mfn);
    CHECK(pi->hw_cap[0] & 1, "hw_cap[0] (CPUID 1 EDX) lacks FPU: %#x", pi->hw_cap[0]);
    CHECK_EQ(op.cmd, XEN_SYSCTL_physinfo);
    CHECK_EQ(op.interface_version, XEN_SYSCTL_INTERFACE_VERSION);

    /* sched_id: one of the schedulers the ABI names. */
    prepare(&op, XEN_SYSCTL_sched_id);
    CHECK_EQ(sysctl(&op), 0);
    printk("sched_id %u\n", op.u.sched_id.sched_id);
    CHECK(op.u.sched_id.sched_id >= XEN_SCHEDULER_CREDIT &&
          op.u.sched_id.sched_id <= XEN_SCHEDULER_NULL, "sched_id %u", op.u.sched_id.sched_id);

    /* getdomaininfolist from 0: dom0 first, running us. */
    memset(list, 0xa5, sizeof(list));
    prepare(&op, XEN_SYSCTL_getdomaininfolist);
    op.u.getdomaininfolist.first_domain = 0;
    op.u.getdomaininfolist.max_domains = ARRAY_SIZE(list);
    op.u.getdomaininfolist.buffer = (uint64_t)list;
    REQUIRE_EQ(sysctl(&op), 0);
    uint32_t n = op.u.getdomaininfolist.num_domains;
    printk("getdomaininfolist: %u domains; d0 flags %#x tot_pages %lu online %u\n",
           n, list[0].flags, list[0].tot_pages, list[0].nr_online_vcpus);
    REQUIRE(n >= 1 && n <= ARRAY_SIZE(list), "num_domains %u", n);
    CHECK_EQ(list[0].domain, 0);
    CHECK(list[0].flags & XEN_DOMINF_running, "dom0 not running: %#x", list[0].flags);
    CHECK(!(list[0].flags & (XEN_DOMINF_dying | XEN_DOMINF_shutdown | XEN_DOMINF_paused |
                             XEN_DOMINF_blocked | XEN_DOMINF_hvm_guest)),
          "dom0 flags %#x", list[0].flags);
    CHECK_EQ(list[0].nr_online_vcpus, 1);
    CHECK_EQ(list[0].max_vcpu_id, 0);
    CHECK(list[0].tot_pages > 0, "dom0 tot_pages 0");
    CHECK_EQ(list[0].shared_info_frame, start_info->shared_info >> 12);
    for (uint32_t i = 1; i < n; i++)
        CHECK(list[i].domain > list[i - 1].domain, "list not in id order");
    /* Nothing beyond num_domains was written. */
    if (n < ARRAY_SIZE(list))
        CHECK_EQ(((uint8_t *)&list[n])[0], 0xa5);

    /* Room for none: none written. */
    prepare(&op, XEN_SYSCTL_getdomaininfolist);
    op.u.getdomaininfolist.max_domains = 0;
    op.u.getdomaininfolist.buffer = (uint64_t)list;
    CHECK_EQ(sysctl(&op), 0);
    CHECK_EQ(op.u.getdomaininfolist.num_domains, 0);
    /* Starting above every domain: an empty list. */
    prepare(&op, XEN_SYSCTL_getdomaininfolist);
    op.u.getdomaininfolist.first_domain = 0x7fe0;
    op.u.getdomaininfolist.max_domains = ARRAY_SIZE(list);
    op.u.getdomaininfolist.buffer = (uint64_t)list;
    CHECK_EQ(sysctl(&op), 0);
    CHECK_EQ(op.u.getdomaininfolist.num_domains, 0);
    /* A buffer the caller cannot write. */
    prepare(&op, XEN_SYSCTL_getdomaininfolist);
    op.u.getdomaininfolist.max_domains = 1;
    op.u.getdomaininfolist.buffer = 0x1000;
    CHECK_EQ(sysctl(&op), -XEN_EFAULT);
    op.u.getdomaininfolist.buffer = 0xffff830000000000UL;
    CHECK_EQ(sysctl(&op), -XEN_EFAULT);

    /* The interface version must match exactly. */
    prepare(&op, XEN_SYSCTL_physinfo);
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION - 1;
    CHECK_EQ(sysctl(&op), -XEN_EACCES);
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION + 1;
    CHECK_EQ(sysctl(&op), -XEN_EACCES);
    op.interface_version = 0;
    CHECK_EQ(sysctl(&op), -XEN_EACCES);

    /* Unknown commands, including a retired number (24, tmem). */
    prepare(&op, 24);
    CHECK_EQ(sysctl(&op), -XEN_ENOSYS);
    prepare(&op, 0x7fffffff);
    CHECK_EQ(sysctl(&op), -XEN_ENOSYS);
    prepare(&op, 0);
    CHECK_EQ(sysctl(&op), -XEN_ENOSYS);

    /* The argument itself unreadable. */
    CHECK_EQ(HC(__HYPERVISOR_sysctl, 0, 0, 0), -XEN_EFAULT);
    CHECK_EQ(HC(__HYPERVISOR_sysctl, 0x1000, 0, 0), -XEN_EFAULT);
    CHECK_EQ(HC(__HYPERVISOR_sysctl, 0xffff830000000000UL, 0, 0), -XEN_EFAULT);
    CHECK_EQ(HC(__HYPERVISOR_sysctl, 0x8000000000000000UL, 0, 0), -XEN_EFAULT);

    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
