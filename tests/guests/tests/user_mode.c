/*
 * Guest user mode: stack_switch (3) names the kernel stack that bounces
 * from user mode land on; the iret hypercall enters user mode (with a
 * user L4 from MMUEXT_NEW_USER_BASEPTR); SYSCALL from user mode reaches
 * the syscall callback instead of the hypervisor; exceptions from user
 * mode arrive with CS RPL 3 and the #PF U bit; GS bases swap with the
 * mode.
 */
#include "guest.h"

static char kstack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
static char ustack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
static uint64_t kword = 0x4b4b4b4b, uword = 0x75757575;

extern char user_entry[], user_syscall_ret[], syscall_entry[];

static struct {
    bool on_kstack[4];
    uint64_t sc_rax, sc_rip, sc_cs, sc_rcx;
    uint64_t user_gs_value, kernel_gs_value, bp_cs;
    uint64_t pf_err, pf_cs, ud_cs;
} seen;

static bool on_kstack(struct regs *r)
{
    return (char *)r >= kstack && (char *)r < kstack + sizeof(kstack);
}

static bool syscall_hook(struct regs *r)
{
    seen.on_kstack[0] = on_kstack(r);
    seen.sc_rax = r->rax;
    seen.sc_rip = r->rip;
    seen.sc_cs = r->cs;
    seen.sc_rcx = r->rcx;
    return true;     /* back to user mode, after the SYSCALL */
}

static bool bp_hook(struct regs *r)
{
    uint64_t v;
    seen.on_kstack[1] = on_kstack(r);
    seen.user_gs_value = r->rbx;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    seen.kernel_gs_value = v;
    seen.bp_cs = r->cs;
    return true;
}

static bool pf_hook(struct regs *r)
{
    seen.on_kstack[2] = on_kstack(r);
    seen.pf_err = r->error_code;
    seen.pf_cs = r->cs;
    r->rip += 8;     /* movq 0x1000, %rax */
    return true;
}

static bool ud_hook(struct regs *r)
{
    seen.on_kstack[3] = on_kstack(r);
    seen.ud_cs = r->cs;
    /* Leave user mode for good: resume the kernel where it left off. */
    user_mode_leave(r);
    return true;
}

__asm__(
    ".text\n"
    "user_entry:\n\t"
    "mov $0x5a5a, %eax\n\t"
    "syscall\n"
    "user_syscall_ret:\n\t"
    "movq %gs:0, %rbx\n\t"
    "int3\n\t"
    ".byte 0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00\n\t"   /* movq 0x1000, %rax */
    "ud2\n\t"
    "jmp .\n");

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    struct callback_register cb = { .type = CALLBACKTYPE_syscall,
                                    .flags = CALLBACKF_mask_events,
                                    .address = (uint64_t)syscall_entry };
    REQUIRE_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
    REQUIRE_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uint64_t)(kstack + sizeof(kstack))), 0);
    REQUIRE_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (uint64_t)&kword), 0);
    REQUIRE_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (uint64_t)&uword), 0);
    struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR,
                            .arg1.mfn = va_to_mfn((void *)start_info->pt_base) };
    REQUIRE_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);

    trap_hooks[VEC_SYSCALL] = syscall_hook;
    trap_hooks[3] = bp_hook;
    trap_hooks[14] = pf_hook;
    trap_hooks[6] = ud_hook;
    user_mode_run((uint64_t)user_entry, (uint64_t)(ustack + sizeof(ustack)), FLAT_USER_CS64);
    trap_hooks[VEC_SYSCALL] = trap_hooks[3] = trap_hooks[14] = trap_hooks[6] = NULL;

    /* Back in kernel mode: hypercalls work again, GS is the kernel's. */
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);
    uint64_t g;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(g));
    CHECK_EQ(g, kword);

    for (int i = 0; i < 4; i++)
        CHECK(seen.on_kstack[i], "bounce %d from user mode not on the stack_switch stack", i);
    CHECK_EQ(seen.sc_rax, 0x5a5a);
    CHECK_EQ(seen.sc_rip, (uint64_t)user_syscall_ret);
    CHECK_EQ(seen.sc_rcx, (uint64_t)user_syscall_ret);
    CHECK_EQ(seen.sc_cs & 0xffff, FLAT_USER_CS);
    CHECK_EQ(seen.user_gs_value, uword);
    CHECK_EQ(seen.kernel_gs_value, kword);
    CHECK_EQ(seen.bp_cs & 0xffff, FLAT_USER_CS);
    CHECK_EQ(seen.pf_err, 4);            /* not present, read, user */
    CHECK_EQ(seen.pf_cs & 0xffff, FLAT_USER_CS);
    CHECK_EQ(seen.ud_cs & 0xffff, FLAT_USER_CS);
    return RESULT_SUCCESS;
}
