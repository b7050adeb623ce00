/*
 * 32-bit (compatibility-mode) guest user code under a 64-bit PV kernel:
 * user code on FLAT_USER_CS32 runs SYSCALL, INT $0x80 and SYSENTER.
 *
 * First with nothing registered for them (hostile): SYSCALL is #UD at the
 * instruction, INT $0x80 is #GP naming IDT vector 0x80, SYSENTER is #GP(0)
 * on a frame with RIP 0, RSP 0, CS 3 (the instruction leaves no trace of
 * where it came from).  Then with the syscall32 and sysenter callbacks and
 * a DPL-3 trap 0x80: each arrives on the stack_switch stack with the user
 * registers intact, and the iret hypercall returns to 32-bit user code.
 *
 * Xen 4.17 masks events on entry to the syscall32 callback according to
 * the 64-bit syscall callback's CALLBACKF_mask_events (the syscall32 flag
 * is used for 32-bit PV guests only); checked here, Mica does the same.
 *
 * The code runs from a page mapped at 0x40000000 (a 32-bit address),
 * through page tables built from the image's spare pages.
 */
#define MMU_POOL_PAGES 5
#include "mmu_common.h"

#define LOW_BASE   0x40000000UL         /* L4 slot 0, L3 slot 1, L2 slot 0 */
#define LOW_STACK  (LOW_BASE + 0x2000)  /* top of the second page */
#define VEC_GP 13
#define VEC_UD 6

static char kstack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
extern char syscall_entry[];

extern char c32_start[], c32_syscall[], c32_after_syscall[], c32_int80[], c32_after_int80[],
    c32_sysenter[], c32_after_sysenter[], c32_ud2[], c32_end[];

__asm__(
    ".text\n"
    ".code32\n"
    "c32_start:\n\t"
    "mov $0x11110001, %eax\n\t"
    "mov $0x22220002, %ebx\n\t"
    "mov $0x33330003, %edx\n\t"
    "mov $0x44440004, %esi\n"
    "c32_syscall:\n\t"
    "syscall\n"
    "c32_after_syscall:\n\t"
    "mov $0x55550005, %eax\n"
    "c32_int80:\n\t"
    "int $0x80\n"
    "c32_after_int80:\n\t"
    "mov $0x66660006, %eax\n\t"
    "mov $0x77770007, %ecx\n\t"
    "mov $0x88880008, %edx\n\t"
    "mov %esp, %ebp\n"
    "c32_sysenter:\n\t"
    "sysenter\n"
    "c32_after_sysenter:\n\t"
    "mov $0x99990009, %eax\n"
    "c32_ud2:\n\t"
    "ud2\n"
    "c32_end:\n\t"
    ".code64\n");

static uint64_t uva(const char *label)
{
    return LOW_BASE + (uint64_t)(label - c32_start);
}

struct event {
    uint64_t vector, error, rip, cs, rflags, rsp, ss, rax, rbx, rcx, rdx, rsi, rbp;
    unsigned mask_now, saved_mask;
    bool on_kstack;
};
struct event ev[8];
volatile unsigned nev;

static void record(struct regs *r)
{
    if (nev >= 8)
        return;
    ev[nev++] = (struct event){
        .vector = r->vector, .error = r->error_code, .rip = r->rip, .cs = r->cs & 0xffff,
        .rflags = r->rflags, .rsp = r->rsp, .ss = r->ss, .rax = (uint32_t)r->rax,
        .rbx = (uint32_t)r->rbx, .rcx = (uint32_t)r->rcx, .rdx = (uint32_t)r->rdx,
        .rsi = (uint32_t)r->rsi, .rbp = (uint32_t)r->rbp,
        .mask_now = vcpu0->evtchn_upcall_mask, .saved_mask = (unsigned)((r->cs >> 32) & 0xff),
        .on_kstack = (char *)r >= kstack && (char *)r < kstack + sizeof(kstack),
    };
}

/* Back to 32-bit user code at label, on the user stack the code left in EBP. */
static void resume_user(struct regs *r, const char *label)
{
    r->rip = uva(label);
    r->cs = FLAT_USER_CS32;
    r->rsp = (uint32_t)r->rbp;
    r->ss = FLAT_USER_SS32;
}

