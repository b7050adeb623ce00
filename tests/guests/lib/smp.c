/*
 * Two-vCPU helpers for the SMP test kernels (booted with
 * dom0_max_vcpus=2): which vCPU is running (the kernel GS base points at
 * a per-vCPU record), a vcpu_guest_context for a secondary vCPU that
 * enters a C function on its own stack, and per-vCPU event delivery
 * through each vCPU's own vcpu_info.
 */
#include "guest.h"

struct smp_percpu smp_percpu[SMP_MAX_VCPUS];
volatile unsigned smp_evt_counts[SMP_MAX_VCPUS][SMP_PORTS];
volatile uint8_t smp_port_cpu[SMP_PORTS];

extern char event_entry[], failsafe_entry[], smp_secondary_entry[];

unsigned smp_this_cpu(void)
{
    uint64_t id;

    __asm__ volatile("movq %%gs:0, %0" : "=r"(id));
    return (unsigned)id;
}

long smp_init_boot_cpu(void)
{
    smp_percpu[0].id = 0;
    trap_hooks[VEC_EVENT] = smp_event_hook;
    return HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (uint64_t)&smp_percpu[0]);
}

uint64_t smp_kernel_cr3(void)
{
    /* Our L4 is the first page-table frame; xen_pfn_to_cr3() is a shift. */
    return va_to_mfn((void *)start_info->pt_base) << 12;
}

void smp_fill_context(struct vcpu_guest_context *c, unsigned cpu, smp_fn_t fn, uint64_t arg,
                      void *stack_top)
{
    memset(c, 0, sizeof(*c));
    smp_percpu[cpu].id = cpu;
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = (uint64_t)smp_secondary_entry;
    c->user_regs.rsp = (uint64_t)stack_top;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rdi = (uint64_t)fn;
    c->user_regs.rsi = arg;
    c->user_regs.rflags = 0x2;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = (uint64_t)stack_top;
    c->ctrlreg[3] = smp_kernel_cr3();
    c->gs_base_kernel = (uint64_t)&smp_percpu[cpu];
    c->event_callback_eip = (uint64_t)event_entry;
    c->failsafe_callback_eip = (uint64_t)failsafe_entry;
    traps_fill_context(c->trap_ctxt);
}

/*
 * The pending bitmap is shared: a word selected for this vCPU may hold
 * another vCPU's ports too (Linux keeps a per-CPU mask for the same
 * reason).  Those are the other's to take.
 */
static bool port_is_this_cpus(unsigned port)
{
    return port >= SMP_PORTS || smp_port_cpu[port] == smp_this_cpu();
}

static void count_for_this_cpu(unsigned port)
{
    if (port < SMP_PORTS)
        __atomic_add_fetch(&smp_evt_counts[smp_this_cpu()][port], 1, __ATOMIC_SEQ_CST);
}

bool smp_event_hook(struct regs *r)
{
    (void)r;
    evtchn_scan(&shared->vcpu_info[smp_this_cpu()], port_is_this_cpus, count_for_this_cpu);
    return true;
}

bool smp_wait_event(unsigned port, unsigned count, uint64_t timeout_ns)
{
    unsigned cpu = smp_this_cpu();
    struct vcpu_info *vi = &shared->vcpu_info[cpu];
    uint64_t deadline = system_time_ns() + timeout_ns;
    evtchn_port_t p = port;

    for (;;) {
        /* Masked while checking; poll returns at once if the port is already pending. */
        WRITE_ONCE(vi->evtchn_upcall_mask, 1);
        barrier();
        if (READ_ONCE(smp_evt_counts[cpu][port]) >= count) {
            events_enable_on(vi);
            return true;
        }
        if (system_time_ns() > deadline) {
            events_enable_on(vi);
            return false;
        }
        struct sched_poll sp = { .nr_ports = 1, .timeout = system_time_ns() + 10000000 };
        sp.ports = (uint64_t)&p;
        HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
        events_enable_on(vi);
    }
}

void smp_events_enable(void)
{
    events_enable_on(&shared->vcpu_info[smp_this_cpu()]);
}
