/*
 * The failsafe callback (booted with dom0_max_vcpus=2).  vCPU 0 loads DS
 * and ES from an entry of its own GDT, then blocks; vCPU 1 (whose
 * context brings the same GDT and ES) makes that entry not-present with
 * update_descriptor and wakes vCPU 0.  Switching vCPU 0 back in, the
 * hypervisor cannot reload DS/ES: it loads null instead and enters the
 * failsafe callback with the frame RCX, R11, DS, ES, FS, GS, RIP, CS
 * (saved upcall mask in bits 32-39), RFLAGS, RSP, SS, events masked as
 * registered.  With the entry valid again, switches keep the selectors
 * without any callback.  On Xen a single vCPU never reloads its
 * selectors, hence the second vCPU.
 */
#include "guest.h"

#define WAIT_NS   5000000000UL
#define DATA_DPL3 0x00cff3000000ffffUL
#define SEL       0x23                  /* GDT entry 4, RPL 3 */

static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static uint64_t gdt_page[512] __attribute__((aligned(4096), section(".bss.page_aligned")));

static evtchn_port_t ipi0, ipi1;
static volatile int started;
static volatile long invalidate_rc = 1;
static volatile uint16_t v1_es;

/* Filled by fs_entry from the failsafe frame, before the library stub drops it. */
volatile uint64_t fs_frame[11];
volatile uint64_t fs_entry_rsp;
static volatile unsigned fs_count[SMP_MAX_VCPUS];
static volatile uint8_t fs_mask_in_handler = 0xff;

__asm__(
    "    .text\n"
    "    .globl fs_entry\n"
    "fs_entry:\n"
    "    pushq %rax\n"
    "    leaq 8(%rsp), %rax\n"
    "    movq %rax, fs_entry_rsp(%rip)\n"
    "    .irp i, 0,1,2,3,4,5,6,7,8,9,10\n"
    "    movq 8+8*\\i(%rsp), %rax\n"
    "    movq %rax, fs_frame+8*\\i(%rip)\n"
    "    .endr\n"
    "    popq %rax\n"
    "    jmp failsafe_entry\n");
extern char fs_entry[], hypercall_page[];

static bool failsafe_hook(struct regs *r)
{
    (void)r;
    fs_mask_in_handler = shared->vcpu_info[smp_this_cpu()].evtchn_upcall_mask;
    fs_count[smp_this_cpu()]++;
    return true;
}

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    uint16_t es;

    (void)arg; (void)arg2;
    __asm__ volatile("mov %%es, %0" : "=r"(es));
    v1_es = es;
    /* Ours is not the selector under test. */
    __asm__ volatile("mov %0, %%es" :: "r"(0));
    smp_events_enable();
    started = 1;
    for (unsigned i = 1;;) {
        if (!smp_wait_event(ipi1, i, WAIT_NS))
            continue;
        if (i == 1)
            invalidate_rc = HYPERVISOR_update_descriptor((va_to_mfn(gdt_page) << 12) + 4 * 8, 0);
        evtchn_send(ipi0);
        i++;
    }
}

static uint16_t read_ds(void) { uint16_t s; __asm__ volatile("mov %%ds, %0" : "=r"(s)); return s; }
static uint16_t read_es(void) { uint16_t s; __asm__ volatile("mov %%es, %0" : "=r"(s)); return s; }

