/*
 * Exceptions and SYSCALLs from PV guests, bounced to the guest's own
 * handlers, and the checks on every exit to a guest.
 *
 * Both the guest kernel and its user code run in ring 3; Mica tracks
 * which one is running in arch.kernel_mode and keeps two page-table
 * roots.  A bounce to the guest kernel switches to kernel mode first.
 */
#include <asm/entry.h>
#include <asm/logdirty.h>
#include <asm/current.h>
#include <asm/layout.h>
#include <asm/desc.h>
#include <asm/guest_access.h>
#include <asm/io.h>
#include <asm/ldt.h>
#include <asm/pv.h>
#include <asm/pv_entry.h>
#include <asm/pv_mm.h>
#include <asm/paging.h>
#include <asm/spec_ctrl.h>
#include <asm/xpti.h>
#include <mica/lib.h>
#include <mica/perfc.h>
#include <mica/sched.h>
#include <mica/time_guest.h>
#include <asm/time.h>

#define X86_EFLAGS_IF   (1u << 9)
#define X86_EFLAGS_TF   (1u << 8)
#define X86_EFLAGS_NT   (1u << 14)
#define X86_EFLAGS_RF   (1u << 16)
#define X86_EFLAGS_VM   (1u << 17)
#define X86_EFLAGS_AC   (1u << 18)
#define X86_EFLAGS_IOPL (3u << 12)
#define X86_EFLAGS_DF   (1u << 10)
#define MSR_GS_BASE     0xc0000101
#define MSR_FS_BASE     0xc0000100

