/*
 * xen_version (17): every sub-op, its result checked against what the ABI
 * fixes (and against the CPUID leaves that must agree with it), plus bad
 * buffers and unknown sub-ops.
 */
#include "guest.h"

static bool terminated(const char *s, size_t n) { return strnlen(s, n) < n; }

enum result test_main(void)
{
    static union {
        xen_extraversion_t extra;
        struct xen_compile_info compile;
        xen_capabilities_info_t caps;
        xen_changeset_info_t changeset;
        struct xen_platform_parameters pp;
        struct xen_feature_info fi;
        xen_domain_handle_t handle;
        xen_commandline_t cmdline;
        char raw[4096];
    } u;
    long rc;
    uint32_t r[4];

    REQUIRE_EQ(traps_install(), 0);

    long ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    printk("version %ld.%ld\n", ver >> 16, ver & 0xffff);
    CHECK(ver >= 0x30000, "version %#lx: below 3.0", ver);
    pv_cpuid(0x40000001, 0, r);
    CHECK_EQ(r[0], ver);
    /* The argument is ignored for this sub-op, even a wild one. */
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, (void *)0xdead0000), ver);

    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, &u), 0);
    CHECK(terminated(u.extra, sizeof(u.extra)), "extraversion not terminated");
    CHECK_EQ((unsigned char)u.raw[sizeof(u.extra)], 0x55);   /* nothing beyond it */

    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_compile_info, &u), 0);
    CHECK(terminated(u.compile.compiler, 64) && terminated(u.compile.compile_by, 16) &&
          terminated(u.compile.compile_domain, 32) && terminated(u.compile.compile_date, 32),
          "compile_info strings not terminated");

    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_capabilities, &u), 0);
    CHECK(terminated(u.caps, sizeof(u.caps)), "capabilities not terminated");
    CHECK(strstr(u.caps, "xen-3.0-x86_64") != NULL, "capabilities \"%s\"", u.caps);
    printk("capabilities \"%s\"\n", u.caps);

    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_changeset, &u), 0);
    CHECK(terminated(u.changeset, sizeof(u.changeset)), "changeset not terminated");

    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_platform_parameters, &u), 0);
    CHECK_EQ(u.pp.virt_start, HYPERVISOR_VIRT_START);

    memset(&u, 0, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &u), 0);
    printk("features submap 0: %#x\n", u.fi.submap);
    CHECK(u.fi.submap & (1U << XENFEAT_dom0), "dom0 without XENFEAT_dom0");
    CHECK(!(u.fi.submap & (1U << XENFEAT_auto_translated_physmap)), "PV dom0 auto-translated?");
    CHECK(!(u.fi.submap & (1U << XENFEAT_supervisor_mode_kernel)), "supervisor_mode_kernel");
    CHECK(!(u.fi.submap & (1U << XENFEAT_hvm_callback_vector)), "hvm_callback_vector on PV");
    u.fi.submap_idx = 1;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &u), -XEN_EINVAL);
    u.fi.submap_idx = 0xffffffff;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, &u), -XEN_EINVAL);

    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);

    /* The caller's own handle: dom0's is all zeros (no toolstack made it). */
    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_guest_handle, &u), 0);
    {
        const unsigned char *h = (const unsigned char *)&u;
        unsigned int nz = 0;
        for (unsigned int i = 0; i < 16; i++)
            nz += h[i] != 0;
        CHECK(nz == 0, "dom0's handle has %u non-zero bytes", nz);
    }

    memset(&u, 0x55, sizeof(u));
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, &u), 0);
    CHECK(terminated(u.cmdline, sizeof(u.cmdline)), "command line not terminated");
    /* dom0 may read the hypervisor's command line; the runner passes noreboot. */
    CHECK(strstr(u.cmdline, "noreboot") != NULL, "command line \"%s\"", u.cmdline);

    /* build_id: a length that does not fit is refused, not overrun. */
    struct xen_build_id *bid = (struct xen_build_id *)&u;
    bid->len = 1;
    rc = HYPERVISOR_xen_version(XENVER_build_id, bid);
    CHECK(rc < 0, "build_id into 1 byte returned %ld", rc);

    /* Bad buffers for sub-ops that write. */
    void *const bad[] = {
        (void *)0x1000,                                  /* unmapped */
        (void *)(HYPERVISOR_VIRT_START + 0x30000000000UL), /* hypervisor's */
        (void *)0x0000800000000000UL,                    /* non-canonical */
        (void *)bootstrap_end() - 4,                     /* straddles the end */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(HYPERVISOR_xen_version(XENVER_extraversion, bad[i]), -XEN_EFAULT);
        CHECK_EQ(HYPERVISOR_xen_version(XENVER_capabilities, bad[i]), -XEN_EFAULT);
        CHECK_EQ(HYPERVISOR_xen_version(XENVER_platform_parameters, bad[i]), -XEN_EFAULT);
        CHECK_EQ(HYPERVISOR_xen_version(XENVER_get_features, bad[i]), -XEN_EFAULT);
        CHECK_EQ(HYPERVISOR_xen_version(XENVER_commandline, bad[i]), -XEN_EFAULT);
    }

    /* Unknown sub-ops. */
    CHECK_EQ(HYPERVISOR_xen_version(11, &u), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_xen_version(0x7fffffff, &u), -XEN_ENOSYS);
    CHECK_EQ(HYPERVISOR_xen_version(-1, &u), -XEN_ENOSYS);
    return RESULT_SUCCESS;
}