enum result test_main(void)
{
    uint64_t mfn = va_to_mfn(gdt_page), ma = mfn << 12;
    uint64_t frames[1] = { mfn };

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    trap_hooks[VEC_FAILSAFE] = failsafe_hook;
    struct callback_register cb = {
        .type = CALLBACKTYPE_failsafe, .flags = CALLBACKF_mask_events,
        .address = (uint64_t)fs_entry,
    };
    REQUIRE_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);

    /* Our GDT: entry 4 a flat DPL-3 data segment. */
    REQUIRE_EQ(HYPERVISOR_update_descriptor(ma + 4 * 8, DATA_DPL3), 0);
    REQUIRE_EQ(HYPERVISOR_update_va_mapping((uint64_t)gdt_page, ma | PTE_P | PTE_A, UVMF_INVLPG), 0);
    REQUIRE_EQ(HYPERVISOR_set_gdt(frames, 512), 0);

    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi0), 0);
    REQUIRE_EQ(evtchn_bind_ipi(1, &ipi1), 0);
    REQUIRE(ipi0 < SMP_PORTS && ipi1 < SMP_PORTS, "ports beyond %u", SMP_PORTS);
    smp_port_cpu[ipi1] = 1;
    smp_events_enable();

    /* vCPU 1 shares the GDT and starts with ES from it. */
    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    ctx.gdt_frames[0] = mfn;
    ctx.gdt_ents = 512;
    ctx.user_regs.es = SEL;
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    uint64_t deadline = system_time_ns() + WAIT_NS;
    while (!started && system_time_ns() < deadline)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    REQUIRE(started, "vCPU 1 never ran");
    CHECK_EQ(v1_es, SEL);

    /* Load the selectors, let vCPU 1 pull the descriptor, come back. */
    CHECK_EQ(TRAP_PROBE("mov $0x23, %%eax; mov %%eax, %%ds; 9990: mov %%eax, %%es"), -1);
    /* FS and GS stay as they are (loading them would reset the GS base we rely on). */
    uint16_t fs_sel, gs_sel;
    __asm__ volatile("mov %%fs, %0; mov %%gs, %1" : "=r"(fs_sel), "=r"(gs_sel));
    CHECK_EQ(read_ds(), SEL);
    CHECK_EQ(read_es(), SEL);
    CHECK_EQ(evtchn_send(ipi1), 0);
    CHECK(smp_wait_event(ipi0, 1, WAIT_NS), "vCPU 1 did not answer");
    CHECK_EQ(invalidate_rc, 0);
    CHECK_EQ(gdt_page[4], 0);

    CHECK_EQ(fs_count[0], 1);
    CHECK_EQ(fs_count[1], 0);
    CHECK_EQ(fs_mask_in_handler, 1);            /* registered with CALLBACKF_mask_events */
    /* The frame: RCX, R11, DS, ES, FS, GS as they were, then an ordinary return frame. */
    CHECK_EQ(fs_frame[2], SEL);
    CHECK_EQ(fs_frame[3], SEL);
    CHECK_EQ(fs_frame[4], fs_sel);
    CHECK_EQ(fs_frame[5], gs_sel);
    uint64_t rip = fs_frame[6], cs = fs_frame[7], rflags = fs_frame[8];
    CHECK(rip >= (uint64_t)hypercall_page && rip < (uint64_t)hypercall_page + 4096,
          "frame RIP %#lx is not in the hypercall page", rip);
    CHECK_EQ(cs & 0xffff, FLAT_KERNEL_CS & ~3);  /* kernel frames show RPL 0 */
    CHECK_EQ(((cs >> 32) & 0xff) ? 1 : 0, (rflags & 0x200) ? 0 : 1);   /* IF = !saved mask */
    CHECK_EQ(fs_frame[10], FLAT_KERNEL_SS);
    CHECK(fs_frame[9] >= fs_entry_rsp + 11 * 8, "frame RSP %#lx overlaps the frame at %#lx",
          fs_frame[9], fs_entry_rsp);
    CHECK_EQ((fs_entry_rsp + 11 * 8) % 16, 0);   /* built below a 16-byte aligned stack top */
    /* The selectors that failed are null now. */
    CHECK_EQ(read_ds(), 0);
    CHECK_EQ(read_es(), 0);
    CHECK(TRAP_PROBE("mov $0x23, %%eax; 9990: mov %%eax, %%ds") != -1,
          "the pulled descriptor still loads");

    /* A valid selector survives switches without a callback. */
    CHECK_EQ(HYPERVISOR_update_descriptor(ma + 4 * 8, DATA_DPL3), 0);
    CHECK_EQ(TRAP_PROBE("mov $0x23, %%eax; 9990: mov %%eax, %%ds"), -1);
    for (unsigned i = 2; i <= 6; i++) {
        CHECK_EQ(evtchn_send(ipi1), 0);
        CHECK(smp_wait_event(ipi0, i, WAIT_NS), "vCPU 1 did not answer IPI %u", i);
    }
    CHECK_EQ(read_ds(), SEL);
    CHECK_EQ(fs_count[0], 1);
    __asm__ volatile("mov %0, %%ds" :: "r"(0));

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    return RESULT_SUCCESS;
}
