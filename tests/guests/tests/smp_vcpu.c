/*
 * A second vCPU (booted with dom0_max_vcpus=2): VCPUOP_initialise with
 * its own stack, registers, FS/GS bases, FPU image, LDT, virtual IDT
 * and callbacks;
 * refusals (bad pointers and vCPU ids, non-canonical addresses, bad GDT
 * frames, CR3s that cannot be an L4 of ours, twice), with nothing kept
 * from a refused context; VCPUOP_up/is_up; IPI ping-pong over bind_ipi
 * ports, an inter-domain loopback port moved to vCPU 1 with bind_vcpu;
 * per-vCPU periodic and single-shot VIRQ_TIMER; VCPUOP_down of itself
 * and from the other vCPU, then up again, resuming where it stopped.
 * domctl getvcpucontext of vCPU 1 while it is down (our own domain, not
 * the calling vCPU); setvcpucontext of our own domain and getvcpucontext
 * of the calling vCPU are refused.
 */
#include "guest.h"
#include <public/domctl.h>

#define ROUNDS 20
#define WAIT_NS 5000000000UL    /* bound on every wait: a hang is a failure, not a timeout */

static uint8_t stack1[16384] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static uint64_t gdt_page[512] __attribute__((aligned(4096), section(".bss.page_aligned")));
static volatile uint64_t fs_word = 0xf5f5f5f5a1a1a1a1UL;
static volatile uint64_t data_word;
static uint64_t ldt_page[512] __attribute__((aligned(4096), section(".bss.page_aligned")));
static volatile uint16_t got_ldt_sel;

static evtchn_port_t ipi0, ipi1, tmr0, tmr1, loop_a, loop_b;
static volatile int started, timers_done, resumed;
static volatile uint64_t got_arg, got_arg2, got_fs;
static volatile uint16_t got_fcw;
static volatile uint32_t got_mxcsr;
static volatile unsigned got_cpu;
static volatile long self_is_up, self_single_rc, other_single_rc;
static volatile unsigned periodic_seen, single_seen;
static volatile uint64_t spin_count;

static void vcpu1_main(uint64_t arg, uint64_t arg2)
{
    uint64_t fs;
    struct vcpu_runstate_info ri;

    got_arg = arg;
    got_arg2 = arg2;
    got_cpu = smp_this_cpu();
    __asm__ volatile("movq %%fs:0, %0" : "=r"(fs));
    got_fs = fs;
    uint16_t fcw;
    uint32_t mxcsr;
    __asm__ volatile("fnstcw %0; stmxcsr %1" : "=m"(fcw), "=m"(mxcsr));
    got_fcw = fcw;
    got_mxcsr = mxcsr;
    /* Our LDT from the context: entry 0 is a flat data segment (selector 7). */
    uint16_t sel;
    __asm__ volatile("mov %1, %%es; mov %%es, %0; mov %2, %%es" : "=r"(sel) : "r"(7), "r"(0));
    got_ldt_sel = sel;
    self_is_up = HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &ri), 0);
    CHECK_EQ(ri.state, RUNSTATE_running);
    smp_events_enable();
    started = 1;

    /* Ping-pong: each IPI from vCPU 0 answered on vCPU 0's port. */
    for (unsigned i = 1; i <= ROUNDS; i++) {
        if (!smp_wait_event(ipi1, i, WAIT_NS))
            break;
        evtchn_send(ipi0);
    }
    /* The loopback port was moved here with bind_vcpu. */
    if (smp_wait_event(loop_a, 1, WAIT_NS))
        evtchn_send(ipi0);

    /* Our own periodic timer, then a single-shot one, on our VIRQ_TIMER port. */
    struct vcpu_set_periodic_timer pt = { .period_ns = 2000000 };
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 1, &pt), 0);
    if (smp_wait_event(tmr1, 3, WAIT_NS))
        periodic_seen = 1;
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 1, NULL), 0);
    unsigned before = smp_evt_counts[1][tmr1];
    struct vcpu_set_singleshot_timer st = { .timeout_abs_ns = system_time_ns() + 3000000 };
    self_single_rc = HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &st);
    if (smp_wait_event(tmr1, before + 1, WAIT_NS))
        single_seen = 1;
    timers_done = 1;

    /* Down by our own hand; vCPU 0 brings us back and we go on from here. */
    long rc = HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
    CHECK_EQ(rc, 0);
    resumed = 1;
    for (;;) {
        spin_count++;
        if (!(spin_count & 255))
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

static bool wait_flag(volatile int *flag)
{
    uint64_t deadline = system_time_ns() + WAIT_NS;

    while (!*flag && system_time_ns() < deadline)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    return *flag;
}

static struct xen_domctl dop;
static struct vcpu_guest_context got;

static long vcpucontext(uint32_t cmd, uint32_t vcpu, void *c)
{
    memset(&dop, 0, sizeof(dop));
    dop.cmd = cmd;
    dop.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dop.domain = 0;
    dop.u.vcpucontext.vcpu = vcpu;
    dop.u.vcpucontext.ctxt = (uint64_t)c;
    return HC(__HYPERVISOR_domctl, &dop, 0, 0);
}

static long init1(void)
{
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx);
}