static bool any_hook(struct regs *r)
{
    record(r);
    if (r->vector == VEC_UD && r->rip == uva(c32_ud2)) {
        /* The end: resume the kernel where it entered user mode. */
        user_mode_leave(r);
        return true;
    }
    if (r->vector == VEC_UD && r->rip == uva(c32_syscall)) {
        r->rip = uva(c32_after_syscall);
        return true;
    }
    if (r->vector == VEC_GP && r->rip == uva(c32_int80)) {
        r->rip = uva(c32_after_int80);
        return true;
    }
    if ((r->vector == VEC_GP && r->rip == 0) || r->rip == uva(c32_sysenter) ||
        (r->vector == VEC_SYSCALL && (r->cs & 0xffff) == 3)) {
        resume_user(r, c32_after_sysenter);
        return true;
    }
    return true;    /* syscall32 and int 0x80 callbacks: the frame returns after the instruction */
}

/* L3 (pool 0) -> L2 (pool 1) -> L1 (pool 2) -> code (pool 3), stack (pool 4). */
static long map_low_pages(void)
{
    const uint64_t tf = PTE_P | PTE_RW | PTE_US | PTE_A;

    memcpy(pool_page(3), c32_start, (size_t)(c32_end - c32_start));
    pool_page(2)[0] = (pool_mfn(3) << 12) | PTE_P | PTE_US | PTE_A;
    pool_page(2)[1] = (pool_mfn(4) << 12) | tf | PTE_D;
    pool_page(1)[0] = (pool_mfn(2) << 12) | tf;
    pool_page(0)[1] = (pool_mfn(1) << 12) | tf;
    for (unsigned i = 0; i < 3; i++)
        if (pool_ro(i))
            return -1;
    return mmu1(l4_mfn() << 12, (pool_mfn(0) << 12) | tf);
}

/*
 * Xen sets up SYSENTER only on Intel-compatible CPUs (AMD's refuse it in
 * long mode).  Elsewhere the instruction faults where it stands: #UD on
 * AMD hardware, #GP(0) from the null SYSENTER_CS under QEMU, which lets it
 * through whatever the vendor.
 */
