/*
 * Test kernels acting as a toolstack (see guest.h): domctl calls, small
 * domains built from the kernel's own module with Mica's build domctl,
 * and waiting on another domain.
 */
#include "guest.h"
#include <public/domctl.h>
#include <public/event_channel.h>
#include <public/mica_domctl.h>

long domctl_call(struct xen_domctl *op, uint32_t cmd, domid_t dom)
{
    op->cmd = cmd;
    op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op->domain = dom;
    return HC(__HYPERVISOR_domctl, op, 0, 0);
}

long domctl_fresh(struct xen_domctl *op, uint32_t cmd, domid_t dom)
{
    memset(op, 0, sizeof(*op));
    return domctl_call(op, cmd, dom);
}

domid_t domain_create_small(struct xen_domctl *op)
{
    memset(op, 0, sizeof(*op));
    op->u.createdomain.max_vcpus = 1;
    op->u.createdomain.max_evtchn_port = 1023;
    op->u.createdomain.max_grant_frames = -1;
    op->u.createdomain.max_maptrack_frames = -1;
    op->u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    REQUIRE_EQ(domctl_call(op, XEN_DOMCTL_createdomain, 0), 0);
    return op->domain;
}

evtchn_port_t port_for_domain(domid_t id)
{
    struct evtchn_alloc_unbound ub = { .dom = id, .remote_dom = 0 };

    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &ub), 0);
    return ub.port;
}

void domain_build_from_module(struct xen_domctl *op, domid_t id, const char *cmdline,
                              uint64_t mem_kb, uint64_t max_kb)
{
    struct mica_domctl_build_pv a = {
        .kernel = start_info->mod_start, .kernel_len = start_info->mod_len,
        .cmdline = (uint64_t)cmdline, .cmdline_len = strlen(cmdline), .mem_kb = mem_kb,
    };

    memset(op, 0, sizeof(*op));
    op->u.max_mem.max_memkb = max_kb;
    REQUIRE_EQ(domctl_call(op, XEN_DOMCTL_max_mem, id), 0);
    a.console_port = port_for_domain(id);
    a.store_port = port_for_domain(id);
    memset(op, 0, sizeof(*op));
    memcpy(op->u.pad, &a, sizeof(a));
    REQUIRE_EQ(domctl_call(op, MICA_DOMCTL_build_pv, id), 0);
}

void domain_wait_shutdown(struct xen_domctl *op, domid_t dom, uint64_t timeout_ns)
{
    uint64_t end = system_time_ns() + timeout_ns;

    for (;;) {
        REQUIRE_EQ(domctl_fresh(op, XEN_DOMCTL_getdomaininfo, dom), 0);
        if (op->domain == dom && (op->u.getdomaininfo.flags & XEN_DOMINF_shutdown))
            return;
        if (system_time_ns() > end) {
            printk("domain %u did not shut down within %lu s\n", dom,
                   (unsigned long)(timeout_ns / 1000000000));
            finish(RESULT_FAILURE);
        }
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

unsigned domain_reap(struct xen_domctl *op, domid_t dom, uint64_t free_before,
                     uint64_t timeout_ns, uint64_t *tot)
{
    unsigned reason;
    uint64_t want;
    bool back = false;

    domain_wait_shutdown(op, dom, timeout_ns);
    reason = (op->u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    *tot = op->u.getdomaininfo.tot_pages;
    REQUIRE_EQ(domctl_fresh(op, XEN_DOMCTL_destroydomain, dom), 0);
    /* Its memory was allocated before free_before was measured: at least
     * that comes back (its shared_info and grant frames are not in
     * tot_pages), and it is gone. */
    want = free_before + *tot;
    for (int i = 0; i < 100 && !back; i++) {
        back = physinfo_free_pages() >= want &&
               (domctl_fresh(op, XEN_DOMCTL_getdomaininfo, dom) != 0 || op->domain != dom);
        if (!back)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    CHECK(back, "free pages %lu after destroying domain %u, want at least %lu",
          physinfo_free_pages(), dom, want);
    return reason;
}

bool wait_word(volatile uint64_t *word, uint64_t value, uint64_t timeout_ns)
{
    uint64_t end = system_time_ns() + timeout_ns;

    while (*word != value) {
        if (system_time_ns() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}
