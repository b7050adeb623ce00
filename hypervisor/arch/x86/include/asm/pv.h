/* Running PV guests on x86-64: entry dispatch, bounces, hypercalls. */
#ifndef ASM_PV_H
#define ASM_PV_H

#include <asm/regs.h>
#include <mica/domain.h>

/* The CPUID answer v's guest gets for (leaf, sub) (pv/emulate.c). */
void pv_cpuid(const struct vcpu *v, u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d);

/*
 * FSGSBASE for PV guests: whether v's CPUID view offers it (then the
 * guest may set CR4.FSGSBASE), and the real CR4 bit made v's view (at
 * switch-in and after the guest changes it).
 */
bool pv_guest_has_fsgsbase(const struct vcpu *v);
void pv_fsgsbase_load(const struct vcpu *v);

/* Sets up SYSCALL/SYSRET MSRs and the per-CPU entry state. */
void pv_cpu_init(void);

/* Entries from ring 3: exceptions, SYSCALL. */
void pv_exception(struct cpu_regs *regs);
void pv_syscall(struct cpu_regs *regs);
void pv_int80(struct cpu_regs *regs);
void pv_sysenter(struct cpu_regs *regs);
/* SYSENTER reaches Mica (Intel-compatible CPUs); else CPUID hides SEP, as Xen's does. */
extern bool pv_sysenter_enabled;
/*
 * A #DB raised in Mica by a guest's TF on the SYSENTER path, before the
 * entry saved and cleared RFLAGS; true when it was one (and was dealt with).
 */
bool pv_sysenter_single_step(struct cpu_regs *regs);
/*
 * A fault (#NP, #SS, #GP) of Mica's IRETQ back to a guest, whose CS or SS
 * descriptor no longer loads: the guest's trap handler gets it with the
 * frame the guest had, as if its own instruction had faulted (Xen 4.17
 * does the same), and the guest is entered; false if fault is not one.
 */
bool pv_return_fault(struct cpu_regs *fault);
/* Leaves Mica through *frame (entry.S). */
void pv_enter_frame(struct cpu_regs *frame) __attribute__((noreturn));
/* Work on every exit to a guest: scheduling, then event delivery. */
void pv_exit_to_guest(struct cpu_regs *regs);

/*
 * Pushes a bounce frame on the guest kernel stack and directs the vCPU
 * to handler (PV ABI "create_bounce_frame").  Returns false after
 * crashing the domain when that is impossible.
 */
bool pv_bounce(struct vcpu *v, struct cpu_regs *regs, u64 handler,
               bool has_error, u32 error, bool mask_events);

/*
 * The failsafe callback: DS, ES, FS, GS (as the guest had them) could not
 * all be loaded when the vCPU was switched in; they are on the frame.
 */
bool pv_bounce_failsafe(struct vcpu *v, struct cpu_regs *regs, const u16 sel[4]);

/* Toggles between guest kernel and user mode (page tables, GS bases). */
void pv_toggle_guest_mode(struct vcpu *v);

/* What the guest reads from CR0 and CR4 (emulated mov from %crN, getvcpucontext). */
u64 pv_guest_cr0(const struct vcpu *v);
u64 pv_guest_cr4(const struct vcpu *v);

/* Emulates a privileged instruction or forced CPUID that faulted; true if done. */
bool pv_emulate(struct vcpu *v, struct cpu_regs *regs);

long do_update_va_mapping(u64 va, u64 val, u64 flags);
long do_update_va_mapping_otherdomain(u64 va, u64 val, u64 flags, u64 domid);
long do_mmuext_op(u64 ops, u64 count, u64 pdone, u64 foreigndom);
long do_mmu_update(u64 reqs, u64 count, u64 pdone, u64 foreigndom);
/*
 * 0 when mfn is d's own memory that may be written (not a page table);
 * it then keeps a writable type reference until the domain is torn down.
 */
long domain_writable_frame(struct domain *d, u64 mfn);
/* Drops that reference (a frame domain_writable_frame accepted). */
void domain_put_writable_frame(struct domain *d, u64 mfn);

/* Debug registers: hypercalls, context switch, #DB raised inside Mica. */
long do_set_debugreg(unsigned reg, u64 value);
/* set_debugreg's checks and effect on any vCPU v (hardware only if v runs). */
long pv_set_debugreg(struct vcpu *v, unsigned reg, u64 value);
long do_get_debugreg(unsigned reg);
void pv_debugreg_switch(const struct vcpu *prev, const struct vcpu *next);
/*
 * A #DB raised while Mica ran (on its IST stack, whatever RSP it
 * interrupted): a guest's data breakpoint hit as Mica touched guest memory
 * or as a MOV SS let it fire on the first instruction of an entry is owed
 * to the guest; anything else is noted and ignored, as Xen does.
 */
void pv_debug_in_mica(struct cpu_regs *regs);
void pv_deliver_pending_debug(struct vcpu *v, struct cpu_regs *regs);

/* Hypercall dispatch for the guest kernel's SYSCALL. */
void pv_hypercall(struct cpu_regs *regs);

/*
 * Builds dom0 from the first module (the next unmarked one is its
 * initrd) and a guest from every module marked "domU"; returns dom0.
 */
struct boot_info;
struct domain *pv_build_boot_domains(const struct boot_info *bi);

/* Event channels in, ring frames out, for a guest the toolstack builds. */
struct pv_build_rings {
    u32 console_port, store_port;
    mfn_t console_mfn, store_mfn;
};
/*
 * Builds a PV guest into d (fresh from domain_create, vCPU 0 never run)
 * from a kernel image (ELF, bzImage or compressed) and an optional initrd,
 * both in Mica's memory, with nr_pages of memory.  With rings, start_info
 * gets a xenstore and a console page and their ports.  0 or -XEN_E*; on
 * failure d holds part of a build and the caller must destroy it.
 */
long pv_build_domain(struct domain *d, const void *kernel, size_t kernel_len,
                     const void *initrd, size_t initrd_len, u64 nr_pages,
                     const char *cmdline, struct pv_build_rings *rings);

/* Hypercall page contents as the ABI defines them. */
void pv_fill_hypercall_page(u8 *page);

#endif
