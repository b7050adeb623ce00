/*
 * Entries from PV guests that are not exceptions: SYSCALL (hypercalls
 * from the guest kernel, system calls from guest user code), and the
 * first entry into a vCPU.
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

        .section .text.entry, "ax"
        .globl  pv_syscall_entry
pv_syscall_entry:
        swapgs
        mov     %rsp, %gs:CPU_INFO_SCRATCH_RSP
        mov     %gs:CPU_INFO_RSP0, %rsp
        pushq   $RING3_DS                       /* ss */
        pushq   %gs:CPU_INFO_SCRATCH_RSP        /* rsp */
        swapgs
        pushq   %r11                            /* rflags */
        pushq   $RING3_CS64                     /* cs */
        pushq   %rcx                            /* rip */
        pushq   $0                              /* error code */
        pushq   $SYSCALL_VECTOR
        jmp     trap_common

/* void pv_enter_frame(struct cpu_regs *frame): leave Mica through *frame. */
        .globl  pv_enter_frame
pv_enter_frame:
        mov     %rdi, %rsp
        jmp     restore_all
