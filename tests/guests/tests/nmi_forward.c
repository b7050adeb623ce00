/*
 * Virtual NMIs (booted with dom0_max_vcpus=2; the platform NMIs need the
 * harness: tests/guests/run-guests answers a "QEMU-MONITOR-REQUEST nmi"
 * line with QEMU's monitor command `nmi`, which raises LINT1 on every
 * CPU's local APIC; Xen 4.17 and Mica leave it unmasked on CPU 0 only, so
 * with two CPUs CPU 0 takes it, running either vCPU or the hypervisor).
 *
 * As Xen 4.17 behaves with nmi=dom0 (its release default):
 *  1. VCPUOP_send_nmi with an argument is -EINVAL; to itself, the NMI
 *     arrives at the return from that very hypercall, on the NMI callback
 *     (vector 2 of the virtual IDT), events masked, frame CS the kernel's;
 *     a second one sent from inside the handler waits for its iret
 *     hypercall (no nesting), then arrives; to vCPU 1, vCPU 1 takes it.
 *  2. Platform NMI with no NMI callback (CALLBACKOP_unregister): the
 *     hypervisor sets XEN_NMIREASON_unknown in shared_info's nmi_reason;
 *     the virtual NMI is dropped (nothing arrives).
 *  3. CALLBACKOP_register of the NMI callback on vCPU 0 with a reason
 *     noted: the "lost" NMI is raised again and arrives at the return from
 *     the register call.
 *  4. Platform NMI with the callback, while vCPU 0 spins in kernel mode
 *     and vCPU 1 makes hypercalls: exactly one NMI, on vCPU 0, interrupting
 *     the spin loop; none on vCPU 1.
 *  5. The same while vCPU 0 spins in guest user mode: the NMI arrives on
 *     the stack_switch stack with the user frame (CS RPL 3), and its iret
 *     goes back to user mode.
 * With mce_wait=1 on its command line (boot test mce-guest only) it just
 * spins in kernel mode for the machine check the boot test injects.
 * On Mica, run-guests also checks Mica's log (tests/guests/expected-log):
 * its NMI handler names the domain and vCPU each CPU was running.
 */
#include "guest.h"

#define LOOP_BOUND (1UL << 32)          /* iterations: a hang ends as a failure */

extern char trap_entry_2[], spin_loop_start[], spin_loop_end[];
extern char user_spin_start[], user_spin_end[];

static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;

/* Not static: the user-mode loop below reads them by name. */
volatile unsigned nmi_count[SMP_MAX_VCPUS], user_target;
static volatile unsigned nmi_nested, in_nmi;
static char kstack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
static char ustack[8192] __attribute__((aligned(4096), section(".bss.page_aligned")));
static volatile int resend_inside;
static volatile long resend_rc = 1;
static volatile unsigned count_inside_after_resend;
static volatile int v1_started, v1_stop;
static volatile uint64_t v1_calls;

struct nmi_seen {
    uint64_t rip, cs, rflags, rsp;
    uint8_t mask_inside;
    unsigned cpu;
};
static volatile struct nmi_seen last_nmi;

static bool nmi_hook(struct regs *r)
{
    unsigned cpu = smp_this_cpu();

    if (in_nmi)
        nmi_nested++;
    in_nmi = 1;
    last_nmi.rip = r->rip;
    last_nmi.cs = r->cs;
    last_nmi.rflags = r->rflags;
    last_nmi.rsp = r->rsp;
    last_nmi.mask_inside = shared->vcpu_info[cpu].evtchn_upcall_mask;
    last_nmi.cpu = cpu;
    __atomic_add_fetch(&nmi_count[cpu], 1, __ATOMIC_SEQ_CST);
    if (resend_inside && cpu == 0) {
        resend_inside = 0;
        resend_rc = HYPERVISOR_vcpu_op(VCPUOP_send_nmi, 0, NULL);
        /* Masked until our iret: not delivered at this hypercall's return. */
        count_inside_after_resend = nmi_count[0];
    }
    in_nmi = 0;
    return true;
}

/* Spins in kernel mode, no hypercall, until *p >= target. */
static __attribute__((noinline)) void spin_for_count(volatile unsigned *p, unsigned target)
{
    uint64_t left = LOOP_BOUND;

    __asm__ volatile(".globl spin_loop_start\n"
                     "spin_loop_start:\n\t"
                     "1: cmpl %2, (%1)\n\t"
                     "jae 2f\n\t"
                     "pause\n\t"
                     "dec %0\n\t"
                     "jnz 1b\n"
                     "2:\n"
                     ".globl spin_loop_end\n"
                     "spin_loop_end:"
                     : "+r"(left) : "r"(p), "r"(target) : "memory", "cc");
}

