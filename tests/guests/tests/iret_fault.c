/*
 * The hypervisor's own return to the guest faults (booted with
 * dom0_max_vcpus=2).  vCPU 0 loads SS from an entry of its own GDT and
 * spins with events masked, so it returns to the guest only through the
 * hypervisor's IRETQ after timer interrupts, with that SS on the frame.
 * vCPU 1, once it runs, makes the entry not-present with
 * update_descriptor.  When vCPU 0 is switched back in, the IRETQ that
 * would reload its SS faults in ring 0: the hypervisor must not die of it.
 * Xen 4.17 hands the fault to the guest as if its own instruction had
 * raised it: #GP with the selector as error code, through trap 13, on the
 * frame vCPU 0 had (SS the pulled selector; the failsafe callback is only
 * for data selectors).  The handler puts the flat SS back.
 */
#include "guest.h"

#define WAIT_NS   5000000000UL
#define DATA_DPL3 0x00cff3000000ffffUL
#define SEL       0x23                  /* GDT entry 4, RPL 3 */

static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static uint64_t gdt_page[512] __attribute__((aligned(4096), section(".bss.page_aligned")));

static volatile int ss_loaded, pulled;
static volatile long pull_rc = 1;
static volatile unsigned gp_count[SMP_MAX_VCPUS], fs_count;
static volatile uint64_t gp_error, gp_ss, gp_cs;

static bool gp_hook(struct regs *r)
{
    gp_count[smp_this_cpu()]++;
    gp_error = r->error_code;
    gp_ss = r->ss;
    gp_cs = r->cs;
    r->ss = FLAT_KERNEL_SS;
    return true;
}

static bool failsafe_hook(struct regs *r)
{
    (void)r;
    fs_count++;
    return true;
}

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    (void)arg; (void)arg2;
    while (!ss_loaded)
        ;
    pull_rc = HYPERVISOR_update_descriptor((va_to_mfn(gdt_page) << 12) + 4 * 8, 0);
    pulled = 1;
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

enum result test_main(void)
{
    uint64_t mfn = va_to_mfn(gdt_page), ma = mfn << 12;
    uint64_t frames[1] = { mfn };
    uint64_t deadline;
    uint16_t ss;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    trap_hooks[13] = gp_hook;
    trap_hooks[VEC_FAILSAFE] = failsafe_hook;

    /* Our GDT: entry 4 a flat DPL-3 data segment. */
    REQUIRE_EQ(HYPERVISOR_update_descriptor(ma + 4 * 8, DATA_DPL3), 0);
    REQUIRE_EQ(HYPERVISOR_update_va_mapping((uint64_t)gdt_page, ma | PTE_P | PTE_A, UVMF_INVLPG), 0);
    REQUIRE_EQ(HYPERVISOR_set_gdt(frames, 512), 0);

    smp_fill_context(&ctx, 1, vcpu1_main, 0, stack1 + sizeof(stack1));
    ctx.gdt_frames[0] = mfn;
    ctx.gdt_ents = 512;
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);

    /* No upcall may put a flat SS back while we wait: events masked. */
    vcpu0->evtchn_upcall_mask = 1;
    __asm__ volatile("mov %0, %%ss" :: "r"((uint16_t)SEL));
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    CHECK_EQ(ss, SEL);
    ss_loaded = 1;
    /* Spinning, no hypercall: time comes from the TSC-based vcpu_time_info. */
    deadline = system_time_ns() + WAIT_NS;
    while (!pulled && system_time_ns() < deadline)
        ;
    /* Until the next switch back to us, SS may still be the pulled one. */
    while (!gp_count[0] && system_time_ns() < deadline)
        ;
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    vcpu0->evtchn_upcall_mask = 0;

    printk("descriptor pulled: %d (rc %ld), #GP %u (error %#lx, frame SS %#lx CS %#lx), failsafe %u\n",
           pulled, pull_rc, gp_count[0], gp_error, gp_ss, gp_cs, fs_count);
    CHECK_EQ(pulled, 1);
    CHECK_EQ(pull_rc, 0);
    CHECK_EQ(gp_count[0], 1);
    CHECK_EQ(gp_count[1], 0);
    CHECK_EQ(gp_error, SEL & ~3);
    CHECK_EQ(gp_ss, SEL);
    CHECK_EQ(gp_cs & 0xffff, FLAT_KERNEL_CS & ~3);
    CHECK_EQ(fs_count, 0);
    CHECK_EQ(ss, FLAT_KERNEL_SS);

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    return check_failures ? RESULT_FAILURE : RESULT_SUCCESS;
}
