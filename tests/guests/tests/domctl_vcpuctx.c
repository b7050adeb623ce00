/*
 * domctl setvcpucontext / getvcpucontext, dom0 as the domain builder:
 * a domain made with createdomain gets memory and page tables through
 * foreign mappings (toolstack.h), a few bytes of code, and vCPU 0's
 * context from here (registers, FS base, virtual IOPL, FPU image, GDT
 * frame, trap table, callbacks, CR3, debug registers, vm_assist).  The
 * context reads back as set; unpaused, the vCPU runs the code, which
 * computes a shutdown reason from its registers and FS base and shuts
 * the domain down with it; getdomaininfo shows that reason and
 * getvcpucontext the registers it ran with.  A vCPU with a context takes
 * a new one only with the same page tables (-EOPNOTSUPP otherwise); a
 * null context resets it (-ENODATA from get afterwards) and a full one
 * can then be given again.  Destroyed, every page comes back (exactly on
 * Mica).  Refused, with nothing kept: bad vCPU ids, our own domain and
 * running vCPU, unreadable/unwritable contexts, an unknown domain, and
 * each invalid field VCPUOP_initialise refuses.
 */
#include "toolstack.h"

#define NR 12           /* m[0..3] tables, m[4..NR-2] mapped at VA 0, m[NR-1] the GDT */
#define CODE_VA 0x1000UL
#define DATA_VA 0x2000UL
#define STACK_TOP 0x4000UL
#define NONCANON 0x0000800000000000UL
#define GDT_ENTS 16

static uint64_t m[NR];
static struct vcpu_guest_context ctx, got;

/*
 *   mov %fs:0, %ebx ; add %r12d, %ebx ; mov %ebx, (%rsi)
 *   mov $SCHEDOP_shutdown, %edi ; mov $__HYPERVISOR_sched_op, %eax ; syscall
 *   1: jmp 1b
 * rsi points at a struct sched_shutdown; the reason is *fs_base + r12.
 */
static const uint8_t code[] = {
    0x64, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x00, 0x00,
    0x44, 0x01, 0xe3,
    0x89, 0x1e,
    0xbf, SCHEDOP_shutdown, 0x00, 0x00, 0x00,
    0xb8, __HYPERVISOR_sched_op, 0x00, 0x00, 0x00,
    0x0f, 0x05,
    0xeb, 0xfe,
};

static long set_ctx(domid_t dom, uint32_t vcpu, void *c)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = vcpu;
    ts_op.u.vcpucontext.ctxt = (uint64_t)c;
    return ts_domctl(XEN_DOMCTL_setvcpucontext, dom);
}

static long get_ctx(domid_t dom, uint32_t vcpu, void *c)
{
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.vcpu = vcpu;
    ts_op.u.vcpucontext.ctxt = (uint64_t)c;
    return ts_domctl(XEN_DOMCTL_getvcpucontext, dom);
}