static bool intel_like(void)
{
    uint32_t a = 0, b, c, d;
    __asm__ volatile("ud2; .ascii \"xen\"; cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    return (b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e) ||   /* GenuineIntel */
           (b == 0x746e6543 && d == 0x48727561 && c == 0x736c7561) ||   /* CentaurHauls */
           (b == 0x68532020 && d == 0x68676e61 && c == 0x20206961);     /* "  Shanghai  " */
}

static bool sysenter_faults;

static void check_sysenter_event(const struct event *e, bool callback)
{
    if (!intel_like()) {
        sysenter_faults = true;
        CHECK(e->vector == VEC_UD || (e->vector == VEC_GP && e->error == 0),
              "SYSENTER on a non-Intel CPU: vector %lu error %#lx", e->vector, e->error);
        CHECK_EQ(e->rip, uva(c32_sysenter));
        CHECK_EQ(e->cs, FLAT_USER_CS32);
        CHECK_EQ(e->rsp, LOW_STACK);
        return;
    }
    CHECK_EQ(e->vector, callback ? VEC_SYSCALL : VEC_GP);
    if (!callback)
        CHECK_EQ(e->error, 0);
    CHECK_EQ(e->rip, 0);
    CHECK_EQ(e->rsp, 0);
    CHECK_EQ(e->cs, 3);
    CHECK_EQ(e->ss, FLAT_USER_SS32);
    CHECK_EQ(e->rax, 0x66660006);
    CHECK_EQ(e->rcx, 0x77770007);
    CHECK_EQ(e->rdx, 0x88880008);
    CHECK_EQ(e->rbp, LOW_STACK);
    CHECK((e->rflags & 0x200) != 0, "SYSENTER frame without IF");
    CHECK_EQ(e->saved_mask, 0);
    CHECK_EQ(e->mask_now, callback ? 1 : 0);
}

enum result test_main(void)
{
    REQUIRE_EQ(traps_install(), 0);
    map_shared_info();
    REQUIRE_EQ(map_low_pages(), 0);
    struct callback_register cb = { .type = CALLBACKTYPE_syscall, .flags = CALLBACKF_mask_events,
                                    .address = (uint64_t)syscall_entry };
    REQUIRE_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
    REQUIRE_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uint64_t)(kstack + sizeof(kstack))), 0);
    REQUIRE_EQ(ext1(MMUEXT_NEW_USER_BASEPTR, l4_mfn()), 0);
    for (unsigned i = 0; i < ARRAY_SIZE(trap_hooks); i++)
        trap_hooks[i] = any_hook;

    /* Phase 1: nothing registered for 32-bit system calls. */
    user_mode_run(uva(c32_start), LOW_STACK, FLAT_USER_CS32);
    REQUIRE_EQ(nev, 4);
    CHECK_EQ(ev[0].vector, VEC_UD);
    CHECK_EQ(ev[0].rip, uva(c32_syscall));
    CHECK_EQ(ev[0].cs, FLAT_USER_CS32);
    CHECK_EQ(ev[1].vector, VEC_GP);
    CHECK_EQ(ev[1].error, (0x80 << 3) | 2);
    CHECK_EQ(ev[1].rip, uva(c32_int80));
    CHECK_EQ(ev[1].cs, FLAT_USER_CS32);
    check_sysenter_event(&ev[2], false);
    CHECK_EQ(ev[3].vector, VEC_UD);
    CHECK_EQ(ev[3].rax, 0x99990009);
    for (unsigned i = 0; i < 4; i++)
        CHECK(ev[i].on_kstack, "phase 1 event %u not on the stack_switch stack", i);

    /* Phase 2: syscall32 (no mask flag), sysenter (masking), trap 0x80 at DPL 3. */
    extern char trap_entry_0x80[];
    struct trap_info t80[2] = { { .vector = 0x80, .flags = 3, .cs = FLAT_KERNEL_CS,
                                  .address = (uint64_t)trap_entry_0x80 } };
    REQUIRE_EQ(HYPERVISOR_set_trap_table(t80), 0);
    cb = (struct callback_register){ .type = CALLBACKTYPE_syscall32, .flags = 0,
                                     .address = (uint64_t)syscall_entry };
    REQUIRE_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
    cb = (struct callback_register){ .type = CALLBACKTYPE_sysenter, .flags = CALLBACKF_mask_events,
                                     .address = (uint64_t)syscall_entry };
    REQUIRE_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
    nev = 0;
    user_mode_run(uva(c32_start), LOW_STACK, FLAT_USER_CS32);
    REQUIRE_EQ(nev, 4);
    /* SYSCALL: RIP and RCX are the next instruction, R11 the flags. */
    CHECK_EQ(ev[0].vector, VEC_SYSCALL);
    CHECK_EQ(ev[0].cs, FLAT_USER_CS32);
    CHECK_EQ(ev[0].ss, FLAT_USER_SS32);
    CHECK_EQ(ev[0].rip, uva(c32_after_syscall));
    CHECK_EQ(ev[0].rcx, uva(c32_after_syscall));
    CHECK_EQ(ev[0].rsp, LOW_STACK);
    CHECK_EQ(ev[0].rax, 0x11110001);
    CHECK_EQ(ev[0].rbx, 0x22220002);
    CHECK_EQ(ev[0].rdx, 0x33330003);
    CHECK_EQ(ev[0].rsi, 0x44440004);
    CHECK_EQ(ev[0].saved_mask, 0);
    CHECK_EQ(ev[0].mask_now, 1);        /* the 64-bit syscall callback's flag */
    /* INT $0x80: the trap table entry, events left as they were. */
    CHECK_EQ(ev[1].vector, 0x80);
    CHECK_EQ(ev[1].cs, FLAT_USER_CS32);
    CHECK_EQ(ev[1].rip, uva(c32_after_int80));
    CHECK_EQ(ev[1].rsp, LOW_STACK);
    CHECK_EQ(ev[1].rax, 0x55550005);
    CHECK_EQ(ev[1].mask_now, 0);
    check_sysenter_event(&ev[2], true);
    CHECK_EQ(ev[3].vector, VEC_UD);
    CHECK_EQ(ev[3].cs, FLAT_USER_CS32);
    CHECK_EQ(ev[3].rax, 0x99990009);
    for (unsigned i = 0; i < 4; i++)
        CHECK(ev[i].on_kstack, "phase 2 event %u not on the stack_switch stack", i);

    for (unsigned i = 0; i < ARRAY_SIZE(trap_hooks); i++)
        trap_hooks[i] = NULL;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);
    if (sysenter_faults)
        printk("note: not an Intel-compatible CPU, SYSENTER faults at the instruction; "
               "the sysenter callback path needs -cpu max,vendor=GenuineIntel (MICA_QEMU_CPU)\n");
    return RESULT_SUCCESS;
}
