/*
 * Exception handling.  There are no guests yet, so every exception is
 * Mica's own bug or a deliberate self test: it is reported in full (what,
 * where, registers, control registers, stack trace) and the machine stops
 * per `noreboot`.  Interrupts go to the handler registered for their
 * vector.
 */
#include <asm/logdirty.h>
#include <asm/current.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/ipi.h>
#include <asm/ldt.h>
#include <asm/pv.h>
#include <asm/power.h>
#include <asm/sections.h>
#include <asm/traps.h>
#include <mica/console.h>
#include <mica/context.h>
#include <mica/lib.h>
#include <mica/perfc.h>
#include <mica/rcu.h>
#include <mica/sched.h>

static const char *const exception_names[32] = {
    "divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)",
    "overflow (#OF)", "bound range (#BR)", "invalid opcode (#UD)",
    "device not available (#NM)", "double fault (#DF)",
    "coprocessor segment overrun", "invalid TSS (#TS)",
    "segment not present (#NP)", "stack fault (#SS)",
    "general protection (#GP)", "page fault (#PF)", "reserved 15",
    "x87 floating point (#MF)", "alignment check (#AC)",
    "machine check (#MC)", "SIMD floating point (#XM)",
    "virtualization (#VE)", "control protection (#CP)",
    "reserved 22", "reserved 23", "reserved 24", "reserved 25",
    "reserved 26", "reserved 27", "hypervisor injection (#HV)",
    "VMM communication (#VC)", "security (#SX)", "reserved 31",
};

static irq_handler_t irq_handlers[256];

void set_irq_handler(unsigned vector, irq_handler_t handler)
{
    ASSERT(vector >= FIRST_DYNAMIC_VECTOR && vector < 256);
    irq_handlers[vector] = handler;
}

static bool is_text(u64 addr)
{
    return addr >= (u64)(uintptr_t)__text_start && addr < (u64)(uintptr_t)__text_end;
}

/*
 * Walks the rbp chain (Mica is built with frame pointers).  Each frame
 * must lie above the previous one, be 8-byte aligned and inside the
 * hypervisor area, so a corrupt stack ends the walk instead of faulting.
 */
void show_stack_trace(u64 rip, u64 rbp)
{
    printk("Stack trace (addr2line -e build/mica-syms <address>):\n");
    printk("   [<%016llx>]\n", (unsigned long long)rip);
    for (unsigned depth = 0; depth < 32 && rbp; depth++) {
        const u64 *frame = (const u64 *)(uintptr_t)rbp;
        u64 ret, next;

        if (rbp % 8 || rbp < 0xffff800000000000ULL)
            break;
        next = frame[0];
        ret = frame[1];
        if (!is_text(ret))
            break;
        printk("   [<%016llx>]\n", (unsigned long long)ret);
        if (next <= rbp)
            break;
        rbp = next;
    }
}