/* The context the domain starts with. */
static void fresh(void)
{
    memset(&ctx, 0, sizeof(ctx));
    ctx.flags = VGCF_in_kernel | VGCF_online | VGCF_I387_VALID | VGCF_failsafe_disables_events;
    ctx.user_regs.rip = CODE_VA;
    ctx.user_regs.rsp = STACK_TOP;
    ctx.user_regs.rsi = DATA_VA + 0x100;
    ctx.user_regs.r12 = 3;
    ctx.user_regs.r15 = 0xf15f15f15f15UL;
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.rflags = 0x1002;                  /* virtual IOPL 1 */
    for (unsigned i = 0; i < 256; i++)
        ctx.trap_ctxt[i].vector = (uint8_t)i;
    ctx.trap_ctxt[3] = (struct trap_info){ .vector = 3, .flags = 3, .cs = FLAT_KERNEL_CS,
                                           .address = CODE_VA + 0x80 };
    ctx.trap_ctxt[14] = (struct trap_info){ .vector = 14, .flags = 4, .cs = FLAT_KERNEL_CS,
                                            .address = CODE_VA + 0x90 };
    ctx.gdt_frames[0] = m[NR - 1];
    ctx.gdt_ents = GDT_ENTS;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = STACK_TOP - 0x100;
    ctx.ctrlreg[0] = 8;                             /* CR0.TS */
    ctx.ctrlreg[2] = 0x1234;
    ctx.ctrlreg[3] = m[0] << 12;
    ctx.debugreg[0] = CODE_VA + 0x40;
    ctx.debugreg[7] = 0x400;
    ctx.event_callback_eip = CODE_VA + 0x20;
    ctx.failsafe_callback_eip = CODE_VA + 0x30;
    ctx.syscall_callback_eip = CODE_VA + 0x40;
    ctx.vm_assist = 1UL << VMASST_TYPE_writable_pagetables;
    ctx.fs_base = DATA_VA;
    ctx.gs_base_kernel = DATA_VA + 0x200;
    ctx.gs_base_user = DATA_VA + 0x300;
    /* An FXSAVE image: 53-bit precision, flush-to-zero, a pattern in XMM0. */
    uint16_t fcw = 0x027f;
    uint32_t mxcsr = 0x9f80;
    memcpy(&ctx.fpu_ctxt[0], &fcw, sizeof(fcw));
    memcpy(&ctx.fpu_ctxt[24], &mxcsr, sizeof(mxcsr));
    for (unsigned i = 0; i < 16; i++)
        ctx.fpu_ctxt[160 + i] = (uint8_t)(0xa0 + i);
}

/* Each is refused with -EINVAL and leaves vCPU 0 without a context. */
static void hostile_fields(domid_t id)
{
#define REFUSED(what)                                                       \
    do {                                                                    \
        fresh();                                                            \
        what;                                                               \
        CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EINVAL);                        \
        CHECK_EQ(get_ctx(id, 0, &got), -XEN_ENODATA);                       \
    } while (0)
    REFUSED(ctx.user_regs.rip = NONCANON);
    REFUSED(ctx.user_regs.rsp = NONCANON);
    REFUSED(ctx.kernel_sp = NONCANON);
    REFUSED(ctx.fs_base = NONCANON);
    REFUSED(ctx.gs_base_kernel = NONCANON);
    REFUSED(ctx.gs_base_user = NONCANON);
    REFUSED(ctx.event_callback_eip = NONCANON);
    REFUSED(ctx.failsafe_callback_eip = NONCANON);
    REFUSED(ctx.syscall_callback_eip = NONCANON);
    REFUSED(ctx.trap_ctxt[14].address = NONCANON);
    REFUSED(ctx.ldt_base = 0x1008; ctx.ldt_ents = 1);
    REFUSED(ctx.ldt_base = 0x10000; ctx.ldt_ents = 8193);
    REFUSED(ctx.gdt_ents = 14 * 512 + 1);
    REFUSED(ctx.vm_assist |= 1UL << 20);
    REFUSED(ctx.flags &= ~VGCF_in_kernel);                  /* user mode, no user CR3 */
    REFUSED(ctx.ctrlreg[3] = 0);
    REFUSED(ctx.ctrlreg[3] = m[6] << 12);                   /* data, not a table */
    REFUSED(ctx.ctrlreg[3] = m[3] << 12);                   /* an L1 */
    REFUSED(ctx.ctrlreg[3] = l4_mfn() << 12);               /* ours, not its */
    REFUSED(ctx.ctrlreg[3] = 0xfffffffUL << 12);            /* no such frame */
    REFUSED(ctx.ctrlreg[1] = m[6] << 12);
    /*
     * Xen 4.17 keeps the kernel L4's reference of a context refused for
     * its user CR3 (guest_table stays set on a vCPU without a context) and
     * loses it when the next context is set: the domain could never be
     * freed.  A reset lets go of it there; on Mica there is nothing to drop.
     */
    CHECK_EQ(set_ctx(id, 0, NULL), 0);
    /*
     * Not one of its frames that the domain's (not yet validated) L1 maps
     * writable: validation as descriptors may rewrite a descriptor's DPL
     * in place before it fails (Xen's check_descriptor does too).
     */
    REQUIRE_EQ(ts_map_foreign(0, m[NR - 1], true, id), 0);
    REFUSED(ctx.gdt_frames[0] = m[NR - 1]);                 /* we map it writable */
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REFUSED(ctx.gdt_frames[0] = va_to_mfn((void *)&ctx));   /* ours */
#undef REFUSED
}

