/*
 * XEN_DOMCTL_shadow_op on a PV domain, as libxc's save path calls it
 * (xc_shadow_control / xc_logdirty_control).  Debian's Xen 4.17 is built
 * without shadow paging, so it cannot track dirty pages of a PV guest:
 * ENABLE_LOGDIRTY fails there with -EOPNOTSUPP (what `xl migrate` reports
 * as "Failed to enable logdirty").  Mica tracks them without shadow page
 * tables (docs/migration.md): the same call succeeds, and PEEK, CLEAN and
 * OFF answer.  Both refuse a paging op on the caller itself (-EINVAL).
 * The dirty pages themselves are checked by the two-domain test
 * tests/guests/multi/logdirty_pair.c.
 *
 * The domain is only created (no memory, never run): enough for the
 * calls, which look at the domain's paging mode, not its memory.
 */
#include "guest.h"
#include <public/domctl.h>

static struct xen_domctl op;

static long domctl_raw(void)
{
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    return HC(__HYPERVISOR_domctl, &op, 0, 0);
}

static long shadow(domid_t dom, uint32_t sop, uint32_t mode, void *bm, uint64_t pages)
{
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_shadow_op;
    op.domain = dom;
    op.u.shadow_op.op = sop;
    op.u.shadow_op.mode = mode;
    op.u.shadow_op.dirty_bitmap = (uint64_t)bm;
    op.u.shadow_op.pages = pages;
    return domctl_raw();
}

static bool on_mica(void)
{
    static xen_extraversion_t extra;

    if (HYPERVISOR_xen_version(XENVER_extraversion, extra))
        return false;
    extra[sizeof(extra) - 1] = 0;
    return strstr(extra, "mica") != NULL;
}

static uint8_t bitmap[64];

enum result test_main(void)
{
    bool mica = on_mica();
    domid_t id;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_createdomain;
    op.u.createdomain.max_vcpus = 1;
    op.u.createdomain.max_evtchn_port = 1023;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    REQUIRE_EQ(domctl_raw(), 0);
    id = op.domain;
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_max_vcpus;
    op.domain = id;
    op.u.max_vcpus.max = 1;
    CHECK_EQ(domctl_raw(), 0);
    printk("domain %u created on %s\n", id, mica ? "Mica" : "Xen");

    /* Never on oneself. */
    CHECK_EQ(shadow(0, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0),
             -XEN_EINVAL);

    rc = shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0);
    printk("ENABLE_LOGDIRTY on a PV domain: %ld\n", rc);
    if (!mica) {
        /* The refusal the issue names: no log-dirty for PV without shadow paging. */
        CHECK_EQ(rc, -XEN_EOPNOTSUPP);
        rc = shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY, NULL, 0);
        printk("ENABLE with ENABLE_LOG_DIRTY: %ld\n", rc);
        CHECK_EQ(rc, -XEN_EOPNOTSUPP);
    } else {
        CHECK_EQ(rc, 0);
        CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0, NULL, 0), -XEN_EINVAL);
        memset(bitmap, 0xff, sizeof(bitmap));
        CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_CLEAN, 0, bitmap, sizeof(bitmap) * 8), 0);
        CHECK_EQ(op.u.shadow_op.pages, sizeof(bitmap) * 8);
        for (unsigned i = 0; i < sizeof(bitmap); i++)
            CHECK(bitmap[i] == 0, "byte %u of an empty domain's bitmap is %#x", i, bitmap[i]);
        CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0), 0);
        CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY,
                        NULL, 0), 0);
    }
    /*
     * The rest.  Debian's Xen, with no shadow code at all, answers
     * -EINVAL to every op that needs it; Mica answers as a Xen built with
     * shadow paging does for a PV domain not in shadow mode (no pool:
     * 0 MiB; OFF succeeds), except that shadow mode itself (ENABLE
     * without the log-dirty bit, ENABLE_TEST) is refused like Debian's.
     */
    memset(bitmap, 0xff, sizeof(bitmap));
    CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_PEEK, 0, bitmap, sizeof(bitmap) * 8), 0);
    CHECK_EQ(op.u.shadow_op.pages, sizeof(bitmap) * 8);
    for (unsigned i = 0; i < sizeof(bitmap); i++)
        CHECK(bitmap[i] == 0, "byte %u of the bitmap is %#x", i, bitmap[i]);
    CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE_TEST, 0, NULL, 0), -XEN_EINVAL);
    CHECK_EQ(shadow(id, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_REFCOUNT, NULL, 0),
             -XEN_EINVAL);
    rc = shadow(id, XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION, 0, NULL, 0);
    printk("GET_ALLOCATION: %ld, mb %u\n", rc, op.u.shadow_op.mb);
    CHECK_EQ(rc, mica ? 0 : -XEN_EINVAL);
    CHECK_EQ(op.u.shadow_op.mb, 0);
    rc = shadow(id, XEN_DOMCTL_SHADOW_OP_OFF, 0, NULL, 0);
    printk("OFF: %ld\n", rc);
    CHECK_EQ(rc, mica ? 0 : -XEN_EINVAL);

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_destroydomain;
    op.domain = id;
    CHECK_EQ(domctl_raw(), 0);
    return RESULT_SUCCESS;
}