void show_registers(const struct cpu_regs *r)
{
    printk("RIP: %04llx:%016llx  RFLAGS: %016llx\n",
           (unsigned long long)r->cs, (unsigned long long)r->rip, (unsigned long long)r->rflags);
    printk("RAX: %016llx  RBX: %016llx  RCX: %016llx\n",
           (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx);
    printk("RDX: %016llx  RSI: %016llx  RDI: %016llx\n",
           (unsigned long long)r->rdx, (unsigned long long)r->rsi, (unsigned long long)r->rdi);
    printk("RBP: %016llx  RSP: %016llx  R8:  %016llx\n",
           (unsigned long long)r->rbp, (unsigned long long)r->rsp, (unsigned long long)r->r8);
    printk("R9:  %016llx  R10: %016llx  R11: %016llx\n",
           (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
    printk("R12: %016llx  R13: %016llx  R14: %016llx\n",
           (unsigned long long)r->r12, (unsigned long long)r->r13, (unsigned long long)r->r14);
    printk("R15: %016llx  SS: %04llx\n",
           (unsigned long long)r->r15, (unsigned long long)r->ss);
    printk("CR0: %016llx  CR2: %016llx  CR3: %016llx  CR4: %016llx\n",
           (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
           (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

static void fatal_exception(struct cpu_regs *regs)
{
    unsigned v = (unsigned)regs->vector;
    char stop[160];

    smp_crash_stop_others(stop, sizeof(stop));
    console_force_unlock();
    printk("\n*** MICA PANIC: unexpected exception %u: %s, error code %#llx ***\n",
           v, exception_names[v], (unsigned long long)regs->error_code);
    if (stop[0])
        printk("%s\n", stop);
    if (v == 14)
        printk("Page fault address (CR2): %016llx (%s, %s, %s)\n",
               (unsigned long long)read_cr2(),
               regs->error_code & 1 ? "protection violation" : "page not present",
               regs->error_code & 2 ? "write" : "read",
               regs->error_code & 16 ? "instruction fetch" : "data access");
    show_registers(regs);
    show_stack_trace(regs->rip, regs->rbp);
    machine_crash_stop();
}

/* A fatal event that is no exception (nmi=fatal): the line, then as above. */
void fatal_trap_report(struct cpu_regs *regs, const char *line)
{
    char stop[160];

    smp_crash_stop_others(stop, sizeof(stop));
    console_force_unlock();
    printk("\n*** MICA PANIC: %s ***\n", line);
    if (stop[0])
        printk("%s\n", stop);
    show_registers(regs);
    show_stack_trace(regs->rip, regs->rbp);
    machine_crash_stop();
}

static void dispatch_interrupt(struct cpu_regs *regs, unsigned v)
{
    if (v == SPURIOUS_VECTOR)
        return;
    if (irq_handlers[v]) {
        /* A handler may look a domain up: it is no RCU quiescent state. */
        bool was_idle = rcu_irq_enter();

        irq_handlers[v](regs);
        rcu_irq_exit(was_idle);
        return;
    }
    pr_warn("interrupt on vector %#x with no handler; ignored\n", v);
}

/*
 * Every exception, interrupt and SYSCALL ends here.  From ring 3 it
 * concerns the running guest; from ring 0 it is Mica's own: a fault in a
 * guest-memory copy goes to its fixup, anything else is a Mica bug.
 */
static void handle_trap(struct cpu_regs *regs)
{
    unsigned v = (unsigned)regs->vector;
    bool from_guest = (regs->cs & 3) == 3;

    if (from_guest) {
#ifdef CONFIG_PERF_COUNTERS
        u64 t0 = perfc_cycles(), idle0 = perfc_read(sched_idle_cycles), spent;
        bool dom0 = current_vcpu()->domain->domid == 0;
#endif
        if (v == SYSCALL_VECTOR)
            pv_syscall(regs);
        else if (v == SYSENTER_VECTOR)
            pv_sysenter(regs);
        else if (v == 0x80)
            pv_int80(regs);
        else if (v < FIRST_DYNAMIC_VECTOR)
            pv_exception(regs);
        else if (v != CALL_FUNCTION_VECTOR)     /* answered in do_trap() */
            dispatch_interrupt(regs, v);
        pv_exit_to_guest(regs);
#ifdef CONFIG_PERF_COUNTERS
        spent = perfc_cycles() - t0 - (perfc_read(sched_idle_cycles) - idle0);
        if (dom0)
            perfc_add(hv_cycles_dom0, spent);
        else
            perfc_add(hv_cycles_domu, spent);
        if (v < 32) {
            perfc_inc_idx(guest_exc, v);
            if (!dom0)
                perfc_inc_idx(guest_exc_domu, v);
            perfc_add_idx(guest_exc_cycles, v, spent);
        } else if (v >= FIRST_DYNAMIC_VECTOR && v < 256) {
            perfc_inc(guest_irq);
            perfc_add(guest_irq_cycles, spent);
        }
#endif
        return;
    }
    if (v < FIRST_DYNAMIC_VECTOR) {
        /* Guest-memory copies (#PF, #GP) and guest selector loads (#NP, #SS, #GP). */
        u64 fixup = (v >= 10 && v <= 14) ? search_exception_table(regs->rip) : 0;
        /* Mica's IRETQ to a guest whose CS or SS descriptor it pulled. */
        if (pv_return_fault(regs))
            return;         /* not reached: the guest was entered */
        /* Never fatal: a guest can make one happen (XSA-260). */
        if (v == 1) {
            pv_debug_in_mica(regs);
            return;
        }
        /* Mica loading a guest selector whose LDT page is not mapped yet. */
        if (v == 14 && pv_ldt_fault(current_vcpu(), read_cr2(), &(u64){ 0 }, &(u32){ 0 }) ==
                           PV_LDT_MAPPED)
            return;
        /* Mica's copy to a guest-kernel page log-dirty write-protected: retried. */
        if (v == 14 && fixup &&
            pv_logdirty_fault(current_vcpu(), read_cr2(), (u32)regs->error_code, true))
            return;
        if (fixup) {
            regs->rip = fixup;
            return;
        }
        fatal_exception(regs);
    }
    dispatch_interrupt(regs, v);
}

/*
 * Every CPU runs Mica's code at once, under the locks of docs/smp.md.  A
 * call-function IPI is answered first: its sender may hold locks while it
 * waits (asm/ipi.h).  From idle or from Mica's own code that is all there
 * is to do; from a guest the usual exit path follows (events, rescheduling).
 */
void do_trap(struct cpu_regs *regs)
{
    /*
     * NMI: another CPU reporting a crash stops this one here; any other
     * is handled on the spot and returns straight to what it interrupted
     * (arch/x86/nmi.c), whose IRETQ lets the next NMI in.
     */
    if (regs->vector == 2) {
        smp_crash_nmi();
        do_nmi(regs);
        return;
    }
    /* #MC from a guest is the host's, never the guest's to handle. */
    if (regs->vector == 18)
        do_machine_check(regs);
    if (regs->vector == CALL_FUNCTION_VECTOR) {
        smp_call_function_interrupt();
        if ((regs->cs & 3) != 3)
            return;
    }
    handle_trap(regs);
}

void panic(const char *fmt, ...)
{
    char msg[256], stop[160];
    va_list ap;
    u64 rbp;

    local_irq_disable();
    smp_crash_stop_others(stop, sizeof(stop));
    console_force_unlock();
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("\n*** MICA PANIC: %s", msg);
    if (!*msg || msg[strlen(msg) - 1] != '\n')
        printk("\n");
    if (stop[0])
        printk("%s\n", stop);
    __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
    show_stack_trace((u64)(uintptr_t)__builtin_return_address(0), rbp);
    machine_crash_stop();
}

void arch_show_guest_frame(void)
{
    const struct vcpu *v = current_vcpu();
    const struct cpu_regs *r = guest_regs();
    u64 words[8];

    if (!v) {
        printk("CPU%u: idle, no guest frame\n", (unsigned)get_cpu_info()->processor_id);
        return;
    }
    printk("CPU%u: d%u v%u, its last entry from the guest (vector %llu):\n",
           (unsigned)get_cpu_info()->processor_id, v->domain->domid, v->vcpu_id,
           (unsigned long long)r->vector);
    show_registers(r);
    /* The guest's own page tables are loaded while it is current. */
    if (copy_from_guest(words, r->rsp, sizeof(words)) == 0)
        for (unsigned i = 0; i < 8; i += 4)
            printk("  stack %016llx: %016llx %016llx %016llx %016llx\n",
                   (unsigned long long)(r->rsp + 8 * i), (unsigned long long)words[i],
                   (unsigned long long)words[i + 1], (unsigned long long)words[i + 2],
                   (unsigned long long)words[i + 3]);
    else
        printk("  stack at %016llx not readable\n", (unsigned long long)r->rsp);
}