static bool vector_has_error(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

void pv_toggle_guest_mode(struct vcpu *v)
{
    struct arch_vcpu *a = &v->arch;

    /* With FSGSBASE the guest may have changed its GS base with WRGSBASE. */
    if (a->cr4_fsgsbase) {
        if (a->kernel_mode)
            a->gs_base_kernel = rdmsr(MSR_GS_BASE);
        else
            a->gs_base_user = rdmsr(MSR_GS_BASE);
    }
    a->kernel_mode = !a->kernel_mode;
    wrmsr(MSR_GS_BASE, a->kernel_mode ? a->gs_base_kernel : a->gs_base_user);
    write_cr3((a->kernel_mode ? a->guest_table : a->guest_table_user) << PAGE_SHIFT);
    xpti_guest_root_loaded();
}

/*
 * The frame every bounce pushes: RCX, R11, then `extra` (an error code,
 * or the failsafe callback's four data selectors), then RIP, CS with the
 * saved event mask, RFLAGS, RSP, SS.
 */
static bool bounce_frame(struct vcpu *v, struct cpu_regs *regs, u64 handler,
                         const u64 *extra, unsigned nr_extra, bool mask_events)
{
    struct vcpu_info *vi = v->vcpu_info;
    u64 frame[11], sp, cs = regs->cs;
    unsigned n = 0;
    u8 saved_mask = vi->evtchn_upcall_mask;

    if (!handler) {
        domain_crash(v->domain, "no guest handler for a bounce at rip %#llx",
                     (unsigned long long)regs->rip);
        return false;
    }
    if (!v->arch.kernel_mode) {
        if (!v->arch.kernel_sp) {
            domain_crash(v->domain, "bounce from user mode but no kernel stack (stack_switch)");
            return false;
        }
        pv_toggle_guest_mode(v);
        sp = v->arch.kernel_sp;
    } else {
        sp = regs->rsp;
        cs &= ~3ULL;        /* kernel frames show the kernel's own RPL 0 */
    }
    sp &= ~0xfULL;

    frame[n++] = regs->rcx;
    frame[n++] = regs->r11;
    for (unsigned i = 0; i < nr_extra && i < 4; i++)
        frame[n++] = extra[i];
    frame[n++] = regs->rip;
    frame[n++] = (cs & 0xffff) | ((u64)saved_mask << 32);
    frame[n++] = (regs->rflags & ~(u64)(X86_EFLAGS_IF | X86_EFLAGS_IOPL)) |
                 (saved_mask ? 0 : X86_EFLAGS_IF) |
                 ((v->domain->arch.vm_assist & (1ULL << VMASST_TYPE_architectural_iopl))
                      ? (u64)v->arch.iopl << 12 : 0);
    frame[n++] = regs->rsp;
    frame[n++] = regs->ss;
    sp -= n * 8;
    if (copy_to_guest(sp, frame, n * 8)) {
        domain_crash(v->domain, "cannot write a bounce frame at %#llx", (unsigned long long)sp);
        return false;
    }
    if (mask_events)
        vi->evtchn_upcall_mask = 1;
    regs->rip = handler;
    regs->cs = RING3_CS64;
    regs->ss = RING3_DS;
    regs->rsp = sp;
    regs->rflags &= ~(u64)(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM | X86_EFLAGS_AC);
    regs->rflags |= X86_EFLAGS_IF;
    /* The ABI returns to a handler as SYSRET would: RCX = RIP, R11 = RFLAGS. */
    regs->rcx = regs->rip;
    regs->r11 = regs->rflags;
    return true;
}

bool pv_bounce(struct vcpu *v, struct cpu_regs *regs, u64 handler,
               bool has_error, u32 error, bool mask_events)
{
    u64 err = error;

    return bounce_frame(v, regs, handler, &err, has_error ? 1 : 0, mask_events);
}

bool pv_bounce_failsafe(struct vcpu *v, struct cpu_regs *regs, const u16 sel[4])
{
    const u64 selectors[4] = { sel[0], sel[1], sel[2], sel[3] };

    if (!v->arch.failsafe_cb.address) {
        domain_crash(v->domain, "a data segment would not load and no failsafe callback is registered");
        return false;
    }
    return bounce_frame(v, regs, v->arch.failsafe_cb.address, selectors, 4,
                        v->arch.failsafe_cb.mask_events);
}

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

/*
 * INT n from guest code: the hardware gate is DPL 0, so it raised #GP
 * naming the IDT.  The vector is read from the instruction itself (CD
 * imm8) rather than trusted from the error code, whose encoding some
 * emulators get wrong.  The guest's virtual IDT decides: the handler's
 * DPL must admit the guest's mode (kernel counts as ring 1).
 */
static bool software_interrupt(struct vcpu *v, struct cpu_regs *regs)
{
    u8 insn[2];
    struct guest_trap *t;
    unsigned need = v->arch.kernel_mode ? 1 : 3;

    if (copy_from_guest(insn, regs->rip, sizeof(insn)) || insn[0] != 0xcd)
        return false;
    t = &v->arch.traps[insn[1]];
    if (!t->address || (t->flags & GUEST_TRAP_DPL_MASK) < need)
        return false;
    regs->rip += 2;
    pv_bounce(v, regs, t->address, false, 0, t->flags & GUEST_TRAP_MASK_EVENTS);
    return true;
}

/*
 * int $0x80 reaches Mica directly (its gate is DPL 3, as on Xen) and goes
 * to the guest's handler without a DPL check; with none, it is the #GP
 * the guest would have seen.
 */
void pv_int80(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    struct guest_trap *t = &v->arch.traps[0x80];

    if (t->address) {
        pv_bounce(v, regs, t->address, false, 0, t->flags & GUEST_TRAP_MASK_EVENTS);
        return;
    }
    regs->rip -= 2;
    regs->vector = 13;
    regs->error_code = (0x80 << 3) | 2;
    pv_exception(regs);
}

/* The guest's handler for vec gets the fault; without one the domain crashes. */
static void deliver_trap(struct vcpu *v, struct cpu_regs *regs, unsigned vec, u32 error)
{
    struct guest_trap *t = &v->arch.traps[vec];

    if (!t->address) {
        domain_crash(v->domain, "%s (vector %u, error %#x) at %#llx with no handler registered%s",
                     vec < 32 && vector_names[vec] ? vector_names[vec] : "exception", vec, error,
                     (unsigned long long)regs->rip,
                     vec == 14 ? " (page fault address in the log below)" : "");
        if (vec == 14)
            pr_err("  page fault address %#llx\n", (unsigned long long)v->arch.cr2);
        return;
    }
    pv_bounce(v, regs, t->address, vector_has_error(vec), error,
              t->flags & GUEST_TRAP_MASK_EVENTS);
}

void pv_exception(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    unsigned vec = (unsigned)regs->vector;
    u32 error = (u32)regs->error_code;

    if ((vec == 13 || vec == 6) && pv_emulate(v, regs)) {
        perfc_inc(emulate_gp);
        return;
    }
    /* Emulation may have found that the guest is owed a different fault. */
    vec = (unsigned)regs->vector;
    error = (u32)regs->error_code;
    if (vec == 13 && (error & 3) == 2 && software_interrupt(v, regs))
        return;
    u64 cr2 = vec == 14 ? read_cr2() : 0;
    enum pv_ldt_fault ldt = vec == 14 ? pv_ldt_fault(v, cr2, &cr2, &error) : PV_LDT_NOT_LDT;

    if (ldt == PV_LDT_MAPPED)
        return;
    if (ldt == PV_LDT_GUEST_GP)
        vec = 13;
    if (vec == 14 && ldt == PV_LDT_NOT_LDT && pv_ptwr_fault(v, regs, cr2, error)) {
        perfc_inc(ptwr_emul);
        return;
    }
    /* A guest-kernel page log-dirty write-protected: writable again, retried. */
    if (vec == 14 && ldt == PV_LDT_NOT_LDT && pv_logdirty_fault(v, cr2, error, false))
        return;
    if (vec == 14) {
        v->arch.cr2 = cr2;
        v->vcpu_info->arch.cr2 = v->arch.cr2;
        /* The guest kernel runs in ring 3 too: report the mode it thinks it had. */
        error = v->arch.kernel_mode ? error & ~4u : error | 4u;
    }
    if (vec == 1) {
        /* The guest's virtual DR6 says why; the hardware one starts clean. */
        u64 dr6;
        __asm__ volatile("mov %%db6, %0" : "=r"(dr6));
        v->arch.debugreg[6] = dr6;
        __asm__ volatile("mov %0, %%db6" :: "r"(0xffff0ff0ULL));
    }
    if (vec == 7 && v->arch.fpu_ts) {
        v->arch.fpu_ts = false;         /* delivering #NM clears virtual CR0.TS */
        write_cr0_ts(false);
    }
    deliver_trap(v, regs, vec, error);
}

bool pv_return_fault(struct cpu_regs *fault)
{
    struct cpu_regs *g = guest_regs(), saved;
    struct vcpu *v = current_vcpu();

    if (fault->rip != (u64)(uintptr_t)restore_all_iret || fault->rsp != (u64)(uintptr_t)&g->rip ||
        !v || (fault->vector != 11 && fault->vector != 12 && fault->vector != 13))
        return false;
    /*
     * The fault's frame lies over the lower part of *g: the guest's
     * registers (restored just before the IRETQ) are in it, its RIP..SS
     * are still in *g.  Copied first, as the two overlap.
     */
    saved = *fault;
    memcpy(g, &saved, offsetof(struct cpu_regs, rip));
    deliver_trap(v, g, (unsigned)saved.vector, (u32)saved.error_code);
    pv_exit_to_guest(g);
    pv_enter_frame(g);
}

/*
 * SYSCALL: from 64-bit guest kernel code a hypercall; from 64-bit user
 * code the syscall callback; from 32-bit code (the CSTAR entry, whatever
 * the guest mode, as on Xen) the syscall32 callback.  Xen 4.17 masks
 * events for both according to the 64-bit syscall callback's
 * CALLBACKF_mask_events (the syscall32 flag only matters to 32-bit PV
 * guests), and Mica follows it so that guests see one behaviour.
 */
void pv_syscall(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    bool compat = regs->cs == RING3_CS32;
    u64 handler = compat ? v->arch.syscall32_cb.address : v->arch.syscall_cb.address;

    if (v->arch.kernel_mode && !compat) {
        pv_hypercall(regs);
        return;
    }
    if (!handler) {
        /* As on hardware without SYSCALL enabled: #UD at the instruction. */
        regs->rip -= 2;
        regs->vector = 6;
        regs->error_code = 0;
        pv_exception(regs);
        return;
    }
    perfc_inc(guest_syscall_bounce);
    if (v->domain->domid)
        perfc_inc(syscall_bounce_domu);
    pv_bounce(v, regs, handler, false, 0, v->arch.syscall_cb.mask_events);
    regs->rflags &= ~(u64)X86_EFLAGS_DF;
}

/*
 * SYSENTER (32-bit user code on CPUs that allow it in long mode): the
 * sysenter callback gets a frame with RIP and RSP 0 (the instruction
 * leaves no trace of them; the guest's convention passes them in
 * registers).  With no callback the guest sees #GP(0) on that frame, as
 * on Xen.
 */
void pv_sysenter(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    const struct guest_trap *gp = &v->arch.traps[13];

    if (v->arch.sysenter_cb.address) {
        pv_bounce(v, regs, v->arch.sysenter_cb.address, false, 0, v->arch.sysenter_cb.mask_events);
        return;
    }
    regs->vector = 13;
    regs->error_code = 0;
    if (!gp->address) {
        domain_crash(v->domain, "SYSENTER with no sysenter callback and no #GP handler registered");
        return;
    }
    pv_bounce(v, regs, gp->address, true, 0, gp->flags & GUEST_TRAP_MASK_EVENTS);
}

bool pv_sysenter_single_step(struct cpu_regs *regs)
{
    if (!(regs->rflags & X86_EFLAGS_TF) || regs->rip < (u64)(uintptr_t)pv_sysenter_entry ||
        regs->rip > (u64)(uintptr_t)pv_sysenter_flags_saved)
        return false;
    /* Once the guest's RFLAGS is on the frame, the stepping stops (Xen does the same). */
    if (regs->rip == (u64)(uintptr_t)pv_sysenter_flags_saved)
        regs->rflags &= ~(u64)X86_EFLAGS_TF;
    __asm__ volatile("mov %0, %%db6" :: "r"(0xffff0ff0ULL));
    return true;
}

/*
 * A virtual NMI (nmi=dom0, VCPUOP_send_nmi) goes to the NMI callback,
 * vector 2 of the virtual IDT, unless one is being handled: then it waits
 * for the guest's iret hypercall (Xen 4.17's async_exception_mask).  With
 * no callback it is dropped, as on Xen (which logs "Unhandled" the same way).
 */
static void deliver_nmi(struct vcpu *v, struct cpu_regs *regs)
{
    const struct guest_trap *t = &v->arch.traps[2];

    if (v->arch.nmi_masked || !__atomic_load_n(&v->arch.nmi_pending, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&v->arch.nmi_pending, false, __ATOMIC_RELEASE);
    if (!t->address) {
        static unsigned reported;

        if (reported < 8) {
            reported++;
            pr_warn("d%u v%u: virtual NMI with no NMI callback registered: dropped\n",
                    v->domain->domid, v->vcpu_id);
        }
        return;
    }
    if (pv_bounce(v, regs, t->address, false, 0, t->flags & GUEST_TRAP_MASK_EVENTS))
        v->arch.nmi_masked = true;
}

/* Delivers a pending event upcall if the guest has events unmasked. */
static void deliver_events(struct vcpu *v, struct cpu_regs *regs)
{
    struct vcpu_info *vi = v->vcpu_info;

    if (!vi->evtchn_upcall_pending || vi->evtchn_upcall_mask)
        return;
    if (!v->arch.event_cb.address) {
        domain_crash(v->domain, "event upcall due but no event callback registered");
        return;
    }
    perfc_inc(evtchn_upcall);
    if (v->domain->domid)
        perfc_inc(upcall_domu);
    pv_bounce(v, regs, v->arch.event_cb.address, false, 0, true);
}

void pv_exit_to_guest(struct cpu_regs *regs)
{
    struct vcpu *v;

    pv_l1tf_crash_deferred();           /* before scheduling: it may stop this vCPU */
    sched_on_exit();                    /* may switch vCPU: regs now hold the next one */
    v = current_vcpu();
    maybe_update_vcpu_time(v, now_ns());
    pv_deliver_pending_debug(v, regs);
    deliver_nmi(v, regs);
    deliver_events(v, regs);
    /*
     * A hypercall by a SYSCALL in the last bytes below the canonical
     * boundary returns to a non-canonical RCX (XSA-7 class): the guest
     * gets the #GP(0) the return would raise, on that frame, as on Xen.
     */
    if (!is_canonical(regs->rip) && is_canonical(regs->rsp) && (regs->cs & 3) == 3)
        deliver_trap(v, regs, 13, 0);
    /*
     * Last line of defence: IRETQ to a non-canonical address would fault
     * inside Mica.  Every path that sets these checks them; this one
     * catches what a future path might miss.
     */
    if (!is_canonical(regs->rip) || !is_canonical(regs->rsp) || (regs->cs & 3) != 3) {
        domain_crash(v->domain, "would return to rip %#llx rsp %#llx cs %#llx",
                     (unsigned long long)regs->rip, (unsigned long long)regs->rsp,
                     (unsigned long long)regs->cs);
    }
    if (v->domain->is_shutdown) {       /* crashed while delivering */
        sched_on_exit();
        v = current_vcpu();
    }
    /* Last: nothing after this may change which L4 is in CR3 or its entries. */
    if (__builtin_expect(v->domain->arch.xpti, 0))
        xpti_prepare_exit();
}