static void fresh(void)
{
    smp_fill_context(&ctx, 1, vcpu1_main, 0x1111222233334444UL, stack1 + sizeof(stack1));
    ctx.user_regs.rdx = 0x5555666677778888UL;
    ctx.fs_base = (uint64_t)&fs_word;
    /* An FXSAVE image to start from: 53-bit precision, flush-to-zero. */
    ctx.flags |= VGCF_I387_VALID;
    uint16_t fcw = 0x027f;
    uint32_t mxcsr = 0x9f80;
    memcpy(&ctx.fpu_ctxt[0], &fcw, sizeof(fcw));
    memcpy(&ctx.fpu_ctxt[24], &mxcsr, sizeof(mxcsr));
}

#define NONCANON 0x0000800000000000UL

static void hostile(void)
{
    uint64_t data_cr3 = va_to_mfn((void *)&data_word) << 12;
    uint64_t *l1 = pte_slot(VIRT_BASE);

    fresh();
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, (void *)0x1000), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, (void *)0xffff830000000000UL), -XEN_EFAULT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 2, &ctx), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 0xffffffff, &ctx), -XEN_ENOENT);

    fresh(); ctx.user_regs.rip = NONCANON;            CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.user_regs.rsp = NONCANON;            CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.kernel_sp = NONCANON;                CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.fs_base = NONCANON;                  CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.gs_base_user = NONCANON;             CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.event_callback_eip = NONCANON;       CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.failsafe_callback_eip = NONCANON;    CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.syscall_callback_eip = NONCANON;     CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.trap_ctxt[14].address = NONCANON;    CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.ldt_base = 0x1008;                   CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.ldt_ents = 8193; ctx.ldt_base = 0x10000; CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.gdt_ents = 14 * 512 + 1;             CHECK_EQ(init1(), -XEN_EINVAL);
    /* User mode at start needs a user CR3. */
    fresh(); ctx.flags = 0;                           CHECK_EQ(init1(), -XEN_EINVAL);

    /* CR3s that cannot be one of our L4 tables. */
    fresh(); ctx.ctrlreg[3] = data_cr3;               CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.ctrlreg[3] = 0;                      CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.ctrlreg[3] = 0xfffffffUL << 12;      CHECK_EQ(init1(), -XEN_EINVAL);
    REQUIRE(l1 != NULL, "no L1 table maps the image");
    fresh(); ctx.ctrlreg[3] = va_to_mfn(l1) << 12;    CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.ctrlreg[1] = data_cr3;               CHECK_EQ(init1(), -XEN_EINVAL);

    /* A GDT frame still mapped writable, and one that is not ours. */
    fresh(); ctx.gdt_frames[0] = va_to_mfn(gdt_page); ctx.gdt_ents = 512;
    CHECK_EQ(init1(), -XEN_EINVAL);
    fresh(); ctx.gdt_frames[0] = 0xfffffff; ctx.gdt_ents = 512;
    CHECK_EQ(init1(), -XEN_EINVAL);

    /*
     * A good GDT frame with a bad CR3: refused, and the frame is let go
     * again (it can be mapped writable afterwards).
     */
    uint64_t gma = va_to_mfn(gdt_page) << 12;
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)gdt_page, gma | PTE_P | PTE_A, UVMF_INVLPG), 0);
    fresh(); ctx.gdt_frames[0] = gma >> 12; ctx.gdt_ents = 512; ctx.ctrlreg[3] = data_cr3;
    CHECK_EQ(init1(), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_update_va_mapping((uint64_t)gdt_page, gma | PTE_P | PTE_RW | PTE_A | PTE_D,
                                          UVMF_INVLPG), 0);

    /* None of that initialised vCPU 1. */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);
}

