/*
 * The hypervisor calls behind save/restore, dom0 as the toolstack.  A
 * domain built from here (toolstack.h) with its L4 pinned runs a few
 * bytes of code that suspend it: SCHEDOP_shutdown with SHUTDOWN_suspend.
 *   - getpageframeinfo3 gives every frame's type as Xen 4.17 does: the
 *     pinned L4, the L3, L2 and L1, data frames, and XTAB for frames that
 *     are not the domain's (ours, shared_info, no such frame); more than
 *     1024 frames is -E2BIG, an unreadable array -EFAULT.
 *   - the suspend is a shutdown with reason suspend that raises
 *     VIRQ_DOM_EXC for us, and the vCPU stopped just after its
 *     hypercall with rax 0 (what a restored guest returns: "resumed in
 *     a new domain").
 *   - resumedomain on the still toolstack-paused domain clears the
 *     shutdown but does not run it; after unpause the guest returns from
 *     the suspend with the rax we set (1, "cancelled", as libxc's
 *     cooperative resume does) and shuts down again with that as its
 *     reason.  resumedomain of ourselves is -EINVAL, of nobody -ESRCH.
 *   - destroyed, every page comes back.
 */
#include "toolstack.h"

#define NR 8            /* m[0..3] tables, m[4..6] at VA 0, 0x1000, 0x2000, m[7] unmapped */
#define CODE_VA 0x1000UL
#define DATA_VA 0x2000UL
#define REASON_OFF 0x100        /* struct sched_shutdown of the suspend */
#define RESULT_OFF 0x108        /* and of the shutdown after it */
#define AFTER_SUSPEND 17        /* rip offset of the instruction after the first syscall */

static uint64_t m[NR];
static struct vcpu_guest_context ctx, got;

/*
 *   mov $SCHEDOP_shutdown, %edi ; mov $DATA_VA+REASON_OFF, %esi
 *   mov $__HYPERVISOR_sched_op, %eax ; syscall          (suspend)
 *   mov %eax, %ebx ; mov $DATA_VA+RESULT_OFF, %esi ; mov %ebx, (%rsi)
 *   mov $SCHEDOP_shutdown, %edi ; mov $__HYPERVISOR_sched_op, %eax ; syscall
 *   1: jmp 1b
 */
static const uint8_t code[] = {
    0xbf, SCHEDOP_shutdown, 0x00, 0x00, 0x00,
    0xbe, REASON_OFF & 0xff, (DATA_VA + REASON_OFF) >> 8, 0x00, 0x00,
    0xb8, __HYPERVISOR_sched_op, 0x00, 0x00, 0x00,
    0x0f, 0x05,
    0x89, 0xc3,
    0xbe, RESULT_OFF & 0xff, (DATA_VA + RESULT_OFF) >> 8, 0x00, 0x00,
    0x89, 0x1e,
    0xbf, SCHEDOP_shutdown, 0x00, 0x00, 0x00,
    0xb8, __HYPERVISOR_sched_op, 0x00, 0x00, 0x00,
    0x0f, 0x05,
    0xeb, 0xfe,
};

static long vcpu_ctx(uint32_t cmd, domid_t dom, void *c)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = 0;
    ts_op.u.vcpucontext.ctxt = (uint64_t)c;
    return ts_domctl(cmd, dom);
}

static long frame_info(domid_t dom, uint64_t *array, uint64_t num)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.getpageframeinfo3.num = num;
    ts_op.u.getpageframeinfo3.array = (uint64_t)array;
    return ts_domctl(XEN_DOMCTL_getpageframeinfo3, dom);
}

static long resume(domid_t dom)
{
    memset(&ts_op, 0, sizeof(ts_op));
    return ts_domctl(XEN_DOMCTL_resumedomain, dom);
}

