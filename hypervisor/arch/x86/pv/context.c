/*
 * Switching the CPU between vCPUs: registers travel through the entry
 * frame at the top of the CPU's stack; page tables, segment bases and
 * FPU state are swapped here.
 */
#include <asm/current.h>
#include <asm/descriptor.h>
#include <asm/io.h>
#include <asm/lapic.h>
#include <asm/ldt.h>
#include <asm/paging.h>
#include <asm/pv.h>
#include <asm/pv_msrs.h>
#include <asm/time.h>
#include <asm/tlbflush.h>
#include <asm/xpti.h>
#include <asm/xstate.h>
#include <mica/context.h>
#include <mica/lib.h>
#include <mica/sched.h>

#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101

int load_data_selector(unsigned which, u16 sel);

static void save_data_selectors(struct vcpu *v)
{
    u16 *s = v->arch.data_sel;

    __asm__ volatile("mov %%ds, %0" : "=r"(s[0]));
    __asm__ volatile("mov %%es, %0" : "=r"(s[1]));
    __asm__ volatile("mov %%fs, %0" : "=r"(s[2]));
    __asm__ volatile("mov %%gs, %0" : "=r"(s[3]));
}

/*
 * Loads next's data selectors (its GDT view is already in place); a
 * selector that no longer loads (the guest changed its GDT or LDT) is
 * replaced by null and reported to the guest's failsafe callback.
 */
static void load_data_selectors(struct vcpu *next)
{
    bool failed = false;

    for (unsigned i = 0; i < 4; i++)
        if (load_data_selector(i, next->arch.data_sel[i]))
            failed = true;
    if (failed)
        pv_bounce_failsafe(next, guest_regs(), next->arch.data_sel);
}

/*
 * FPU state moves eagerly with the vCPU (XSAVE/XRSTOR, or FXSAVE without
 * XSAVE); the guest's virtual CR0.TS travels in the hardware CR0.TS, so
 * its lazy switching (fpu_taskswitch, #NM) works as on Xen.
 */
static void fpu_save(struct vcpu *v)
{
    write_cr0_ts(false);
    xstate_save(v);
}

static void fpu_restore(struct vcpu *v)
{
    write_cr0_ts(false);
    xstate_restore(v);
    write_cr0_ts(v->arch.fpu_ts);
}

/*
 * The dirty masks (asm/tlbflush.h): this CPU joins next's domain's mask
 * before next's tables are loaded (the locked bit set orders it before
 * the CR3 load, so a CPU that changes next's tables and then reads the
 * mask either sees this CPU or is seen by the load), and leaves prev's
 * once another address space is loaded.
 */
static void dirty_enter(struct vcpu *prev, struct vcpu *next)
{
    unsigned cpu = smp_processor_id();

    if (!prev || prev->domain != next->domain)
        cpumask_set_cpu(cpu, &next->domain->arch.dirty_cpumask);
    __atomic_store_n(&next->arch.dirty_cpu, cpu + 1, __ATOMIC_SEQ_CST);
}

static void dirty_leave(struct vcpu *prev, struct vcpu *next)
{
    if (!prev)
        return;
    __atomic_store_n(&prev->arch.dirty_cpu, 0, __ATOMIC_SEQ_CST);
    if (!next || prev->domain != next->domain)
        cpumask_clear_cpu(smp_processor_id(), &prev->domain->arch.dirty_cpumask);
}

void arch_context_switch(struct vcpu *prev, struct vcpu *next)
{
    struct cpu_regs *frame = guest_regs();

    if (prev) {
        prev->arch.regs = *frame;
        save_data_selectors(prev);
        fpu_save(prev);
        if (prev->arch.kernel_mode)
            prev->arch.gs_base_kernel = rdmsr(MSR_GS_BASE);
        else
            prev->arch.gs_base_user = rdmsr(MSR_GS_BASE);
        prev->arch.fs_base = rdmsr(MSR_FS_BASE);
    }
    pv_debugreg_switch(prev, next);
    /*
     * The guest GDT view lives in the outgoing domain's per-domain area:
     * Mica's own GDT must be loaded before that area leaves CR3.
     */
    pv_load_ldt(NULL);
    pv_load_gdt(NULL);
    if (!next) {
        /* No selector may point into a GDT view that is about to go. */
        for (unsigned i = 0; i < 4; i++)
            load_data_selector(i, 0);
        switch_cr3(idle_cr3);
        xpti_context_switch(NULL);
        dirty_leave(prev, NULL);
        return;
    }
    *frame = next->arch.regs;
    dirty_enter(prev, next);
    switch_cr3((next->arch.kernel_mode ? next->arch.guest_table : next->arch.guest_table_user)
               << PAGE_SHIFT);
    xpti_context_switch(next);
    dirty_leave(prev, next);
    pv_load_gdt(next);
    pv_load_ldt(next);
    load_data_selectors(next);
    wrmsr(MSR_FS_BASE, next->arch.fs_base);
    wrmsr(MSR_GS_BASE, next->arch.kernel_mode ? next->arch.gs_base_kernel
                                              : next->arch.gs_base_user);
    fpu_restore(next);
    pv_msrs_switch_to(next);
    pv_fsgsbase_load(next);
}

void arch_enter_vcpu(struct vcpu *next)
{
    (void)next;
    pv_exit_to_guest(guest_regs());
    pv_enter_frame(guest_regs());
}

void arch_idle_wait(void)
{
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

void arch_set_timer(u64 deadline)
{
    u64 now = now_ns();

    lapic_timer_oneshot(deadline > now ? deadline - now : 1000);
}