/* Guest user mode: spins until vCPU 0 has seen user_target NMIs, then leaves by #UD. */
__asm__(".text\n"
        ".globl user_spin_start\n"
        "user_spin_start:\n\t"
        "1: movl nmi_count(%rip), %eax\n\t"
        "cmpl user_target(%rip), %eax\n\t"
        "jae 2f\n\t"
        "pause\n\t"
        "jmp 1b\n"
        "2:\n"
        ".globl user_spin_end\n"
        "user_spin_end:\n\t"
        "ud2\n");

static bool ud_hook(struct regs *r)
{
    if (r->rip != (uint64_t)user_spin_end)
        return false;
    /* Back to the kernel where user_mode_run() left it. */
    user_mode_leave(r);
    return true;
}

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg; (void)arg2;
    v1_started = 1;
    /* Hypercalls in a loop: an NMI on this CPU finds it in the guest or in the hypervisor. */
    while (!v1_stop) {
        HYPERVISOR_xen_version(XENVER_version, NULL);
        v1_calls++;
    }
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

static bool rip_in_slot(uint64_t rip, unsigned nr)
{
    uint64_t slot = (uint64_t)hypercall_page + nr * 32;

    return rip >= slot && rip < slot + 32;
}

static void settle(void)
{
    /* Each hypercall's return is a delivery point for anything pending. */
    for (unsigned i = 0; i < 4; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

enum result test_main(void)
{
    struct callback_register cb = { .type = CALLBACKTYPE_nmi, .address = (uint64_t)trap_entry_2 };
    struct callback_unregister ucb = { .type = CALLBACKTYPE_nmi };
    uint64_t dummy = 0;
    unsigned c0;
    uint8_t mask_before;

    if (cmdline_number("mce_wait", 0)) {
        uint64_t left = LOOP_BOUND;

        printk("waiting in guest kernel mode for a machine check\n");
        while (--left)
            __asm__ volatile("pause");
        error_exit("no machine check arrived");
    }
    REQUIRE_EQ(traps_install(), 0);     /* vector 2 included: our NMI callback */
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    trap_hooks[2] = nmi_hook;

    CHECK_EQ(shared->arch.nmi_reason, 0);

    /* 1. VCPUOP_send_nmi. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_send_nmi, 0, &dummy), -XEN_EINVAL);
    CHECK_EQ(nmi_count[0], 0);
    resend_inside = 1;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_send_nmi, 0, NULL), 0);
    printk("send_nmi to self: %u NMI(s), the resend inside the handler rc %ld with %u seen then, nested %u\n",
           nmi_count[0], resend_rc, count_inside_after_resend, nmi_nested);
    CHECK_EQ(nmi_count[0], 2);          /* the first, then the one sent inside it after its iret */
    CHECK_EQ(resend_rc, 0);
    CHECK_EQ(count_inside_after_resend, 1);
    CHECK_EQ(nmi_nested, 0);
    CHECK(rip_in_slot(last_nmi.rip, __HYPERVISOR_iret) || rip_in_slot(last_nmi.rip, __HYPERVISOR_vcpu_op),
          "rip %#lx", last_nmi.rip);
    CHECK_EQ(last_nmi.cs & 0xffff, FLAT_KERNEL_CS & ~3);
    /* traps_install's vector 2 asks for no event masking (flags 0): nothing to check there. */
    CHECK_EQ(shared->arch.nmi_reason, 0);   /* a virtual NMI notes no platform reason */

    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    spin_for_count((volatile unsigned *)&v1_started, 1);
    REQUIRE_EQ(v1_started, 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_send_nmi, 1, NULL), 0);
    spin_for_count(&nmi_count[1], 1);
    CHECK_EQ(nmi_count[1], 1);
    CHECK_EQ(nmi_count[0], 2);

    /* 2. A platform NMI with no NMI callback: noted, then dropped. */
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_unregister, &ucb), 0);
    printk("QEMU-MONITOR-REQUEST nmi\n");
    uint64_t left = LOOP_BOUND;
    while (!(READ_ONCE(shared->arch.nmi_reason) & XEN_NMIREASON_unknown) && --left)
        __asm__ volatile("pause");
    printk("platform NMI 1 (no callback): nmi_reason %#lx\n", shared->arch.nmi_reason);
    REQUIRE(shared->arch.nmi_reason & XEN_NMIREASON_unknown,
            "no platform NMI noted: was the kernel run by tests/guests/run-guests?");
    settle();
    CHECK_EQ(nmi_count[0], 2);
    CHECK_EQ(nmi_count[1], 1);

    /* 3. Registering the callback with a reason noted raises the lost NMI. */
    CHECK_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
    c0 = nmi_count[0];
    printk("after registering the NMI callback: %u NMI(s) on vCPU 0 (rip %#lx)\n", c0, last_nmi.rip);
    CHECK_EQ(c0, 3);
    CHECK(rip_in_slot(last_nmi.rip, __HYPERVISOR_callback_op), "rip %#lx", last_nmi.rip);
    settle();
    CHECK_EQ(nmi_count[0], 3);

    /* 4. A platform NMI with the callback: vCPU 0 takes it in its spin loop. */
    mask_before = vcpu0->evtchn_upcall_mask;
    printk("QEMU-MONITOR-REQUEST nmi\n");
    spin_for_count(&nmi_count[0], 4);
    struct nmi_seen seen;

    seen = (struct nmi_seen){ last_nmi.rip, last_nmi.cs, last_nmi.rflags, last_nmi.rsp,
                              last_nmi.mask_inside, last_nmi.cpu };
    /* run-guests matches this rip and rsp with the ones Mica logged (expected-log). */
    printk("platform NMI 2: %u on vCPU 0 at rip %#lx rsp %#lx (spin loop %#lx-%#lx), cs %#lx, "
           "%u on vCPU 1 (%lu hypercalls)\n", nmi_count[0], seen.rip, seen.rsp,
           (uint64_t)spin_loop_start, (uint64_t)spin_loop_end, seen.cs, nmi_count[1], v1_calls);
    settle();
    CHECK_EQ(nmi_count[0], 4);
    CHECK_EQ(nmi_count[1], 1);
    CHECK_EQ(nmi_nested, 0);
    CHECK_EQ(seen.cpu, 0);
    /* Usually the spin loop; the console hypercall that asked for it if QEMU was that quick. */
    CHECK((seen.rip >= (uint64_t)spin_loop_start && seen.rip <= (uint64_t)spin_loop_end) ||
              rip_in_slot(seen.rip, __HYPERVISOR_console_io),
          "rip %#lx", seen.rip);
    CHECK_EQ(seen.cs & 0xffff, FLAT_KERNEL_CS & ~3);
    CHECK_EQ((seen.cs >> 32) & 0xff, mask_before);      /* the saved event mask */
    CHECK_EQ(seen.mask_inside, 1);
    CHECK(shared->arch.nmi_reason & XEN_NMIREASON_unknown, "nmi_reason %#lx", shared->arch.nmi_reason);

    /* 5. The same with vCPU 0 in guest user mode. */
    struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR,
                            .arg1.mfn = va_to_mfn((void *)start_info->pt_base) };
    REQUIRE_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    REQUIRE_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uint64_t)(kstack + sizeof(kstack))), 0);
    trap_hooks[6] = ud_hook;
    user_target = 5;
    last_nmi.rsp = 0;
    printk("QEMU-MONITOR-REQUEST nmi\n");
    user_mode_run((uint64_t)user_spin_start, (uint64_t)(ustack + sizeof(ustack)), FLAT_USER_CS64);
    trap_hooks[6] = NULL;
    seen = (struct nmi_seen){ last_nmi.rip, last_nmi.cs, last_nmi.rflags, last_nmi.rsp,
                              last_nmi.mask_inside, last_nmi.cpu };
    printk("platform NMI 3: %u on vCPU 0 at rip %#lx rsp %#lx (user loop %#lx-%#lx), cs %#lx, "
           "%u on vCPU 1\n", nmi_count[0], seen.rip, seen.rsp, (uint64_t)user_spin_start,
           (uint64_t)user_spin_end, seen.cs, nmi_count[1]);
    settle();
    CHECK_EQ(nmi_count[0], 5);
    CHECK_EQ(nmi_count[1], 1);
    CHECK_EQ(nmi_nested, 0);
    CHECK_EQ(seen.cpu, 0);
    /* The iret hypercall into user mode may return to the first instruction with the NMI. */
    CHECK(seen.rip >= (uint64_t)user_spin_start && seen.rip <= (uint64_t)user_spin_end,
          "rip %#lx", seen.rip);
    CHECK_EQ(seen.cs & 0xffff, FLAT_USER_CS);
    CHECK(seen.rsp > (uint64_t)ustack && seen.rsp <= (uint64_t)(ustack + sizeof(ustack)),
          "rsp %#lx", seen.rsp);
    CHECK_EQ(seen.mask_inside, 1);

    v1_stop = 1;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
