/*
 * Free host memory as the toolstack sees it (sysctl physinfo): the tests
 * that create and destroy domains compare it before and after.
 */
#include "guest.h"
#include <public/sysctl.h>

static struct xen_sysctl_physinfo physinfo(void)
{
    struct xen_sysctl s;

    memset(&s, 0, sizeof(s));
    s.cmd = XEN_SYSCTL_physinfo;
    s.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    if (HC(__HYPERVISOR_sysctl, &s, 0, 0))
        error_exit("physinfo failed");
    return s.u.physinfo;
}

uint64_t physinfo_free_pages(void)
{
    return physinfo().free_pages;
}

/* Online physical CPUs (sysctl physinfo's nr_cpus). */
unsigned physinfo_nr_cpus(void)
{
    return physinfo().nr_cpus;
}