enum result test_main(void)
{
    struct xen_domctl_getdomaininfo di = { 0 };

    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();                  /* the clock, for waiting */
    uint64_t free_before = physinfo_free_pages();
    domid_t id = 0;
    REQUIRE_EQ(ts_create_with_tables(&id, m, NR, NR - 1), 0);
    printk("created d%u\n", id);

    /* Code at CODE_VA, the reason's first half at DATA_VA (the FS base). */
    REQUIRE_EQ(ts_map_foreign(0, m[5], true, id), 0);
    memcpy(pool[0], code, sizeof(code));
    REQUIRE_EQ(ts_unmap_foreign(0), 0);
    REQUIRE_EQ(ts_map_foreign(0, m[6], true, id), 0);
    pool_page(0)[0] = 1;
    REQUIRE_EQ(ts_unmap_foreign(0), 0);

    /* ---- refusals before vCPU 0 has a context ---- */
    fresh();
    CHECK_EQ(get_ctx(id, 0, &got), -XEN_ENODATA);
    CHECK_EQ(set_ctx(id, 1, &ctx), -XEN_EINVAL);            /* max_vcpus is 1 */
    CHECK_EQ(set_ctx(id, 0xffffffffu, &ctx), -XEN_EINVAL);
    CHECK_EQ(get_ctx(id, 1, &got), -XEN_EINVAL);
    CHECK_EQ(set_ctx(0x7000, 0, &ctx), -XEN_ESRCH);
    CHECK_EQ(get_ctx(0x7000, 0, &got), -XEN_ESRCH);
    CHECK_EQ(set_ctx(DOMID_SELF, 0, &ctx), -XEN_ESRCH);
    CHECK_EQ(set_ctx(0, 0, &ctx), -XEN_EINVAL);             /* our own domain */
    CHECK_EQ(set_ctx(0, 0, NULL), -XEN_EINVAL);
    CHECK_EQ(get_ctx(0, 0, &got), -XEN_EINVAL);             /* our running vCPU */
    CHECK_EQ(set_ctx(id, 0, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(set_ctx(id, 0, (void *)0xffff830000000000UL), -XEN_EFAULT);
    CHECK_EQ(get_ctx(id, 0, &got), -XEN_ENODATA);
    hostile_fields(id);

    /* ---- the context, read back as set ---- */
    fresh();
    CHECK_EQ(set_ctx(id, 0, &ctx), 0);
    memset(&got, 0x5a, sizeof(got));
    CHECK_EQ(get_ctx(id, 0, &got), 0);
    CHECK_EQ(ts_op.u.vcpucontext.vcpu, 0);                  /* the domctl comes back as it went */
    CHECK_EQ(ts_op.u.vcpucontext.ctxt, (uint64_t)&got);
    CHECK_EQ(got.flags, ctx.flags);
    CHECK_EQ(got.user_regs.rip, CODE_VA);
    CHECK_EQ(got.user_regs.rsp, STACK_TOP);
    CHECK_EQ(got.user_regs.rsi, DATA_VA + 0x100);
    CHECK_EQ(got.user_regs.r12, 3);
    CHECK_EQ(got.user_regs.r15, 0xf15f15f15f15UL);
    CHECK_EQ(got.user_regs.rbx, 0);
    CHECK_EQ(got.user_regs.cs, FLAT_KERNEL_CS);
    CHECK_EQ(got.user_regs.ss, FLAT_KERNEL_SS);
    CHECK_EQ(got.user_regs.rflags, 0x1202);                 /* IF forced, IOPL kept */
    CHECK_EQ(got.user_regs.ds | got.user_regs.es | got.user_regs.fs | got.user_regs.gs, 0);
    CHECK(memcmp(got.fpu_ctxt, ctx.fpu_ctxt, sizeof(ctx.fpu_ctxt)) == 0, "FXSAVE image differs");
    for (unsigned i = 0; i < 256; i++) {
        const struct trap_info *t = &got.trap_ctxt[i], *w = &ctx.trap_ctxt[i];
        CHECK(t->vector == w->vector && t->flags == w->flags && t->address == w->address &&
              t->cs == (w->cs | 3), "trap %u: %u %u %#x %#lx", i, t->vector, t->flags, t->cs,
              t->address);
    }
    CHECK_EQ(got.ldt_base, 0);
    CHECK_EQ(got.ldt_ents, 0);
    CHECK_EQ(got.gdt_frames[0], m[NR - 1]);
    CHECK_EQ(got.gdt_frames[1], 0);
    CHECK_EQ(got.gdt_ents, GDT_ENTS);
    CHECK_EQ(got.kernel_ss, FLAT_KERNEL_SS);
    CHECK_EQ(got.kernel_sp, STACK_TOP - 0x100);
    CHECK_EQ(got.ctrlreg[0] & 8, 8);
    CHECK_EQ(got.ctrlreg[0] & 0x80000001UL, 0x80000001UL);  /* PG, PE */
    CHECK_EQ(got.ctrlreg[1], 0);
    CHECK_EQ(got.ctrlreg[2], 0x1234);
    CHECK_EQ(got.ctrlreg[3], m[0] << 12);
    CHECK_EQ(got.debugreg[0], CODE_VA + 0x40);
    CHECK_EQ(got.debugreg[1], 0);
    CHECK_EQ(got.debugreg[6], 0xffff0ff0UL);
    CHECK_EQ(got.debugreg[7], 0x400);
    CHECK_EQ(got.event_callback_eip, CODE_VA + 0x20);
    CHECK_EQ(got.failsafe_callback_eip, CODE_VA + 0x30);
    CHECK_EQ(got.syscall_callback_eip, CODE_VA + 0x40);
    CHECK_EQ(got.vm_assist, 1UL << VMASST_TYPE_writable_pagetables);
    CHECK_EQ(got.fs_base, DATA_VA);
    CHECK_EQ(got.gs_base_kernel, DATA_VA + 0x200);
    CHECK_EQ(got.gs_base_user, DATA_VA + 0x300);
    /* The domctl goes back even when the context cannot. */
    memset(&ts_op, 0, sizeof(ts_op));
    ts_op.u.vcpucontext.ctxt = 0x1000;
    CHECK_EQ(ts_domctl(XEN_DOMCTL_getvcpucontext, id), -XEN_EFAULT);
    CHECK_EQ(ts_op.domain, id);
    CHECK_EQ(ts_op.u.vcpucontext.ctxt, 0x1000);

    /* Its frames are typed now: the L4 as a table, the GDT frame as descriptors. */
    CHECK_EQ(ts_map_foreign(0, m[0], true, id), -XEN_EBUSY);
    CHECK_EQ(ts_map_foreign(0, m[NR - 1], true, id), -XEN_EBUSY);

    /* ---- it runs once unpaused, and shuts down with the reason it computed ---- */
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK_EQ(di.flags & (XEN_DOMINF_paused | XEN_DOMINF_shutdown), XEN_DOMINF_paused);
    CHECK_EQ(di.nr_online_vcpus, 1);
    memset(&ts_op, 0, sizeof(ts_op));
    REQUIRE_EQ(ts_domctl(XEN_DOMCTL_unpausedomain, id), 0);
    CHECK(TS_SETTLE(ts_info(id, &di) == 0 && (di.flags & XEN_DOMINF_shutdown)),
          "d%u did not shut down: flags %#x", id, di.flags);
    CHECK_EQ((di.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask, SHUTDOWN_watchdog);
    CHECK_EQ(ts_map_foreign(0, m[6], false, id), 0);
    CHECK_EQ(pool_page(0)[0x100 / 8] & 0xffffffff, SHUTDOWN_watchdog);
    CHECK_EQ(ts_unmap_foreign(0), 0);

    /* A running (shut-down, unpaused) domain's vCPU reads back as it stopped. */
    CHECK_EQ(get_ctx(id, 0, &got), 0);
    CHECK_EQ(got.user_regs.rbx, SHUTDOWN_watchdog);
    CHECK_EQ(got.user_regs.r12, 3);
    CHECK_EQ(got.user_regs.r15, 0xf15f15f15f15UL);
    CHECK(got.user_regs.rip > CODE_VA && got.user_regs.rip <= CODE_VA + sizeof(code),
          "rip %#lx", got.user_regs.rip);
    CHECK_EQ(got.user_regs.cs, FLAT_KERNEL_CS);
    CHECK_EQ(got.flags & (VGCF_in_kernel | VGCF_online), VGCF_in_kernel | VGCF_online);
    CHECK_EQ(got.fs_base, DATA_VA);
    CHECK_EQ(got.ctrlreg[3], m[0] << 12);
    CHECK_EQ(got.user_regs.rflags & 0x3000, 0x1000);

    /* ---- a vCPU with a context: new registers only with the same tables ---- */
    fresh();
    ctx.user_regs.rbx = 0x77;
    ctx.ctrlreg[3] = m[1] << 12;
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EOPNOTSUPP);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.gdt_ents = GDT_ENTS + 1;
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EOPNOTSUPP);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.gdt_frames[0] = m[NR - 2];
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EOPNOTSUPP);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.ctrlreg[1] = m[0] << 12;
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EOPNOTSUPP);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.flags &= ~VGCF_in_kernel;
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EOPNOTSUPP);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.ldt_base = 0x10000; ctx.ldt_ents = 1;
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EOPNOTSUPP);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.user_regs.rip = NONCANON;
    CHECK_EQ(set_ctx(id, 0, &ctx), -XEN_EINVAL);
    fresh(); ctx.user_regs.rbx = 0x77; ctx.flags &= ~VGCF_online;
    CHECK_EQ(set_ctx(id, 0, &ctx), 0);
    CHECK_EQ(get_ctx(id, 0, &got), 0);
    CHECK_EQ(got.user_regs.rbx, 0x77);
    CHECK_EQ(got.user_regs.rip, CODE_VA);
    CHECK_EQ(got.flags & VGCF_online, 0);

    /* ---- reset: no context any more, then a full one again ---- */
    CHECK_EQ(set_ctx(id, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(set_ctx(id, 0, NULL), 0);
    CHECK_EQ(get_ctx(id, 0, &got), -XEN_ENODATA);
    CHECK_EQ(ts_map_foreign(0, m[NR - 1], true, id), 0);    /* the GDT frame was let go */
    CHECK_EQ(ts_unmap_foreign(0), 0);
    CHECK_EQ(set_ctx(id, 0, NULL), 0);                      /* twice is harmless */
    fresh();
    ctx.flags &= ~VGCF_online;
    ctx.ctrlreg[3] = (m[0] << 12) | 0x18;                   /* flag bits are ignored */
    CHECK_EQ(set_ctx(id, 0, &ctx), 0);
    CHECK_EQ(get_ctx(id, 0, &got), 0);
    CHECK_EQ(got.ctrlreg[3], m[0] << 12);
    CHECK_EQ(got.flags & VGCF_online, 0);
    REQUIRE_EQ(ts_info(id, &di), 0);
    CHECK_EQ(di.nr_online_vcpus, 0);

    /* ---- destroyed with its context: every page back ---- */
    CHECK_EQ(ts_destroy(id), 0);
    CHECK(TS_SETTLE(ts_gone(id)), "d%u still there after destroydomain", id);
    CHECK(ts_memory_back(free_before), "free pages %lu, before %lu", physinfo_free_pages(), free_before);
    return RESULT_SUCCESS;
}
