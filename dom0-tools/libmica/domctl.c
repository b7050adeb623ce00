/* domctl/sysctl wrappers (see domctl.h). */
#include "domctl.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <public/event_channel.h>
#include <public/memory.h>
#include <public/sched.h>

static int domctl(struct mica_hv *hv, struct xen_domctl *op, uint32_t cmd, uint16_t domid)
{
    op->cmd = cmd;
    op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op->domain = domid;
    return (int)mica_hypercall(hv, __HYPERVISOR_domctl, (uint64_t)(uintptr_t)op, 0, 0);
}

static int real_domid(uint16_t domid)
{
    return domid < DOMID_FIRST_RESERVED;
}

int mica_domain_create_limited(struct mica_hv *hv, uint32_t max_vcpus, const uint8_t uuid[16],
                               const struct mica_domain_limits *limits, uint16_t *domid)
{
    struct xen_domctl op;
    int rc;

    if (max_vcpus == 0 || max_vcpus > 32 || !domid || !real_domid(*domid))
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.createdomain.max_vcpus = max_vcpus;
    /* xl's defaults: event_channels=1023 and 32 grant frames. */
    op.u.createdomain.max_evtchn_port =
        limits && limits->max_evtchn_port ? limits->max_evtchn_port : 1023;
    op.u.createdomain.max_grant_frames =
        limits && limits->max_grant_frames ? (int32_t)limits->max_grant_frames : 32;
    op.u.createdomain.max_maptrack_frames = 1024;
    /* Grant tables up to version 2, as libxl asks of a hypervisor offering it. */
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(2);
    if (uuid)
        memcpy(op.u.createdomain.handle, uuid, 16);
    rc = domctl(hv, &op, XEN_DOMCTL_createdomain, *domid);
    if (rc == 0)
        *domid = op.domain;
    return rc;
}

int mica_domain_create(struct mica_hv *hv, uint32_t max_vcpus, const uint8_t uuid[16],
                       uint16_t *domid)
{
    return mica_domain_create_limited(hv, max_vcpus, uuid, NULL, domid);
}

static int simple(struct mica_hv *hv, uint32_t cmd, uint16_t domid)
{
    struct xen_domctl op;

    if (!real_domid(domid))
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    return domctl(hv, &op, cmd, domid);
}

int mica_domain_destroy(struct mica_hv *hv, uint16_t domid)
{
    return domid == 0 ? -EINVAL : simple(hv, XEN_DOMCTL_destroydomain, domid);
}

int mica_domain_pause(struct mica_hv *hv, uint16_t domid)
{
    return simple(hv, XEN_DOMCTL_pausedomain, domid);
}

int mica_domain_unpause(struct mica_hv *hv, uint16_t domid)
{
    return simple(hv, XEN_DOMCTL_unpausedomain, domid);
}

int mica_domain_max_mem(struct mica_hv *hv, uint16_t domid, uint64_t kb)
{
    struct xen_domctl op;

    if (!real_domid(domid))
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.max_mem.max_memkb = kb;
    return domctl(hv, &op, XEN_DOMCTL_max_mem, domid);
}

int mica_domain_set_memmap_limit(struct mica_hv *hv, uint16_t domid, uint64_t kb)
{
    struct e820entry ram = { .addr = 0, .size = kb << 10, .type = E820_RAM };
    struct xen_foreign_memory_map map;

    if (!real_domid(domid) || kb == 0 || kb > (UINT64_MAX >> 10))
        return -EINVAL;
    memset(&map, 0, sizeof(map));
    map.domid = domid;
    map.map.nr_entries = 1;
    map.map.buffer = (uint64_t)(uintptr_t)&ram;
    return (int)mica_hypercall(hv, __HYPERVISOR_memory_op, XENMEM_set_memory_map,
                               (uint64_t)(uintptr_t)&map, 0);
}

static int sched_op(struct mica_hv *hv, uint16_t domid, uint32_t cmd,
                    struct xen_domctl_sched_credit *credit)
{
    struct xen_domctl op;
    int rc;

    if (!real_domid(domid))
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    op.u.scheduler_op.cmd = cmd;
    op.u.scheduler_op.u.credit = *credit;
    rc = domctl(hv, &op, XEN_DOMCTL_scheduler_op, domid);
    if (rc == 0)
        *credit = op.u.scheduler_op.u.credit;
    return rc;
}