enum result test_main(void)
{
    struct vcpu_runstate_info ri;

    REQUIRE_EQ(traps_install(), 0);
    REQUIRE_EQ(events_init(), 0);
    REQUIRE_EQ(smp_init_boot_cpu(), 0);
    REQUIRE_EQ(smp_this_cpu(), 0);

    /* Two vCPUs; only vCPU 0 is up, vCPU 1 has no context yet. */
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 2, NULL), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 2, NULL), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 2, NULL), -XEN_ENOENT);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &ri), 0);
    CHECK_EQ(ri.state, RUNSTATE_offline);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);

    hostile();

    /* Ports: an IPI port per vCPU, a VIRQ_TIMER per vCPU, a loopback pair. */
    REQUIRE_EQ(evtchn_bind_ipi(0, &ipi0), 0);
    REQUIRE_EQ(evtchn_bind_ipi(1, &ipi1), 0);
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 0, &tmr0), 0);
    REQUIRE_EQ(evtchn_bind_virq(VIRQ_TIMER, 1, &tmr1), 0);
    REQUIRE_EQ(evtchn_alloc_unbound_self(&loop_a), 0);
    struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF, .remote_port = loop_a };
    REQUIRE_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), 0);
    loop_b = bi.local_port;
    REQUIRE(ipi0 < SMP_PORTS && ipi1 < SMP_PORTS && tmr0 < SMP_PORTS && tmr1 < SMP_PORTS &&
            loop_a < SMP_PORTS && loop_b < SMP_PORTS, "ports beyond %u", SMP_PORTS);
    smp_port_cpu[ipi1] = smp_port_cpu[tmr1] = smp_port_cpu[loop_a] = 1;
    struct evtchn_bind_vcpu bv = { .port = ipi0, .vcpu = 1 };
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -XEN_EINVAL);  /* IPIs stay */
    bv.port = loop_a;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), 0);
    bv.vcpu = 2;
    CHECK_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -XEN_ENOENT);
    smp_events_enable();

    /* The real thing, with an LDT of one flat data segment. */
    ldt_page[0] = 0x00cff3000000ffffUL;
    REQUIRE_EQ(HYPERVISOR_update_va_mapping((uint64_t)ldt_page,
                                            (va_to_mfn(ldt_page) << 12) | PTE_P | PTE_A,
                                            UVMF_INVLPG), 0);
    fresh();
    ctx.ldt_base = (uint64_t)ldt_page;
    ctx.ldt_ents = 1;
    CHECK_EQ(init1(), 0);
    CHECK_EQ(init1(), -XEN_EEXIST);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 0, &ctx), -XEN_EEXIST);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);      /* no VGCF_online: still down */
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    REQUIRE(wait_flag(&started), "vCPU 1 never ran");
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 1);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);         /* already up */
    CHECK_EQ(got_cpu, 1);
    CHECK_EQ(got_arg, 0x1111222233334444UL);
    CHECK_EQ(got_arg2, 0x5555666677778888UL);
    CHECK_EQ(got_fs, 0xf5f5f5f5a1a1a1a1UL);
    CHECK_EQ(got_fcw, 0x027f);
    CHECK_EQ(got_mxcsr, 0x9f80);
    CHECK_EQ(got_ldt_sel, 7);
    CHECK_EQ(self_is_up, 1);

    /* IPI ping-pong: every event lands on the vCPU its port names. */
    for (unsigned i = 1; i <= ROUNDS; i++) {
        CHECK_EQ(evtchn_send(ipi1), 0);
        if (!smp_wait_event(ipi0, i, WAIT_NS)) {
            CHECK(0, "no answer to IPI %u", i);
            break;
        }
    }
    CHECK_EQ(evtchn_send(loop_b), 0);
    CHECK(smp_wait_event(ipi0, ROUNDS + 1, WAIT_NS), "no answer to the loopback event");
    CHECK_EQ(smp_evt_counts[0][ipi0], ROUNDS + 1);
    CHECK_EQ(smp_evt_counts[1][ipi1], ROUNDS);
    CHECK_EQ(smp_evt_counts[1][loop_a], 1);
    CHECK_EQ(smp_evt_counts[0][ipi1] + smp_evt_counts[0][loop_a] + smp_evt_counts[1][ipi0], 0);

    /* Timers: vCPU 1's own; nothing of them reaches vCPU 0. */
    struct vcpu_set_singleshot_timer st = { .timeout_abs_ns = system_time_ns() + 1000000 };
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &st), -XEN_EINVAL);
    REQUIRE(wait_flag(&timers_done), "vCPU 1 did not finish its timer checks");
    CHECK(periodic_seen, "vCPU 1's periodic timer did not tick three times");
    CHECK_EQ(self_single_rc, 0);
    CHECK(single_seen, "vCPU 1's single-shot timer did not fire");
    CHECK_EQ(smp_evt_counts[0][tmr1], 0);
    CHECK_EQ(smp_evt_counts[1][tmr0], 0);

    /*
     * vCPU 1 takes itself down; up again resumes it after its hypercall.
     * On two CPUs at once it reads as down before its CPU has switched
     * away from it (its runstate still "running"), on Xen as on Mica:
     * wait for both.
     */
    uint64_t deadline = system_time_ns() + WAIT_NS;
    while ((HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) != 0 ||
            HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &ri) != 0 ||
            ri.state != RUNSTATE_offline) && system_time_ns() < deadline)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    REQUIRE_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &ri), 0);
    CHECK_EQ(ri.state, RUNSTATE_offline);
    CHECK_EQ(resumed, 0);
    /* The toolstack's view of it: its saved state (we are dom0). */
    CHECK_EQ(vcpucontext(XEN_DOMCTL_getvcpucontext, 1, &got), 0);
    CHECK_EQ(got.flags & (VGCF_in_kernel | VGCF_online), VGCF_in_kernel);
    CHECK_EQ(got.ctrlreg[3], smp_kernel_cr3());
    CHECK_EQ(got.ctrlreg[1], 0);
    CHECK_EQ(got.fs_base, (uint64_t)&fs_word);
    CHECK_EQ(got.ldt_base, (uint64_t)ldt_page);
    CHECK_EQ(got.ldt_ents, 1);
    CHECK_EQ(got.kernel_sp, (uint64_t)(stack1 + sizeof(stack1)));
    CHECK(got.user_regs.rsp > (uint64_t)stack1 && got.user_regs.rsp < (uint64_t)(stack1 + sizeof(stack1)),
          "rsp %#lx", got.user_regs.rsp);
    CHECK_EQ(got.user_regs.cs, FLAT_KERNEL_CS);
    CHECK_EQ(got.event_callback_eip, ctx.event_callback_eip);
    CHECK_EQ(vcpucontext(XEN_DOMCTL_getvcpucontext, 0, &got), -XEN_EINVAL);    /* ourselves */
    CHECK_EQ(vcpucontext(XEN_DOMCTL_getvcpucontext, 2, &got), -XEN_EINVAL);
    CHECK_EQ(vcpucontext(XEN_DOMCTL_setvcpucontext, 1, &ctx), -XEN_EINVAL);    /* our domain */
    CHECK_EQ(vcpucontext(XEN_DOMCTL_setvcpucontext, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    REQUIRE(wait_flag(&resumed), "vCPU 1 did not resume after up");

    /* Down from here while it spins: it stops, and goes on after up. */
    deadline = system_time_ns() + WAIT_NS;
    while (!spin_count && system_time_ns() < deadline)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    uint64_t frozen = spin_count;
    for (int i = 0; i < 20; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    spin_until_ns(system_time_ns() + 20000000);
    CHECK_EQ(spin_count, frozen);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    deadline = system_time_ns() + WAIT_NS;
    while (spin_count == frozen && system_time_ns() < deadline)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    CHECK(spin_count != frozen, "vCPU 1 did not run again after up");

    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    return RESULT_SUCCESS;
}