static unsigned shutdown_reason(const struct xen_domctl_getdomaininfo *di)
{
    return (di->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
}

enum result test_main(void)
{
    struct xen_domctl_getdomaininfo di = { 0 };
    static uint64_t frames[1025];
    evtchn_port_t dom_exc;

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_DOM_EXC, 0, &dom_exc), 0);
    uint64_t free_before = physinfo_free_pages();
    domid_t id = 0;
    REQUIRE_EQ(ts_create_with_tables(&id, m, NR, NR - 1), 0);
    printk("created d%u\n", id);
    REQUIRE_EQ(ts_map_foreign(0, m[5], true, id), 0);
    memcpy(pool[0], code, sizeof(code));
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_map_foreign(0, m[6], true, id), 0);
    pool_page(0)[REASON_OFF / 8] = SHUTDOWN_suspend;
    pool_page(0)[RESULT_OFF / 8] = 0xdead;
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_ext(MMUEXT_PIN_L4_TABLE, m[0], id), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    uint64_t shinfo = di.shared_info_frame;

    /* ---- page types of a batch of frames ---- */
    for (unsigned i = 0; i < NR; i++)
        frames[i] = m[i];
    frames[NR] = shinfo;
    frames[NR + 1] = pool_mfn(0);                    /* ours */
    frames[NR + 2] = 0xfffffffUL;                    /* no such frame */
    CHECK_EQ(frame_info(id, frames, NR + 3), 0);
    CHECK_EQ(ts_op.u.getpageframeinfo3.num, NR + 3);
    CHECK_EQ(frames[0], XEN_DOMCTL_PFINFO_LPINTAB | XEN_DOMCTL_PFINFO_L4TAB);
    CHECK_EQ(frames[1], XEN_DOMCTL_PFINFO_L3TAB);
    CHECK_EQ(frames[2], XEN_DOMCTL_PFINFO_L2TAB);
    CHECK_EQ(frames[3], XEN_DOMCTL_PFINFO_L1TAB);
    for (unsigned i = 4; i < NR; i++)
        CHECK(frames[i] == XEN_DOMCTL_PFINFO_NOTAB, "frame %u: type %#lx", i, frames[i]);
    CHECK_EQ(frames[NR], XEN_DOMCTL_PFINFO_XTAB);
    CHECK_EQ(frames[NR + 1], XEN_DOMCTL_PFINFO_XTAB);
    CHECK_EQ(frames[NR + 2], XEN_DOMCTL_PFINFO_XTAB);
    frames[0] = m[0];
    CHECK_EQ(frame_info(id, frames, 0), 0);
    CHECK_EQ(frames[0], m[0]);                       /* num 0 touches nothing */
    CHECK_EQ(frame_info(id, frames, 1025), -XEN_E2BIG);
    CHECK_EQ(frames[0], m[0]);
    CHECK_EQ(frame_info(id, (uint64_t *)0x1000, 1), -XEN_EFAULT);
    CHECK_EQ(frame_info(0x7000, frames, 1), -XEN_ESRCH);

    /* ---- the guest suspends itself ---- */
    memset(&ctx, 0, sizeof(ctx));
    ctx.flags = VGCF_in_kernel | VGCF_online;
    ctx.user_regs.rip = CODE_VA;
    ctx.user_regs.rsp = DATA_VA + 0x1000;
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.rflags = 0x202;
    for (unsigned i = 0; i < 256; i++)
        ctx.trap_ctxt[i].vector = (uint8_t)i;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = DATA_VA + 0xf00;
    ctx.ctrlreg[3] = m[0] << 12;
    ctx.event_callback_eip = CODE_VA + 0x80;
    ctx.failsafe_callback_eip = CODE_VA + 0x80;
    ctx.syscall_callback_eip = CODE_VA + 0x80;
    REQUIRE_EQ(vcpu_ctx(XEN_DOMCTL_setvcpucontext, id, &ctx), 0);
    sync_clear_bit(dom_exc, shared->evtchn_pending);
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, id), 0);
    CHECK(TS_SETTLE(ts_info(id, &di) == 0 && (di.flags & XEN_DOMINF_shutdown)),
          "d%u did not suspend: flags %#x", id, di.flags);
    CHECK_EQ(shutdown_reason(&di), SHUTDOWN_suspend);
    CHECK(test_bit(dom_exc, shared->evtchn_pending), "no VIRQ_DOM_EXC for the suspend");
    sync_clear_bit(dom_exc, shared->evtchn_pending);
    CHECK_EQ(vcpu_ctx(XEN_DOMCTL_getvcpucontext, id, &got), 0);
    CHECK_EQ(got.user_regs.rip, CODE_VA + AFTER_SUSPEND);
    CHECK_EQ(got.user_regs.rax, 0);
    CHECK_EQ(got.user_regs.rdi, SCHEDOP_shutdown);
    frames[0] = m[0];
    frames[1] = m[4];
    CHECK_EQ(frame_info(id, frames, 2), 0);         /* a suspended domain's types */
    CHECK_EQ(frames[0], XEN_DOMCTL_PFINFO_LPINTAB | XEN_DOMCTL_PFINFO_L4TAB);
    CHECK_EQ(frames[1], XEN_DOMCTL_PFINFO_NOTAB);

    /* ---- resumed while paused: no longer shut down, not running ---- */
    CHECK_EQ(resume(0), -XEN_EINVAL);
    CHECK_EQ(resume(0x7000), -XEN_ESRCH);
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_pausedomain, id), 0);
    got.user_regs.rax = 1;                           /* the suspend was cancelled */
    CHECK_EQ(vcpu_ctx(XEN_DOMCTL_setvcpucontext, id, &got), 0);
    CHECK_EQ(resume(id), 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK_EQ(di.flags & (XEN_DOMINF_shutdown | XEN_DOMINF_paused), XEN_DOMINF_paused);
    CHECK_EQ(ts_map_foreign(0, m[6], false, id), 0);
    CHECK_EQ(pool_page(0)[RESULT_OFF / 8], 0xdead);
    CHECK_EQ(ts_unmap_foreign(0), 0);

    /* ---- unpaused: back from the suspend with rax 1, then shut down with it ---- */
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, id), 0);
    CHECK(TS_SETTLE(ts_info(id, &di) == 0 && (di.flags & XEN_DOMINF_shutdown)),
          "d%u did not shut down after resume: flags %#x", id, di.flags);
    CHECK_EQ(shutdown_reason(&di), SHUTDOWN_reboot);
    CHECK(test_bit(dom_exc, shared->evtchn_pending), "no VIRQ_DOM_EXC for the second shutdown");
    CHECK_EQ(ts_map_foreign(0, m[6], false, id), 0);
    CHECK_EQ(pool_page(0)[RESULT_OFF / 8], 1);
    CHECK_EQ(ts_unmap_foreign(0), 0);

    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(),
          free_before);
    return RESULT_SUCCESS;
}