int mica_domain_sched_get(struct mica_hv *hv, uint16_t domid, uint16_t *weight, uint16_t *cap)
{
    struct xen_domctl_sched_credit c = { 0, 0 };
    int rc = sched_op(hv, domid, XEN_DOMCTL_SCHEDOP_getinfo, &c);

    if (rc == 0) {
        *weight = c.weight;
        *cap = c.cap;
    }
    return rc;
}

int mica_domain_sched_set(struct mica_hv *hv, uint16_t domid, uint16_t weight, uint16_t cap)
{
    struct xen_domctl_sched_credit c = { .weight = weight, .cap = cap };

    return sched_op(hv, domid, XEN_DOMCTL_SCHEDOP_putinfo, &c);
}

int mica_domain_info(struct mica_hv *hv, uint16_t domid, struct xen_domctl_getdomaininfo *out)
{
    struct xen_domctl op;
    int rc;

    if (!real_domid(domid) || !out)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    rc = domctl(hv, &op, XEN_DOMCTL_getdomaininfo, domid);
    if (rc)
        return rc;
    if (op.domain != domid || op.u.getdomaininfo.domain != domid)
        return -ESRCH;
    *out = op.u.getdomaininfo;
    return 0;
}

int mica_domain_list(struct mica_hv *hv, uint16_t first, struct xen_domctl_getdomaininfo *out,
                     uint32_t max)
{
    struct xen_sysctl s;
    int rc;

    if (!out || max == 0 || max > DOMID_FIRST_RESERVED)
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    s.cmd = XEN_SYSCTL_getdomaininfolist;
    s.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    s.u.getdomaininfolist.first_domain = first;
    s.u.getdomaininfolist.max_domains = max;
    s.u.getdomaininfolist.buffer = (uint64_t)(uintptr_t)out;
    rc = (int)mica_hypercall(hv, __HYPERVISOR_sysctl, (uint64_t)(uintptr_t)&s, 0, 0);
    if (rc)
        return rc;
    if (s.u.getdomaininfolist.num_domains > max)
        return -EIO;        /* the hypervisor wrote more than there was room for */
    return (int)s.u.getdomaininfolist.num_domains;
}

int mica_vcpu_info(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                   struct xen_domctl_getvcpuinfo *out)
{
    struct xen_domctl op;
    int rc;

    if (!real_domid(domid) || !out)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.getvcpuinfo.vcpu = vcpu;
    rc = domctl(hv, &op, XEN_DOMCTL_getvcpuinfo, domid);
    if (rc == 0)
        *out = op.u.getvcpuinfo;
    return rc;
}

/* Bitmaps live in this process; the hypervisor copies them in and out
   while the call runs, so keep them resident meanwhile. */
static int vcpu_affinity(struct mica_hv *hv, uint32_t cmd, uint16_t domid, uint32_t vcpu,
                         uint8_t *hard, uint8_t *soft, uint32_t nbytes)
{
    struct xen_domctl op;
    int rc;

    if (!real_domid(domid) || (!hard && !soft) || nbytes == 0 || nbytes > 512)
        return -EINVAL;
    memset(&op, 0, sizeof(op));
    op.u.vcpuaffinity.vcpu = vcpu;
    if (hard) {
        op.u.vcpuaffinity.flags |= XEN_VCPUAFFINITY_HARD;
        op.u.vcpuaffinity.cpumap_hard.bitmap = (uint64_t)(uintptr_t)hard;
        op.u.vcpuaffinity.cpumap_hard.nr_bits = nbytes * 8;
        mlock(hard, nbytes);
    }
    if (soft) {
        op.u.vcpuaffinity.flags |= XEN_VCPUAFFINITY_SOFT;
        op.u.vcpuaffinity.cpumap_soft.bitmap = (uint64_t)(uintptr_t)soft;
        op.u.vcpuaffinity.cpumap_soft.nr_bits = nbytes * 8;
        mlock(soft, nbytes);
    }
    rc = domctl(hv, &op, cmd, domid);
    if (hard)
        munlock(hard, nbytes);
    if (soft)
        munlock(soft, nbytes);
    return rc;
}

