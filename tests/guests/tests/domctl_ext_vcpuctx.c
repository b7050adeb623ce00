/*
 * domctl get/set_ext_vcpucontext, dom0 as the toolstack: a new domain's
 * vCPU 0 reads back no 32-bit callbacks and the 64-octet size; what is
 * set (SYSCALL32 and SYSENTER callbacks, whether they mask events, code
 * selectors with their RPL raised to 3) reads back; a set without the
 * vmce part is enough.  Refused: a size short of the vmce part and
 * non-canonical addresses (-EINVAL, nothing changed); a vCPU id beyond
 * max_vcpus, our own running vCPU, a set on our own domain and an
 * unknown domain (-ESRCH, as Xen 4.17 answers them).  The machine-check
 * part a get returns is accepted back by set (Xen's values there depend
 * on the host, so they are not compared), and so is Xen's default one
 * (two banks, nothing configured), which files saved on Xen carry.
 */
#include "toolstack.h"

#define NONCANON 0x0000800000000000UL

static struct xen_domctl_ext_vcpucontext got;

static long ext_ctx(uint32_t cmd, domid_t dom, const struct xen_domctl_ext_vcpucontext *in)
{
    memset(&ts_op, 0, sizeof(ts_op));
    if (in)
        ts_op.u.ext_vcpucontext = *in;
    long rc = ts_domctl(cmd, dom);
    if (rc == 0 && cmd == XEN_DOMCTL_get_ext_vcpucontext)
        got = ts_op.u.ext_vcpucontext;
    return rc;
}

enum result test_main(void)
{
    struct xen_domctl_ext_vcpucontext set = { 0 };

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    uint64_t free_before = physinfo_free_pages();
    REQUIRE_EQ(ts_create(), 0);
    domid_t id = ts_op.domain;
    printk("created d%u\n", id);

    /* ---- a fresh vCPU ---- */
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, id, &set), 0);
    CHECK_EQ(got.size, sizeof(struct xen_domctl_ext_vcpucontext));
    CHECK_EQ(got.vcpu, 0);
    CHECK_EQ(got.syscall32_callback_eip, 0);
    CHECK_EQ(got.sysenter_callback_eip, 0);
    CHECK_EQ(got.syscall32_disables_events | got.sysenter_disables_events, 0);
    CHECK_EQ(ts_op.domain, id);

    /* ---- set and read back; a vmce-less size is enough ---- */
    set.size = 32;
    set.syscall32_callback_eip = 0xffffffff81001000UL;
    set.syscall32_callback_cs = 0xe030;
    set.syscall32_disables_events = 1;
    set.sysenter_callback_eip = 0xffffffff81002000UL;
    set.sysenter_callback_cs = 0xe033;
    set.sysenter_disables_events = 0;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &set), 0);
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, id, &set), 0);
    CHECK_EQ(got.syscall32_callback_eip, 0xffffffff81001000UL);
    CHECK_EQ(got.syscall32_callback_cs, 0xe033);       /* RPL raised to 3 */
    CHECK_EQ(got.syscall32_disables_events, 1);
    CHECK_EQ(got.sysenter_callback_eip, 0xffffffff81002000UL);
    CHECK_EQ(got.sysenter_callback_cs, 0xe033);
    CHECK_EQ(got.sysenter_disables_events, 0);

    /* ---- the whole get, vmce part included, goes back in ---- */
    struct xen_domctl_ext_vcpucontext whole = got;
    whole.sysenter_disables_events = 1;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &whole), 0);
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, id, &set), 0);
    CHECK_EQ(got.sysenter_disables_events, 1);

    /* ---- the vMCE state every vCPU has on Xen (two banks, nothing set),
       as a file saved there carries it: taken ---- */
    struct xen_domctl_ext_vcpucontext xenvmce = set;
    xenvmce.size = sizeof(xenvmce);
    memset(&xenvmce.vmce, 0, sizeof(xenvmce.vmce));
    xenvmce.vmce.caps = 2;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &xenvmce), 0);

    /* ---- refused, nothing changed ---- */
    struct xen_domctl_ext_vcpucontext bad = set;
    bad.size = 31;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &bad), -XEN_EINVAL);
    bad = set;
    bad.syscall32_callback_eip = NONCANON;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &bad), -XEN_EINVAL);
    bad = set;
    bad.sysenter_callback_eip = NONCANON;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &bad), -XEN_EINVAL);
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, id, &set), 0);
    CHECK_EQ(got.syscall32_callback_eip, 0xffffffff81001000UL);
    CHECK_EQ(got.sysenter_callback_eip, 0xffffffff81002000UL);
    bad = set;
    bad.vcpu = 1;                                       /* max_vcpus is 1 */
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, id, &bad), -XEN_ESRCH);
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, id, &bad), -XEN_ESRCH);
    bad.vcpu = 0;
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, 0, &bad), -XEN_ESRCH);   /* running */
    CHECK_EQ(ext_ctx(XEN_DOMCTL_set_ext_vcpucontext, 0, &set), -XEN_ESRCH);   /* ourselves */
    CHECK_EQ(ext_ctx(XEN_DOMCTL_get_ext_vcpucontext, 0x7000, &bad), -XEN_ESRCH);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(),
          free_before);
    return RESULT_SUCCESS;
}
