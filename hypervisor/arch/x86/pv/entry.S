/*
 * Entries from PV guests that are not exceptions: SYSCALL from 64-bit
 * code (hypercalls from the guest kernel, system calls from guest user
 * code), SYSCALL and SYSENTER from 32-bit (compatibility-mode) user code,
 * and the first entry into a vCPU.
 *
 * SYSCALL does not switch stacks, so the entry swaps in Mica's per-CPU
 * pointer with SWAPGS just long enough to find this CPU's stack: while a
 * guest runs, MSR_SHADOW_GS_BASE holds the address of the CPU's
 * struct cpu_info.  The guest's own GS bases are kept by Mica in software
 * (guests cannot run SWAPGS), so the shadow register is free for this.
 * The frame built here has the same layout as an exception frame, with
 * vector SYSCALL_VECTOR, and leaves through the same path.
 */
#include <asm/current.h>
#include <asm/desc.h>
#include <asm/regs.h>

/*
 * One SYSCALL entry per guest code size; they differ only in the CS the
 * frame records, which is how pv_syscall tells 64-bit kernel/user calls
 * (LSTAR) from compatibility-mode ones (CSTAR).
 */
.macro SYSCALL_ENTRY name, cs
        .globl  \name
\name:
        swapgs
        mov     %rsp, %gs:CPU_INFO_SCRATCH_RSP
        mov     %gs:CPU_INFO_RSP0, %rsp
        pushq   $RING3_DS                       /* ss */
        pushq   %gs:CPU_INFO_SCRATCH_RSP        /* rsp */
        swapgs
        pushq   %r11                            /* rflags */
        pushq   $\cs                            /* cs */
        pushq   %rcx                            /* rip */
        pushq   $0                              /* error code */
        pushq   $SYSCALL_VECTOR
        jmp     trap_common
.endm

        .section .text.entry, "ax"
        SYSCALL_ENTRY pv_syscall_entry, RING3_CS64
        SYSCALL_ENTRY pv_syscall32_entry, RING3_CS32

/*
 * SYSENTER (MSR_SYSENTER_*): the CPU has switched to Mica's CS/SS and to
 * the frame area's top (SYSENTER_ESP), with IF and RF clear but TF and NT
 * as the guest left them, and it keeps no trace of the caller's RIP or
 * RSP.  The frame therefore says RIP 0, RSP 0, CS 3 (a null selector at
 * RPL 3, as Xen reports it).  A guest TF raises #DB after each instruction
 * until RFLAGS is saved and cleared; do_trap lets those pass
 * (pv_sysenter_single_step).  NT must go before Mica's IRETQ would #GP on it.
 */
        .globl  pv_sysenter_entry, pv_sysenter_flags_saved
pv_sysenter_entry:
        pushq   $RING3_DS                       /* ss */
        pushq   $0                              /* rsp: unknown */
        pushfq                                  /* rflags */
pv_sysenter_flags_saved:
        pushq   $2
        popfq                                   /* TF, NT, DF, AC off in Mica */
        orq     $(1 << 9), (%rsp)               /* the caller ran with IF set */
        pushq   $3                              /* cs */
        pushq   $0                              /* rip: unknown */
        pushq   $0                              /* error code */
        pushq   $SYSENTER_VECTOR
        jmp     trap_common

/* void pv_enter_frame(struct cpu_regs *frame): leave Mica through *frame. */
        .globl  pv_enter_frame
pv_enter_frame:
        mov     %rdi, %rsp
        jmp     restore_guest