int mica_vcpu_affinity_get(struct mica_hv *hv, uint16_t domid, uint32_t vcpu, uint8_t *hard,
                           uint8_t *soft, uint32_t nbytes)
{
    return vcpu_affinity(hv, XEN_DOMCTL_getvcpuaffinity, domid, vcpu, hard, soft, nbytes);
}

int mica_vcpu_affinity_set_hard(struct mica_hv *hv, uint16_t domid, uint32_t vcpu,
                                uint8_t *hard, uint32_t nbytes)
{
    if (!hard)
        return -EINVAL;
    return vcpu_affinity(hv, XEN_DOMCTL_setvcpuaffinity, domid, vcpu, hard, NULL, nbytes);
}

int mica_physinfo(struct mica_hv *hv, struct xen_sysctl_physinfo *out)
{
    struct xen_sysctl s;
    int rc;

    if (!out)
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    s.cmd = XEN_SYSCTL_physinfo;
    s.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    rc = (int)mica_hypercall(hv, __HYPERVISOR_sysctl, (uint64_t)(uintptr_t)&s, 0, 0);
    if (rc == 0)
        *out = s.u.physinfo;
    return rc;
}

int mica_domain_shutdown(struct mica_hv *hv, uint16_t domid, uint32_t reason)
{
    struct sched_remote_shutdown r = { .domain_id = domid, .reason = reason };

    if (!real_domid(domid) || domid == 0 || reason > SHUTDOWN_watchdog)
        return -EINVAL;
    return (int)mica_hypercall(hv, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown,
                               (uint64_t)(uintptr_t)&r, 0);
}

int mica_evtchn_alloc_unbound(struct mica_hv *hv, uint16_t dom, uint16_t remote)
{
    struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote };
    int rc;

    if (!real_domid(dom) || !real_domid(remote))
        return -EINVAL;
    rc = (int)mica_hypercall(hv, __HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
                             (uint64_t)(uintptr_t)&a, 0);
    return rc ? rc : (int)a.port;
}

int mica_domain_build(struct mica_hv *hv, uint16_t domid, struct mica_build *b)
{
    struct mica_domctl_build_pv a;
    struct xen_domctl op;
    size_t cmdline_len = b && b->cmdline ? strlen(b->cmdline) : 0;
    int rc;

    if (!b || !real_domid(domid) || domid == 0 || !b->kernel || b->kernel_len == 0 ||
        b->kernel_len > MICA_BUILD_KERNEL_MAX || (!b->initrd) != (b->initrd_len == 0) ||
        b->initrd_len > MICA_BUILD_INITRD_MAX || cmdline_len >= MAX_GUEST_CMDLINE ||
        b->mem_kb == 0 || b->mem_kb % 4 || b->console_port == b->store_port)
        return -EINVAL;
    memset(&a, 0, sizeof(a));
    a.kernel = (uint64_t)(uintptr_t)b->kernel;
    a.kernel_len = b->kernel_len;
    a.initrd = (uint64_t)(uintptr_t)b->initrd;
    a.initrd_len = b->initrd_len;
    a.cmdline = cmdline_len ? (uint64_t)(uintptr_t)b->cmdline : 0;
    a.cmdline_len = cmdline_len;
    a.mem_kb = b->mem_kb;
    a.console_port = b->console_port;
    a.store_port = b->store_port;
    /* Mica reads the images from this process's memory: have them resident. */
    mlock(b->kernel, b->kernel_len);
    if (b->initrd)
        mlock(b->initrd, b->initrd_len);
    memset(&op, 0, sizeof(op));
    memcpy(op.u.pad, &a, sizeof(a));
    rc = domctl(hv, &op, MICA_DOMCTL_build_pv, domid);
    munlock(b->kernel, b->kernel_len);
    if (b->initrd)
        munlock(b->initrd, b->initrd_len);
    if (rc)
        return rc;
    memcpy(&a, op.u.pad, sizeof(a));
    b->console_mfn = a.console_mfn;
    b->store_mfn = a.store_mfn;
    b->nr_pages = a.nr_pages;
    return 0;
}

int mica_domctl(struct mica_hv *hv, struct xen_domctl *op, uint32_t cmd, uint16_t domid)
{
    if (!real_domid(domid))
        return -EINVAL;
    return domctl(hv, op, cmd, domid);
}
